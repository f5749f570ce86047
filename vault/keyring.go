package vault

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Bucket is the JetStream key-value bucket of the wrapped data keys. It
// keeps one revision per key: an erased key leaves no history behind.
const Bucket = "KOOP_KEYS"

// stored is a bucket entry: a wrapped key, or the tombstone of an erased
// one.
type stored struct {
	MasterKeyID string    `json:"master_key_id,omitempty"`
	Wrapped     string    `json:"wrapped,omitempty"` // base64 of nonce || AES-GCM(master, data key)
	CreatedAt   time.Time `json:"created_at,omitzero"`
	ErasedAt    time.Time `json:"erased_at,omitzero"`
}

// Keyring hands out data keys: one per family, created on first use,
// unwrapped with the master key and cached in memory. It is safe for
// concurrent use.
type Keyring struct {
	kv     jetstream.KeyValue
	stream jetstream.Stream
	master MasterKey
	now    func() time.Time

	mu     sync.Mutex
	cache  map[string][]byte
	aeads  map[string]cipher.AEAD // ciphers of cached family keys by family id, built once
	erased map[string]bool
	watch  jetstream.KeyWatcher
}

// OpenKeyring opens (creating if needed) the key bucket on js, with the
// given replicas, and watches it so that an erasure by another engine
// instance reaches this one's cache at once.
func OpenKeyring(ctx context.Context, js jetstream.JetStream, master MasterKey, replicas int) (*Keyring, error) {
	if !master.Valid() {
		return nil, fmt.Errorf("%w: none given", ErrMasterKey)
	}
	if replicas < 1 {
		replicas = 1
	}
	// The bucket's stream is created here rather than by the key-value
	// API, which denies deleting single messages for good: erasure needs
	// JetStream's secure delete, which overwrites the message on disk.
	stream, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:              "KV_" + Bucket,
		Description:       "Kooperacje data keys, wrapped by the master key; one revision per key",
		Subjects:          []string{"$KV." + Bucket + ".>"},
		MaxMsgsPerSubject: 1, // no history: an erased key leaves no older revision
		MaxBytes:          -1,
		MaxMsgs:           -1,
		MaxMsgSize:        -1,
		Storage:           jetstream.FileStorage,
		Replicas:          replicas,
		AllowRollup:       true,
		AllowDirect:       true,
		Discard:           jetstream.DiscardNew,
		Duplicates:        2 * time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("open key bucket: %w", err)
	}
	kv, err := js.KeyValue(ctx, Bucket)
	if err != nil {
		return nil, fmt.Errorf("open key bucket: %w", err)
	}
	k := &Keyring{kv: kv, stream: stream, master: master, now: time.Now, cache: map[string][]byte{}, aeads: map[string]cipher.AEAD{}, erased: map[string]bool{}}
	if k.watch, err = kv.WatchAll(context.Background(), jetstream.IgnoreDeletes(), jetstream.UpdatesOnly()); err != nil {
		return nil, fmt.Errorf("watch key bucket: %w", err)
	}
	go k.follow()
	return k, nil
}

// Close stops watching the bucket.
func (k *Keyring) Close() {
	if k.watch != nil {
		_ = k.watch.Stop()
	}
}

func (k *Keyring) follow() {
	for e := range k.watch.Updates() {
		if e == nil {
			continue
		}
		var s stored
		if json.Unmarshal(e.Value(), &s) == nil && !s.ErasedAt.IsZero() {
			k.mu.Lock()
			delete(k.cache, e.Key())
			delete(k.aeads, strings.TrimPrefix(e.Key(), familyPrefix))
			k.erased[e.Key()] = true
			k.mu.Unlock()
		}
	}
}

const familyPrefix = "family."

func familyKey(familyID string) string { return familyPrefix + familyID }

// aad binds a wrapped key to its name, so that a wrapped key copied to
// another family does not unwrap.
func aad(name string) []byte { return []byte("kooperacje data key\x00" + name) }

// DataKey returns the data key of a family, creating it when create is
// set and the family has none yet. An erased family's key is ErrErased; a
// missing one without create is ErrErased too (nothing was ever sealed
// with it).
func (k *Keyring) DataKey(ctx context.Context, familyID string, create bool) ([]byte, error) {
	return k.key(ctx, familyKey(familyID), create)
}

// SystemKey returns a named key of the engine itself (for example the key
// of projection checkpoints), created on first use.
func (k *Keyring) SystemKey(ctx context.Context, name string) ([]byte, error) {
	return k.key(ctx, "system."+name, true)
}

func (k *Keyring) key(ctx context.Context, name string, create bool) ([]byte, error) {
	k.mu.Lock()
	master := k.master
	if dk, ok := k.cache[name]; ok {
		k.mu.Unlock()
		return dk, nil
	}
	if k.erased[name] {
		k.mu.Unlock()
		return nil, ErrErased
	}
	k.mu.Unlock()
	for attempt := 0; attempt < 3; attempt++ {
		e, err := k.kv.Get(ctx, name)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			if !create {
				return nil, ErrErased
			}
			dk := randomKey()
			value, err := json.Marshal(stored{MasterKeyID: master.ID(), Wrapped: base64.StdEncoding.EncodeToString(seal(master.key, dk, aad(name))), CreatedAt: k.now().UTC()})
			if err != nil {
				return nil, err
			}
			if _, err := k.kv.Create(ctx, name, value); errors.Is(err, jetstream.ErrKeyExists) {
				continue // created concurrently: read it
			} else if err != nil {
				return nil, fmt.Errorf("create data key %s: %w", name, err)
			}
			k.remember(name, dk)
			return dk, nil
		}
		if err != nil {
			return nil, fmt.Errorf("load data key %s: %w", name, err)
		}
		dk, err := k.unwrap(name, e.Value(), master)
		if errors.Is(err, ErrErased) {
			k.mu.Lock()
			k.erased[name] = true
			k.mu.Unlock()
		}
		if err != nil {
			return nil, err
		}
		k.remember(name, dk)
		return dk, nil
	}
	return nil, fmt.Errorf("create data key %s: created and removed concurrently; try again", name)
}

func (k *Keyring) remember(name string, dk []byte) {
	k.mu.Lock()
	k.cache[name] = dk
	k.mu.Unlock()
}

// unwrap decodes a bucket entry with the master key.
func (k *Keyring) unwrap(name string, value []byte, master MasterKey) ([]byte, error) {
	var s stored
	if err := json.Unmarshal(value, &s); err != nil {
		return nil, fmt.Errorf("data key %s: %w: the stored entry is not JSON", name, ErrAuth)
	}
	if !s.ErasedAt.IsZero() {
		return nil, ErrErased
	}
	if s.MasterKeyID != master.ID() {
		return nil, fmt.Errorf("data key %s is wrapped by master key %s, not by the given %s: %w", name, s.MasterKeyID, master.ID(), ErrMasterKey)
	}
	w, err := base64.StdEncoding.DecodeString(s.Wrapped)
	if err != nil {
		return nil, fmt.Errorf("data key %s: %w: the wrapped key is not base64", name, ErrAuth)
	}
	dk, err := open(master.key, w, aad(name))
	if err != nil {
		return nil, fmt.Errorf("data key %s: %w", name, err)
	}
	if len(dk) != KeySize {
		return nil, fmt.Errorf("data key %s: %w: wrong size", name, ErrAuth)
	}
	return dk, nil
}

// Erase destroys a family's data key: the stored message is overwritten on
// disk (JetStream's secure delete) and replaced by a tombstone, so the key
// cannot be recovered from the bucket, its history or its files. Erasing
// an erased family is a no-op that reports false.
func (k *Keyring) Erase(ctx context.Context, familyID string) (bool, error) {
	name := familyKey(familyID)
	for attempt := 0; attempt < 5; attempt++ {
		e, err := k.kv.Get(ctx, name)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
		case err != nil:
			return false, fmt.Errorf("erase data key of family %s: %w", familyID, err)
		default:
			var s stored
			if json.Unmarshal(e.Value(), &s) == nil && !s.ErasedAt.IsZero() {
				k.forget(name)
				return false, nil
			}
			if err := k.stream.SecureDeleteMsg(ctx, e.Revision()); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
				return false, fmt.Errorf("erase data key of family %s: %w", familyID, err)
			}
		}
		tomb, _ := json.Marshal(stored{ErasedAt: k.now().UTC()})
		if _, err := k.kv.Create(ctx, name, tomb); errors.Is(err, jetstream.ErrKeyExists) {
			continue // a key was created meanwhile: destroy it too
		} else if err != nil {
			return false, fmt.Errorf("erase data key of family %s: %w", familyID, err)
		}
		k.forget(name)
		return true, nil
	}
	return false, fmt.Errorf("erase data key of family %s: the key keeps being recreated", familyID)
}

func (k *Keyring) forget(name string) {
	k.mu.Lock()
	delete(k.cache, name)
	delete(k.aeads, strings.TrimPrefix(name, familyPrefix))
	k.erased[name] = true
	k.mu.Unlock()
}

// Rotate re-wraps every data key wrapped by old with next, without
// touching any event, and returns how many it re-wrapped. Keys already
// wrapped by next are left as they are, so an interrupted rotation can be
// run again. The keyring then uses next.
func (k *Keyring) Rotate(ctx context.Context, old, next MasterKey) (int, error) {
	if !old.Valid() || !next.Valid() {
		return 0, fmt.Errorf("%w: rotation needs the old and the new key", ErrMasterKey)
	}
	lister, err := k.kv.ListKeys(ctx)
	if err != nil {
		return 0, fmt.Errorf("list data keys: %w", err)
	}
	var names []string
	for name := range lister.Keys() {
		names = append(names, name)
	}
	n := 0
	for _, name := range names {
		e, err := k.kv.Get(ctx, name)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("rotate %s: %w", name, err)
		}
		var s stored
		if err := json.Unmarshal(e.Value(), &s); err != nil {
			return n, fmt.Errorf("rotate %s: %w: the stored entry is not JSON", name, ErrAuth)
		}
		if !s.ErasedAt.IsZero() || s.MasterKeyID == next.ID() {
			continue
		}
		dk, err := k.unwrap(name, e.Value(), old)
		if err != nil {
			return n, fmt.Errorf("rotate: %w", err)
		}
		s.MasterKeyID, s.Wrapped = next.ID(), base64.StdEncoding.EncodeToString(seal(next.key, dk, aad(name)))
		value, _ := json.Marshal(s)
		if _, err := k.kv.Update(ctx, name, value, e.Revision()); err != nil {
			return n, fmt.Errorf("rotate %s: %w", name, err)
		}
		n++
	}
	k.mu.Lock()
	k.master = next
	k.mu.Unlock()
	return n, nil
}

// Seal returns plaintext sealed with the family's data key, creating the
// key on first use (eventstore.Protector). An erased family is ErrErased.
func (k *Keyring) Seal(ctx context.Context, familyID, plaintext string) (string, error) {
	a, err := k.aead(ctx, familyID, true)
	if err != nil {
		return "", fmt.Errorf("seal for family %s: %w", familyID, err)
	}
	return sealText(a, familyID, plaintext), nil
}

// aead returns the cipher of a family's data key, built once while the
// key is cached (creating the key if create and it has none).
func (k *Keyring) aead(ctx context.Context, familyID string, create bool) (cipher.AEAD, error) {
	k.mu.Lock()
	a, ok := k.aeads[familyID]
	k.mu.Unlock()
	if ok {
		return a, nil
	}
	dk, err := k.DataKey(ctx, familyID, create)
	if err != nil {
		return nil, err
	}
	a = gcm(dk)
	k.mu.Lock()
	if _, still := k.cache[familyKey(familyID)]; still {
		k.aeads[familyID] = a
	}
	k.mu.Unlock()
	return a, nil
}

// Open returns the plaintext of a value sealed for the family, or erased
// when its key was destroyed (eventstore.Protector). A value that is not
// sealed comes back as it is.
func (k *Keyring) Open(ctx context.Context, familyID, value string) (string, bool, error) {
	if !IsSealed(value) {
		return value, false, nil
	}
	a, err := k.aead(ctx, familyID, false)
	if errors.Is(err, ErrErased) {
		return "", true, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("open for family %s: %w", familyID, err)
	}
	pt, err := openText(a, familyID, value)
	if err != nil {
		return "", false, fmt.Errorf("open for family %s: %w", familyID, err)
	}
	return pt, false, nil
}

// blobPrefix starts a sealed blob.
var blobPrefix = []byte("koop-sealed-v1\n")

// SealBlob seals a blob of the engine (a read model's checkpoint) with the
// engine's own key, bound to its name (eventstore.BlobSealer).
func (k *Keyring) SealBlob(ctx context.Context, name string, data []byte) ([]byte, error) {
	key, err := k.SystemKey(ctx, "blobs")
	if err != nil {
		return nil, err
	}
	return append(append([]byte(nil), blobPrefix...), seal(key, data, []byte(name))...), nil
}

// OpenBlob opens what SealBlob sealed under the same name.
func (k *Keyring) OpenBlob(ctx context.Context, name string, sealed []byte) ([]byte, error) {
	rest, ok := bytes.CutPrefix(sealed, blobPrefix)
	if !ok {
		return nil, fmt.Errorf("blob %s: %w: not sealed", name, ErrMalformed)
	}
	key, err := k.SystemKey(ctx, "blobs")
	if err != nil {
		return nil, err
	}
	b, err := open(key, rest, []byte(name))
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", name, err)
	}
	return b, nil
}

// Pseudonym returns the stable pseudonym of a family for evaluation
// outputs: a keyed hash (HMAC-SHA-256 with the engine's evaluation key) of
// its id, so evaluators can follow a family across reports without
// learning who it is or its id. It survives erasure: counts stay.
func (k *Keyring) Pseudonym(ctx context.Context, familyID string) (string, error) {
	f, err := k.Pseudonyms(ctx)
	if err != nil {
		return "", err
	}
	return f(familyID), nil
}

// Pseudonyms returns the function Pseudonym computes, with the evaluation
// key read once: for projections that hold families under pseudonyms
// while they run (projections.NewIndicators), where a lookup per event
// could fail halfway.
func (k *Keyring) Pseudonyms(ctx context.Context) (func(familyID string) string, error) {
	key, err := k.SystemKey(ctx, "evaluation")
	if err != nil {
		return nil, err
	}
	return func(familyID string) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte("family\x00" + familyID))
		return "R-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(m.Sum(nil))[:12])
	}, nil
}

// ChainKey returns the key of the events' hash chain
// (eventstore.ChainKeyer).
func (k *Keyring) ChainKey(ctx context.Context) ([]byte, error) {
	return k.SystemKey(ctx, "audit-chain")
}

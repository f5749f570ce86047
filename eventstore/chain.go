package eventstore

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
)

// ChainKeyer gives the key of the hash chain: with it, each event's hash
// is an HMAC, so that someone who can publish to the stream but has no
// master key cannot forge a link. vault.Keyring implements it.
type ChainKeyer interface {
	ChainKey(ctx context.Context) ([]byte, error)
}

func (s *Store) chainKey(ctx context.Context) ([]byte, error) {
	ck, ok := s.protector.(ChainKeyer)
	if !ok {
		return nil, nil
	}
	k, err := ck.ChainKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("chain key: %w", err)
	}
	return k, nil
}

// chain sets w's PrevHash to prev and its Hash to the digest of prev and
// the event as stored (sealed payload included, Hash left out), and
// returns the new hash and the event's JSON as stored, Hash included
// (what json.Marshal gives for w, without marshaling it twice). With a key
// the digest is HMAC-SHA-256, else SHA-256.
func chain(key []byte, prev string, w *wireEvent) (string, []byte, error) {
	w.PrevHash, w.Hash = prev, ""
	b, err := json.Marshal(w)
	if err != nil {
		return "", nil, fmt.Errorf("hash event %s: %w", w.EventID, err)
	}
	w.Hash = digestOf(key, b)
	return w.Hash, withHash(b, w.Hash), nil
}

// payloadMember starts the last member of a stored event's JSON. The
// envelope's members come before it, and no string of theirs can hold it
// (their quotes are escaped), so its first occurrence is the payload's.
var payloadMember = []byte(`,"payload":`)

// withHash inserts the hash member into the JSON of an event marshaled
// without it, where json.Marshal puts it: just before the payload.
func withHash(b []byte, h string) []byte {
	i := bytes.Index(b, payloadMember)
	out := make([]byte, 0, len(b)+len(h)+10)
	out = append(out, b[:i]...)
	out = append(out, `,"hash":"`...)
	out = append(out, h...)
	out = append(out, '"')
	return append(out, b[i:]...)
}

// digest computes the hash of a stored event whose Hash is empty.
func digest(key []byte, w *wireEvent) (string, error) {
	b, err := json.Marshal(w)
	if err != nil {
		return "", fmt.Errorf("hash event %s: %w", w.EventID, err)
	}
	return digestOf(key, b), nil
}

// digestOf is the hash of an event's JSON, its Hash left out.
func digestOf(key []byte, b []byte) string {
	var m hash.Hash
	if key != nil {
		m = hmac.New(sha256.New, key)
	} else {
		m = sha256.New()
	}
	m.Write(b)
	return hex.EncodeToString(m.Sum(nil))
}

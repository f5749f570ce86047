package eventstore

import (
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
// returns the new hash. With a key the digest is HMAC-SHA-256, else
// SHA-256.
func chain(key []byte, prev string, w *wireEvent) (string, error) {
	w.PrevHash, w.Hash = prev, ""
	h, err := digest(key, w)
	if err != nil {
		return "", err
	}
	w.Hash = h
	return h, nil
}

// digest computes the hash of a stored event whose Hash is empty.
func digest(key []byte, w *wireEvent) (string, error) {
	b, err := json.Marshal(w)
	if err != nil {
		return "", fmt.Errorf("hash event %s: %w", w.EventID, err)
	}
	var m hash.Hash
	if key != nil {
		m = hmac.New(sha256.New, key)
	} else {
		m = sha256.New()
	}
	m.Write(b)
	return hex.EncodeToString(m.Sum(nil)), nil
}

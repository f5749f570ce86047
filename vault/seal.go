// Package vault keeps the keys that protect personal data: a master key
// (from a file or the environment, never stored by the engine) wraps one
// data key per family, kept in a JetStream key-value bucket. Personal
// fields are sealed with the family's data key (AES-256-GCM, a fresh nonce
// each time, the family id as additional data); destroying the data key
// forgets the person while the rest of the history stays (crypto-shredding).
package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// KeySize is the size of master and data keys: AES-256.
const KeySize = 32

// SealedPrefix starts every sealed value, so that readers (and people
// looking at the stream) see at once that a value is sealed. It begins with
// eventstore.SealedPrefix, as the store requires.
const SealedPrefix = "enc:v1:"

// Errors callers test with errors.Is.
var (
	// ErrErased: the family's data key was destroyed; its personal data is
	// gone for good.
	ErrErased = errors.New("vault: the family's personal data was erased")
	// ErrAuth: a sealed value or a wrapped key failed authentication: it was
	// altered, or belongs to another family, or the master key is wrong.
	ErrAuth = errors.New("vault: authentication failed")
	// ErrMasterKey: the master key is missing or malformed.
	ErrMasterKey = errors.New("vault: master key")
	// ErrMalformed: a sealed value is not of the form enc:v1:<base64>.
	ErrMalformed = errors.New("vault: malformed sealed value")
)

// MasterKey wraps the data keys. It is never stored by the engine.
type MasterKey struct {
	key []byte
	id  string
}

// ParseMasterKey reads a master key: 32 bytes as 64 hex digits or as
// standard or URL-safe base64, surrounding white space ignored.
func ParseMasterKey(s string) (MasterKey, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return MasterKey{}, fmt.Errorf("%w: empty", ErrMasterKey)
	}
	for _, dec := range []func(string) ([]byte, error){hex.DecodeString, base64.StdEncoding.DecodeString, base64.RawStdEncoding.DecodeString, base64.URLEncoding.DecodeString, base64.RawURLEncoding.DecodeString} {
		if b, err := dec(s); err == nil && len(b) == KeySize {
			return newMasterKey(b), nil
		}
	}
	return MasterKey{}, fmt.Errorf("%w: want %d bytes as 64 hex digits or base64", ErrMasterKey, KeySize)
}

// LoadMasterKey reads the master key from a file (owner-readable only) or,
// with path "", from the environment variable env.
func LoadMasterKey(path, env string) (MasterKey, error) {
	if path == "" {
		v, ok := os.LookupEnv(env)
		if !ok {
			return MasterKey{}, fmt.Errorf("%w: none given: set %s or pass --master-key-file", ErrMasterKey, env)
		}
		k, err := ParseMasterKey(v)
		if err != nil {
			return MasterKey{}, fmt.Errorf("%s: %w", env, err)
		}
		return k, nil
	}
	info, err := os.Stat(path)
	if err != nil {
		return MasterKey{}, fmt.Errorf("%w: %v", ErrMasterKey, err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return MasterKey{}, fmt.Errorf("%w: %s is readable by others (mode %o); chmod 600 it", ErrMasterKey, path, info.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return MasterKey{}, fmt.Errorf("%w: %v", ErrMasterKey, err)
	}
	k, err := ParseMasterKey(string(b))
	if err != nil {
		return MasterKey{}, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// NewMasterKey returns a random master key and its text form (hex), for
// `kooperacje keys generate` and the demo.
func NewMasterKey() (MasterKey, string) {
	b := randomKey()
	return newMasterKey(b), hex.EncodeToString(b)
}

func newMasterKey(b []byte) MasterKey {
	sum := sha256.Sum256(append([]byte("kooperacje master key id\x00"), b...))
	return MasterKey{key: b, id: hex.EncodeToString(sum[:6])}
}

// ID names the master key without revealing it, so a wrapped data key says
// which master key wrapped it.
func (m MasterKey) ID() string { return m.id }

// Valid reports whether m holds a key.
func (m MasterKey) Valid() bool { return len(m.key) == KeySize }

func randomKey() []byte {
	b := make([]byte, KeySize)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return b
}

func gcm(key []byte) cipher.AEAD {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // only for a key of the wrong size, which no caller passes
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return a
}

// seal encrypts plaintext with key, binding it to aad: nonce || ciphertext.
func seal(key, plaintext, aad []byte) []byte { return sealWith(gcm(key), plaintext, aad) }

// sealWith is seal with a ready cipher.
func sealWith(a cipher.AEAD, plaintext, aad []byte) []byte {
	nonce := make([]byte, a.NonceSize(), a.NonceSize()+len(plaintext)+a.Overhead())
	_, _ = rand.Read(nonce)
	return a.Seal(nonce, nonce, plaintext, aad)
}

// open reverses seal.
func open(key, sealed, aad []byte) ([]byte, error) { return openWith(gcm(key), sealed, aad) }

// openWith reverses seal with a ready cipher.
func openWith(a cipher.AEAD, sealed, aad []byte) ([]byte, error) {
	if len(sealed) < a.NonceSize()+a.Overhead() {
		return nil, ErrAuth
	}
	pt, err := a.Open(nil, sealed[:a.NonceSize()], sealed[a.NonceSize():], aad)
	if err != nil {
		return nil, ErrAuth
	}
	return pt, nil
}

// Seal returns plaintext sealed with a family's data key, as text.
func Seal(dataKey []byte, familyID, plaintext string) string {
	return sealText(gcm(dataKey), familyID, plaintext)
}

// sealText is Seal with a ready cipher.
func sealText(a cipher.AEAD, familyID, plaintext string) string {
	return SealedPrefix + base64.RawStdEncoding.EncodeToString(sealWith(a, []byte(plaintext), []byte(familyID)))
}

// IsSealed reports whether s is a sealed value.
func IsSealed(s string) bool { return strings.HasPrefix(s, SealedPrefix) }

// Open returns the plaintext of a value sealed for familyID. A value that
// was altered or sealed for another family is ErrAuth; nothing of the
// plaintext or the key is ever in an error.
func Open(dataKey []byte, familyID, sealed string) (string, error) {
	return openText(gcm(dataKey), familyID, sealed)
}

// openText opens a sealed text with a ready cipher.
func openText(a cipher.AEAD, familyID, sealed string) (string, error) {
	rest, ok := strings.CutPrefix(sealed, SealedPrefix)
	if !ok {
		return "", ErrMalformed
	}
	b, err := base64.RawStdEncoding.DecodeString(rest)
	if err != nil {
		return "", ErrMalformed
	}
	if len(b) < a.NonceSize()+a.Overhead() {
		return "", ErrAuth
	}
	ct := b[a.NonceSize():]
	pt, err := a.Open(ct[:0], b[:a.NonceSize()], ct, []byte(familyID)) // in place
	if err != nil {
		return "", ErrAuth
	}
	return string(pt), nil
}

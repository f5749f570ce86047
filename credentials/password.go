// Package credentials keeps what people sign in with outside the permanent
// event log: logins, argon2id password hashes, one-time set-up links and
// sessions, in JetStream key-value buckets beside the event stream. A
// password is a secret that must be changeable and erasable, which an
// append-only log is not; the log records only that a password was set or
// changed, and by whom (docs/decisions/0012-sign-in-credentials-and-sessions.md).
package credentials

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/kooperacje/kooperacje/domain"
)

// Params are argon2id's cost parameters. A stored hash carries the
// parameters it was made with, so that they can be raised later: a hash
// made with other parameters still verifies and is replaced at the next
// sign-in.
type Params struct {
	Time    uint32 // passes over memory
	Memory  uint32 // KiB
	Threads uint8
	KeyLen  uint32 // bytes of the derived key
	SaltLen uint32 // bytes of the random salt
}

// DefaultParams are OWASP's recommendation for argon2id (19 MiB, two
// passes, one thread): about 30–60 ms a hash on one core of the target
// machines, so a guess costs an attacker as much while a sign-in stays
// quick. Decision 0012 records why.
var DefaultParams = Params{Time: 2, Memory: 19 * 1024, Threads: 1, KeyLen: 32, SaltLen: 16}

// Password rules (docs/security.md): at least MinPasswordLength and at most
// MaxPasswordLength characters, no control characters, not the login, not
// one character repeated, not a well-known password.
const (
	MinPasswordLength = 10
	MaxPasswordLength = 256
)

// Errors of passwords and their hashes.
var (
	// ErrMalformedHash marks a stored hash this package cannot read.
	ErrMalformedHash = errors.New("credentials: malformed password hash")
)

// common are passwords of the right length that every guessing list
// starts with, in Polish and English.
var common = map[string]bool{
	"1234567890": true, "0123456789": true, "qwertyuiop": true, "password123": true, "passwordpassword": true,
	"haslo12345": true, "haslohaslo": true, "zaq12wsxcde": true, "qwerty12345": true, "administrator": true,
	"kooperacje": true, "kooperacje1": true, "kooperacje123": true, "1q2w3e4r5t": true, "iloveyou123": true,
	"polska12345": true, "zaq1@wsx": true, "12345678910": true, "1234567890a": true, "abcdefghij": true,
}

// CheckPassword reports whether password may be used by the user with
// login; the error names field and says what to change.
func CheckPassword(field, password, login string) error {
	if password == "" {
		return domain.ErrRequired.With(field, "is required")
	}
	if !utf8.ValidString(password) {
		return domain.Invalid(field, "is not valid UTF-8")
	}
	n := utf8.RuneCountInString(password)
	if n < MinPasswordLength {
		return domain.Invalid(field, "is %d characters long; use at least %d", n, MinPasswordLength)
	}
	if n > MaxPasswordLength {
		return domain.Invalid(field, "is %d characters long; at most %d are allowed", n, MaxPasswordLength)
	}
	first, _ := utf8.DecodeRuneInString(password)
	same := true
	for _, r := range password {
		if unicode.IsControl(r) {
			return domain.Invalid(field, "contains a control character")
		}
		same = same && r == first
	}
	if same {
		return domain.Invalid(field, "is one character repeated; choose a password that is hard to guess")
	}
	lower := strings.ToLower(password)
	if login != "" && strings.Contains(lower, strings.ToLower(login)) {
		return domain.Invalid(field, "contains the login; choose a password that is hard to guess")
	}
	if common[lower] {
		return domain.Invalid(field, "is a well-known password; choose one that is hard to guess")
	}
	return nil
}

// HashPassword returns the argon2id hash of password with p, in the PHC
// string format: $argon2id$v=19$m=…,t=…,p=…$salt$key (base64, no padding).
func HashPassword(password string, p Params) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("credentials: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches encoded (a HashPassword
// result), in time that does not depend on where they differ, and whether
// encoded was made with other parameters than p (then it should be hashed
// again).
func VerifyPassword(password, encoded string, p Params) (ok, stale bool, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, false, ErrMalformedHash
	}
	var version int
	var got Params
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, false, fmt.Errorf("%w: version %q", ErrMalformedHash, parts[2])
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &got.Memory, &got.Time, &got.Threads); err != nil ||
		got.Memory == 0 || got.Time == 0 || got.Threads == 0 || got.Memory > 1<<22 || got.Time > 100 {
		return false, false, fmt.Errorf("%w: parameters %q", ErrMalformedHash, parts[3])
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, false, fmt.Errorf("%w: salt", ErrMalformedHash)
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) == 0 || len(key) > 1024 {
		return false, false, fmt.Errorf("%w: key", ErrMalformedHash)
	}
	got.KeyLen, got.SaltLen = uint32(len(key)), uint32(len(salt))
	derived := argon2.IDKey([]byte(password), salt, got.Time, got.Memory, got.Threads, got.KeyLen)
	return subtle.ConstantTimeCompare(derived, key) == 1, got != p, nil
}

package credentials

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/kooperacje/kooperacje/domain"
)

// Bucket keeps logins, password hashes and set-up links; SessionBucket
// keeps sessions. Both hold one revision per key: a changed password or a
// revoked session leaves no older revision behind.
const (
	Bucket        = "KOOP_CREDENTIALS"
	SessionBucket = "KOOP_SESSIONS"
)

// SetupTokenPrefix starts every set-up link's token, so that a leaked one
// is easy to spot.
const SetupTokenPrefix = "koopsetup_"

// Errors of the credentials. Compare with errors.Is; they are domain
// errors, so the API answers them with their status and field.
var (
	// ErrLoginTaken marks a login another user already has.
	ErrLoginTaken = &domain.Error{Kind: domain.ErrConflict, Code: "login_taken", Field: "login", Message: "another user has this login"}
	// ErrSetupLinkInvalid marks a set-up token that is unknown, already
	// used or replaced by a newer link.
	ErrSetupLinkInvalid = &domain.Error{Kind: domain.ErrInvalid, Code: "setup_link_invalid", Field: "token", Message: "the set-up link is not valid: it was used already, replaced by a newer one, or mistyped; ask an administrator for a new one"}
	// ErrSetupLinkExpired marks a set-up token past its expiry.
	ErrSetupLinkExpired = &domain.Error{Kind: domain.ErrInvalid, Code: "setup_link_expired", Field: "token", Message: "the set-up link has expired; ask an administrator for a new one"}
	// ErrNoSession marks a session cookie that is unknown, revoked or
	// expired.
	ErrNoSession = &domain.Error{Kind: domain.ErrUnauthorized, Code: "session_expired", Field: "Cookie", Message: "the session has expired or was ended; sign in again"}
	// ErrSessionNotFound marks a session id an administrator named that
	// the user does not have.
	ErrSessionNotFound = &domain.Error{Kind: domain.ErrNotFound, Code: "session_not_found", Message: "the user has no such session"}
)

// Store keeps credentials and sessions in their buckets. It is safe for
// concurrent use; several engine instances may share the buckets.
type Store struct {
	creds    jetstream.KeyValue
	sessions jetstream.KeyValue
	params   Params
	// hashing bounds concurrent argon2id computations, each of which takes
	// Params.Memory: a burst of sign-ins queues rather than exhausts memory.
	hashing chan struct{}
	// dummy is a hash verified when a login is unknown or has no password,
	// so that such a sign-in takes as long as a wrong password.
	dummy string
}

// Open opens (creating if needed) the buckets on js with the given
// replicas (the event stream's). Sessions older than maxAge leave the
// bucket by themselves.
func Open(ctx context.Context, js jetstream.JetStream, replicas int, maxAge time.Duration, p Params) (*Store, error) {
	if replicas < 1 {
		replicas = 1
	}
	creds, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      Bucket,
		Description: "Kooperacje logins, argon2id password hashes and set-up links (hashes only)",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("open credentials bucket: %w", err)
	}
	sessions, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      SessionBucket,
		Description: "Kooperacje sign-in sessions (ids hashed)",
		History:     1,
		TTL:         maxAge,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("open session bucket: %w", err)
	}
	s := &Store{creds: creds, sessions: sessions, params: p, hashing: make(chan struct{}, max(2, runtime.NumCPU()))}
	if s.dummy, err = HashPassword(randomToken(""), p); err != nil {
		return nil, err
	}
	return s, nil
}

func randomToken(prefix string) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails on supported platforms
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

func hashOf(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// account is a user's entry in the credentials bucket.
type account struct {
	Login     string    `json:"login"`
	Password  string    `json:"password,omitempty"` // argon2id, PHC string
	SetAt     time.Time `json:"set_at,omitzero"`
	SetupHash string    `json:"setup_hash,omitempty"` // the current set-up link's
}

// setup is a set-up link's entry, under its token's hash.
type setup struct {
	UserID    string    `json:"user_id"`
	ExpiresAt time.Time `json:"expires_at"`
}

func loginKey(login string) string { return "login." + login }
func userKey(uid string) string    { return "user." + uid }
func setupKey(hash string) string  { return "setup." + hash }

// ReserveLogin gives login (normalised and checked) to user uid, before
// the user's registration is recorded. Reserving the same login for the
// same user again succeeds; for another user it is ErrLoginTaken.
func (s *Store) ReserveLogin(ctx context.Context, login, uid string) error {
	if _, err := s.creds.Create(ctx, loginKey(login), []byte(uid)); err != nil {
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return fmt.Errorf("reserve login %s: %w", login, err)
		}
		e, gerr := s.creds.Get(ctx, loginKey(login))
		if gerr != nil {
			return fmt.Errorf("reserve login %s: %w", login, gerr)
		}
		if string(e.Value()) != uid {
			return ErrLoginTaken.With("login", "another user has the login %q", login)
		}
	}
	// A user keeps the login they have: a reservation for a second one is
	// refused by the user's aggregate and released.
	return s.putAccount(ctx, uid, func(a *account) {
		if a.Login == "" {
			a.Login = login
		}
	})
}

// ReleaseLogin undoes ReserveLogin when the registration was not recorded.
func (s *Store) ReleaseLogin(ctx context.Context, login, uid string) error {
	e, err := s.creds.Get(ctx, loginKey(login))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("release login %s: %w", login, err)
	}
	if string(e.Value()) != uid {
		return nil
	}
	if err := s.creds.Delete(ctx, loginKey(login), jetstream.LastRevision(e.Revision())); err != nil {
		return fmt.Errorf("release login %s: %w", login, err)
	}
	return s.putAccount(ctx, uid, func(a *account) {
		if a.Login == login {
			a.Login = ""
		}
	})
}

func (s *Store) account(ctx context.Context, uid string) (account, uint64, error) {
	e, err := s.creds.Get(ctx, userKey(uid))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return account{}, 0, nil
	}
	if err != nil {
		return account{}, 0, fmt.Errorf("load credentials of %s: %w", uid, err)
	}
	var a account
	if err := json.Unmarshal(e.Value(), &a); err != nil {
		return account{}, 0, fmt.Errorf("load credentials of %s: %w", uid, err)
	}
	return a, e.Revision(), nil
}

// putAccount changes a user's entry with change, retrying when another
// writer changed it meanwhile.
func (s *Store) putAccount(ctx context.Context, uid string, change func(*account)) error {
	for attempt := 0; attempt < 5; attempt++ {
		a, rev, err := s.account(ctx, uid)
		if err != nil {
			return err
		}
		change(&a)
		b, err := json.Marshal(a)
		if err != nil {
			return err
		}
		if rev == 0 {
			_, err = s.creds.Create(ctx, userKey(uid), b)
		} else {
			_, err = s.creds.Update(ctx, userKey(uid), b, rev)
		}
		if err == nil {
			return nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && !isWrongSequence(err) {
			return fmt.Errorf("store credentials of %s: %w", uid, err)
		}
	}
	return fmt.Errorf("store credentials of %s: changed concurrently; try again", uid)
}

func isWrongSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

// hash runs argon2id within the bound on concurrent hashing.
func (s *Store) hash(ctx context.Context, f func()) error {
	select {
	case s.hashing <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.hashing }()
	f()
	return nil
}

// IssueSetup makes a set-up link's token for user uid, valid until
// expires, replacing any earlier link of the user. Only the token's hash
// is stored; the token is returned this once.
func (s *Store) IssueSetup(ctx context.Context, uid string, expires time.Time) (string, error) {
	token := randomToken(SetupTokenPrefix)
	h := hashOf(token)
	b, err := json.Marshal(setup{UserID: uid, ExpiresAt: expires.UTC()})
	if err != nil {
		return "", err
	}
	if _, err := s.creds.Create(ctx, setupKey(h), b); err != nil {
		return "", fmt.Errorf("store set-up link of %s: %w", uid, err)
	}
	var old string
	if err := s.putAccount(ctx, uid, func(a *account) { old, a.SetupHash = a.SetupHash, h }); err != nil {
		return "", err
	}
	if old != "" {
		if err := s.creds.Delete(ctx, setupKey(old)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			return "", fmt.Errorf("remove the earlier set-up link of %s: %w", uid, err)
		}
	}
	return token, nil
}

// SetupLink is a set-up link found by its token, not yet used.
type SetupLink struct {
	UserID    string
	Login     string
	ExpiresAt time.Time
	hash      string
	revision  uint64
}

// FindSetup returns the link of token at now: ErrSetupLinkInvalid when no
// such link is waiting to be used, ErrSetupLinkExpired when it expired.
func (s *Store) FindSetup(ctx context.Context, token string, now time.Time) (SetupLink, error) {
	h := hashOf(token)
	e, err := s.creds.Get(ctx, setupKey(h))
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrInvalidKey) {
		return SetupLink{}, ErrSetupLinkInvalid
	}
	if err != nil {
		return SetupLink{}, fmt.Errorf("find set-up link: %w", err)
	}
	var st setup
	if err := json.Unmarshal(e.Value(), &st); err != nil {
		return SetupLink{}, fmt.Errorf("find set-up link: %w", err)
	}
	if !now.Before(st.ExpiresAt) {
		return SetupLink{}, ErrSetupLinkExpired
	}
	a, _, err := s.account(ctx, st.UserID)
	if err != nil {
		return SetupLink{}, err
	}
	if a.SetupHash != h {
		return SetupLink{}, ErrSetupLinkInvalid // replaced by a newer link
	}
	return SetupLink{UserID: st.UserID, Login: a.Login, ExpiresAt: st.ExpiresAt, hash: h, revision: e.Revision()}, nil
}

// UseSetup sets the password of link's user and uses the link up: of two
// concurrent uses of one link, one succeeds and the other is
// ErrSetupLinkInvalid.
func (s *Store) UseSetup(ctx context.Context, link SetupLink, password string, now time.Time) error {
	if err := s.creds.Delete(ctx, setupKey(link.hash), jetstream.LastRevision(link.revision)); err != nil {
		if isWrongSequence(err) || errors.Is(err, jetstream.ErrKeyNotFound) {
			return ErrSetupLinkInvalid
		}
		return fmt.Errorf("use set-up link: %w", err)
	}
	return s.SetPassword(ctx, link.UserID, password, now, func(a *account) {
		if a.SetupHash == link.hash {
			a.SetupHash = ""
		}
	})
}

// SetPassword stores the argon2id hash of password as user uid's, with
// more changes to their entry if given.
func (s *Store) SetPassword(ctx context.Context, uid, password string, now time.Time, more ...func(*account)) error {
	var encoded string
	var err error
	if herr := s.hash(ctx, func() { encoded, err = HashPassword(password, s.params) }); herr != nil {
		return herr
	}
	if err != nil {
		return err
	}
	return s.putAccount(ctx, uid, func(a *account) {
		a.Password, a.SetAt = encoded, now.UTC()
		for _, m := range more {
			m(a)
		}
	})
}

// Verify returns the user whose login and password these are. An unknown
// login, a user without a password and a wrong password all answer false
// after the same work (one argon2id hash), so that the answer's time does
// not tell whether a login exists.
func (s *Store) Verify(ctx context.Context, login, password string) (string, bool, error) {
	uid, encoded := "", s.dummy
	e, err := s.creds.Get(ctx, loginKey(login))
	switch {
	case err == nil:
		uid = string(e.Value())
		a, _, err := s.account(ctx, uid)
		if err != nil {
			return "", false, err
		}
		if a.Password != "" && a.Login == login {
			encoded = a.Password
		}
	case errors.Is(err, jetstream.ErrKeyNotFound), errors.Is(err, jetstream.ErrInvalidKey):
	default:
		return "", false, fmt.Errorf("find login: %w", err)
	}
	var ok, stale bool
	var verr error
	if err := s.hash(ctx, func() { ok, stale, verr = VerifyPassword(password, encoded, s.params) }); err != nil {
		return "", false, err
	}
	if verr != nil {
		return "", false, fmt.Errorf("verify password of %s: %w", uid, verr)
	}
	if !ok || encoded == s.dummy {
		return "", false, nil
	}
	if stale {
		// Made with older parameters: hash it again with the current ones.
		_ = s.SetPassword(ctx, uid, password, time.Now())
	}
	return uid, true, nil
}

// CheckPasswordOf reports whether password is user uid's current one.
func (s *Store) CheckPasswordOf(ctx context.Context, uid, password string) (bool, error) {
	a, _, err := s.account(ctx, uid)
	if err != nil {
		return false, err
	}
	encoded := a.Password
	if encoded == "" {
		encoded = s.dummy
	}
	var ok bool
	var verr error
	if err := s.hash(ctx, func() { ok, _, verr = VerifyPassword(password, encoded, s.params) }); err != nil {
		return false, err
	}
	if verr != nil {
		return false, fmt.Errorf("verify password of %s: %w", uid, verr)
	}
	return ok && a.Password != "", nil
}

// LoginOf returns user uid's login, "" when they have none here.
func (s *Store) LoginOf(ctx context.Context, uid string) (string, error) {
	a, _, err := s.account(ctx, uid)
	return a.Login, err
}

// Session is a signed-in user's session. ID is the hex SHA-256 of the
// secret the cookie carries: the secret itself is never stored.
type Session struct {
	ID         string    `json:"id"`
	UserID     string    `json:"user_id"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	Address    string    `json:"address,omitempty"`
	UserAgent  string    `json:"user_agent,omitempty"`
}

func sessionKey(uid, id string) string { return uid + "." + id }

// CreateSession starts a session of user uid at now and returns the
// cookie's value: the user id and 256 random bits.
func (s *Store) CreateSession(ctx context.Context, uid, address, userAgent string, now time.Time) (string, Session, error) {
	secret := randomToken("")
	if len(userAgent) > 200 {
		userAgent = userAgent[:200]
	}
	sess := Session{ID: hashOf(secret), UserID: uid, CreatedAt: now.UTC(), LastSeenAt: now.UTC(), Address: address, UserAgent: strings.ToValidUTF8(userAgent, "")}
	b, err := json.Marshal(sess)
	if err != nil {
		return "", Session{}, err
	}
	if _, err := s.sessions.Create(ctx, sessionKey(uid, sess.ID), b); err != nil {
		return "", Session{}, fmt.Errorf("store session of %s: %w", uid, err)
	}
	return uid + "." + secret, sess, nil
}

// SessionPolicy says how long a session lasts: Idle after its last use,
// MaxAge after it began, whichever comes first; a use records itself at
// most every Touch.
type SessionPolicy struct {
	Idle   time.Duration
	MaxAge time.Duration
	Touch  time.Duration
}

// DefaultSessionPolicy: 30 minutes idle, 12 hours at most (a working day),
// last use recorded at most every minute.
var DefaultSessionPolicy = SessionPolicy{Idle: 30 * time.Minute, MaxAge: 12 * time.Hour, Touch: time.Minute}

// Session returns the session of a cookie's value at now, under policy,
// recording its use; ErrNoSession when it is unknown, revoked or expired
// (an expired one is removed).
func (s *Store) Session(ctx context.Context, cookie string, now time.Time, policy SessionPolicy) (Session, error) {
	uid, secret, ok := strings.Cut(cookie, ".")
	if !ok || domain.CheckID("user", uid) != nil || len(secret) != 43 {
		return Session{}, ErrNoSession
	}
	key := sessionKey(uid, hashOf(secret))
	e, err := s.sessions.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrInvalidKey) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, fmt.Errorf("load session: %w", err)
	}
	var sess Session
	if err := json.Unmarshal(e.Value(), &sess); err != nil {
		return Session{}, fmt.Errorf("load session: %w", err)
	}
	if !now.Before(sess.LastSeenAt.Add(policy.Idle)) || !now.Before(sess.CreatedAt.Add(policy.MaxAge)) {
		_ = s.sessions.Delete(ctx, key)
		return Session{}, ErrNoSession
	}
	if now.Sub(sess.LastSeenAt) >= policy.Touch {
		sess.LastSeenAt = now.UTC()
		if b, err := json.Marshal(sess); err == nil {
			// A concurrent touch or a revocation wins: nothing to do.
			_, _ = s.sessions.Update(ctx, key, b, e.Revision())
		}
	}
	return sess, nil
}

// Sessions returns user uid's sessions, expired ones left out.
func (s *Store) Sessions(ctx context.Context, uid string, now time.Time, policy SessionPolicy) ([]Session, error) {
	lister, err := s.sessions.ListKeysFiltered(ctx, uid+".*")
	if err != nil {
		return nil, fmt.Errorf("list sessions of %s: %w", uid, err)
	}
	out := []Session{}
	for k := range lister.Keys() {
		e, err := s.sessions.Get(ctx, k)
		if err != nil {
			continue // ended meanwhile
		}
		var sess Session
		if json.Unmarshal(e.Value(), &sess) != nil {
			continue
		}
		if now.Before(sess.LastSeenAt.Add(policy.Idle)) && now.Before(sess.CreatedAt.Add(policy.MaxAge)) {
			out = append(out, sess)
		}
	}
	return out, nil
}

// EndSession ends one session of user uid; ErrSessionNotFound when there
// is none with that id.
func (s *Store) EndSession(ctx context.Context, uid, id string) error {
	if len(id) != 64 || strings.Trim(id, "0123456789abcdef") != "" {
		return ErrSessionNotFound.With("", "no session %q", id)
	}
	key := sessionKey(uid, id)
	if _, err := s.sessions.Get(ctx, key); errors.Is(err, jetstream.ErrKeyNotFound) {
		return ErrSessionNotFound.With("", "user %s has no session %s", uid, id)
	} else if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	if err := s.sessions.Purge(ctx, key); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// EndSessions ends every session of user uid but except (an id, or "")
// and returns how many it ended.
func (s *Store) EndSessions(ctx context.Context, uid, except string) (int, error) {
	lister, err := s.sessions.ListKeysFiltered(ctx, uid+".*")
	if err != nil {
		return 0, fmt.Errorf("list sessions of %s: %w", uid, err)
	}
	n := 0
	for k := range lister.Keys() {
		if except != "" && k == sessionKey(uid, except) {
			continue
		}
		if err := s.sessions.Purge(ctx, k); err != nil {
			return n, fmt.Errorf("end session: %w", err)
		}
		n++
	}
	return n, nil
}

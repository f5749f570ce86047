package domain

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
)

// UserRegistered records a user of the system and the role they act in.
// Login, the name the user signs in with (lower case), is absent from users
// registered before people signed in with passwords: they authenticate with
// bearer tokens only.
type UserRegistered struct {
	Login         string `json:"login,omitempty"`
	Name          string `json:"name"`
	Role          Role   `json:"role"`
	InstitutionID string `json:"institution_id,omitempty"`
	WorkerID      string `json:"worker_id,omitempty"` // the worker a coordinator or worker acts as
}

// TokenIssued records a bearer token given to a user. Only the SHA-256 hash
// of the token is recorded; the token itself is shown once, to its holder.
type TokenIssued struct {
	TokenID   string     `json:"token_id"`
	Hash      string     `json:"hash"` // hex SHA-256 of the token
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// TokenRevoked records that a token no longer authenticates.
type TokenRevoked struct {
	TokenID string `json:"token_id"`
}

// LoginAssigned records the login of a user registered without one (before
// people signed in with passwords), lower case.
type LoginAssigned struct {
	Login string `json:"login"`
}

// SetupLinkIssued records that an administrator issued a one-time link with
// which the user sets their password, valid until ExpiresAt. The link's
// token is kept outside the log, as a hash in the credentials bucket.
type SetupLinkIssued struct {
	ExpiresAt time.Time `json:"expires_at"`
}

// PasswordSet records that the user set their password with a set-up link.
// The password and its hash are kept outside the log (the credentials
// bucket); the envelope's actor says who set it.
type PasswordSet struct{}

// PasswordChanged records that the user changed their password, giving the
// old one. Nothing of either password is recorded.
type PasswordChanged struct{}

// UserDisabled records that a user may no longer sign in nor use their
// tokens; their sessions are revoked.
type UserDisabled struct{}

// UserEnabled records that a disabled user may sign in again.
type UserEnabled struct{}

// EventType implements Event.
func (UserRegistered) EventType() string { return "UserRegistered" }

// EventType implements Event.
func (LoginAssigned) EventType() string { return "LoginAssigned" }

// EventType implements Event.
func (SetupLinkIssued) EventType() string { return "SetupLinkIssued" }

// EventType implements Event.
func (PasswordSet) EventType() string { return "PasswordSet" }

// EventType implements Event.
func (PasswordChanged) EventType() string { return "PasswordChanged" }

// EventType implements Event.
func (UserDisabled) EventType() string { return "UserDisabled" }

// EventType implements Event.
func (UserEnabled) EventType() string { return "UserEnabled" }

// EventType implements Event.
func (TokenIssued) EventType() string { return "TokenIssued" }

// EventType implements Event.
func (TokenRevoked) EventType() string { return "TokenRevoked" }

func init() {
	register[UserRegistered](AggregateUser, 1)
	register[TokenIssued](AggregateUser, 1)
	register[TokenRevoked](AggregateUser, 1)
	register[LoginAssigned](AggregateUser, 1)
	register[SetupLinkIssued](AggregateUser, 1)
	register[PasswordSet](AggregateUser, 1)
	register[PasswordChanged](AggregateUser, 1)
	register[UserDisabled](AggregateUser, 1)
	register[UserEnabled](AggregateUser, 1)
}

// RegisterUser asks to register a user. Login is optional: a user without
// one authenticates with bearer tokens only. Its uniqueness across users is
// kept by the credentials bucket, which reserves it before this command
// runs.
type RegisterUser struct {
	UserID        string `json:"-"`
	Login         string `json:"login,omitempty"`
	Name          string `json:"name"`
	Role          Role   `json:"role"`
	InstitutionID string `json:"institution_id,omitempty"`
	WorkerID      string `json:"worker_id,omitempty"`
}

// IssueToken asks to record a new token of a user by its hash.
type IssueToken struct {
	UserID    string     `json:"-"`
	TokenID   string     `json:"-"`
	Hash      string     `json:"-"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// RevokeToken asks to revoke a token.
type RevokeToken struct {
	UserID  string `json:"-"`
	TokenID string `json:"-"`
}

// AssignLogin asks to give a login to a user who has none. Its uniqueness
// is kept by the credentials bucket, as for RegisterUser.
type AssignLogin struct {
	UserID string `json:"-"`
	Login  string `json:"login"`
}

// IssueSetupLink asks to record that a set-up link valid until ExpiresAt
// was issued to a user with a login.
type IssueSetupLink struct {
	UserID    string    `json:"-"`
	ExpiresAt time.Time `json:"-"`
}

// SetPassword asks to record that the user set their password with a
// set-up link.
type SetPassword struct {
	UserID string `json:"-"`
}

// ChangePassword asks to record that the user changed their password.
type ChangePassword struct {
	UserID string `json:"-"`
}

// DisableUser asks to stop a user from authenticating.
type DisableUser struct {
	UserID string `json:"-"`
}

// EnableUser asks to let a disabled user authenticate again.
type EnableUser struct {
	UserID string `json:"-"`
}

// Target implements Command.
func (c RegisterUser) Target() (string, string) { return AggregateUser, c.UserID }

// Target implements Command.
func (c AssignLogin) Target() (string, string) { return AggregateUser, c.UserID }

// Target implements Command.
func (c IssueSetupLink) Target() (string, string) { return AggregateUser, c.UserID }

// Target implements Command.
func (c SetPassword) Target() (string, string) { return AggregateUser, c.UserID }

// Target implements Command.
func (c ChangePassword) Target() (string, string) { return AggregateUser, c.UserID }

// Target implements Command.
func (c DisableUser) Target() (string, string) { return AggregateUser, c.UserID }

// Target implements Command.
func (c EnableUser) Target() (string, string) { return AggregateUser, c.UserID }

// Target implements Command.
func (c IssueToken) Target() (string, string) { return AggregateUser, c.UserID }

// Target implements Command.
func (c RevokeToken) Target() (string, string) { return AggregateUser, c.UserID }

// Validate implements Command.
func (c RegisterUser) Validate() error {
	if !c.Role.Valid() {
		return Invalid("role", "%q is not a role; use one of %v", c.Role, Roles)
	}
	if c.InstitutionID != "" {
		if err := checkID("institution_id", c.InstitutionID); err != nil {
			return err
		}
	}
	if c.WorkerID != "" {
		if err := checkID("worker_id", c.WorkerID); err != nil {
			return err
		}
		if c.InstitutionID == "" {
			return ErrRequired.With("institution_id", "a user acting as a worker needs the worker's institution")
		}
	}
	if c.Login != "" {
		if err := CheckLogin(c.Login); err != nil {
			return err
		}
	}
	return checkText("name", c.Name, true, maxName)
}

// Validate implements Command.
func (c AssignLogin) Validate() error {
	if err := checkID("user_id", c.UserID); err != nil {
		return err
	}
	return CheckLogin(c.Login)
}

// Validate implements Command.
func (c IssueSetupLink) Validate() error {
	if c.ExpiresAt.IsZero() {
		return ErrRequired.With("expires_at", "a set-up link expires")
	}
	return checkID("user_id", c.UserID)
}

// Validate implements Command.
func (c SetPassword) Validate() error { return checkID("user_id", c.UserID) }

// Validate implements Command.
func (c ChangePassword) Validate() error { return checkID("user_id", c.UserID) }

// Validate implements Command.
func (c DisableUser) Validate() error { return checkID("user_id", c.UserID) }

// Validate implements Command.
func (c EnableUser) Validate() error { return checkID("user_id", c.UserID) }

// Logins are 3 to 64 characters: lower-case ASCII letters, digits, '.',
// '_' and '-', beginning with a letter or digit. They are compared in lower
// case, so "Marta.Testowa" and "marta.testowa" are one login.
const (
	MinLoginLength = 3
	MaxLoginLength = 64
)

// NormalizeLogin returns login in the form it is stored and compared in:
// lower case, without surrounding spaces.
func NormalizeLogin(login string) string { return strings.ToLower(strings.TrimSpace(login)) }

// CheckLogin reports whether login, already normalised, is a valid login;
// the error names the field "login".
func CheckLogin(login string) error {
	if login == "" {
		return ErrRequired.With("login", "is required")
	}
	if n := len(login); n < MinLoginLength || n > MaxLoginLength {
		return Invalid("login", "must be %d to %d characters long", MinLoginLength, MaxLoginLength)
	}
	for i, r := range login {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case (r == '.' || r == '_' || r == '-') && i > 0:
		default:
			return Invalid("login", "use lower-case letters a–z, digits, '.', '_' and '-', beginning with a letter or digit")
		}
	}
	return nil
}

// Validate implements Command.
func (c IssueToken) Validate() error {
	if b, err := hex.DecodeString(c.Hash); err != nil || len(b) != 32 || hex.EncodeToString(b) != c.Hash {
		return Invalid("hash", "must be a SHA-256 hash in lower-case hex")
	}
	return checkID("token_id", c.TokenID)
}

// Validate implements Command.
func (c RevokeToken) Validate() error { return checkID("token_id", c.TokenID) }

// Token is a token of a user as the aggregate knows it.
type Token struct {
	ID        string     `json:"id"`
	Hash      string     `json:"hash"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	Revoked   bool       `json:"revoked"`
}

// User is the aggregate of one user and their tokens.
type User struct {
	ID            string
	Version       int64
	Login         string
	Disabled      bool
	HasPassword   bool
	Name          string
	Role          Role
	InstitutionID string
	WorkerID      string
	Tokens        []Token
}

// Evolve implements State.
func (u *User) Evolve(env Envelope) error {
	switch e := env.Payload.(type) {
	case UserRegistered:
		u.ID, u.Login, u.Name, u.Role, u.InstitutionID, u.WorkerID = env.AggregateID, e.Login, e.Name, e.Role, e.InstitutionID, e.WorkerID
	case LoginAssigned:
		u.Login = e.Login
	case SetupLinkIssued, PasswordChanged:
	case PasswordSet:
		u.HasPassword = true
	case UserDisabled:
		u.Disabled = true
	case UserEnabled:
		u.Disabled = false
	case TokenIssued:
		u.Tokens = append(u.Tokens, Token{ID: e.TokenID, Hash: e.Hash, ExpiresAt: e.ExpiresAt})
	case TokenRevoked:
		for i := range u.Tokens {
			if u.Tokens[i].ID == e.TokenID {
				u.Tokens[i].Revoked = true
			}
		}
	default:
		return fmt.Errorf("user %s: %w", env.AggregateID, unexpected(env))
	}
	u.Version = env.AggregateVersion
	return nil
}

// Decide implements State.
func (u *User) Decide(cmd Command, _ Meta, facts Facts) ([]Event, error) {
	switch c := cmd.(type) {
	case RegisterUser:
		if u.Version > 0 {
			return nil, ErrAlreadyExists.With("", "user %s already exists", c.UserID)
		}
		if c.WorkerID != "" {
			inst, err := institutionRef(facts, "institution_id", c.InstitutionID)
			if err != nil {
				return nil, err
			}
			if !slices.ContainsFunc(inst.Workers, func(w Worker) bool { return w.ID == c.WorkerID }) {
				return nil, ErrWorkerNotFound.With("worker_id", "worker %s does not work at %s", c.WorkerID, inst.Name)
			}
		} else if c.InstitutionID != "" {
			if _, err := institutionRef(facts, "institution_id", c.InstitutionID); err != nil {
				return nil, err
			}
		}
		return []Event{UserRegistered{Login: c.Login, Name: c.Name, Role: c.Role, InstitutionID: c.InstitutionID, WorkerID: c.WorkerID}}, nil
	case AssignLogin:
		if u.Version == 0 {
			return nil, ErrUserNotFound.With("", "user %s does not exist", c.UserID)
		}
		if u.Login != "" {
			return nil, ErrLoginAssigned.With("login", "user %s already has the login %q", c.UserID, u.Login)
		}
		return []Event{LoginAssigned{Login: c.Login}}, nil
	case IssueSetupLink:
		if err := u.active(c.UserID); err != nil {
			return nil, err
		}
		if u.Login == "" {
			return nil, ErrNoLogin.With("", "user %s has no login; set-up links are for users who sign in", c.UserID)
		}
		return []Event{SetupLinkIssued{ExpiresAt: c.ExpiresAt.UTC()}}, nil
	case SetPassword:
		if err := u.active(c.UserID); err != nil {
			return nil, err
		}
		return []Event{PasswordSet{}}, nil
	case ChangePassword:
		if err := u.active(c.UserID); err != nil {
			return nil, err
		}
		if !u.HasPassword {
			return nil, ErrNoPassword.With("", "user %s has not set a password yet", c.UserID)
		}
		return []Event{PasswordChanged{}}, nil
	case DisableUser:
		if err := u.active(c.UserID); err != nil {
			return nil, err
		}
		return []Event{UserDisabled{}}, nil
	case EnableUser:
		if u.Version == 0 {
			return nil, ErrUserNotFound.With("", "user %s does not exist", c.UserID)
		}
		if !u.Disabled {
			return nil, ErrUserEnabled.With("", "user %s is not disabled", c.UserID)
		}
		return []Event{UserEnabled{}}, nil
	case IssueToken:
		if u.Version == 0 {
			return nil, ErrUserNotFound.With("", "user %s does not exist", c.UserID)
		}
		for _, t := range u.Tokens {
			if t.ID == c.TokenID || t.Hash == c.Hash {
				return nil, ErrAlreadyExists.With("token_id", "the user already has token %s", t.ID)
			}
		}
		return []Event{TokenIssued{TokenID: c.TokenID, Hash: c.Hash, ExpiresAt: c.ExpiresAt}}, nil
	case RevokeToken:
		for _, t := range u.Tokens {
			if t.ID == c.TokenID && !t.Revoked {
				return []Event{TokenRevoked{TokenID: c.TokenID}}, nil
			}
		}
		return nil, ErrTokenNotFound.With("token_id", "token %s is not an active token of user %s", c.TokenID, c.UserID)
	}
	return nil, unexpectedCommand(cmd)
}

// active returns an error unless the user exists and is not disabled.
func (u *User) active(id string) error {
	if u.Version == 0 {
		return ErrUserNotFound.With("", "user %s does not exist", id)
	}
	if u.Disabled {
		return ErrUserDisabled.With("", "user %s is disabled", id)
	}
	return nil
}

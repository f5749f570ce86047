package domain

import (
	"encoding/hex"
	"fmt"
	"slices"
	"time"
)

// UserRegistered records a user of the system and the role they act in.
type UserRegistered struct {
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

// EventType implements Event.
func (UserRegistered) EventType() string { return "UserRegistered" }

// EventType implements Event.
func (TokenIssued) EventType() string { return "TokenIssued" }

// EventType implements Event.
func (TokenRevoked) EventType() string { return "TokenRevoked" }

func init() {
	register[UserRegistered](AggregateUser, 1)
	register[TokenIssued](AggregateUser, 1)
	register[TokenRevoked](AggregateUser, 1)
}

// RegisterUser asks to register a user.
type RegisterUser struct {
	UserID        string `json:"-"`
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

// Target implements Command.
func (c RegisterUser) Target() (string, string) { return AggregateUser, c.UserID }

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
	return checkText("name", c.Name, true, maxName)
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
		u.ID, u.Name, u.Role, u.InstitutionID, u.WorkerID = env.AggregateID, e.Name, e.Role, e.InstitutionID, e.WorkerID
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
		return []Event{UserRegistered{Name: c.Name, Role: c.Role, InstitutionID: c.InstitutionID, WorkerID: c.WorkerID}}, nil
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

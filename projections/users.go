package projections

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/kooperacje/kooperacje/domain"
)

// UserView is a user with their tokens (hashes only).
type UserView struct {
	ID            string         `json:"id"`
	Login         string         `json:"login,omitempty"`
	Disabled      bool           `json:"disabled,omitempty"`
	HasPassword   bool           `json:"has_password,omitempty"`
	Name          string         `json:"name"`
	Role          domain.Role    `json:"role"`
	InstitutionID string         `json:"institution_id,omitempty"`
	WorkerID      string         `json:"worker_id,omitempty"`
	Tokens        []domain.Token `json:"tokens"`
	Version       int64          `json:"version"`
}

// Users is the read model that authenticates requests: users and the
// hashes of their tokens.
type Users struct {
	mu     sync.RWMutex
	byID   map[string]*UserView
	byHash map[string]string // token hash → user id
}

// NewUsers returns an empty read model.
func NewUsers() *Users { return &Users{byID: map[string]*UserView{}, byHash: map[string]string{}} }

// Name implements Projection.
func (*Users) Name() string { return "users" }

// Handles implements Projection.
func (*Users) Handles(t string) bool {
	return domain.EventAggregate(t) == domain.AggregateUser
}

// Apply implements Projection.
func (p *Users) Apply(env domain.Envelope) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	v := p.byID[env.AggregateID]
	if v != nil && env.AggregateVersion <= v.Version {
		return nil
	}
	if e, ok := env.Payload.(domain.UserRegistered); ok {
		p.byID[env.AggregateID] = &UserView{ID: env.AggregateID, Login: e.Login, Name: e.Name, Role: e.Role, InstitutionID: e.InstitutionID, WorkerID: e.WorkerID,
			Tokens: []domain.Token{}, Version: env.AggregateVersion}
		return nil
	}
	if v == nil {
		return nil
	}
	switch e := env.Payload.(type) {
	case domain.TokenIssued:
		v.Tokens = append(v.Tokens, domain.Token{ID: e.TokenID, Hash: e.Hash, ExpiresAt: e.ExpiresAt})
		p.byHash[e.Hash] = v.ID
	case domain.LoginAssigned:
		v.Login = e.Login
	case domain.PasswordSet:
		v.HasPassword = true
	case domain.UserDisabled:
		v.Disabled = true
	case domain.UserEnabled:
		v.Disabled = false
	case domain.TokenRevoked:
		for i := range v.Tokens {
			if v.Tokens[i].ID == e.TokenID {
				v.Tokens[i].Revoked = true
			}
		}
	}
	v.Version = env.AggregateVersion
	return nil
}

// ByTokenHash returns the user holding an active token with this hash at
// time now; false for an unknown, revoked or expired token.
func (p *Users) ByTokenHash(hash string, now time.Time) (UserView, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	u := p.byID[p.byHash[hash]]
	if u == nil || u.Disabled {
		return UserView{}, false
	}
	for _, t := range u.Tokens {
		if t.Hash == hash && !t.Revoked && (t.ExpiresAt == nil || now.Before(*t.ExpiresAt)) {
			return u.clone(), true
		}
	}
	return UserView{}, false
}

// Get returns one user.
func (p *Users) Get(id string) (UserView, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	u, ok := p.byID[id]
	if !ok {
		return UserView{}, false
	}
	return u.clone(), true
}

// List returns every user, by name.
func (p *Users) List() []UserView {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]UserView, 0, len(p.byID))
	for _, u := range p.byID {
		out = append(out, u.clone())
	}
	slices.SortFunc(out, func(a, b UserView) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
	return out
}

func (u *UserView) clone() UserView {
	c := *u
	c.Tokens = slices.Clone(u.Tokens)
	return c
}

// Snapshot implements Projection.
func (p *Users) Snapshot() ([]byte, error) { return snapshot(&p.mu, p.byID) }

// Restore implements Projection.
func (p *Users) Restore(b []byte) error {
	if err := restore(&p.mu, &p.byID, b); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.byHash = map[string]string{}
	for _, u := range p.byID {
		for _, t := range u.Tokens {
			p.byHash[t.Hash] = u.ID
		}
	}
	return nil
}

package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/kooperacje/kooperacje/domain"
)

// UserView is a user as the API shows it: tokens by id and state, never
// their hashes.
type UserView struct {
	ID            string      `json:"id"`
	Login         string      `json:"login,omitempty"`
	Disabled      bool        `json:"disabled,omitempty"`
	HasPassword   bool        `json:"has_password,omitempty"`
	Name          string      `json:"name"`
	Role          domain.Role `json:"role"`
	InstitutionID string      `json:"institution_id,omitempty"`
	WorkerID      string      `json:"worker_id,omitempty"`
	Tokens        []TokenView `json:"tokens"`
}

// TokenView is a token without its hash.
type TokenView struct {
	ID        string     `json:"id"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	Revoked   bool       `json:"revoked"`
}

// IssuedToken is the answer to issuing a token: the token itself, shown
// this once.
type IssuedToken struct {
	CommandResponse
	TokenID string `json:"token_id"`
	Token   string `json:"token"`
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, _ Principal) {
	if !s.caughtUp(w, r) {
		return
	}
	out := []UserView{}
	for _, u := range s.Users.List() {
		v := UserView{ID: u.ID, Login: u.Login, Disabled: u.Disabled, HasPassword: u.HasPassword, Name: u.Name, Role: u.Role, InstitutionID: u.InstitutionID, WorkerID: u.WorkerID, Tokens: []TokenView{}}
		for _, t := range u.Tokens {
			v.Tokens = append(v.Tokens, TokenView{ID: t.ID, ExpiresAt: t.ExpiresAt, Revoked: t.Revoked})
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, List[UserView]{Items: out})
}

func (s *Server) registerUser(w http.ResponseWriter, r *http.Request, p Principal) {
	var cmd domain.RegisterUser
	cr, err := s.readCommand(w, r, &cmd, false)
	if err != nil {
		s.writeBadRequest(w, r, err)
		return
	}
	cmd.UserID = newID(p, cr.key, "user")
	cmd.Login = domain.NormalizeLogin(cmd.Login)
	if err := cmd.Validate(); err != nil {
		s.writeError(w, r, err)
		return
	}
	if cmd.Login != "" {
		if !s.needCredentials(w, r) {
			return
		}
		// The login is reserved before the registration is recorded, so
		// that two users never share one; a refused registration gives
		// it back.
		if err := s.Credentials.ReserveLogin(r.Context(), cmd.Login, cmd.UserID); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	res, err := s.run(r, p, cr, cmd)
	if err != nil {
		if cmd.Login != "" && !errors.Is(err, domain.ErrAlreadyExists) {
			if rerr := s.Credentials.ReleaseLogin(r.Context(), cmd.Login, cmd.UserID); rerr != nil {
				s.log.Warn("release login", "login", cmd.Login, "err", rerr)
			}
		}
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/users/"+cmd.UserID)
	writeJSON(w, http.StatusCreated, s.commandHeaders(w, res))
}

// issueToken creates a token for a user and answers it once; only its hash
// is recorded. Body: {"expires_in_days": N} (optional).
func (s *Server) issueToken(w http.ResponseWriter, r *http.Request, p Principal) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var body struct {
		ExpiresInDays int `json:"expires_in_days"`
	}
	if _, err := s.readCommand(w, r, &body, true); err != nil {
		s.writeBadRequest(w, r, err)
		return
	}
	if body.ExpiresInDays < 0 || body.ExpiresInDays > 3650 {
		s.writeError(w, r, domain.Invalid("expires_in_days", "must be between 1 and 3650, or left out for a token that does not expire"))
		return
	}
	token, hash := NewToken()
	cmd := domain.IssueToken{UserID: id, TokenID: domain.NewID(), Hash: hash}
	if body.ExpiresInDays > 0 {
		t := s.Now().UTC().AddDate(0, 0, body.ExpiresInDays)
		cmd.ExpiresAt = &t
	}
	// A token is a secret made here: a retry must not return another one,
	// so Idempotency-Key is not honoured for this route.
	res, err := s.Handler.Execute(r.Context(), cmd, domain.Meta{Actor: p.Actor(), Reason: "token issued through the API"}, domain.AnyVersion)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", strconv.Quote(strconv.FormatInt(res.Version, 10)))
	writeJSON(w, http.StatusCreated, IssuedToken{CommandResponse: CommandResponse{ID: res.AggregateID, Version: res.Version, Sequence: res.Sequence}, TokenID: cmd.TokenID, Token: token})
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, p Principal) {
	pathCommand(s, true, func(r *http.Request, _ Principal, _ commandRequest, id string, c *domain.RevokeToken) (string, error) {
		tok, err := pathID(r, "tokenID")
		c.UserID, c.TokenID = id, tok
		return "", err
	})(w, r, p)
}

// accessLog answers who read which family's personal data:
// ?family=ID or ?user=ID, from ?from= (a sequence), up to ?limit= (500).
func (s *Server) accessLog(w http.ResponseWriter, r *http.Request, _ Principal) {
	q := r.URL.Query()
	family, user := q.Get("family"), q.Get("user")
	if family == "" && user == "" {
		s.writeError(w, r, domain.ErrRequired.With("family", "give family= or user="))
		return
	}
	for name, v := range map[string]string{"family": family, "user": user} {
		if v != "" {
			if err := domain.CheckID(name, v); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
	}
	limit, from := 500, uint64(1)
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			s.writeError(w, r, domain.Invalid("limit", "must be a whole number from 1 to 10000"))
			return
		}
		limit = n
	}
	if v := q.Get("from"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n == 0 {
			s.writeError(w, r, domain.Invalid("from", "must be a sequence, 1 or more"))
			return
		}
		from = n
	}
	if s.Access == nil {
		writeJSON(w, http.StatusOK, List[domain.Access]{Items: []domain.Access{}})
		return
	}
	items, err := s.Access.Query(r.Context(), family, user, from, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, List[domain.Access]{Items: items})
}

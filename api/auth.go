package api

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kooperacje/kooperacje/credentials"
	"github.com/kooperacje/kooperacje/domain"
)

// Principal is the authenticated user of a request.
type Principal struct {
	UserID        string      `json:"user_id"`
	Login         string      `json:"login,omitempty"`
	Name          string      `json:"name"`
	Role          domain.Role `json:"role"`
	InstitutionID string      `json:"institution_id,omitempty"`
	WorkerID      string      `json:"worker_id,omitempty"`
	// session is the session of a request authenticated by its cookie;
	// nil for a bearer token.
	session *credentials.Session
}

// Actor returns the principal as the actor of a command.
func (p Principal) Actor() domain.Actor {
	return domain.Actor{UserID: p.UserID, Role: p.Role, InstitutionID: p.InstitutionID}
}

// TokenPrefix starts every token, so that a leaked one is easy to spot
// (secret scanners, logs).
const TokenPrefix = "koop_"

// NewToken returns a fresh bearer token and the hash under which it is
// recorded. The token itself is never stored.
func NewToken() (token, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails on supported platforms
	token = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken returns the hex SHA-256 of a token. Tokens carry 256 random
// bits, so a fast hash is enough: there is nothing to guess.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// permission says which roles may use a route.
type permission struct {
	public bool
	roles  []domain.Role // nil: every authenticated role
}

var (
	public             = permission{public: true}
	anyRole            = permission{}
	manageInstitutions = permission{roles: []domain.Role{domain.RoleAdmin, domain.RoleAnimator}}
	managePartnerships = permission{roles: []domain.Role{domain.RoleAdmin, domain.RoleAnimator}}
	// Family cases hold personal data: the evaluator never reads them, the
	// auditor and animator only read. Scoping to team and consent comes
	// with the access-control issue.
	readFamilies = permission{roles: []domain.Role{domain.RoleAdmin, domain.RoleAnimator, domain.RoleCoordinator, domain.RoleWorker, domain.RoleAuditor}}
	// An evaluator never reaches a family: role-level 403 on every family
	// route, which reveals nothing about any family.
	writeFamilies = permission{roles: []domain.Role{domain.RoleAdmin, domain.RoleCoordinator, domain.RoleWorker}}
	// Decision histories: the auditor's main view.
	readHistory = permission{roles: []domain.Role{domain.RoleAdmin, domain.RoleCoordinator, domain.RoleAuditor}}
	// The access log: the auditor's and the administrator's.
	readAccessLog = permission{roles: []domain.Role{domain.RoleAdmin, domain.RoleAuditor}}
	// Users and their tokens.
	manageUsers = permission{roles: []domain.Role{domain.RoleAdmin}}
	// Data-subject requests: erasure and the export of everything held.
	eraseFamilies = permission{roles: []domain.Role{domain.RoleAdmin, domain.RoleCoordinator}}
	// The evaluation: pseudonymised aggregates, the evaluator's view.
	evaluate = permission{roles: []domain.Role{domain.RoleAdmin, domain.RoleEvaluator}}
)

func (p permission) allows(r domain.Role) bool {
	return p.roles == nil || slices.Contains(p.roles, r)
}

// authenticate finds the principal of r: by its bearer token when it sends
// one (API clients), else by its session cookie (the pages). Both give the
// same Principal, so everything downstream treats them alike.
func (s *Server) authenticate(r *http.Request) (Principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		if c, err := r.Cookie(SessionCookie); err == nil && s.Credentials != nil {
			return s.authenticateSession(r, c.Value)
		}
		return Principal{}, &domain.Error{Kind: domain.ErrUnauthorized, Code: "token_missing", Field: "Authorization", Message: "sign in, or send Authorization: Bearer <token>"}
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return Principal{}, &domain.Error{Kind: domain.ErrUnauthorized, Code: "token_malformed", Field: "Authorization", Message: "the Authorization header must be Bearer <token>"}
	}
	u, ok := s.Users.ByTokenHash(HashToken(strings.TrimSpace(token)), s.Now())
	if !ok {
		return Principal{}, &domain.Error{Kind: domain.ErrUnauthorized, Code: "token_invalid", Field: "Authorization", Message: "the token is unknown, revoked or expired"}
	}
	return Principal{UserID: u.ID, Login: u.Login, Name: u.Name, Role: u.Role, InstitutionID: u.InstitutionID, WorkerID: u.WorkerID}, nil
}

// authenticateSession finds the principal of a session cookie's value.
func (s *Server) authenticateSession(r *http.Request, cookie string) (Principal, error) {
	sess, err := s.Credentials.Session(r.Context(), cookie, s.Now(), s.Sessions)
	if err != nil {
		return Principal{}, err
	}
	u, ok := s.activeUser(r, sess.UserID)
	if !ok {
		return Principal{}, credentials.ErrNoSession
	}
	p := u.principal()
	p.session = &sess
	return p, nil
}

// handlerFunc is a route's handler, given the authenticated principal
// (zero on public routes).
type handlerFunc func(http.ResponseWriter, *http.Request, Principal)

// handle registers a route behind authentication, authorisation, metrics
// and panic recovery.
func (s *Server) handle(pattern string, fn handlerFunc, perm permission) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if v := recover(); v != nil {
				s.writeError(sw, r, fmt.Errorf("panic: %v", v))
			}
			s.metrics.observe(pattern, sw.status, time.Since(start))
		}()
		var p Principal
		if !perm.public {
			var err error
			if p, err = s.authenticate(r); err != nil {
				sw.Header().Set("WWW-Authenticate", `Bearer realm="kooperacje"`)
				if errors.Is(err, credentials.ErrNoSession) {
					s.setSessionCookie(sw, r, "")
				}
				s.writeError(sw, r, err)
				return
			}
			if !perm.allows(p.Role) {
				s.writeError(sw, r, &domain.Error{Kind: domain.ErrForbidden, Code: "role_forbidden",
					Message: fmt.Sprintf("the role %s may not do this", p.Role)})
				return
			}
		}
		fn(sw, r, p)
	})
}

// statusWriter remembers the status of a response, for the metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

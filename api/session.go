package api

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kooperacje/kooperacje/credentials"
	"github.com/kooperacje/kooperacje/domain"
)

// SessionCookie is the name of the cookie that carries a session.
const SessionCookie = "koop_session"

// DefaultSetupLinkTTL is how long a set-up link stays valid: a long
// weekend, so that a link sent on Friday still works on Monday.
const DefaultSetupLinkTTL = 72 * time.Hour

// Throttling of sign-in failures (docs/security.md): per login, delays
// begin after loginFreeFailures; per address, after addressFreeFailures
// (an office behind one address has many people); at most
// maxThrottleDelay.
const (
	loginFreeFailures   = 5
	addressFreeFailures = 20
	maxThrottleDelay    = 15 * time.Minute
)

// errCredentialsInvalid answers every failed sign-in alike: unknown login,
// wrong password, no password set yet, disabled user.
var errCredentialsInvalid = &domain.Error{Kind: domain.ErrUnauthorized, Code: "credentials_invalid",
	Message: "the login or the password is wrong"}

// errOldPasswordWrong answers a password change whose old password is wrong.
var errOldPasswordWrong = &domain.Error{Kind: domain.ErrInvalid, Code: "old_password_wrong", Field: "old_password",
	Message: "this is not your current password"}

// SignIn is the body of POST /api/v1/session.
type SignIn struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

// SetupPassword is the body of POST /api/v1/setup: the set-up link's token
// and the new password.
type SetupPassword struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

// PasswordChange is the body of POST /api/v1/password.
type PasswordChange struct {
	OldPassword string `json:"old_password"`
	NewPassword string `json:"new_password"`
}

// SessionResponse answers a sign-in and GET /api/v1/session: who the user
// is, and how they are authenticated.
type SessionResponse struct {
	Principal
	// Via is "session" (the cookie) or "token" (a bearer token).
	Via string `json:"via"`
	// SessionID, ExpiresAt (the absolute expiry) and IdleMinutes describe
	// the session when Via is "session".
	SessionID   string     `json:"session_id,omitempty"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	IdleMinutes int        `json:"idle_minutes,omitempty"`
}

// SetupLink answers POST /api/v1/users/{id}/setup-link: the link to give
// the user, shown this once; only its token's hash is kept.
type SetupLink struct {
	CommandResponse
	Login     string    `json:"login"`
	Token     string    `json:"token"`
	Path      string    `json:"path"` // the set-up page with the token in its fragment
	ExpiresAt time.Time `json:"expires_at"`
}

// SetupDone answers POST /api/v1/setup: the login the password was set
// for, to sign in with.
type SetupDone struct {
	CommandResponse
	Login string `json:"login"`
}

// SessionList answers GET /api/v1/users/{id}/sessions.
type SessionList struct {
	Items []credentials.Session `json:"items"`
}

// clientAddress is the address a request came from: the peer, or behind a
// TLS proxy the address the proxy appended to X-Forwarded-For.
func (s *Server) clientAddress(r *http.Request) string {
	if s.BehindTLSProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if a := strings.TrimSpace(parts[len(parts)-1]); net.ParseIP(a) != nil {
				return a
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// secureCookie says whether the session cookie is marked Secure: over
// TLS, or behind a proxy that terminates it.
func (s *Server) secureCookie(r *http.Request) bool { return r.TLS != nil || s.BehindTLSProxy }

func (s *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, value string) {
	c := &http.Cookie{Name: SessionCookie, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.secureCookie(r)}
	if value == "" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// needCredentials answers 503 when the engine keeps no credentials.
func (s *Server) needCredentials(w http.ResponseWriter, r *http.Request) bool {
	if s.Credentials == nil {
		writeProblem(w, Problem{Status: http.StatusServiceUnavailable, Code: "sign_in_unavailable",
			Detail: "this engine keeps no credentials; use a bearer token", Instance: r.URL.Path})
		return false
	}
	return true
}

// tooMany answers 429 with Retry-After in whole seconds.
func tooMany(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeProblem(w, Problem{Status: http.StatusTooManyRequests, Code: "too_many_attempts", Instance: r.URL.Path,
		Detail: fmt.Sprintf("too many failed attempts; try again in %d s", secs)})
}

// signIn checks a login and password and starts a session in a cookie.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, _ Principal) {
	if !s.needCredentials(w, r) {
		return
	}
	var body SignIn
	if _, err := decodeCommand(w, r, &body); err != nil {
		s.writeBadRequest(w, r, err)
		return
	}
	login := domain.NormalizeLogin(body.Login)
	if err := firstError(
		func() error {
			if login == "" {
				return domain.ErrRequired.With("login", "is required")
			}
			return nil
		},
		func() error { return domain.CheckLogin(login) },
		func() error {
			if body.Password == "" {
				return domain.ErrRequired.With("password", "is required")
			}
			if len(body.Password) > 4*credentials.MaxPasswordLength {
				return domain.Invalid("password", "is longer than any password can be")
			}
			return nil
		}); err != nil {
		s.writeError(w, r, err)
		return
	}
	now, addr := s.Now(), s.clientAddress(r)
	if wait := max(s.loginThrottle.Wait(login, now), s.addrThrottle.Wait(addr, now)); wait > 0 {
		s.metrics.signIns.WithLabelValues("throttled").Inc()
		tooMany(w, r, wait)
		return
	}
	uid, ok, err := s.Credentials.Verify(r.Context(), login, body.Password)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var u principalSource
	if ok {
		u, ok = s.activeUser(r, uid)
	}
	if !ok {
		s.loginThrottle.Fail(login, now)
		s.addrThrottle.Fail(addr, now)
		s.metrics.signIns.WithLabelValues("invalid").Inc()
		s.writeError(w, r, errCredentialsInvalid)
		return
	}
	s.loginThrottle.Succeed(login)
	s.metrics.signIns.WithLabelValues("ok").Inc()
	cookie, sess, err := s.Credentials.CreateSession(r.Context(), uid, addr, r.UserAgent(), now)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.setSessionCookie(w, r, cookie)
	p := u.principal()
	p.session = &sess
	writeJSON(w, http.StatusOK, s.sessionResponse(p))
}

// firstError returns the first error of checks.
func firstError(checks ...func() error) error {
	for _, c := range checks {
		if err := c(); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) sessionResponse(p Principal) SessionResponse {
	out := SessionResponse{Principal: p, Via: "token"}
	if p.session != nil {
		exp := p.session.CreatedAt.Add(s.Sessions.MaxAge)
		out.Via, out.SessionID, out.ExpiresAt, out.IdleMinutes = "session", p.session.ID, &exp, int(s.Sessions.Idle.Minutes())
	}
	return out
}

// whoAmI answers the principal and how it is authenticated.
func (s *Server) whoAmI(w http.ResponseWriter, _ *http.Request, p Principal) {
	writeJSON(w, http.StatusOK, s.sessionResponse(p))
}

// signOut ends the cookie's session, if any, and clears the cookie.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request, _ Principal) {
	if c, err := r.Cookie(SessionCookie); err == nil && s.Credentials != nil {
		if sess, err := s.Credentials.Session(r.Context(), c.Value, s.Now(), s.Sessions); err == nil {
			if err := s.Credentials.EndSession(r.Context(), sess.UserID, sess.ID); err != nil && !errors.Is(err, credentials.ErrSessionNotFound) {
				s.writeError(w, r, err)
				return
			}
		}
	}
	s.setSessionCookie(w, r, "")
	w.WriteHeader(http.StatusNoContent)
}

// changePassword changes the user's own password, the old one given; the
// user's other sessions end.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, p Principal) {
	if !s.needCredentials(w, r) {
		return
	}
	var body PasswordChange
	if _, err := decodeCommand(w, r, &body); err != nil {
		s.writeBadRequest(w, r, err)
		return
	}
	if p.Login == "" {
		s.writeError(w, r, domain.ErrNoLogin.With("", "you have no login; an administrator gives you one"))
		return
	}
	if err := firstError(
		func() error {
			if body.OldPassword == "" {
				return domain.ErrRequired.With("old_password", "is required")
			}
			return nil
		},
		func() error { return credentials.CheckPassword("new_password", body.NewPassword, p.Login) },
		func() error {
			if body.NewPassword == body.OldPassword {
				return domain.Invalid("new_password", "is the same as the old one")
			}
			return nil
		}); err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.Now()
	if wait := s.loginThrottle.Wait(p.Login, now); wait > 0 {
		tooMany(w, r, wait)
		return
	}
	ok, err := s.Credentials.CheckPasswordOf(r.Context(), p.UserID, body.OldPassword)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !ok {
		s.loginThrottle.Fail(p.Login, now)
		s.writeError(w, r, errOldPasswordWrong)
		return
	}
	res, err := s.Handler.Execute(r.Context(), domain.ChangePassword{UserID: p.UserID},
		domain.Meta{Actor: p.Actor(), Reason: "zmiana hasła przez użytkownika"}, domain.AnyVersion)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.Credentials.SetPassword(r.Context(), p.UserID, body.NewPassword, now); err != nil {
		s.writeError(w, r, err)
		return
	}
	keep := ""
	if p.session != nil {
		keep = p.session.ID
	}
	if _, err := s.Credentials.EndSessions(r.Context(), p.UserID, keep); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.commandHeaders(w, res))
}

// issueSetupLink gives a user with a login a new one-time set-up link;
// an earlier link stops working. The password, if any, stays until the
// user sets a new one.
func (s *Server) issueSetupLink(w http.ResponseWriter, r *http.Request, p Principal) {
	if !s.needCredentials(w, r) {
		return
	}
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !s.caughtUp(w, r) {
		return
	}
	u, ok := s.Users.Get(id)
	if !ok {
		s.writeError(w, r, domain.ErrUserNotFound.With("", "user %s does not exist", id))
		return
	}
	expires := s.Now().Add(s.SetupLinkTTL).UTC().Truncate(time.Second)
	// A link is a secret made here: a retry must not return another, so
	// Idempotency-Key is not honoured for this route.
	res, err := s.Handler.Execute(r.Context(), domain.IssueSetupLink{UserID: id, ExpiresAt: expires},
		domain.Meta{Actor: p.Actor(), Reason: "link do ustawienia hasła"}, domain.AnyVersion)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	token, err := s.Credentials.IssueSetup(r.Context(), id, expires)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, SetupLink{CommandResponse: s.commandHeaders(w, res), Login: u.Login, Token: token,
		Path: "/setup#token=" + token, ExpiresAt: expires})
}

// setupPassword sets a password with a set-up link's token and uses the
// link up; the user's sessions end.
func (s *Server) setupPassword(w http.ResponseWriter, r *http.Request, _ Principal) {
	if !s.needCredentials(w, r) {
		return
	}
	var body SetupPassword
	if _, err := decodeCommand(w, r, &body); err != nil {
		s.writeBadRequest(w, r, err)
		return
	}
	if body.Token == "" {
		s.writeError(w, r, domain.ErrRequired.With("token", "is required: open the whole link you were given"))
		return
	}
	if body.Password == "" {
		s.writeError(w, r, domain.ErrRequired.With("password", "is required"))
		return
	}
	if !strings.HasPrefix(body.Token, credentials.SetupTokenPrefix) || len(body.Token) > 100 {
		s.writeError(w, r, credentials.ErrSetupLinkInvalid)
		return
	}
	now := s.Now()
	link, err := s.Credentials.FindSetup(r.Context(), body.Token, now)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := credentials.CheckPassword("password", body.Password, link.Login); err != nil {
		s.writeError(w, r, err)
		return
	}
	u, ok := s.activeUser(r, link.UserID)
	if !ok {
		s.writeError(w, r, domain.ErrUserDisabled.With("", "this user is disabled; ask an administrator"))
		return
	}
	if err := s.Credentials.UseSetup(r.Context(), link, body.Password, now); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.Handler.Execute(r.Context(), domain.SetPassword{UserID: link.UserID},
		domain.Meta{Actor: u.principal().Actor(), Reason: "ustawienie hasła linkiem jednorazowym"}, domain.AnyVersion)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, err := s.Credentials.EndSessions(r.Context(), link.UserID, ""); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, SetupDone{CommandResponse: s.commandHeaders(w, res), Login: link.Login})
}

// userSessions lists a user's sessions, for an administrator.
func (s *Server) userSessions(w http.ResponseWriter, r *http.Request, _ Principal) {
	if !s.needCredentials(w, r) {
		return
	}
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	list, err := s.Credentials.Sessions(r.Context(), id, s.Now(), s.Sessions)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, SessionList{Items: list})
}

// endUserSessions ends one session of a user ({sid}) or all of them.
func (s *Server) endUserSessions(w http.ResponseWriter, r *http.Request, _ Principal) {
	if !s.needCredentials(w, r) {
		return
	}
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if sid := r.PathValue("sid"); sid != "" {
		err = s.Credentials.EndSession(r.Context(), id, sid)
	} else {
		_, err = s.Credentials.EndSessions(r.Context(), id, "")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// disableUser stops a user from authenticating and ends their sessions.
func (s *Server) disableUser(w http.ResponseWriter, r *http.Request, p Principal) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if id == p.UserID {
		s.writeError(w, r, &domain.Error{Kind: domain.ErrConflict, Code: "disable_self", Message: "an administrator does not disable themselves"})
		return
	}
	cr, err := s.readCommand(w, r, &struct{}{}, true)
	if err != nil {
		s.writeBadRequest(w, r, err)
		return
	}
	res, err := s.run(r, p, cr, domain.DisableUser{UserID: id})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.Credentials != nil {
		if _, err := s.Credentials.EndSessions(r.Context(), id, ""); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, s.commandHeaders(w, res))
}

// enableUser lets a disabled user authenticate again.
func (s *Server) enableUser(w http.ResponseWriter, r *http.Request, p Principal) {
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	cr, err := s.readCommand(w, r, &struct{}{}, true)
	if err != nil {
		s.writeBadRequest(w, r, err)
		return
	}
	res, err := s.run(r, p, cr, domain.EnableUser{UserID: id})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.commandHeaders(w, res))
}

// assignLogin gives a login to a user registered without one.
func (s *Server) assignLogin(w http.ResponseWriter, r *http.Request, p Principal) {
	if !s.needCredentials(w, r) {
		return
	}
	id, err := pathID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var cmd domain.AssignLogin
	cr, err := s.readCommand(w, r, &cmd, false)
	if err != nil {
		s.writeBadRequest(w, r, err)
		return
	}
	cmd.UserID, cmd.Login = id, domain.NormalizeLogin(cmd.Login)
	if err := cmd.Validate(); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.Credentials.ReserveLogin(r.Context(), cmd.Login, id); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.run(r, p, cr, cmd)
	if err != nil {
		if u, ok := s.Users.Get(id); !ok || u.Login != cmd.Login {
			if rerr := s.Credentials.ReleaseLogin(r.Context(), cmd.Login, id); rerr != nil {
				s.log.Warn("release login", "login", cmd.Login, "err", rerr)
			}
		}
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.commandHeaders(w, res))
}

// principalSource is a user as the read model knows them.
type principalSource struct {
	id, login, name, institution, worker string
	role                                 domain.Role
}

func (u principalSource) principal() Principal {
	return Principal{UserID: u.id, Login: u.login, Name: u.name, Role: u.role, InstitutionID: u.institution, WorkerID: u.worker}
}

// activeUser returns user uid when they exist and are not disabled,
// waiting for the read model to catch up with the store once if needed.
func (s *Server) activeUser(r *http.Request, uid string) (principalSource, bool) {
	u, ok := s.Users.Get(uid)
	if !ok && s.Store != nil && s.Runner != nil {
		if last, err := s.Store.LastSequence(r.Context()); err == nil {
			_ = s.Runner.WaitFor(r.Context(), last)
			u, ok = s.Users.Get(uid)
		}
	}
	if !ok || u.Disabled {
		return principalSource{}, false
	}
	return principalSource{id: u.ID, login: u.Login, name: u.Name, role: u.Role, institution: u.InstitutionID, worker: u.WorkerID}, true
}

package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/api"
	"github.com/kooperacje/kooperacje/credentials"
	"github.com/kooperacje/kooperacje/domain"
)

// clock is a settable clock for the API, to expire sessions and links.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newClockedAPI is the API on a clock the test moves.
func newClockedAPI(t *testing.T) (*testAPI, *clock) {
	c := &clock{t: time.Now()}
	return newTestAPI(t, func(cfg *api.Config) { cfg.Now = c.now }), c
}

const goodPassword = "zielona łąka nad Wartą"

// signInUser registers a coordinator-less user with login and sets their
// password through a set-up link, as an administrator and the user would.
func (ta *testAPI) signInUser(login string, role domain.Role) string {
	ta.t.Helper()
	cr := ta.command(http.MethodPost, "/api/v1/users", map[string]any{"name": "Użytkownik " + login, "role": role, "login": login}, http.StatusCreated)
	link := ta.setupLink(cr.ID)
	r := ta.do(http.MethodPost, "/api/v1/setup", "", nil, map[string]any{"token": link.Token, "password": goodPassword})
	require.Equal(ta.t, http.StatusOK, r.status, "%s", r.raw)
	var done api.SetupDone
	require.NoError(ta.t, json.Unmarshal(r.raw, &done))
	ta.settle(done.Sequence)
	return cr.ID
}

func (ta *testAPI) setupLink(uid string) api.SetupLink {
	ta.t.Helper()
	r := ta.admin(http.MethodPost, "/api/v1/users/"+uid+"/setup-link", nil)
	require.Equal(ta.t, http.StatusCreated, r.status, "%s", r.raw)
	var link api.SetupLink
	require.NoError(ta.t, json.Unmarshal(r.raw, &link))
	return link
}

// signIn posts a login and password and returns the answer and the
// session cookie it set ("" when none).
func (ta *testAPI) signIn(login, password string, headers map[string]string) (response, string) {
	ta.t.Helper()
	r := ta.do(http.MethodPost, "/api/v1/session", "", headers, map[string]any{"login": login, "password": password})
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == api.SessionCookie && c.Value != "" {
			return r, c.Value
		}
	}
	return r, ""
}

// withCookie sends a request with a session cookie and no token.
func (ta *testAPI) withCookie(method, path, cookie string, headers map[string]string, body any) response {
	ta.t.Helper()
	h := map[string]string{"Cookie": api.SessionCookie + "=" + cookie}
	for k, v := range headers {
		h[k] = v
	}
	return ta.do(method, path, "", h, body)
}

func TestSignIn(t *testing.T) {
	ta := newTestAPI(t)
	uid := ta.signInUser("marta.testowa", domain.RoleCoordinator)

	r, cookie := ta.signIn("marta.testowa", goodPassword, nil)
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	require.NotEmpty(t, cookie)
	set := r.header.Get("Set-Cookie")
	for _, attr := range []string{"HttpOnly", "SameSite=Strict", "Path=/"} {
		assert.Contains(t, set, attr)
	}
	assert.NotContains(t, set, "Secure", "plain HTTP without --behind-tls-proxy")
	assert.Equal(t, uid, r.body["user_id"])
	assert.Equal(t, "session", r.body["via"])

	t.Run("the cookie authenticates like a token", func(t *testing.T) {
		me := ta.withCookie(http.MethodGet, "/api/v1/session", cookie, nil, nil)
		require.Equal(t, http.StatusOK, me.status, "%s", me.raw)
		assert.Equal(t, "marta.testowa", me.body["login"])
		assert.Equal(t, "coordinator", me.body["role"])
		fams := ta.withCookie(http.MethodGet, "/api/v1/families", cookie, nil, nil)
		assert.Equal(t, http.StatusOK, fams.status, "%s", fams.raw)
		users := ta.withCookie(http.MethodGet, "/api/v1/users", cookie, nil, nil)
		assert.Equal(t, http.StatusForbidden, users.status, "the role's rules hold for a session too")
	})

	t.Run("the login is case-insensitive", func(t *testing.T) {
		r, cookie := ta.signIn("  Marta.Testowa ", goodPassword, nil)
		assert.Equal(t, http.StatusOK, r.status, "%s", r.raw)
		assert.NotEmpty(t, cookie)
	})

	t.Run("a wrong password and an unknown login get the same answer", func(t *testing.T) {
		wrong, c1 := ta.signIn("marta.testowa", goodPassword+"!", nil)
		unknown, c2 := ta.signIn("nikt.taki", goodPassword, nil)
		assert.Equal(t, http.StatusUnauthorized, wrong.status)
		assert.Equal(t, wrong.status, unknown.status)
		assert.Equal(t, wrong.raw, unknown.raw)
		assert.Equal(t, "credentials_invalid", wrong.body["code"])
		assert.Empty(t, c1)
		assert.Empty(t, c2)
	})

	t.Run("an unknown login takes as long as a wrong password", func(t *testing.T) {
		// The fastest of several tries, robust against a busy machine:
		// both hash once, so neither is many times faster.
		fastest := func(login string) time.Duration {
			best := time.Hour
			for range 3 {
				start := time.Now()
				r, _ := ta.signIn(login, "niepoprawne hasło 1", nil)
				require.Equal(t, http.StatusUnauthorized, r.status)
				best = min(best, time.Since(start))
			}
			return best
		}
		ta.api.ForgetFailures()
		known, unknown := fastest("marta.testowa"), fastest("ktos.inny")
		ta.api.ForgetFailures()
		assert.Greater(t, unknown, known/3, "unknown %s, known %s", unknown, known)
		assert.Greater(t, known, unknown/3, "unknown %s, known %s", unknown, known)
	})

	t.Run("bearer tokens still work", func(t *testing.T) {
		me := ta.do(http.MethodGet, "/api/v1/session", ta.tokens[domain.RoleAdmin], nil, nil)
		require.Equal(t, http.StatusOK, me.status)
		assert.Equal(t, "token", me.body["via"])
		assert.Equal(t, ta.userIDs[domain.RoleAdmin], me.body["user_id"])
	})

	t.Run("signing out ends the session", func(t *testing.T) {
		_, c := ta.signIn("marta.testowa", goodPassword, nil)
		out := ta.withCookie(http.MethodDelete, "/api/v1/session", c, nil, nil)
		require.Equal(t, http.StatusNoContent, out.status, "%s", out.raw)
		assert.Contains(t, out.header.Get("Set-Cookie"), "Max-Age=0", "the cookie is cleared")
		after := ta.withCookie(http.MethodGet, "/api/v1/session", c, nil, nil)
		assert.Equal(t, http.StatusUnauthorized, after.status)
		assert.Equal(t, "session_expired", after.body["code"])
		still := ta.withCookie(http.MethodGet, "/api/v1/session", cookie, nil, nil)
		assert.Equal(t, http.StatusOK, still.status, "another session of the user holds")
	})

	t.Run("nothing of the password reaches the event log", func(t *testing.T) {
		envs, err := ta.store.Load(context.Background(), domain.AggregateUser, uid)
		require.NoError(t, err)
		var types []string
		for _, e := range envs {
			types = append(types, e.Type)
			raw, err := json.Marshal(e)
			require.NoError(t, err)
			assert.NotContains(t, string(raw), "Wartą")
			assert.NotContains(t, string(raw), "argon2")
		}
		assert.Equal(t, []string{"UserRegistered", "SetupLinkIssued", "PasswordSet"}, types)
	})
}

func TestSignInBehindATLSProxy(t *testing.T) {
	ta := newTestAPI(t, func(cfg *api.Config) { cfg.BehindTLSProxy = true })
	ta.signInUser("marta.testowa", domain.RoleWorker)
	r, _ := ta.signIn("marta.testowa", goodPassword, nil)
	require.Equal(t, http.StatusOK, r.status)
	assert.Contains(t, r.header.Get("Set-Cookie"), "Secure")
}

func TestSignInThrottling(t *testing.T) {
	t.Run("per login: after five failures even the right password waits", func(t *testing.T) {
		ta, clk := newClockedAPI(t)
		ta.signInUser("marta.testowa", domain.RoleWorker)
		for i := range 5 {
			r, _ := ta.signIn("marta.testowa", "zły-pomysł-"+string(rune('a'+i)), nil)
			require.Equal(t, http.StatusUnauthorized, r.status, "failure %d", i+1)
		}
		r, cookie := ta.signIn("marta.testowa", goodPassword, nil)
		require.Equal(t, http.StatusTooManyRequests, r.status, "%s", r.raw)
		assert.Equal(t, "too_many_attempts", r.body["code"])
		assert.Equal(t, "1", r.header.Get("Retry-After"))
		assert.Empty(t, cookie)
		clk.advance(time.Second)
		r, _ = ta.signIn("marta.testowa", "zły-pomysł-f", nil)
		require.Equal(t, http.StatusUnauthorized, r.status)
		r, _ = ta.signIn("marta.testowa", goodPassword, nil)
		assert.Equal(t, http.StatusTooManyRequests, r.status)
		assert.Equal(t, "2", r.header.Get("Retry-After"), "each failure doubles the wait")
		clk.advance(2 * time.Second)
		r, cookie = ta.signIn("marta.testowa", goodPassword, nil)
		assert.Equal(t, http.StatusOK, r.status, "%s", r.raw)
		assert.NotEmpty(t, cookie)
		r, _ = ta.signIn("marta.testowa", "zły-pomysł-g", nil)
		assert.Equal(t, http.StatusUnauthorized, r.status, "a success forgets the login's failures")
		m := ta.do(http.MethodGet, "/metrics", "", nil, nil)
		for _, line := range []string{`kooperacje_sign_ins_total{outcome="throttled"} 2`, `kooperacje_sign_ins_total{outcome="invalid"} 7`, `kooperacje_sign_ins_total{outcome="ok"} 1`} {
			assert.Contains(t, string(m.raw), line)
		}
	})

	t.Run("an unknown login is throttled the same way", func(t *testing.T) {
		ta := newTestAPI(t)
		for range 5 {
			r, _ := ta.signIn("nikt.taki", goodPassword, nil)
			require.Equal(t, http.StatusUnauthorized, r.status)
		}
		r, _ := ta.signIn("nikt.taki", goodPassword, nil)
		assert.Equal(t, http.StatusTooManyRequests, r.status)
	})

	t.Run("per address: twenty failures on different logins hold up the address", func(t *testing.T) {
		ta := newTestAPI(t)
		ta.signInUser("marta.testowa", domain.RoleWorker)
		for i := range 20 {
			r, _ := ta.signIn("ktos"+strings.Repeat("x", i), goodPassword, nil)
			require.Equal(t, http.StatusUnauthorized, r.status, "failure %d", i+1)
		}
		r, _ := ta.signIn("marta.testowa", goodPassword, nil)
		assert.Equal(t, http.StatusTooManyRequests, r.status, "%s", r.raw)
		assert.NotEmpty(t, r.header.Get("Retry-After"))
	})
}

func TestSetupLinks(t *testing.T) {
	ta, clk := newClockedAPI(t)
	cr := ta.command(http.MethodPost, "/api/v1/users", map[string]any{"name": "Piotr Fikcyjny", "role": "worker", "login": "Piotr.Fikcyjny"}, http.StatusCreated)
	setup := func(token, password string) response {
		return ta.do(http.MethodPost, "/api/v1/setup", "", nil, map[string]any{"token": token, "password": password})
	}

	link := ta.setupLink(cr.ID)
	assert.Equal(t, "piotr.fikcyjny", link.Login, "the login is kept in lower case")
	assert.Equal(t, "/setup#token="+link.Token, link.Path, "the token travels in the fragment, never to a server log")
	assert.WithinDuration(t, clk.now().Add(72*time.Hour), link.ExpiresAt, time.Second)

	for _, bad := range []struct{ name, password string }{
		{"a too-short password", "krótkie"},
		{"a too-long password", strings.Repeat("długie ", 40)},
		{"the login inside the password", "ja jestem piotr.fikcyjny"},
	} {
		t.Run(bad.name+" writes nothing and keeps the link", func(t *testing.T) {
			before := ta.lastSeq()
			r := setup(link.Token, bad.password)
			assert.Equal(t, http.StatusBadRequest, r.status, "%s", r.raw)
			assert.Equal(t, "password", r.body["field"])
			assert.Equal(t, before, ta.lastSeq())
		})
	}

	t.Run("a link sets the password once", func(t *testing.T) {
		r := setup(link.Token, goodPassword)
		require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
		assert.Equal(t, "piotr.fikcyjny", r.body["login"])
		before := ta.lastSeq()
		again := setup(link.Token, "inne dobre hasło 2")
		assert.Equal(t, http.StatusBadRequest, again.status)
		assert.Equal(t, "setup_link_invalid", again.body["code"])
		assert.Equal(t, "token", again.body["field"])
		assert.Equal(t, before, ta.lastSeq())
		in, _ := ta.signIn("piotr.fikcyjny", goodPassword, nil)
		assert.Equal(t, http.StatusOK, in.status, "the first password holds")
	})

	t.Run("a link expires", func(t *testing.T) {
		old := ta.setupLink(cr.ID)
		clk.advance(72*time.Hour + time.Second)
		r := setup(old.Token, "całkiem nowe hasło 3")
		assert.Equal(t, http.StatusBadRequest, r.status)
		assert.Equal(t, "setup_link_expired", r.body["code"])
	})

	t.Run("a new link replaces the earlier one", func(t *testing.T) {
		first, second := ta.setupLink(cr.ID), ta.setupLink(cr.ID)
		r := setup(first.Token, "całkiem nowe hasło 3")
		assert.Equal(t, "setup_link_invalid", r.body["code"])
		r = setup(second.Token, "całkiem nowe hasło 3")
		assert.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	})

	t.Run("a user without a login gets no link", func(t *testing.T) {
		r := ta.admin(http.MethodPost, "/api/v1/users/"+ta.userIDs[domain.RoleAuditor]+"/setup-link", nil)
		assert.Equal(t, http.StatusConflict, r.status)
		assert.Equal(t, "no_login", r.body["code"])
	})

	t.Run("only an administrator issues links", func(t *testing.T) {
		r := ta.do(http.MethodPost, "/api/v1/users/"+cr.ID+"/setup-link", ta.tokens[domain.RoleCoordinator], nil, nil)
		assert.Equal(t, http.StatusForbidden, r.status)
	})
}

func TestPasswordChange(t *testing.T) {
	ta := newTestAPI(t)
	uid := ta.signInUser("marta.testowa", domain.RoleCoordinator)
	_, cookie := ta.signIn("marta.testowa", goodPassword, nil)
	_, other := ta.signIn("marta.testowa", goodPassword, nil)
	const next = "jesienne liście w Sieradzu"

	tests := []struct {
		name        string
		body        any
		status      int
		field, code string
	}{
		{"without the old password", map[string]any{"new_password": next}, 400, "old_password", "required"},
		{"with a wrong old password", map[string]any{"old_password": "to nie jest moje hasło", "new_password": next}, 400, "old_password", "old_password_wrong"},
		{"with a too-short new password", map[string]any{"old_password": goodPassword, "new_password": "krótkie"}, 400, "new_password", "invalid_field"},
		{"with the login inside the new password", map[string]any{"old_password": goodPassword, "new_password": "marta.testowa2026"}, 400, "new_password", "invalid_field"},
		{"with an unknown member", map[string]any{"old_password": goodPassword, "new_password": next, "password": next}, 400, "password", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := ta.lastSeq()
			r := ta.withCookie(http.MethodPost, "/api/v1/password", cookie, nil, tt.body)
			assert.Equal(t, tt.status, r.status, "%s", r.raw)
			assert.Equal(t, tt.field, r.body["field"])
			if tt.code != "" {
				assert.Equal(t, tt.code, r.body["code"])
			}
			assert.Equal(t, before, ta.lastSeq(), "nothing written")
		})
	}

	r := ta.withCookie(http.MethodPost, "/api/v1/password", cookie, nil, map[string]any{"old_password": goodPassword, "new_password": next})
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	ta.settle(uint64(r.body["sequence"].(float64)))
	old, _ := ta.signIn("marta.testowa", goodPassword, nil)
	assert.Equal(t, http.StatusUnauthorized, old.status, "the old password no longer signs in")
	fresh, _ := ta.signIn("marta.testowa", next, nil)
	assert.Equal(t, http.StatusOK, fresh.status, "the new one does")
	assert.Equal(t, http.StatusOK, ta.withCookie(http.MethodGet, "/api/v1/session", cookie, nil, nil).status, "the session that changed it holds")
	assert.Equal(t, http.StatusUnauthorized, ta.withCookie(http.MethodGet, "/api/v1/session", other, nil, nil).status, "the user's other sessions end")

	envs, err := ta.store.Load(context.Background(), domain.AggregateUser, uid)
	require.NoError(t, err)
	last := envs[len(envs)-1]
	assert.Equal(t, "PasswordChanged", last.Type)
	assert.Equal(t, uid, last.Actor.UserID, "the log says who changed it")
}

func TestSessionExpiry(t *testing.T) {
	ta, clk := newClockedAPI(t)
	ta.signInUser("marta.testowa", domain.RoleWorker)
	get := func(cookie string) response {
		return ta.withCookie(http.MethodGet, "/api/v1/session", cookie, nil, nil)
	}

	t.Run("a session idle for more than 30 minutes expires", func(t *testing.T) {
		_, cookie := ta.signIn("marta.testowa", goodPassword, nil)
		clk.advance(29 * time.Minute)
		require.Equal(t, http.StatusOK, get(cookie).status)
		clk.advance(29 * time.Minute)
		require.Equal(t, http.StatusOK, get(cookie).status, "each use restarts the idle time")
		clk.advance(31 * time.Minute)
		r := get(cookie)
		assert.Equal(t, http.StatusUnauthorized, r.status)
		assert.Equal(t, "session_expired", r.body["code"])
		assert.Contains(t, r.header.Get("Set-Cookie"), "Max-Age=0", "the dead cookie is cleared")
	})

	t.Run("a session in use ends after 12 hours", func(t *testing.T) {
		_, cookie := ta.signIn("marta.testowa", goodPassword, nil)
		for range 11 * 3 {
			clk.advance(20 * time.Minute)
			require.Equal(t, http.StatusOK, get(cookie).status)
		}
		clk.advance(61 * time.Minute)
		r := get(cookie)
		assert.Equal(t, http.StatusUnauthorized, r.status, "past 12 hours although used every 20 minutes")
	})
}

func TestSessionRevocation(t *testing.T) {
	ta := newTestAPI(t)
	uid := ta.signInUser("marta.testowa", domain.RoleCoordinator)
	_, a := ta.signIn("marta.testowa", goodPassword, nil)
	_, b := ta.signIn("marta.testowa", goodPassword, nil)
	get := func(cookie string) int {
		return ta.withCookie(http.MethodGet, "/api/v1/session", cookie, nil, nil).status
	}

	var list api.SessionList
	r := ta.admin(http.MethodGet, "/api/v1/users/"+uid+"/sessions", nil)
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	require.NoError(t, json.Unmarshal(r.raw, &list))
	require.Len(t, list.Items, 2)
	assert.NotContains(t, string(r.raw), strings.SplitN(a, ".", 2)[1], "the list shows no secret")
	bID := ta.withCookie(http.MethodGet, "/api/v1/session", b, nil, nil).body["session_id"].(string)
	assert.True(t, slices.ContainsFunc(list.Items, func(s credentials.Session) bool { return s.ID == bID }))

	r = ta.admin(http.MethodDelete, "/api/v1/users/"+uid+"/sessions/"+bID, nil)
	require.Equal(t, http.StatusNoContent, r.status, "%s", r.raw)
	assert.Equal(t, http.StatusUnauthorized, get(b), "the revoked session ends")
	assert.Equal(t, http.StatusOK, get(a), "the other holds")
	r = ta.admin(http.MethodDelete, "/api/v1/users/"+uid+"/sessions/"+bID, nil)
	assert.Equal(t, http.StatusNotFound, r.status)

	r = ta.admin(http.MethodDelete, "/api/v1/users/"+uid+"/sessions", nil)
	require.Equal(t, http.StatusNoContent, r.status)
	assert.Equal(t, http.StatusUnauthorized, get(a), "all sessions end")

	t.Run("a disabled user signs in no more, with a password or a token", func(t *testing.T) {
		_, c := ta.signIn("marta.testowa", goodPassword, nil)
		require.NotEmpty(t, c)
		token := ta.admin(http.MethodPost, "/api/v1/users/"+uid+"/tokens", nil)
		require.Equal(t, http.StatusCreated, token.status)
		ta.command(http.MethodPost, "/api/v1/users/"+uid+"/disable", nil, http.StatusOK)
		assert.Equal(t, http.StatusUnauthorized, get(c), "the session ended")
		r, _ := ta.signIn("marta.testowa", goodPassword, nil)
		assert.Equal(t, http.StatusUnauthorized, r.status)
		assert.Equal(t, "credentials_invalid", r.body["code"], "the same answer as a wrong password")
		assert.Equal(t, http.StatusUnauthorized, ta.do(http.MethodGet, "/api/v1/me", token.body["token"].(string), nil, nil).status)
		ta.command(http.MethodPost, "/api/v1/users/"+uid+"/enable", nil, http.StatusOK)
		r, _ = ta.signIn("marta.testowa", goodPassword, nil)
		assert.Equal(t, http.StatusOK, r.status, "enabled again")
	})
}

func TestCrossOriginWritesWithTheCookieAreRefused(t *testing.T) {
	ta := newTestAPI(t)
	ta.signInUser("marta.testowa", domain.RoleCoordinator)
	_, cookie := ta.signIn("marta.testowa", goodPassword, nil)
	change := map[string]any{"old_password": goodPassword, "new_password": "jesienne liście w Sieradzu"}
	tests := []struct {
		name    string
		headers map[string]string
		status  int
	}{
		{"a cross-site POST by Sec-Fetch-Site", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"a POST from another origin", map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden},
		{"a same-origin POST", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": ta.server.URL}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := ta.lastSeq()
			r := ta.withCookie(http.MethodPost, "/api/v1/password", cookie, tt.headers, change)
			assert.Equal(t, tt.status, r.status, "%s", r.raw)
			if tt.status == http.StatusForbidden {
				assert.Equal(t, "cross_origin", r.body["code"])
				assert.Equal(t, before, ta.lastSeq(), "nothing written")
			}
		})
	}
	t.Run("a cross-site sign-out is refused too", func(t *testing.T) {
		r := ta.withCookie(http.MethodDelete, "/api/v1/session", cookie, map[string]string{"Sec-Fetch-Site": "cross-site"}, nil)
		assert.Equal(t, http.StatusForbidden, r.status)
		assert.Equal(t, http.StatusOK, ta.withCookie(http.MethodGet, "/api/v1/session", cookie, nil, nil).status)
	})
}

func TestSignInBadInput(t *testing.T) {
	ta := newTestAPI(t)
	ta.signInUser("marta.testowa", domain.RoleCoordinator)
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		field  string
	}{
		{"sign-in without a login", "POST", "/api/v1/session", map[string]any{"password": goodPassword}, 400, "login"},
		{"sign-in without a password", "POST", "/api/v1/session", map[string]any{"login": "marta.testowa"}, 400, "password"},
		{"sign-in with a login no one can have", "POST", "/api/v1/session", map[string]any{"login": "marta testowa", "password": goodPassword}, 400, "login"},
		{"sign-in with a number for a login", "POST", "/api/v1/session", map[string]any{"login": 7, "password": goodPassword}, 400, "login"},
		{"sign-in with an unknown member", "POST", "/api/v1/session", map[string]any{"login": "marta.testowa", "password": goodPassword, "remember": true}, 400, "remember"},
		{"sign-in with an oversized body", "POST", "/api/v1/session", map[string]any{"login": "marta.testowa", "password": strings.Repeat("x", api.MaxBodyBytes)}, 413, ""},
		{"set-up without a token", "POST", "/api/v1/setup", map[string]any{"password": goodPassword}, 400, "token"},
		{"set-up without a password", "POST", "/api/v1/setup", map[string]any{"token": "koopsetup_x"}, 400, "password"},
		{"set-up with a made-up token", "POST", "/api/v1/setup", map[string]any{"token": "koopsetup_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "password": goodPassword}, 400, "token"},
		{"a user with a login no one can have", "POST", "/api/v1/users", map[string]any{"name": "X", "role": "worker", "login": "ab"}, 400, "login"},
		{"a user with a login of another user in other case", "POST", "/api/v1/users", map[string]any{"name": "X", "role": "worker", "login": "MARTA.testowa"}, 409, "login"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := ta.lastSeq()
			token := ""
			if strings.HasPrefix(tt.path, "/api/v1/users") {
				token = ta.tokens[domain.RoleAdmin]
			}
			r := ta.do(tt.method, tt.path, token, nil, tt.body)
			assert.Equal(t, tt.status, r.status, "%s", r.raw)
			if tt.field != "" {
				assert.Equal(t, tt.field, r.body["field"], "%s", r.raw)
			} else {
				assert.Empty(t, r.body["field"], "%s", r.raw)
			}
			assert.Equal(t, before, ta.lastSeq(), "nothing written")
		})
	}
	r, _ := ta.signIn("marta.testowa", goodPassword, nil)
	assert.Equal(t, http.StatusOK, r.status, "bad input is not a failed guess: %s", r.raw)
}

func TestAssignLoginToAUserRegisteredWithout(t *testing.T) {
	ta := newTestAPI(t)
	ta.signInUser("marta.testowa", domain.RoleWorker)
	auditor := ta.userIDs[domain.RoleAuditor]
	tests := []struct {
		name   string
		user   string
		body   any
		status int
		code   string
	}{
		{"a login no one can have", auditor, map[string]any{"login": "a b"}, 400, "invalid_field"},
		{"no login at all", auditor, map[string]any{}, 400, "required"},
		{"another user's login in other case", auditor, map[string]any{"login": "Marta.Testowa"}, 409, "login_taken"},
		{"a user that does not exist", domain.NewID(), map[string]any{"login": "nikt.taki"}, 404, "user_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := ta.lastSeq()
			r := ta.admin(http.MethodPut, "/api/v1/users/"+tt.user+"/login", tt.body)
			assert.Equal(t, tt.status, r.status, "%s", r.raw)
			assert.Equal(t, tt.code, r.body["code"])
			assert.Equal(t, before, ta.lastSeq(), "nothing written")
		})
	}
	ta.command(http.MethodPut, "/api/v1/users/"+auditor+"/login", map[string]any{"login": "Audytor"}, http.StatusOK)
	r := ta.admin(http.MethodPut, "/api/v1/users/"+auditor+"/login", map[string]any{"login": "audytor2"})
	assert.Equal(t, "login_assigned", r.body["code"], "no second login")
	r = ta.admin(http.MethodPost, "/api/v1/users", map[string]any{"name": "X", "role": "worker", "login": "nikt.taki"})
	assert.Equal(t, http.StatusCreated, r.status, "a refused assignment gave its login back: %s", r.raw)
	link := ta.setupLink(auditor)
	assert.Equal(t, "audytor", link.Login)
	require.Equal(t, http.StatusOK, ta.do(http.MethodPost, "/api/v1/setup", "", nil, map[string]any{"token": link.Token, "password": goodPassword}).status)
	in, _ := ta.signIn("audytor", goodPassword, nil)
	assert.Equal(t, http.StatusOK, in.status)
	assert.Equal(t, "audytor", in.body["login"])
}

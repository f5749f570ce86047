package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/api"
	"github.com/kooperacje/kooperacje/projections"
)

// TestSignInInABrowser drives signing in as people do, in headless
// Chromium over serve --demo: the coordinator signs in with the printed
// password and sees their caseload, a wrong password and throttling say
// so in Polish, a set-up link sets a password once, a password is changed,
// a revoked session asks to sign in again, and signing out signs out.
func TestSignInInABrowser(t *testing.T) {
	dir := t.TempDir()
	base, _ := startServe(t, "--data", dir, "--demo", "--http", freeAddr(t))
	tokens, signIns := demoTokensOf(t, dir), demoSignInsOf(t, dir)
	b := newBrowser(t, 3*time.Minute)
	text := func(sel string) string {
		return eval[string](b, "text of "+sel, fmt.Sprintf(`(document.querySelector(%q) || {textContent: ''}).textContent`, sel))
	}
	type fill struct{ sel, value string }
	submit := func(what, form string, fields ...fill) {
		b.t.Helper()
		for _, f := range fields {
			b.eval("clear "+f.sel, fmt.Sprintf(`document.querySelector(%q).value = ''`, f.sel), nil)
			b.do(what, chromedp.SendKeys(chromedp.CSS(f.sel), f.value))
		}
		b.do(what, chromedp.Click(chromedp.CSS(form+" button[type=submit]")))
	}

	t.Run("the coordinator signs in with the printed password and sees the caseload", func(t *testing.T) {
		b.do("open", chromedp.Navigate(base+"/caseload"), chromedp.WaitVisible(chromedp.CSS("#password")))
		var labels []string
		b.eval("labels", `[...document.querySelectorAll('#login label')].map(l => l.htmlFor + ':' + l.textContent)`, &labels)
		assert.Equal(t, []string{"username:Login", "password:Hasło"}, labels, "real labels for both inputs")
		b.screenshot("signin-form")
		// The keyboard alone: type, Tab to the password, Enter.
		b.do("type", chromedp.SendKeys(chromedp.CSS("#username"), signIns["coordinator"].Login+"\t"+signIns["coordinator"].Password+"\r"))
		b.waitFor("caseload", `location.pathname === '/caseload' && document.querySelector('.tile[data-k="families"]')`, 15*time.Second)
		var who string
		b.eval("who", `document.getElementById('who').textContent`, &who)
		assert.Contains(t, who, "Marta Testowa")
		var c projections.Caseload
		var me api.Principal
		require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/me", tokens["coordinator"], &me))
		require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/workers/"+me.WorkerID+"/caseload", tokens["coordinator"], &c))
		assert.Equal(t, fmt.Sprint(len(c.Families)), eval[string](b, "families", `document.querySelector('.tile[data-k="families"]').dataset.value`))
		b.screenshot("signin-caseload")
	})

	t.Run("signing out signs out", func(t *testing.T) {
		b.do("sign out", chromedp.Click(chromedp.CSS("#signout")))
		b.waitFor("sign-in page", `location.pathname === '/login' && document.getElementById('password')`, 10*time.Second)
		b.do("back", chromedp.Navigate(base+"/caseload"))
		b.waitFor("asked to sign in", `location.pathname === '/login' && document.getElementById('password')`, 10*time.Second)
		assert.Empty(t, text("#login-expired"), "not signed in is not an expired session")
	})

	t.Run("the sign-in page in English", func(t *testing.T) {
		b.do("to English", chromedp.Click(chromedp.CSS("#lang")))
		b.waitFor("English", `document.documentElement.lang === 'en' && document.querySelector('label[for=password]').textContent === 'Password'`, 5*time.Second)
		assert.Equal(t, "Sign in", text("#login h1"))
		b.screenshot("signin-form-en")
		b.do("to Polish", chromedp.Click(chromedp.CSS("#lang")))
		b.waitFor("Polish", `document.documentElement.lang === 'pl' && document.querySelector('label[for=password]').textContent === 'Hasło'`, 5*time.Second)
	})

	t.Run("a wrong password says so, and repeated failures are throttled", func(t *testing.T) {
		b.do("open", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS("#password")))
		submit("wrong password", "#login", fill{"#username", signIns["auditor"].Login}, fill{"#password", "to nie jest hasło"})
		b.waitFor("refusal", `document.getElementById('login-error').textContent.length > 0`, 5*time.Second)
		assert.Equal(t, "Nieprawidłowy login lub hasło.", text("#login-error"))
		assert.Equal(t, "", eval[string](b, "password cleared", `document.getElementById('password').value`))
		assert.Equal(t, signIns["auditor"].Login, eval[string](b, "login kept", `document.getElementById('username').value`))
		b.screenshot("signin-wrong-password")
		for i := 2; i <= 6; i++ {
			b.eval("reset", `document.getElementById('login-error').textContent = ''`, nil)
			submit("wrong password again", "#login", fill{"#password", fmt.Sprintf("to nie jest hasło %d", i)})
			b.waitFor("answer", `document.getElementById('login-error').textContent.length > 0`, 5*time.Second)
		}
		assert.Equal(t, "too_many_attempts", eval[string](b, "code", `document.getElementById('login-error').dataset.code`))
		assert.Contains(t, text("#login-error"), "Zbyt wiele nieudanych prób logowania")
		b.screenshot("signin-throttled")
	})

	t.Run("a set-up link sets a password once", func(t *testing.T) {
		var users api.List[api.UserView]
		require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/users", tokens["admin"], &users))
		var worker string
		for _, u := range users.Items {
			if u.Login == signIns["worker"].Login {
				worker = u.ID
			}
		}
		require.NotEmpty(t, worker)
		status, link := send(t, http.MethodPost, base+"/api/v1/users/"+worker+"/setup-link", tokens["admin"], nil)
		require.Equal(t, http.StatusCreated, status, "%v", link)
		b.do("open the link", chromedp.Navigate(base+link["path"].(string)), chromedp.WaitVisible(chromedp.CSS("#repeat_password")))
		submit("mismatch", "#setup", fill{"#new_password", "pedagog ze szkoły nr 1"}, fill{"#repeat_password", "pedagog ze szkoly nr 1"})
		assert.Equal(t, "Hasła różnią się.", text("#repeat_password-error"))
		submit("set", "#setup", fill{"#repeat_password", "pedagog ze szkoły nr 1"})
		b.waitFor("done", `document.getElementById('setup-done')`, 10*time.Second)
		assert.Contains(t, text("#setup-done"), "Twój login: piotr.fikcyjny")
		b.screenshot("setup-done")
		b.do("open the link again", chromedp.Navigate(base+"/login"), chromedp.Navigate(base+link["path"].(string)), chromedp.WaitVisible(chromedp.CSS("#repeat_password")))
		submit("set again", "#setup", fill{"#new_password", "drugi raz to samo łącze"}, fill{"#repeat_password", "drugi raz to samo łącze"})
		b.waitFor("refused", `document.getElementById('setup-error').textContent.length > 0`, 10*time.Second)
		assert.Contains(t, text("#setup-error"), "Ten link nie jest ważny")
		b.screenshot("setup-used-twice")
	})

	t.Run("the worker changes their password", func(t *testing.T) {
		b.signIn(base, demoSignIn{Login: "piotr.fikcyjny", Password: "pedagog ze szkoły nr 1"})
		b.do("follow the link", chromedp.Click(chromedp.CSS("#change-password-link")))
		b.waitFor("form", `document.getElementById('old_password')`, 10*time.Second)
		submit("wrong old", "#change-password", fill{"#old_password", "nie to hasło wcale"}, fill{"#new_password", "jesienne liście w Sieradzu"}, fill{"#repeat_password", "jesienne liście w Sieradzu"})
		b.waitFor("refused", `document.getElementById('old_password-error').textContent.length > 0`, 10*time.Second)
		assert.Equal(t, "To nie jest Twoje obecne hasło.", text("#old_password-error"))
		submit("change", "#change-password", fill{"#old_password", "pedagog ze szkoły nr 1"})
		b.waitFor("changed", `document.getElementById('change-password-done')`, 10*time.Second)
		b.screenshot("password-changed")
		status, _ := send(t, http.MethodPost, base+"/api/v1/session", "", map[string]any{"login": "piotr.fikcyjny", "password": "jesienne liście w Sieradzu"})
		assert.Equal(t, http.StatusOK, status, "the new password signs in")
	})

	t.Run("a revoked session asks to sign in again", func(t *testing.T) {
		b.signIn(base, signIns["coordinator"])
		var me api.SessionResponse
		require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/me", tokens["coordinator"], &me))
		status, _ := send(t, http.MethodDelete, base+"/api/v1/users/"+me.UserID+"/sessions", tokens["admin"], nil)
		require.Equal(t, http.StatusNoContent, status)
		b.do("next page", chromedp.Navigate(base+"/families"))
		b.waitFor("asked to sign in again", `document.getElementById('login-expired')`, 10*time.Second)
		assert.Equal(t, "Sesja wygasła — zaloguj się ponownie.", text("#login-expired"))
		b.screenshot("session-expired")
		b.do("sign in again", chromedp.SendKeys(chromedp.CSS("#username"), signIns["coordinator"].Login),
			chromedp.SendKeys(chromedp.CSS("#password"), signIns["coordinator"].Password+"\r"))
		b.waitFor("back where it was", `location.pathname === '/families' && document.querySelector('table[data-k="families"]')`, 15*time.Second)
	})
}

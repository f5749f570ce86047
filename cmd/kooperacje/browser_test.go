package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// chromium finds the browser the page tests drive: $KOOP_CHROMIUM, or
// Debian's chromium that `make test` installs.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("KOOP_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium to drive: run `make test` (it installs Debian's chromium package) or set KOOP_CHROMIUM")
	return ""
}

// browser is a headless Chromium tab for one test, and where its
// screenshots go.
type browser struct {
	t     *testing.T
	ctx   context.Context
	shots string
}

// newBrowser starts headless Chromium with the flags this machine's closed
// network needs, in a fresh profile, for at most limit.
func newBrowser(t *testing.T, limit time.Duration) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "pl-PL"),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(alloc, chromedp.WithErrorf(func(format string, args ...any) {
		// cdproto lags behind new browsers' events; those are not test failures.
		if !strings.Contains(format, "unhandled") {
			t.Logf("chromedp: "+format, args...)
		}
	}))
	ctx, cancelTime := context.WithTimeout(ctx, limit)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	require.NoError(t, chromedp.Do(ctx), "start Chromium")
	return &browser{t: t, ctx: ctx, shots: t.ArtifactDir()}
}

// do runs steps in the tab and fails the test, with a screenshot of the
// page as it was, if they fail.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.fail(what, err)
	}
}

func (b *browser) fail(what string, err error) {
	b.t.Helper()
	b.screenshot("failed-" + strings.ReplaceAll(what, " ", "-"))
	text, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
	b.t.Fatalf("%s: %v\npage text:\n%s", what, err, text)
}

// eval evaluates a script expression in b's page and decodes its value.
func eval[T any](b *browser, what, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.fail(what+": "+expr, err)
	}
	return v
}

// eval evaluates a script expression and decodes its value into out
// (nil: the value is not wanted).
func (b *browser) eval(what, expr string, out any) {
	b.t.Helper()
	if out == nil {
		eval[chromedp.Void](b, what, expr)
		return
	}
	raw := eval[[]byte](b, what, expr)
	if err := json.Unmarshal(raw, out); err != nil {
		b.fail(what+": "+expr, fmt.Errorf("decode %s: %w", raw, err))
	}
}

// waitFor polls a script expression until it is true, for at most limit.
func (b *browser) waitFor(what, expr string, limit time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		if ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool]("Boolean("+expr+")")); err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.fail(what, fmt.Errorf("%s did not hold within %s", expr, limit))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// screenshot saves the whole page as name.png (quality 100: PNG) among the test's artifacts
// (go test -artifacts keeps them; make test does).
func (b *browser) screenshot(name string) string {
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	path := filepath.Join(b.shots, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
	}
	return path
}

// open loads a page and waits until the script has rendered it.
func (b *browser) open(url string) {
	b.t.Helper()
	b.do("open "+url, chromedp.Navigate(url))
	b.waitRendered("render "+url, 0)
}

// rendered returns how many times the script has rendered the page.
func (b *browser) rendered() int {
	b.t.Helper()
	return eval[int](b, "rendered", `Number(document.getElementById('main').dataset.rendered || 0)`)
}

// waitRendered waits until the page has been rendered more than after
// times.
func (b *browser) waitRendered(what string, after int) {
	b.t.Helper()
	b.waitFor(what, fmt.Sprintf(`Number(document.getElementById('main').dataset.rendered || 0) > %d`, after), 15*time.Second)
}

// signIn signs in with a login and password on the sign-in page, after
// signing out whoever was signed in.
func (b *browser) signIn(base string, who demoSignIn) {
	b.t.Helper()
	b.do("sign out", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS("#login")))
	b.eval("sign out", `fetch('/api/v1/session', {method: 'DELETE'}).then(() => true)`, nil)
	b.do("sign in",
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#username"), who.Login),
		chromedp.SendKeys(chromedp.CSS("#password"), who.Password),
		chromedp.Click(chromedp.CSS("#login button[type=submit]")),
	)
	b.waitFor("first page after sign-in", `location.pathname !== '/login' && Number(document.getElementById('main').dataset.rendered || 0) > 0`, 15*time.Second)
}

// demoSignInsOf reads the demo users' logins and passwords serve --demo
// wrote, by role.
func demoSignInsOf(t *testing.T, dir string) map[string]demoSignIn {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, DemoPasswordsFile))
	require.NoError(t, err)
	var out map[string]demoSignIn
	require.NoError(t, json.Unmarshal(raw, &out))
	return out
}

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/api"
	"github.com/kooperacje/kooperacje/projections"
)

// axeScript reads axe-core's axe.min.js: $KOOP_AXE, or where `make test`
// (its target axe) installs it from npm. The script is never part of the
// pages: the tests evaluate it in the page through the DevTools protocol,
// which the pages' Content-Security-Policy does not govern.
func axeScript(t *testing.T) string {
	t.Helper()
	path := os.Getenv("KOOP_AXE")
	if path == "" {
		path = filepath.Join("..", "..", "bin", "axe", "node_modules", "axe-core", "axe.min.js")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no axe-core to check the pages with (%v): run `make test` (it installs axe-core from npm into bin/axe) or set KOOP_AXE to an axe.min.js", err)
	}
	return string(raw)
}

// axeViolation is one rule axe-core found broken, and where.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []any  `json:"target"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

func (v axeViolation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s", v.ID, v.Impact, v.Help)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n      %v: %s", n.Target, strings.ReplaceAll(n.Summary, "\n", " "))
	}
	return b.String()
}

// axeRun runs axe-core over the whole document of b's page, injecting it
// first when the page does not have it yet, and returns the violations.
func (b *browser) axeRun(script string) []axeViolation {
	b.t.Helper()
	if !eval[bool](b, "axe loaded", `typeof window.axe === 'object'`) {
		b.do("inject axe-core", chromedp.Evaluate[chromedp.Void](script))
	}
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]byte](
		`axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
			nodes: v.nodes.map(n => ({target: n.target, failureSummary: n.failureSummary}))})))`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.fail("axe.run", err)
	}
	var out []axeViolation
	require.NoError(b.t, json.Unmarshal(raw, &out), "axe's answer: %s", raw)
	return out
}

// grave keeps the violations of serious or critical impact.
func grave(all []axeViolation) []axeViolation {
	var out []axeViolation
	for _, v := range all {
		if v.Impact == "serious" || v.Impact == "critical" {
			out = append(out, v)
		}
	}
	return out
}

// demoPageIDs names the demo data a page's address needs.
type demoPageIDs struct {
	Partnership string // PZK Sieradz
	Family      string // a family of the demo coordinator with a contract in force and a history
	Opened      string // the day that family's case opened
}

// a11yPage is a page the accessibility test visits: who is signed in to
// see it ("" nobody), its address, and a script expression true once it
// shows what it is for.
type a11yPage struct {
	name, who, path, ready string
	english                bool // also checked with the pages in English
	static                 bool // not a page of app.js (no language switch)
}

// a11yPages is every page of the product, for the roles that see them.
// A new page gets a row here.
func a11yPages(ids demoPageIDs) []a11yPage {
	const rendered = `Number(document.getElementById('main').dataset.rendered || 0) > 0`
	return []a11yPage{
		{name: "sign-in", path: "/login", ready: `document.getElementById('password')`, english: true},
		{name: "set-up", path: "/setup#token=checked-when-sent", ready: `document.getElementById('repeat_password')`, english: true},
		{name: "set-up without a token", path: "/setup", ready: `document.getElementById('setup-error')`},
		{name: "no such page", path: "/no-such-page", ready: `document.readyState === 'complete' && document.querySelector('main h1')`, static: true},
		{name: "overview", who: "animator", path: "/", ready: `document.querySelector('[data-group="overall"] svg')`, english: true},
		{name: "partnership", who: "animator", path: "/partnerships/" + ids.Partnership, ready: `document.querySelector('table[data-k="members"]')`, english: true},
		{name: "plan refused", who: "animator", path: "/families/" + ids.Family, ready: `document.querySelector('[data-k="plan-refused"]')`},
		{name: "families", who: "coordinator", path: "/families", ready: `document.querySelector('table[data-k="families"]')`, english: true},
		{name: "family plan", who: "coordinator", path: "/families/" + ids.Family, ready: `document.querySelector('[data-k="plan-as-of"]') && document.querySelector('[data-k="history"] li')`, english: true},
		{name: "family plan as of its opening", who: "coordinator", path: "/families/" + ids.Family + "?as_of=" + ids.Opened, ready: `document.querySelector('[data-k="plan-as-of"]') && document.querySelector('[data-k="history"] li.future')`, english: true},
		{name: "caseload", who: "coordinator", path: "/caseload", ready: `document.querySelector('.tile[data-k="families"]')`, english: true},
		{name: "password change", who: "coordinator", path: "/password", ready: `document.getElementById('old_password')`, english: true},
		{name: "task list of the coordinator", who: "coordinator", path: "/tasks", ready: `document.querySelector('.tile[data-k="awaiting"]')`, english: true},
		{name: "page of an unknown family", who: "coordinator", path: "/families/no-such-family", ready: `document.querySelector('[data-k="error"]')`},
		{name: "task list", who: "worker", path: "/tasks", ready: `document.querySelector('.tile[data-k="awaiting"]')`, english: true},
		{name: "evaluation", who: "evaluator", path: "/evaluation", ready: `document.querySelector('table [data-group="overall"]')`, english: true},
		{name: "caseload of a user who is no worker", who: "evaluator", path: "/caseload", ready: rendered},
	}
}

// TestAccessibilityInABrowser runs axe-core (from npm, as `make test`
// installs it) over every page in headless Chromium on serve --demo, in
// Polish and in English, and fails on each serious or critical violation
// it finds, naming the rule, the elements and what to fix. It also checks
// that the checker catches a violation put into a page, that the pages'
// language follows the switch, and that the keyboard reaches every control
// with a visible focus.
func TestAccessibilityInABrowser(t *testing.T) {
	script := axeScript(t)
	dir := t.TempDir()
	base, _ := startServe(t, "--data", dir, "--demo", "--http", freeAddr(t))
	tokens, signIns := demoTokensOf(t, dir), demoSignInsOf(t, dir)
	b := newBrowser(t, 15*time.Minute)

	var ids demoPageIDs
	var dash api.Dashboard
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/dashboard", tokens["animator"], &dash))
	for _, g := range dash.Partnerships {
		if g.Name == "PZK Sieradz" {
			ids.Partnership = g.PartnershipID
		}
	}
	require.NotEmpty(t, ids.Partnership, "the demo's PZK Sieradz")
	var families api.List[projections.FamilySummary]
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/families?stage=contract_in_force", tokens["coordinator"], &families))
	require.NotEmpty(t, families.Items, "the demo coordinator leads families with contracts in force")
	ids.Family = families.Items[0].ID
	var plan projections.PlanView
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/families/"+ids.Family+"/plan", tokens["coordinator"], &plan))
	ids.Opened = plan.OpenedOn.String()
	pages := a11yPages(ids)

	signedIn := "?"
	visit := func(p a11yPage) {
		t.Helper()
		if p.who != signedIn {
			if p.who == "" {
				b.do("to the origin", chromedp.Navigate(base+"/login"))
				b.eval("sign out", `fetch('/api/v1/session', {method: 'DELETE'}).then(() => true)`, nil)
			} else {
				b.signIn(base, signIns[p.who])
			}
			signedIn = p.who
		}
		b.do("open "+p.path, chromedp.Navigate(base+p.path))
		b.waitFor(p.name+" shown", p.ready, 20*time.Second)
	}

	t.Run("the checker finds a violation put into a page", func(t *testing.T) {
		visit(pages[0])
		assert.Empty(t, grave(b.axeRun(script)), "the sign-in page as it is")
		b.eval("an unlabelled field and a nameless button", `(() => {
			const f = document.createElement('input'); f.id = 'unlabelled';
			const x = document.createElement('button'); x.id = 'nameless';
			document.getElementById('main').append(f, x); return true })()`, nil)
		found := map[string]string{}
		for _, v := range grave(b.axeRun(script)) {
			found[v.ID] = v.Impact
		}
		assert.Equal(t, "critical", found["label"], "an input without a label")
		assert.Equal(t, "critical", found["button-name"], "a button without a name")
	})

	for _, l := range []string{"pl", "en"} {
		t.Run("pages in "+l, func(t *testing.T) {
			b.do("to the origin", chromedp.Navigate(base+"/login"))
			b.eval("language", fmt.Sprintf(`localStorage.setItem('koop_lang', %q)`, l), nil)
			for _, p := range pages {
				if l != "pl" && !p.english {
					continue
				}
				visit(p)
				if !p.static {
					assert.Equal(t, l, eval[string](b, "lang", `document.documentElement.lang`), "%s: the page's language", p.name)
				}
				all := b.axeRun(script)
				var lines []string
				for _, v := range grave(all) {
					lines = append(lines, "  "+v.String())
				}
				if len(lines) > 0 {
					b.screenshot("axe-" + l + "-" + strings.ReplaceAll(p.name, " ", "-"))
					t.Errorf("%s (%s, %s): %d serious or critical accessibility violations:\n%s", p.name, p.path, l, len(lines), strings.Join(lines, "\n"))
				}
				for _, v := range all {
					if v.Impact != "serious" && v.Impact != "critical" {
						t.Logf("%s (%s): minor: %s", p.name, l, v)
					}
				}
			}
		})
	}

	t.Run("the keyboard reaches every control, with a visible focus", func(t *testing.T) {
		b.do("to the origin", chromedp.Navigate(base+"/login"))
		b.eval("language", `localStorage.setItem('koop_lang', 'pl')`, nil)
		for _, p := range pages {
			visit(p)
			b.keyboardWalk(p.name)
		}
	})
}

// keyboardWalk presses Tab through b's page from its start, once for each
// control a user can operate, and fails the test for each control the
// keyboard does not reach or that shows no visible focus when reached.
// Controls are told apart by what they say, so that a live refresh of the
// page during the walk does not lose them.
func (b *browser) keyboardWalk(page string) {
	b.t.Helper()
	const describe = `(e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.getAttribute('href') ? '[' + e.getAttribute('href') + ']' : '') +
		' "' + (e.textContent || e.getAttribute('aria-label') || '').trim().slice(0, 40) + '"'`
	var controls []string
	b.eval("controls", `(() => {
		const describe = `+describe+`;
		const els = [...document.querySelectorAll('a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex="-1"])')]
			.filter(e => !e.disabled && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden');
		const start = document.createElement('span');
		start.id = 'kbd-start'; start.tabIndex = 0; document.body.prepend(start); start.focus();
		window.kbdSeen = [];
		document.addEventListener('focusin', (ev) => { const e = ev.target, s = getComputedStyle(e);
			window.kbdSeen.push({what: describe(e), outline: s.outlineStyle, width: parseFloat(s.outlineWidth) || 0, shadow: s.boxShadow}) });
		return els.map(describe);
	})()`, &controls)
	require.NotEmpty(b.t, controls, "%s: a page with something to operate", page)
	type focus struct {
		What    string  `json:"what"`
		Outline string  `json:"outline"`
		Width   float64 `json:"width"`
		Shadow  string  `json:"shadow"`
	}
	// A date field takes a Tab for each of its parts: Tab on until every
	// control has been reached, or a few more times than there are controls.
	reached := map[string]bool{}
	var seen []focus
	for pressed, more := 0, len(controls); more > 0 && pressed < len(controls)+10; {
		tabs := make([]chromedp.Action[chromedp.Void], more)
		for i := range tabs {
			tabs[i] = chromedp.KeyEvent("\t")
		}
		b.do("Tab through "+page, tabs...)
		pressed += more
		b.eval("focus", `window.kbdSeen`, &seen)
		for _, f := range seen {
			reached[f.What] = true
		}
		more = 0
		for _, c := range controls {
			if !reached[c] {
				more++
			}
		}
		more = min(more, len(controls)+10-pressed)
	}
	shown := map[string]bool{}
	for _, f := range seen {
		if shown[f.What] {
			continue
		}
		shown[f.What] = true
		if (f.Outline == "none" || f.Width < 2) && f.Shadow == "none" {
			b.t.Errorf("%s: %s shows no visible focus (outline %s %gpx)", page, f.What, f.Outline, f.Width)
		}
	}
	for _, c := range controls {
		if !reached[c] {
			b.t.Errorf("%s: the keyboard does not reach %s", page, c)
		}
	}
	b.eval("clean up", `(document.getElementById('kbd-start') || {remove() {}}).remove()`, nil)
}

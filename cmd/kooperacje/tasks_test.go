package main

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/polish"
	"github.com/kooperacje/kooperacje/projections"
)

// historyLen counts the events of a family's history, as the admin reads it.
func historyLen(t *testing.T, base, token, family string) int {
	t.Helper()
	var h struct {
		Items []any `json:"items"`
	}
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/families/"+family+"/history", token, &h))
	return len(h.Items)
}

// planOf reads a family's plan with a token.
func planOf(t *testing.T, base, token, family string) projections.PlanView {
	t.Helper()
	var p projections.PlanView
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/families/"+family+"/plan", token, &p))
	return p
}

// postCommand sends a command with If-Match through the API, as another
// browser or client would.
func postCommand(t *testing.T, url, token string, version int64, body string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewBufferString(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("If-Match", fmt.Sprintf("%q", fmt.Sprint(version)))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// TestTaskListInABrowser drives "Moje zadania" as the demo pedagogue
// (worker role, Szkoła Podstawowa nr 1 w Sieradzu): the tiles equal the
// rows and the API's tasks, families are named, a case changed meanwhile
// gives the conflict message, a retry after a lost answer and a double
// submit write one event, a decline without a reason writes nothing and
// names the field, and a referral to his school is accepted and
// completed.
func TestTaskListInABrowser(t *testing.T) {
	dir := t.TempDir()
	base, _ := startServe(t, "--data", dir, "--demo")
	tokens := demoTokensOf(t, dir)
	signIns := demoSignInsOf(t, dir)
	b := newBrowser(t, 4*time.Minute)

	var me struct {
		InstitutionID string `json:"institution_id"`
		WorkerID      string `json:"worker_id"`
	}
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/me", tokens["worker"], &me))
	var cl projections.Caseload
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/workers/"+me.WorkerID+"/caseload", tokens["worker"], &cl))
	// What the API says the pedagogue has to do.
	overdue, due, awaiting := map[string]string{}, 0, map[string]string{}
	var actionFamily, actionID, referralFamily, referralID string
	names := map[string]string{}
	for _, f := range cl.Families {
		names[f.ID] = f.Applicant
		p := planOf(t, base, tokens["worker"], f.ID)
		if p.Contract != nil && p.Contract.Status == "in_force" {
			for _, a := range p.Contract.Actions {
				if a.Responsible.InstitutionID != me.InstitutionID || (a.Status != "planned" && a.Status != "started") {
					continue
				}
				if a.Overdue {
					overdue[a.ID] = f.ID
					if a.Status == "planned" {
						actionFamily, actionID = f.ID, a.ID
					}
				} else {
					due++
				}
			}
		}
		for _, r := range p.Referrals {
			if r.InstitutionID == me.InstitutionID && r.Status == "requested" {
				awaiting[r.ReferralID] = f.ID
				referralFamily, referralID = f.ID, r.ReferralID
			}
		}
	}
	require.NotEmpty(t, actionID, "the demo pedagogue has a planned overdue action")
	require.NotEmpty(t, referralID, "the demo pedagogue's school has a referral awaiting an answer")

	rows := func(k string) int {
		return eval[int](b, "rows "+k, fmt.Sprintf(`document.querySelectorAll('table[data-k=%q] tbody tr:not(.form-row)').length`, k))
	}
	tileOf := func(k string) string {
		return eval[string](b, "tile "+k, fmt.Sprintf(`(document.querySelector('.tile[data-k=%q]') || {dataset: {value: 'missing'}}).dataset.value`, k))
	}
	actionRow := fmt.Sprintf(`tr[data-action=%q][data-family=%q]`, actionID, actionFamily)
	referralRow := fmt.Sprintf(`tr[data-referral=%q]`, referralID)
	formMessage := `(document.querySelector('form.command .form-message') || {dataset: {}}).dataset.code || ''`

	b.signIn(base, signIns["worker"])
	t.Run("the pedagogue's task list shows the API's tasks, the tiles equal the rows", func(t *testing.T) {
		assert.Equal(t, "Moje zadania", eval[string](b, "nav", `(document.querySelector('nav a[href="/tasks"]') || {}).textContent || ''`))
		b.open(base + "/tasks")
		b.waitFor("task tables", `document.querySelector('table[data-k="overdue"]')`, 15*time.Second)
		assert.Equal(t, "Moje zadania", eval[string](b, "title", `document.querySelector('h1').textContent`))
		assert.Equal(t, fmt.Sprint(len(overdue)), tileOf("overdue"))
		assert.Equal(t, len(overdue), rows("overdue"))
		assert.Equal(t, fmt.Sprint(due), tileOf("due"))
		assert.Equal(t, fmt.Sprint(len(awaiting)), tileOf("awaiting"))
		assert.Equal(t, len(awaiting), rows("awaiting"))
		assert.Equal(t, "0", tileOf("underway"))
		// Polish plural forms in the tiles' labels.
		label := eval[string](b, "awaiting label", `document.querySelector('.tile[data-k="awaiting"] .tile-label').textContent`)
		awaitingReferral := polish.Noun{One: "skierowanie czekające na odpowiedź", Few: "skierowania czekające na odpowiedź", Many: "skierowań czekających na odpowiedź"}
		assert.Equal(t, awaitingReferral.Form(len(awaiting)), label)
		// The family column names the family, never an id.
		family := eval[string](b, "family cell", fmt.Sprintf(`document.querySelector('%s td a').textContent`, actionRow))
		assert.Equal(t, names[actionFamily], family)
		assert.NotContains(t, family, "#")
		page := eval[string](b, "page text", `document.getElementById('main').innerText`)
		assert.NotRegexp(t, `#[0-9a-f]{6}\b`, page)
		// Only what the pedagogue's school carries out is offered.
		assert.Equal(t, len(overdue)+due, eval[int](b, "action rows", `document.querySelectorAll('tr[data-action]').length`))
		b.screenshot("tasks")
	})

	t.Run("a case changed meanwhile gives the conflict message and the fresh view", func(t *testing.T) {
		b.do("open the done form", chromedp.Click(chromedp.CSS(actionRow+` button[data-do="completed"]`)))
		b.waitFor("form", `document.querySelector('form.command input[type=date]')`, 5*time.Second)
		assert.Equal(t, time.Now().In(warsaw(t)).Format(time.DateOnly), eval[string](b, "date", `document.querySelector('form.command input[type=date]').value`),
			"the business date defaults to today in Poland")
		p := planOf(t, base, tokens["worker"], actionFamily)
		before := historyLen(t, base, tokens["admin"], actionFamily)
		require.Equal(t, http.StatusOK, postCommand(t, base+"/api/v1/families/"+actionFamily+"/contract/actions/"+actionID, tokens["worker"], p.Version,
			fmt.Sprintf(`{"status":"started","date":%q}`, time.Now().Format(time.DateOnly))))
		time.Sleep(500 * time.Millisecond) // the live news arrives; the open form is not redrawn
		b.do("type a note", chromedp.SendKeys(chromedp.CSS(`form.command textarea[name="note"]`), "Zajęcia odbyte"))
		b.do("submit", chromedp.Click(chromedp.CSS(`form.command button[type=submit]`)))
		b.waitFor("conflict", formMessage+` === 'version_conflict'`, 10*time.Second)
		msg := eval[string](b, "message", `document.querySelector('form.command .form-message').textContent`)
		assert.Contains(t, msg, "Ktoś inny zmienił w międzyczasie tę sprawę")
		assert.Equal(t, "Zajęcia odbyte", eval[string](b, "kept", `document.querySelector('form.command textarea[name="note"]').value`), "what the user typed stays")
		assert.Equal(t, before+1, historyLen(t, base, tokens["admin"], actionFamily), "the refused submission wrote nothing")
		b.screenshot("tasks-conflict")
		n := b.rendered()
		b.do("fresh view", chromedp.Click(chromedp.CSS(`form.command .form-message button`)))
		b.waitRendered("fresh", n)
		b.waitFor("started", fmt.Sprintf(`(document.querySelector('%s') || {dataset: {}}).dataset.status === 'overdue' && document.querySelector('%s td:nth-child(4)').textContent === 'rozpoczęte'`, actionRow, actionRow), 10*time.Second)
	})

	t.Run("a retry after a lost answer and a double submit write one event", func(t *testing.T) {
		before := historyLen(t, base, tokens["admin"], actionFamily)
		b.do("open the done form", chromedp.Click(chromedp.CSS(actionRow+` button[data-do="completed"]`)))
		b.waitFor("form", `document.querySelector('form.command input[type=date]')`, 5*time.Second)
		// The first answer is lost on the way back: the command is written,
		// the page hears nothing.
		b.eval("lose an answer", `(() => { const real = window.fetch; window.fetch = async (...a) => { window.fetch = real; await real(...a); throw new TypeError('Failed to fetch'); }; return true; })()`, nil)
		b.do("submit", chromedp.Click(chromedp.CSS(`form.command button[type=submit]`)))
		b.waitFor("offline", formMessage+` === 'offline'`, 10*time.Second)
		assert.Equal(t, before+1, historyLen(t, base, tokens["admin"], actionFamily), "the first submission was written")
		// The user clicks again, twice quickly.
		b.eval("double submit", `(() => { const f = document.querySelector('form.command'); f.requestSubmit(); f.requestSubmit(); f.querySelector('button[type=submit]').click(); return true; })()`, nil)
		b.waitFor("done", `!document.querySelector('form.command') && !document.getElementById('tasks-said').hidden`, 10*time.Second)
		assert.Equal(t, "Zapisano: działanie wykonane.", eval[string](b, "said", `document.getElementById('tasks-said').textContent`))
		time.Sleep(300 * time.Millisecond)
		assert.Equal(t, before+1, historyLen(t, base, tokens["admin"], actionFamily), "one event for the retry and the double submit")
		for _, a := range planOf(t, base, tokens["admin"], actionFamily).Contract.Actions {
			if a.ID == actionID {
				assert.EqualValues(t, "completed", a.Status)
			}
		}
		b.waitFor("row gone", fmt.Sprintf(`!document.querySelector('%s')`, actionRow), 10*time.Second)
		assert.Equal(t, fmt.Sprint(len(overdue)-1), tileOf("overdue"))
		assert.Equal(t, len(overdue)-1, rows("overdue"))
	})

	t.Run("a decline without a reason names the field and writes nothing", func(t *testing.T) {
		before := historyLen(t, base, tokens["admin"], referralFamily)
		b.do("open the decline form", chromedp.Click(chromedp.CSS(referralRow+` button[data-do="declined"]`)))
		b.waitFor("form", `document.querySelector('form.command textarea[name="reason"]')`, 5*time.Second)
		b.do("submit", chromedp.Click(chromedp.CSS(`form.command button[type=submit]`)))
		b.waitFor("field problem", `document.querySelector('form.command textarea[name="reason"]').getAttribute('aria-invalid') === 'true'`, 10*time.Second)
		errID := eval[string](b, "described by", `document.querySelector('form.command textarea[name="reason"]').getAttribute('aria-describedby')`)
		assert.Equal(t, "To pole jest wymagane.", eval[string](b, "field error", fmt.Sprintf(`document.getElementById(%q).textContent`, errID)))
		assert.Equal(t, "reason", eval[string](b, "focus", `document.activeElement.name`))
		b.screenshot("tasks-decline-no-reason")
		assert.Equal(t, before, historyLen(t, base, tokens["admin"], referralFamily), "nothing written")
		b.do("Escape closes the form", chromedp.KeyEvent(kb.Escape))
		b.waitFor("closed", `!document.querySelector('form.command')`, 5*time.Second)
		assert.Equal(t, "declined", eval[string](b, "focus back", `document.activeElement.dataset.do || ''`), "the keyboard is back on the button that opened the form")
	})

	t.Run("a session that expired with the form open asks to sign in again and keeps the typed data", func(t *testing.T) {
		before := historyLen(t, base, tokens["admin"], referralFamily)
		b.do("open the decline form", chromedp.Click(chromedp.CSS(referralRow+` button[data-do="declined"]`)))
		b.waitFor("form", `document.querySelector('form.command textarea[name="reason"]')`, 5*time.Second)
		b.do("type a reason", chromedp.SendKeys(chromedp.CSS(`form.command textarea[name="reason"]`), "Brak miejsc w grupie"))
		// The session ends elsewhere (sign-out in another tab, expiry).
		b.eval("end the session", `fetch('/api/v1/session', {method: 'DELETE'}).then(() => true)`, nil)
		b.do("submit", chromedp.Click(chromedp.CSS(`form.command button[type=submit]`)))
		b.waitFor("expired", formMessage+` === 'session_expired'`, 10*time.Second)
		assert.Contains(t, eval[string](b, "message", `document.querySelector('form.command .form-message').textContent`), "Sesja wygasła")
		assert.Equal(t, "Brak miejsc w grupie", eval[string](b, "kept", `document.querySelector('form.command textarea[name="reason"]').value`))
		assert.Equal(t, "/tasks", eval[string](b, "still here", `location.pathname`))
		assert.Equal(t, before, historyLen(t, base, tokens["admin"], referralFamily), "nothing written")
		b.screenshot("tasks-session-expired")
		b.signIn(base, signIns["worker"])
		b.open(base + "/tasks")
		b.waitFor("task tables", `document.querySelector('table[data-k="awaiting"]')`, 15*time.Second)
	})

	t.Run("the pedagogue accepts and completes the referral to his school", func(t *testing.T) {
		before := historyLen(t, base, tokens["admin"], referralFamily)
		b.do("accept", chromedp.Click(chromedp.CSS(referralRow+` button[data-do="accepted"]`)))
		b.waitFor("form", `document.querySelector('form.command')`, 5*time.Second)
		b.do("submit", chromedp.Click(chromedp.CSS(`form.command button[type=submit]`)))
		b.waitFor("under way", fmt.Sprintf(`(document.querySelector('table[data-k="underway"] %s') || {dataset: {}}).dataset.status === 'accepted'`, referralRow), 10*time.Second)
		assert.Equal(t, "1", tileOf("underway"))
		assert.Equal(t, 1, rows("underway"))
		b.do("complete", chromedp.Click(chromedp.CSS(referralRow+` button[data-do="completed"]`)))
		b.waitFor("form", `document.querySelector('form.command')`, 5*time.Second)
		b.do("submit", chromedp.Click(chromedp.CSS(`form.command button[type=submit]`)))
		b.waitFor("gone", fmt.Sprintf(`!document.querySelector('%s') && !document.querySelector('form.command')`, referralRow), 10*time.Second)
		assert.Equal(t, before+2, historyLen(t, base, tokens["admin"], referralFamily))
		for _, r := range planOf(t, base, tokens["admin"], referralFamily).Referrals {
			if r.ReferralID == referralID {
				assert.EqualValues(t, "completed", r.Status)
			}
		}
		b.screenshot("tasks-after")
	})

	t.Run("the coordinator's task list: the tiles equal the rows, families named", func(t *testing.T) {
		b.signIn(base, signIns["coordinator"])
		b.open(base + "/tasks")
		b.waitFor("task tables", `document.querySelector('.tile[data-k="due"]')`, 20*time.Second)
		for _, k := range []string{"overdue", "due", "awaiting", "underway"} {
			assert.Equal(t, tileOf(k), fmt.Sprint(rows(k)), k)
		}
		assert.Positive(t, rows("overdue")+rows("due"), "the demo coordinator has actions to carry out")
		page := eval[string](b, "page text", `document.getElementById('main').innerText`)
		assert.NotRegexp(t, `#[0-9a-f]{6}\b`, page)
		b.screenshot("tasks-coordinator")
	})

	t.Run("in English by the switch", func(t *testing.T) {
		b.do("switch", chromedp.Click(chromedp.CSS("#lang")))
		b.waitFor("English", `document.querySelector('h1').textContent === 'My tasks'`, 10*time.Second)
		assert.True(t, strings.HasPrefix(eval[string](b, "nav", `document.querySelector('nav a[href="/tasks"]').textContent`), "My tasks"))
		b.do("back", chromedp.Click(chromedp.CSS("#lang")))
		b.waitFor("Polish", `document.querySelector('h1').textContent === 'Moje zadania'`, 10*time.Second)
	})
}

func warsaw(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Warsaw")
	require.NoError(t, err)
	return loc
}

package main

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/api"
	"github.com/kooperacje/kooperacje/polish"
	"github.com/kooperacje/kooperacje/projections"
)

// freeAddr returns a loopback address no one listens on, so that serve can
// be stopped and started again on the same one.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// tileValue reads the data-value of a figure on the page.
func (b *browser) tileValue(group, key string) string {
	b.t.Helper()
	return eval[string](b, "tile "+group+"/"+key,
		fmt.Sprintf(`(document.querySelector('[data-group=%q] .tile[data-k=%q]') || {dataset: {value: 'missing'}}).dataset.value`, group, key))
}

func num(v any) string {
	switch x := v.(type) {
	case *float64:
		if x == nil {
			return ""
		}
		return fmt.Sprint(*x)
	}
	return fmt.Sprint(v)
}

// TestDashboardsInABrowser drives the pages in headless Chromium on the
// demo data: sign-in, every page, their numbers against the API's, a
// command that reaches an open page without a reload, the language
// switch, what each role may not see, and the disconnected state.
func TestDashboardsInABrowser(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	base, stop := startServe(t, "--data", dir, "--demo", "--http", addr)
	tokens := demoTokensOf(t, dir)
	signIns := demoSignInsOf(t, dir)
	b := newBrowser(t, 4*time.Minute)

	t.Run("a page without a session asks to sign in", func(t *testing.T) {
		b.do("open", chromedp.Navigate(base+"/families"), chromedp.WaitVisible(chromedp.CSS("#password")))
		var path string
		b.eval("path", `location.pathname + location.search`, &path)
		assert.Equal(t, "/login?next=%2Ffamilies", path)
		b.do("wrong password", chromedp.SendKeys(chromedp.CSS("#username"), "ewa.przykladowa"),
			chromedp.SendKeys(chromedp.CSS("#password"), "to nie jest hasło"), chromedp.Click(chromedp.CSS("#login button[type=submit]")))
		b.waitFor("refusal", `document.getElementById('login-error').textContent.length > 0`, 5*time.Second)
		b.screenshot("login")
	})

	var dash api.Dashboard
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/dashboard", tokens["animator"], &dash))
	require.Len(t, dash.Partnerships, 4, "the four partnerships of the seed texts")

	t.Run("overview shows the API's numbers", func(t *testing.T) {
		b.signIn(base, signIns["animator"])
		b.waitFor("overall", `document.querySelector('[data-group="overall"]')`, 10*time.Second)
		groups := append([]api.DashboardGroup{dash.Overall}, dash.Partnerships...)
		for i, g := range groups {
			id := g.PartnershipID
			if i == 0 {
				id = "overall"
			}
			assert.Equal(t, num(g.Client.FamiliesEnrolled), b.tileValue(id, "families"), id)
			assert.Equal(t, num(g.Client.ContractsSigned), b.tileValue(id, "contracts_signed"), id)
			assert.Equal(t, num(g.Client.Actions.Overdue), b.tileValue(id, "overdue_actions"), id)
			assert.Equal(t, num(g.Institution.Members), b.tileValue(id, "members"), id)
			assert.Equal(t, num(g.Institution.Services), b.tileValue(id, "basket"), id)
			assert.Equal(t, num(g.Client.DaysToContract.Median), b.tileValue(id, "days_to_contract"), id)
			for _, stage := range projections.FamilyStages {
				var v string
				b.eval("stage bar", fmt.Sprintf(`(document.querySelector('[data-group=%q] figure:nth-of-type(%d) .bar[data-label=%q]') || {dataset: {}}).dataset.value`,
					id, map[bool]int{true: 1, false: 2}[i == 0], stage), &v)
				assert.Equal(t, num(g.FamiliesByStage[stage]), v, "%s: families at stage %s", id, stage)
			}
		}
		var text string
		b.eval("text", `document.body.innerText`, &text)
		assert.Contains(t, text, "PZK Sieradz")
		assert.Contains(t, text, "Przegląd partnerstw", "Polish by default")
		b.screenshot("overview")
	})

	var partnership api.PartnershipResponse
	t.Run("a partnership's members, basket and meetings", func(t *testing.T) {
		id := dash.Partnerships[0].PartnershipID
		for _, g := range dash.Partnerships {
			if g.Name == "PZK Sieradz" {
				id = g.PartnershipID
			}
		}
		require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/partnerships/"+id, tokens["animator"], &partnership))
		b.do("follow the link", chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-group=%q] h2 a`, id))))
		b.waitFor("partnership page", `document.querySelector('table[data-k="members"]')`, 10*time.Second)
		var members, services, meetings int
		b.eval("members", `document.querySelectorAll('table[data-k="members"] tbody tr').length`, &members)
		b.eval("services", `document.querySelectorAll('table[data-k="basket"] tbody tr').length`, &services)
		b.eval("meetings", `document.querySelectorAll('table[data-k="meetings"] tbody tr').length`, &meetings)
		assert.Equal(t, len(partnership.Members), members)
		assert.Equal(t, len(partnership.Services), services)
		assert.Equal(t, len(partnership.Meetings), meetings)
		var title string
		b.eval("title", `document.querySelector('main h1').textContent`, &title)
		assert.Equal(t, partnership.Name, title)
		b.screenshot("partnership")
	})

	t.Run("the animator sees no family's name", func(t *testing.T) {
		var admin api.List[projections.FamilySummary]
		require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/families", tokens["admin"], &admin))
		require.NotEmpty(t, admin.Items)
		b.open(base + "/families")
		var text string
		b.eval("text", `document.body.innerText`, &text)
		for _, f := range admin.Items {
			if f.Applicant != "" {
				assert.NotContains(t, text, f.Applicant, "the animator sees aggregates only")
			}
		}
		b.open(base + "/families/" + admin.Items[0].ID)
		b.waitFor("plan refused", `document.querySelector('[data-k="plan-refused"]')`, 5*time.Second)
	})

	// The coordinator's family with a contract in force and an open action.
	var families api.List[projections.FamilySummary]
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/families?stage=contract_in_force", tokens["coordinator"], &families))
	require.NotEmpty(t, families.Items, "the demo coordinator leads families with contracts in force")
	var plan projections.PlanView
	var familyID, actionID string
	for _, f := range families.Items {
		require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/families/"+f.ID+"/plan", tokens["coordinator"], &plan))
		for _, a := range plan.Contract.Actions {
			if a.Status == "planned" || a.Status == "started" {
				familyID, actionID = f.ID, a.ID
				break
			}
		}
		if familyID != "" {
			break
		}
	}
	require.NotEmpty(t, actionID, "a demo family with an open action")

	t.Run("the families list of the coordinator", func(t *testing.T) {
		var all api.List[projections.FamilySummary]
		require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/families", tokens["coordinator"], &all))
		b.signIn(base, signIns["coordinator"])
		b.open(base + "/families")
		var count string
		b.eval("count", `document.querySelector('[data-k="count"]').dataset.value`, &count)
		assert.Equal(t, fmt.Sprint(len(all.Items)), count)
		var text string
		b.eval("count text", `document.querySelector('[data-k="count"]').textContent`, &text)
		assert.Equal(t, polish.Families.Count(len(all.Items)), text, "the count in its Polish form")
		var rows int
		b.eval("rows", `document.querySelectorAll('table[data-k="families"] tbody tr').length`, &rows)
		assert.Equal(t, len(all.Items), rows)
		b.screenshot("families")
	})

	t.Run("a family's plan, history and as-of slider", func(t *testing.T) {
		b.open(base + "/families/" + familyID)
		b.waitFor("plan", `document.querySelector('[data-k="plan-as-of"]')`, 10*time.Second)
		var team, actions, history int
		b.eval("team", `document.querySelectorAll('table[data-k="team"] tbody tr').length`, &team)
		b.eval("actions", `document.querySelectorAll('tr[data-action]').length`, &actions)
		b.eval("history", `document.querySelectorAll('[data-k="history"] li').length`, &history)
		assert.Equal(t, len(plan.Team), team)
		assert.Equal(t, len(plan.Contract.Actions), actions)
		var hist api.List[projections.HistoryEntry]
		require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/families/"+familyID+"/history", tokens["coordinator"], &hist))
		assert.Equal(t, len(hist.Items), history)
		var timeline string
		b.eval("timeline", `document.querySelector('[data-k="history"]').innerText`, &timeline)
		assert.NotRegexp(t, `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`, timeline, "the history names what it refers to, no id")
		for _, m := range plan.Team {
			assert.Contains(t, timeline, m.Institution, "the history names the team's institutions")
		}
		// Who decided: the coordinator by name, position and institution.
		assert.Contains(t, timeline, "— "+plan.Coordinator.Name+" ("+plan.Coordinator.Position+", "+plan.Coordinator.Institution+")")
		var applicant string
		b.eval("applicant", `document.querySelector('[data-k="applicant"]').textContent`, &applicant)
		assert.Equal(t, plan.Household[0].Name, applicant)
		b.screenshot("family")

		// Back to the day the case was opened: the plan as of then.
		n := b.rendered()
		b.do("slide", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('asof'); s.value = 0; s.dispatchEvent(new Event('change')); })()`))
		b.waitRendered("plan as of opening", n)
		var asOf, stage string
		b.eval("as of", `document.querySelector('[data-k="plan-as-of"]').dataset.value`, &asOf)
		b.eval("stage", `document.querySelector('.tile[data-k="stage"]').dataset.value`, &stage)
		var then projections.PlanView
		require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/families/"+familyID+"/plan?as_of="+plan.OpenedOn.String(), tokens["coordinator"], &then))
		assert.Equal(t, plan.OpenedOn.String(), asOf)
		assert.Equal(t, then.Stage, stage)
		assert.NotEqual(t, plan.Stage, stage, "the case moved on since it was opened")
		var future int
		b.eval("future", `document.querySelectorAll('[data-k="history"] li.future').length`, &future)
		assert.Positive(t, future, "decisions after the day are marked as later")
		b.screenshot("family-as-of-opening")
		n = b.rendered()
		b.do("back to today", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('asof'); s.value = s.max; s.dispatchEvent(new Event('change')); })()`))
		b.waitRendered("plan today", n)
	})

	t.Run("a command reaches the open page without a reload", func(t *testing.T) {
		b.waitFor("live", `document.getElementById('live').dataset.state === 'on'`, 10*time.Second)
		b.eval("mark", `window.koopMark = 'still-here'`, nil)
		sel := fmt.Sprintf(`document.querySelector('tr[data-action=%q]').dataset.status`, actionID)
		var before string
		b.eval("status before", sel, &before)
		require.NotEqual(t, "completed", before)
		status, body := send(t, http.MethodPost, base+"/api/v1/families/"+familyID+"/contract/actions/"+actionID, tokens["coordinator"],
			map[string]any{"status": "completed", "date": projections.Today(time.Now()).String(), "reason": "działanie wykonane"})
		require.Equal(t, http.StatusOK, status, "%v", body)
		b.waitFor("the action completed on the page", sel+` === 'completed'`, 3*time.Second)
		var mark string
		b.eval("mark", `window.koopMark`, &mark)
		assert.Equal(t, "still-here", mark, "the page was not reloaded")
		b.screenshot("family-after-command")
	})

	t.Run("the worker's caseload", func(t *testing.T) {
		var c projections.Caseload
		var me api.Principal
		require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/me", tokens["worker"], &me))
		require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/workers/"+me.WorkerID+"/caseload", tokens["worker"], &c))
		b.signIn(base, signIns["worker"])
		b.open(base + "/caseload")
		var families, overdue, upcoming string
		b.eval("families", `document.querySelector('.tile[data-k="families"]').dataset.value`, &families)
		b.eval("overdue", `document.querySelector('.tile[data-k="overdue"]').dataset.value`, &overdue)
		b.eval("upcoming", `document.querySelector('.tile[data-k="upcoming"]').dataset.value`, &upcoming)
		assert.Equal(t, fmt.Sprint(len(c.Families)), families)
		assert.Equal(t, fmt.Sprint(len(c.Overdue)), overdue)
		assert.Equal(t, fmt.Sprint(len(c.Upcoming)), upcoming)
		b.screenshot("caseload")

		// A family whose team the worker is not on is not revealed.
		var others api.List[projections.FamilySummary]
		require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/families", tokens["admin"], &others))
		mine := map[string]bool{}
		for _, f := range c.Families {
			mine[f.ID] = true
		}
		for _, f := range others.Items {
			if !mine[f.ID] && f.CoordinatorID != me.WorkerID {
				b.open(base + "/families/" + f.ID)
				var code string
				b.eval("error", `(document.querySelector('[data-k="error"]') || {dataset: {}}).dataset.value`, &code)
				assert.Equal(t, "404", code, "a family out of the worker's scope")
				var text string
				b.eval("text", `document.querySelector('main').innerText`, &text)
				if f.Applicant != "" {
					assert.NotContains(t, text, f.Applicant)
				}
				break
			}
		}
	})

	t.Run("the evaluator's indicators", func(t *testing.T) {
		var ev api.Evaluation
		require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/evaluation", tokens["evaluator"], &ev))
		b.signIn(base, signIns["evaluator"])
		b.open(base + "/evaluation")
		b.waitFor("indicators", `document.querySelector('[data-group="overall"] [data-k="families_enrolled"]')`, 20*time.Second)
		for _, g := range append(ev.Partnerships, ev.Overall) {
			id := g.PartnershipID
			if id == "" {
				id = "overall"
			}
			var enrolled, contracts string
			b.eval("enrolled", fmt.Sprintf(`document.querySelector('tr[data-group=%q] [data-k="families_enrolled"]').textContent`, id), &enrolled)
			b.eval("contracts", fmt.Sprintf(`document.querySelector('tr[data-group=%q] [data-k="contracts_signed"]').textContent`, id), &contracts)
			assert.Equal(t, fmt.Sprint(g.Client.FamiliesEnrolled), enrolled, id)
			assert.Equal(t, fmt.Sprint(g.Client.ContractsSigned), contracts, id)
		}
		var charts int
		b.eval("charts", `document.querySelectorAll('svg.chart').length`, &charts)
		assert.GreaterOrEqual(t, charts, 4)
		var links int
		b.eval("nav", `document.querySelectorAll('nav a[href="/families"]').length`, &links)
		assert.Zero(t, links, "the evaluator is not offered the families")
		var xlsx, csv string
		b.eval("download xlsx", `document.querySelector('#download-xlsx').textContent`, &xlsx)
		b.eval("download csv", `document.querySelector('#download-csv').textContent`, &csv)
		assert.Equal(t, "Pobierz arkusz (.xlsx)", xlsx)
		assert.Equal(t, "Pobierz CSV (średnik, przecinek dziesiętny)", csv)
		var stated string
		b.eval("cut-off", `document.querySelector('[data-k="as_of"]').textContent`, &stated)
		assert.Contains(t, stated, "koniec dzisiejszego dnia (czas polski), zasada domyślna", "the page says which cut-off it stands at")
		b.screenshot("evaluation")
		b.open(base + "/families")
		var code string
		b.eval("error", `(document.querySelector('[data-k="error"]') || {dataset: {}}).dataset.value`, &code)
		assert.Equal(t, "403", code)
	})

	t.Run("the language switch", func(t *testing.T) {
		b.open(base + "/")
		n := b.rendered()
		b.do("to English", chromedp.Click(chromedp.CSS("#lang")))
		b.waitRendered("English", n)
		var lang, heading, nav string
		b.eval("lang", `document.documentElement.lang`, &lang)
		b.eval("heading", `document.querySelector('main h1').textContent`, &heading)
		b.eval("nav", `document.getElementById('nav').innerText`, &nav)
		assert.Equal(t, "en", lang)
		assert.Equal(t, "Partnerships overview", heading)
		assert.Contains(t, nav, "Evaluation")
		b.screenshot("overview-en")
		b.open(base + "/") // the choice is kept
		b.eval("heading", `document.querySelector('main h1').textContent`, &heading)
		assert.Equal(t, "Partnerships overview", heading)
		n = b.rendered()
		b.do("to Polish", chromedp.Click(chromedp.CSS("#lang")))
		b.waitRendered("Polish", n)
		b.eval("heading", `document.querySelector('main h1').textContent`, &heading)
		assert.Equal(t, "Przegląd partnerstw", heading)
	})

	t.Run("on a tablet nothing runs off the side", func(t *testing.T) {
		b.signIn(base, signIns["coordinator"])
		b.do("tablet", chromedp.EmulateViewport(820, 1180))
		for _, page := range []string{"/", "/caseload", "/families/" + familyID} {
			b.open(base + page)
			var overflow int
			b.eval("overflow", `document.documentElement.scrollWidth - window.innerWidth`, &overflow)
			assert.LessOrEqual(t, overflow, 0, "%s is wider than the tablet", page)
		}
		b.screenshot("tablet-family")
		b.do("laptop", chromedp.ResetViewport())
	})

	t.Run("an unknown page answers 404", func(t *testing.T) {
		resp, err := http.Get(base + "/no-such-page")
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
		assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html"))
		assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "script-src 'self'")
	})

	t.Run("the page says when it is disconnected and reconnects", func(t *testing.T) {
		b.signIn(base, signIns["animator"])
		b.waitFor("live", `document.getElementById('live').dataset.state === 'on'`, 10*time.Second)
		require.Equal(t, 0, stop())
		b.waitFor("disconnected", `document.getElementById('live').dataset.state === 'off'`, 10*time.Second)
		var text string
		b.eval("text", `document.getElementById('live').textContent`, &text)
		assert.Contains(t, text, "Rozłączono")
		b.screenshot("disconnected")
		n := b.rendered()
		startServe(t, "--data", dir, "--http", addr, "--demo")
		b.waitFor("reconnected", `document.getElementById('live').dataset.state === 'on'`, 20*time.Second)
		b.waitRendered("refreshed after reconnecting", n)
	})
}

package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/api"
	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
	"github.com/kooperacje/kooperacje/projections"
)

// livingFamily is what the test gathers of one living family.
type livingFamily struct {
	opened    domain.FamilyCaseOpened
	terms     domain.ContractTerms
	signed    bool
	ended     bool
	closedOn  domain.Date
	actions   map[string]string // action id → the last event about it
	awaiting  []string          // institutions of referrals awaiting an answer
	meetings  []domain.Date
	shape     []string // event types and days, relative to the anchor
	lastSteps domain.Date
}

// withDemoNow makes the demo's clock stand at noon in Poland on a day.
func withDemoNow(t *testing.T, d domain.Date) {
	t.Helper()
	prev := demoNow
	demoNow = func() time.Time {
		return time.Date(d.Time().Year(), d.Time().Month(), d.Time().Day(), 12, 0, 0, 0, domain.Warsaw)
	}
	t.Cleanup(func() { demoNow = prev })
}

// loadLiving loads the demo into a fresh data directory with the clock on
// a day and returns the store, the directory and the living families.
func loadLiving(t *testing.T, ctx context.Context, day domain.Date) (*eventstore.Store, string, map[string]*livingFamily) {
	t.Helper()
	dir := t.TempDir()
	store, err := eventstore.Open(ctx, eventstore.Options{DataDir: dir, Listen: eventstore.ListenOff})
	require.NoError(t, err)
	t.Cleanup(store.Close)
	withDemoNow(t, day)
	require.NoError(t, loadDemo(ctx, &domain.Handler{Store: store}, dir))
	return store, dir, readLiving(t, ctx, store, day)
}

// readLiving gathers the living families from the log, their days taken
// relative to the anchor.
func readLiving(t *testing.T, ctx context.Context, store *eventstore.Store, anchor domain.Date) map[string]*livingFamily {
	t.Helper()
	byID := map[string]string{}
	for n := range demoLivingFamilies {
		byID[demoID("family", demoLivingKey(n))] = demoLivingKey(n)
	}
	rel := func(d domain.Date) int { return daysBetween(anchor, d) }
	out := map[string]*livingFamily{}
	err := store.Read(ctx, 0, 0, func(_ uint64, envs []domain.Envelope, err error) error {
		if err != nil {
			return err
		}
		for _, env := range envs {
			key, ok := byID[env.AggregateID]
			if !ok {
				continue
			}
			f := out[key]
			if f == nil {
				f = &livingFamily{actions: map[string]string{}}
				out[key] = f
			}
			day := projections.Today(env.OccurredAt)
			f.lastSteps = maxDate(f.lastSteps, day)
			f.shape = append(f.shape, fmt.Sprintf("%s@%d", env.Type, rel(day)))
			switch e := env.Payload.(type) {
			case domain.FamilyCaseOpened:
				f.opened = e
			case domain.ContractDrafted:
				f.terms = e.Terms
				f.shape = append(f.shape, fmt.Sprintf("ends@%d", rel(e.Terms.EndDate)))
				for _, a := range e.Terms.Actions {
					f.shape = append(f.shape, fmt.Sprintf("%s due@%d", a.ID, rel(a.Deadline)))
				}
			case domain.ContractSigned:
				f.signed = true
			case domain.ContractEnded:
				f.ended = true
			case domain.CaseClosed:
				f.closedOn = e.Date
			case domain.ActionStarted:
				f.actions[e.ActionID] = env.Type
			case domain.ActionCompleted:
				f.actions[e.ActionID] = env.Type
			case domain.ActionMissed:
				f.actions[e.ActionID] = env.Type
			case domain.ReferralRequested:
				f.awaiting = append(f.awaiting, e.InstitutionID)
			case domain.ReferralAccepted, domain.ReferralDeclined:
				f.awaiting = f.awaiting[1:] // the demo answers in the order it asks
			case domain.TeamMeetingRecorded:
				f.meetings = append(f.meetings, e.Date)
			}
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

func TestDemoLivingFamiliesLiveOnTheirAnchorAndLoadOnce(t *testing.T) {
	ctx := context.Background()
	anchor := domain.NewDate(2026, 3, 18)
	store, dir, fams := loadLiving(t, ctx, anchor)
	require.Len(t, fams, len(demoLivingFamilies), "every living family is written")

	endOfMonth := addDays(domain.NewDate(anchor.Time().Year(), anchor.Time().Month()+1, 1), -1)
	marta := demoID("worker", "mops-sieradz", "Marta Testowa")
	var inForce, dueThisMonth, dueInThreeWeeks, overdue, done, recentMeetings, recentlyClosed, martas, pedagogues int
	awaiting := map[string]int{}
	for key, f := range fams {
		// Nothing is dated on or after the anchor but deadlines and the
		// contracts' end dates; nothing before the case opened.
		assert.True(t, f.lastSteps.Before(anchor), "%s: last step on %s", key, f.lastSteps)
		assert.True(t, f.opened.OpenedOn.Before(addDays(anchor, -7)), "%s opened on %s, weeks before the anchor", key, f.opened.OpenedOn)
		if f.opened.Coordinator.WorkerID == marta {
			martas++
		}
		if slices.ContainsFunc(f.terms.Actions, func(a domain.Action) bool { return a.Responsible.InstitutionID == demoID("institution", "sp1-sieradz") }) {
			pedagogues++
		}
		for _, inst := range f.awaiting {
			awaiting[inst]++
		}
		for _, m := range f.meetings {
			if !m.Before(addDays(anchor, -14)) {
				recentMeetings++
			}
		}
		if !f.closedOn.IsZero() && !f.closedOn.Before(addDays(anchor, -31)) {
			recentlyClosed++
		}
		if !f.signed || f.ended {
			continue
		}
		inForce++
		assert.True(t, anchor.Before(f.terms.EndDate), "%s: in force, it ends after the anchor (%s)", key, f.terms.EndDate)
		for _, a := range f.terms.Actions {
			switch st := f.actions[a.ID]; {
			case st == "ActionCompleted" || st == "ActionMissed":
				done++
			case a.Deadline.Before(anchor):
				overdue++
			default:
				if !endOfMonth.Before(a.Deadline) {
					dueThisMonth++
				}
				if a.Deadline.Before(addDays(anchor, 21)) {
					dueInThreeWeeks++
				}
			}
		}
	}
	t.Logf("in force %d, due this month %d, due in three weeks %d, overdue %d, done %d, awaiting %v", inForce, dueThisMonth, dueInThreeWeeks, overdue, done, awaiting)
	assert.GreaterOrEqual(t, inForce, 6, "contracts in force")
	assert.Positive(t, dueThisMonth, "open actions due from the anchor to the end of its month")
	assert.GreaterOrEqual(t, dueInThreeWeeks, 2*inForce, "actions due in the next weeks")
	assert.GreaterOrEqual(t, overdue, 3, "a few overdue")
	assert.Less(t, overdue, dueInThreeWeeks, "only a few")
	assert.GreaterOrEqual(t, done, inForce, "some done")
	assert.GreaterOrEqual(t, recentMeetings, 5, "team meetings in the last two weeks")
	assert.Equal(t, 1, recentlyClosed, "one case closed in the last month")
	assert.GreaterOrEqual(t, martas, 6, "the demo coordinator leads most of them")
	assert.GreaterOrEqual(t, pedagogues, 2, "the demo pedagogue's school has actions")
	assert.Positive(t, awaiting[demoID("institution", "sp1-sieradz")], "a referral awaits the demo pedagogue's school")
	assert.GreaterOrEqual(t, len(awaiting), 3, "referrals await several institutions")

	// A later load of the same data directory, weeks later, finds the
	// same anchor and writes nothing.
	first, err := store.LastSequence(ctx)
	require.NoError(t, err)
	withDemoNow(t, addDays(anchor, 40))
	got, err := demoAnchor(ctx, store, demoNow())
	require.NoError(t, err)
	assert.Equal(t, anchor, got, "the anchor is read back from the data")
	require.NoError(t, loadDemo(ctx, &domain.Handler{Store: store}, dir))
	second, err := store.LastSequence(ctx)
	require.NoError(t, err)
	assert.Equal(t, first, second, "a later load writes nothing")

	// Every command on its own is idempotent too, not only the skipping of
	// families whose last command is recorded.
	h := &domain.Handler{Store: store}
	again := func(key string, by domain.Actor, cmd domain.Command, occurred time.Time, reason string) error {
		res, err := h.Execute(ctx, cmd, domain.Meta{CommandID: demoID("command", key), Actor: by, OccurredAt: occurred, Reason: reason}, domain.AnyVersion)
		if err == nil && !res.Duplicate {
			t.Errorf("%s wrote anew", key)
		}
		return err
	}
	withDemoNow(t, anchor)
	require.NoError(t, loadDemoLiving(ctx, forgetfulStore{}, again, demoNow()))
	third, err := store.LastSequence(ctx)
	require.NoError(t, err)
	assert.Equal(t, first, third)

	// A fresh data directory on another day gets the same families, shifted.
	_, _, shifted := loadLiving(t, ctx, addDays(anchor, 17))
	require.Len(t, shifted, len(fams))
	for key, f := range fams {
		assert.Equal(t, f.shape, shifted[key].shape, key)
		assert.Equal(t, f.opened.Household[0].Name, shifted[key].opened.Household[0].Name, key)
	}
}

func TestDemoLivingFamiliesStayInTheirPlace(t *testing.T) {
	// The anchor is read from the first family, which opens first: keep it
	// so, and each family's steps within its days.
	for _, anchor := range []domain.Date{domain.NewDate(2026, 1, 1), domain.NewDate(2026, 2, 28), domain.NewDate(2028, 2, 29), domain.NewDate(2026, 12, 31)} {
		fams, err := demoLivingSteps(anchor)
		require.NoError(t, err, anchor)
		require.Len(t, fams, len(demoLivingFamilies))
		assert.Equal(t, "open", fams[0][0].key)
		for n, steps := range fams {
			assert.Equal(t, addDays(anchor, -demoLivingFamilies[n].openedAgo), steps[0].date, demoLivingKey(n))
		}
		// An action is due on the anchor itself, so that one is due this
		// month even on its last day.
		dueToday := false
		for _, s := range fams[0] {
			if d, ok := s.cmd.(domain.DraftContract); ok {
				dueToday = slices.ContainsFunc(d.Actions, func(a domain.Action) bool { return a.Deadline == anchor })
			}
		}
		assert.True(t, dueToday, "an action of the first family is due on %s", anchor)
	}
	for n, lf := range demoLivingFamilies {
		assert.True(t, strings.HasPrefix(demoLivingKey(n), "living/"+lf.partnership+"/"))
	}
}

func TestTheOverviewOnTheDemoShowsWorkToday(t *testing.T) {
	dir := t.TempDir()
	base, stop := startServe(t, "--data", dir, "--demo", "--http", freeAddr(t))
	defer stop()
	tokens := demoTokensOf(t, dir)
	today := projections.Today(time.Now())

	var d api.Dashboard
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/dashboard", tokens["coordinator"], &d))
	assert.Equal(t, today, d.AsOf)
	assert.Positive(t, d.Overall.FamiliesByStage[projections.StageContractInForce], "contracts in force")
	a := d.Overall.Client.Actions
	assert.Positive(t, a.Open, "actions open, due today or later")
	assert.Positive(t, a.Overdue, "a few overdue")

	// The demo coordinator's caseload: actions due this month or, at its
	// very end, in the next weeks, from today on.
	var c projections.Caseload
	marta := demoID("worker", "mops-sieradz", "Marta Testowa")
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/workers/"+marta+"/caseload", tokens["coordinator"], &c))
	require.NotEmpty(t, c.Upcoming, "the demo coordinator has actions due")
	month := 0
	for _, u := range c.Upcoming {
		assert.False(t, u.Deadline.Before(today), "upcoming from today on")
		if u.Deadline.Time().Year() == today.Time().Year() && u.Deadline.Time().Month() == today.Time().Month() {
			month++
		}
	}
	assert.Positive(t, month, "actions due this month")
	inForce := 0
	for _, f := range c.Families {
		if f.Stage == projections.StageContractInForce {
			inForce++
		}
	}
	assert.GreaterOrEqual(t, inForce, 4, "families with contracts in force on her caseload")
}

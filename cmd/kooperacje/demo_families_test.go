package main

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
)

// demoStages names the stages of demoFamilyPlan.
var demoStages = map[int]string{1: "opened", 2: "consents given", 3: "diagnosis in progress", 4: "diagnosis completed", 5: "team formed",
	6: "contract drafted", 7: "contract signed", 8: "contract reviewed, amended or extended", 9: "contract ended", 10: "case closed", 11: "case reopened"}

// demoFamily is what the test gathers of one family from the events.
type demoFamily struct {
	partnership string
	types       map[string]int
	sectors     map[domain.Sector]bool // of the diagnosis inputs
	opened      domain.FamilyCaseOpened
	terms       domain.ContractTerms
	actions     map[string]domain.ActionStatus
	inForce     bool
	first, last time.Time
}

// stage is the furthest stage the family reached.
func (f *demoFamily) stage() int {
	t := f.types
	switch {
	case t["CaseReopened"] > 0:
		return 11
	case t["CaseClosed"] > 0:
		return 10
	case t["ContractEnded"] > 0:
		return 9
	case t["ContractReviewed"]+t["ContractAmended"]+t["ContractExtended"] > 0:
		return 8
	case t["ContractSigned"] > 0:
		return 7
	case t["ContractDrafted"] > 0:
		return 6
	case t["TeamFormed"] > 0:
		return 5
	case t["DiagnosisCompleted"] > 0:
		return 4
	case t["DiagnosisInputRecorded"] > 0:
		return 3
	case t["ConsentGiven"]+t["LegalBasisRecorded"] > 0:
		return 2
	}
	return 1
}

func TestDemoFamiliesReachEveryStageAndLoadOnce(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := eventstore.Open(ctx, eventstore.Options{DataDir: dir, Listen: eventstore.ListenOff})
	require.NoError(t, err)
	t.Cleanup(store.Close)
	h := &domain.Handler{Store: store}

	start := time.Now()
	require.NoError(t, loadDemo(ctx, h, dir))
	t.Logf("first demo load: %s", time.Since(start))
	first, err := store.LastSequence(ctx)
	require.NoError(t, err)
	start = time.Now()
	require.NoError(t, loadDemo(ctx, h, dir))
	t.Logf("second demo load: %s", time.Since(start))
	second, err := store.LastSequence(ctx)
	require.NoError(t, err)
	require.Equal(t, first, second, "a second demo load writes nothing")

	// Every command of the families on its own is idempotent too, not only
	// the skipping of families whose last command is recorded.
	again := func(key string, by domain.Actor, cmd domain.Command, occurred time.Time, reason string) error {
		res, err := h.Execute(ctx, cmd, domain.Meta{CommandID: demoID("command", key), Actor: by, OccurredAt: occurred, Reason: reason}, domain.AnyVersion)
		if err == nil && !res.Duplicate {
			t.Errorf("%s wrote anew", key)
		}
		return err
	}
	require.NoError(t, loadDemoFamilies(ctx, forgetfulStore{}, again))
	third, err := store.LastSequence(ctx)
	require.NoError(t, err)
	require.Equal(t, first, third)

	families := map[string]*demoFamily{}
	var order []string
	support := map[string]int{}
	supportKinds := map[domain.SupportKind]bool{}
	endings := map[domain.Ending]int{}
	referrals := map[string]domain.ReferralStatus{}
	users := map[string]domain.UserRegistered{}
	referredTo := map[string]string{} // referral id → institution id
	byRole := map[domain.Role]int{}
	err = store.Read(ctx, 0, 0, func(_ uint64, envs []domain.Envelope, err error) error {
		if err != nil {
			return err
		}
		for _, env := range envs {
			if u, ok := env.Payload.(domain.UserRegistered); ok {
				users[env.AggregateID] = u
			}
			if env.AggregateType == domain.AggregateFamily {
				// Taken by a worker of the demo, registered as a user before,
				// in the role and for the institution they have.
				u, ok := users[env.Actor.UserID]
				if assert.True(t, ok, "family %s: %s taken by an unregistered user %+v", env.AggregateID, env.Type, env.Actor) {
					assert.NotEmpty(t, u.WorkerID, "%s: a worker takes it", env.Type)
					assert.Equal(t, u.Role, env.Actor.Role, env.Type)
					assert.Equal(t, u.InstitutionID, env.Actor.InstitutionID, env.Type)
					byRole[u.Role]++
				}
				coordinator := func() string {
					if f := families[env.AggregateID]; f != nil {
						return f.opened.Coordinator.WorkerID
					}
					return ""
				}
				switch e := env.Payload.(type) {
				case domain.FamilyCaseOpened, domain.ConsentGiven, domain.DiagnosisCompleted, domain.TeamFormed, domain.ContractDrafted,
					domain.ContractSigned, domain.ContractReviewed, domain.ContractEnded, domain.CaseClosed:
					if f := families[env.AggregateID]; f != nil {
						assert.Equal(t, coordinator(), u.WorkerID, "%s: taken by the family's coordinator", env.Type)
					} else {
						assert.Equal(t, e.(domain.FamilyCaseOpened).Coordinator.WorkerID, u.WorkerID, "the coordinator opens the case")
					}
				case domain.DiagnosisInputRecorded:
					assert.Equal(t, e.WorkerID, u.WorkerID, "a worker records their own input to the diagnosis")
				case domain.LegalBasisRecorded:
					assert.Equal(t, e.InstitutionID, u.InstitutionID, "the probation officer records the court's order")
				case domain.ReferralRequested:
					referredTo[e.ReferralID] = e.InstitutionID
				case domain.ReferralAccepted:
					assert.Equal(t, referredTo[e.ReferralID], u.InstitutionID, "a referral is answered where it was sent")
				case domain.ReferralDeclined:
					assert.Equal(t, referredTo[e.ReferralID], u.InstitutionID, "a referral is answered where it was sent")
				case domain.ActionStarted, domain.ActionCompleted, domain.ActionMissed:
					var id string
					switch a := e.(type) {
					case domain.ActionStarted:
						id = a.ActionID
					case domain.ActionCompleted:
						id = a.ActionID
					case domain.ActionMissed:
						id = a.ActionID
					}
					f := families[env.AggregateID]
					i := slices.IndexFunc(f.terms.Actions, func(a domain.Action) bool { return a.ID == id })
					require.GreaterOrEqual(t, i, 0)
					if r := f.terms.Actions[i].Responsible; r.Kind == domain.PartyInstitution {
						assert.Equal(t, r.InstitutionID, u.InstitutionID, "the institution responsible marks its action")
					} else {
						assert.Equal(t, coordinator(), u.WorkerID, "the coordinator marks the client's and their own actions")
					}
				}
			}
			if s, ok := env.Payload.(domain.StaffSupportRecorded); ok {
				support[env.AggregateID]++
				supportKinds[s.Kind] = true
			}
			if env.AggregateType != domain.AggregateFamily {
				continue
			}
			f := families[env.AggregateID]
			if f == nil {
				f = &demoFamily{types: map[string]int{}, sectors: map[domain.Sector]bool{}, actions: map[string]domain.ActionStatus{}, first: env.OccurredAt}
				families[env.AggregateID] = f
				order = append(order, env.AggregateID)
			}
			f.types[env.Type]++
			// The business date in the payload is the day the event occurred.
			raw, err := json.Marshal(env.Payload)
			require.NoError(t, err)
			var fields map[string]any
			require.NoError(t, json.Unmarshal(raw, &fields))
			for _, name := range []string{"date", "opened_on", "given_on", "withdrawn_on", "recorded_on"} {
				if d, ok := fields[name].(string); ok {
					assert.Equal(t, env.OccurredAt.Format(time.DateOnly), d, "family %s: %s.%s", env.AggregateID, env.Type, name)
				}
			}
			assert.False(t, env.OccurredAt.Before(f.last), "family %s: %s occurred before the event before it", env.AggregateID, env.Type)
			f.last = env.OccurredAt
			switch e := env.Payload.(type) {
			case domain.FamilyCaseOpened:
				f.partnership, f.opened = e.PartnershipID, e
			case domain.DiagnosisInputRecorded:
				f.sectors[e.Sector] = true
			case domain.ContractDrafted:
				f.terms, f.actions = e.Terms, map[string]domain.ActionStatus{}
			case domain.ContractAmended:
				f.terms = e.Terms
			case domain.ContractExtended:
				f.terms.EndDate = e.EndDate
			case domain.ContractSigned:
				f.inForce = true
			case domain.ContractEnded:
				f.inForce = false
				endings[e.Ending]++
				if e.Ending == domain.EndingClientBroke {
					assert.NotEmpty(t, e.Sanction)
				}
			case domain.ActionStarted:
				f.actions[e.ActionID] = domain.ActionStatusStarted
			case domain.ActionCompleted:
				f.actions[e.ActionID] = domain.ActionStatusCompleted
			case domain.ActionMissed:
				f.actions[e.ActionID] = domain.ActionStatusMissed
			case domain.ReferralRequested:
				referrals[e.ReferralID] = domain.ReferralRequestedStatus
			case domain.ReferralAccepted:
				referrals[e.ReferralID] = domain.ReferralAcceptedStatus
			case domain.ReferralDeclined:
				referrals[e.ReferralID] = domain.ReferralDeclinedStatus
				assert.NotEmpty(t, env.Reason, "a declined referral gives its reason")
			case domain.ReferralCompleted:
				referrals[e.ReferralID] = domain.ReferralCompletedStatus
			}
		}
		return nil
	})
	require.NoError(t, err)

	// The families living today (demo_living.go) pass the checks above,
	// each step taken by whom it should be and on its day; the figures
	// below are the story's, of 2019–2021 (demo_living_test.go tests the
	// living ones).
	for n := range demoLivingFamilies {
		id := demoID("family", demoLivingKey(n))
		require.Contains(t, families, id, "the living families are loaded too")
		delete(families, id)
		order = slices.DeleteFunc(order, func(o string) bool { return o == id })
	}
	require.GreaterOrEqual(t, len(families), 35)
	require.LessOrEqual(t, len(families), 45)

	byStage := map[int]int{}
	byPartnership := map[string]int{}
	total := map[string]int{}
	overdue := 0
	begin, end := domain.NewDate(2019, 11, 1).Time(), domain.NewDate(2021, 7, 1).Time()
	for _, id := range order {
		f := families[id]
		s := f.stage()
		byStage[s]++
		byPartnership[f.partnership]++
		for typ, n := range f.types {
			total[typ] += n
		}
		assert.False(t, f.first.Before(begin) || !f.last.Before(end), "family %s: events from %s to %s, outside the project's period", id, f.first, f.last)
		if s == 3 {
			assert.GreaterOrEqual(t, len(f.sectors), 2, "family %s: the diagnosis in progress has inputs from several sectors", id)
		}
		if f.inForce {
			assert.True(t, demoToday.Before(f.terms.EndDate), "family %s: a contract in force ends after the demo's today, not on %s", id, f.terms.EndDate)
			for _, a := range f.terms.Actions {
				if _, moved := f.actions[a.ID]; !moved && a.Deadline.Before(demoToday) {
					overdue++
					break
				}
			}
		}
		// Invented people without a PESEL; children are children.
		opened := f.opened.OpenedOn.Time()
		for _, p := range f.opened.Household {
			assert.Empty(t, p.PESEL)
			assert.NotEmpty(t, p.Name)
			age := opened.Sub(p.BirthDate.Time()).Hours() / 24 / 365.25
			if p.Relation == domain.RelationChild {
				assert.Less(t, age, 18.0, "family %s: %s", id, p.Name)
			} else {
				assert.Greater(t, age, 18.0, "family %s: %s", id, p.Name)
			}
		}
	}
	for s := 1; s <= 11; s++ {
		assert.GreaterOrEqual(t, byStage[s], 2, "stage %d (%s)", s, demoStages[s])
	}
	t.Logf("families by stage: %v", byStage)
	t.Logf("events by type: %v", total)

	sieradz := byPartnership[demoID("partnership", "pzk-sieradz")]
	for _, p := range demoPartnerships {
		n := byPartnership[demoID("partnership", p.slug)]
		assert.Positive(t, n, p.name)
		assert.LessOrEqual(t, n, sieradz, "most families are in Sieradz")
		assert.GreaterOrEqual(t, support[demoID("partnership", p.slug)], 3, "staff support in %s", p.name)
	}
	assert.Len(t, supportKinds, len(domain.SupportKinds), "every form of staff support: trainings, coaching, workshops, PZK and ZZK meetings, consultations")

	for _, e := range []domain.Ending{domain.EndingGoalsMet, domain.EndingClientBroke, domain.EndingClientWithdrew, domain.EndingMovedAway} {
		assert.Positive(t, endings[e], "a contract ended with %s", e)
	}
	statuses := map[domain.ReferralStatus]int{}
	for _, s := range referrals {
		statuses[s]++
	}
	for _, s := range []domain.ReferralStatus{domain.ReferralRequestedStatus, domain.ReferralAcceptedStatus, domain.ReferralDeclinedStatus, domain.ReferralCompletedStatus} {
		assert.GreaterOrEqual(t, statuses[s], 2, "referrals %s", s)
	}
	assert.GreaterOrEqual(t, overdue, 2, "contracts in force with an overdue action")
	t.Logf("family events by role: %v", byRole)
	assert.Positive(t, byRole[domain.RoleCoordinator])
	assert.Positive(t, byRole[domain.RoleWorker], "workers of the team take their own steps")
	for _, typ := range []string{"ConsentWithdrawn", "LegalBasisRecorded", "TeamMeetingRecorded", "TeamMemberJoined", "TeamMemberLeft",
		"ActionStarted", "ActionCompleted", "ActionMissed", "ContractReviewed", "ContractAmended", "ContractExtended", "TeamDissolved"} {
		assert.GreaterOrEqual(t, total[typ], 2, typ)
	}
}

// forgetfulStore knows no family, so that loadDemoFamilies skips none.
type forgetfulStore struct{ domain.Store }

func (forgetfulStore) Load(context.Context, string, string) ([]domain.Envelope, error) {
	return nil, nil
}

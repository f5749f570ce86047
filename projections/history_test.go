package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/projections"
)

// at runs cmd as having happened on day d at noon.
func (w *familyWorld) at(d domain.Date, cmd domain.Command, reason string) time.Time {
	w.t.Helper()
	occurred := d.Time().Add(12 * time.Hour)
	res, err := w.h.Execute(context.Background(), cmd, domain.Meta{Actor: domain.Actor{UserID: "u", Role: domain.RoleCoordinator}, OccurredAt: occurred, Reason: reason}, domain.AnyVersion)
	require.NoError(w.t, err)
	w.last = res.Sequence
	time.Sleep(2 * time.Millisecond) // recorded times apart
	return time.Now()
}

func TestPlansAsOfPastMoments(t *testing.T) {
	w := newFamilyWorld(t) // opened 2020-02-01
	day := domain.NewDate
	afterDiagnosis := w.at(day(2020, 2, 20), domain.RecordDiagnosisInput{FamilyID: w.fid, Area: domain.AreaHousing, Severity: domain.SeverityHigh,
		Needs: "zaległości czynszowe", WorkerID: w.coordinator, InstitutionID: w.mops, Date: day(2020, 2, 20)}, "")
	w.at(day(2020, 2, 25), domain.CompleteDiagnosis{FamilyID: w.fid, Date: day(2020, 2, 25)}, "")
	w.at(day(2020, 3, 1), domain.FormTeam{FamilyID: w.fid, Date: day(2020, 3, 1)}, "")
	terms := domain.ContractTerms{Variant: domain.VariantB, Assessment: domain.Assessment{Causes: "bezrobocie"}, MainGoal: "samodzielność",
		Goals:        []domain.Goal{{ID: "g1", Description: "praca"}},
		Actions:      []domain.Action{{ID: "a1", GoalID: "g1", Description: "rejestracja", Responsible: domain.Party{Kind: domain.PartyClient}, Deadline: day(2020, 4, 15)}},
		ClientDuties: "udział", CoordinatorDuties: "wsparcie", StartDate: day(2020, 3, 10), EndDate: day(2020, 9, 30)}
	w.at(day(2020, 3, 10), domain.DraftContract{FamilyID: w.fid, ContractTerms: terms}, "")
	afterSigning := w.at(day(2020, 3, 10), domain.SignContract{FamilyID: w.fid, Date: day(2020, 3, 10), ClientID: w.applicant}, "")
	// Recorded late: the action was completed on 2020-04-10 but entered afterwards.
	w.at(day(2020, 4, 10), domain.UpdateAction{FamilyID: w.fid, ActionID: "a1", Status: domain.ActionStatusCompleted, Date: day(2020, 4, 10)}, "")
	w.at(day(2020, 9, 30), domain.EndContract{FamilyID: w.fid, Date: day(2020, 9, 30), Ending: domain.EndingGoalsMet}, "")

	envs, err := w.s.Load(context.Background(), domain.AggregateFamily, w.fid)
	require.NoError(t, err)

	// The opening's business time is its opened_on (2020-02-01), though
	// its command gave no occurred_at.
	_, ok := projections.PlanAsOf(envs, w.fid, day(2020, 1, 31), time.Time{})
	assert.False(t, ok, "as of the day before the opening the case did not exist")
	p, ok := projections.PlanAsOf(envs, w.fid, day(2020, 2, 1), time.Time{})
	require.True(t, ok, "as of the opening day the case exists")
	assert.Equal(t, projections.StageOpened, p.Stage)
	p, ok = projections.PlanAsOf(envs, w.fid, day(2020, 3, 5), time.Time{})
	require.True(t, ok)
	assert.Len(t, p.Team, 1, "as of 2020-03-05 the team formed on 2020-03-01")

	// Recorded time: what the engine knew at a moment.
	tests := []struct {
		name     string
		recorded time.Time
		stage    string
		team     int
		contract string
		overdue  int
	}{
		{"right after the first diagnosis input was recorded", afterDiagnosis, projections.StageDiagnosisInProgress, 0, "", 0},
		{"right after the signing was recorded", afterSigning, projections.StageContractInForce, 1, "in_force", 1},
		{"now", time.Now(), projections.StageContractEnded, 1, "ended", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := projections.PlanAsOf(envs, w.fid, domain.Date{}, tt.recorded)
			require.True(t, ok)
			assert.Equal(t, tt.stage, p.Stage)
			assert.Len(t, p.Team, tt.team)
			if tt.contract == "" {
				assert.Nil(t, p.Contract)
			} else {
				require.NotNil(t, p.Contract)
				assert.Equal(t, tt.contract, p.Contract.Status)
			}
			// Deadlines are judged on the day of the moment: a1 was due
			// 2020-04-15 and, as recorded at signing, not done — overdue
			// by today.
			assert.Len(t, p.Overdue, tt.overdue)
		})
	}

	// Business time on a world whose opening is dated too.
	w2 := newFamilyWorld(t)
	envs2 := func() []domain.Envelope {
		e, err := w2.s.Load(context.Background(), domain.AggregateFamily, w2.fid)
		require.NoError(t, err)
		return e
	}
	opened := envs2()[0].OccurredAt
	future := domain.NewDate(opened.Year()+1, 1, 1)
	w2.at(future, domain.RecordDiagnosisInput{FamilyID: w2.fid, Area: domain.AreaIncome, Severity: domain.SeverityLow,
		Needs: "dochód", WorkerID: w2.coordinator, InstitutionID: w2.mops, Date: future}, "")
	p, ok = projections.PlanAsOf(envs2(), w2.fid, projections.Today(opened), time.Time{})
	require.True(t, ok)
	assert.Equal(t, projections.StageOpened, p.Stage, "as of the opening day the diagnosis input dated next year did not exist")
	p, ok = projections.PlanAsOf(envs2(), w2.fid, future, time.Time{})
	require.True(t, ok)
	assert.Equal(t, projections.StageDiagnosisInProgress, p.Stage)
}

func TestTheHistoryNamesWhoDecidedEvenWithoutTheirUser(t *testing.T) {
	users := projections.NewUsers()
	require.NoError(t, users.Apply(domain.Envelope{AggregateID: "u1", AggregateVersion: 1,
		Payload: domain.UserRegistered{Name: "Marta Testowa", Role: domain.RoleCoordinator}}))
	tests := []struct {
		name  string
		actor domain.Actor
		want  projections.Decider
	}{
		{"a registered user", domain.Actor{UserID: "u1", Role: domain.RoleCoordinator},
			projections.Decider{Name: "Marta Testowa", Role: "pracownik socjalny"}},
		{"the engine itself", domain.Actor{UserID: "boot", Role: domain.RoleSystem},
			projections.Decider{Name: "silnik Kooperacji", Role: "system"}},
		{"an operator at the command line", domain.Actor{UserID: "cli:jan", Role: domain.RoleAdmin},
			projections.Decider{Name: "operator wiersza poleceń jan", Role: "administrator"}},
		{"a user the engine does not know, for an institution it does not know", domain.Actor{UserID: "gone", Role: domain.RoleWorker, InstitutionID: "i9"},
			projections.Decider{Name: "użytkownik spoza rejestru", Role: "pracownik instytucji", Institution: "instytucja spoza rejestru"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := projections.History([]domain.Envelope{{Type: "CaseReopened", Actor: tt.actor,
				Payload: domain.CaseReopened{Date: domain.NewDate(2021, 3, 1)}}}, projections.Directory{Users: users})
			require.Len(t, h, 1)
			assert.Equal(t, tt.want, h[0].By)
			assert.Equal(t, "Wznowiono sprawę w dniu 2021-03-01", h[0].Summary)
		})
	}
}

package projections_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
	"github.com/kooperacje/kooperacje/projections"
)

// familyWorld is a partnership with a coordinator, a school pedagogue and
// a labour-office adviser, and one family's case.
type familyWorld struct {
	t                         *testing.T
	h                         *domain.Handler
	s                         *eventstore.Store
	pid, fid                  string
	mops, school, pup         string
	coordinator, pedagog, adv string
	applicant                 string
	last                      uint64
}

func newFamilyWorld(t *testing.T) *familyWorld {
	return newFamilyWorldOn(t, openStore(t, t.TempDir()))
}

func newFamilyWorldOn(t *testing.T, s *eventstore.Store) *familyWorld {
	w := &familyWorld{t: t, s: s, h: &domain.Handler{Store: s}, pid: domain.NewID(), fid: domain.NewID(),
		mops: domain.NewID(), school: domain.NewID(), pup: domain.NewID(),
		coordinator: domain.NewID(), pedagog: domain.NewID(), adv: domain.NewID(), applicant: domain.NewID()}
	d := domain.NewDate(2020, 1, 10)
	w.run(domain.RegisterInstitution{InstitutionID: w.mops, Name: "MOPS Sieradz", Sector: domain.SectorSocialAssistance, Municipality: "Sieradz", County: "sieradzki"}, "")
	w.run(domain.RegisterInstitution{InstitutionID: w.school, Name: "SP 1", Sector: domain.SectorEducation, Municipality: "Sieradz", County: "sieradzki"}, "")
	w.run(domain.RegisterInstitution{InstitutionID: w.pup, Name: "PUP", Sector: domain.SectorLabour, Municipality: "Sieradz", County: "sieradzki"}, "")
	w.run(domain.RegisterWorker{InstitutionID: w.mops, WorkerID: w.coordinator, Name: "Marta Testowa", Position: "pracownik socjalny"}, "")
	w.run(domain.RegisterWorker{InstitutionID: w.school, WorkerID: w.pedagog, Name: "Piotr Fikcyjny", Position: "pedagog"}, "")
	w.run(domain.RegisterWorker{InstitutionID: w.pup, WorkerID: w.adv, Name: "Agnieszka Umowna", Position: "doradca zawodowy"}, "")
	w.run(domain.InitiatePartnership{PartnershipID: w.pid, Name: "PZK", Municipality: "Sieradz", County: "sieradzki", Date: d, LeaderID: w.mops}, "")
	w.run(domain.JoinPartnership{PartnershipID: w.pid, InstitutionID: w.school, Date: d}, "")
	w.run(domain.JoinPartnership{PartnershipID: w.pid, InstitutionID: w.pup, Date: d}, "")
	w.run(domain.OpenFamilyCase{FamilyID: w.fid, PartnershipID: w.pid, Address: "ul. Przykładowa 1, Sieradz",
		Household: []domain.Person{
			{PersonID: w.applicant, Name: "Anna Przykładowa", BirthDate: domain.NewDate(1985, 3, 1), Relation: domain.RelationApplicant},
			{PersonID: domain.NewID(), Name: "Ola Przykładowa", BirthDate: domain.NewDate(2012, 5, 5), Relation: domain.RelationChild},
		},
		Referral:    domain.ReferralSource{InstitutionID: w.school, Reason: "absencja dziecka"},
		Coordinator: domain.WorkerRef{WorkerID: w.coordinator, InstitutionID: w.mops}, OpenedOn: domain.NewDate(2020, 2, 1)}, "")
	return w
}

func (w *familyWorld) run(cmd domain.Command, reason string) {
	w.t.Helper()
	res, err := w.h.Execute(context.Background(), cmd, domain.Meta{Actor: domain.Actor{UserID: "u", Role: domain.RoleCoordinator}, Reason: reason}, domain.AnyVersion)
	require.NoError(w.t, err)
	w.last = res.Sequence
}

// plan replays the stream into a fresh Families and returns the plan.
func (w *familyWorld) plan(asOf domain.Date) projections.PlanView {
	w.t.Helper()
	f := projections.NewFamilies()
	_, err := projections.Rebuild(context.Background(), w.s, 0, f)
	require.NoError(w.t, err)
	p, ok := f.Plan(w.fid, asOf)
	require.True(w.t, ok)
	return p
}

func TestSupportPlanFollowsTheLifecycle(t *testing.T) {
	w := newFamilyWorld(t)
	today := domain.NewDate(2020, 6, 1)
	assert.Equal(t, projections.StageOpened, w.plan(today).Stage)

	w.run(domain.GiveConsent{FamilyID: w.fid, ConsentID: domain.NewID(), InstitutionID: w.school, Categories: []domain.DataCategory{domain.DataBasic, domain.DataEducation},
		Purpose: "współpraca w ZZK", LegalBasis: "art. 6 ust. 1 lit. a RODO", GivenBy: w.applicant, GivenOn: domain.NewDate(2020, 2, 2)}, "")
	w.run(domain.GiveConsent{FamilyID: w.fid, ConsentID: domain.NewID(), InstitutionID: w.pup, Categories: []domain.DataCategory{domain.DataBasic, domain.DataEmployment},
		Purpose: "aktywizacja", LegalBasis: "art. 6 ust. 1 lit. a RODO", GivenBy: w.applicant, GivenOn: domain.NewDate(2020, 2, 2), ExpiresOn: domain.NewDate(2020, 5, 1)}, "")
	w.run(domain.RecordDiagnosisInput{FamilyID: w.fid, Area: domain.AreaEducation, Severity: domain.SeverityMedium, Needs: "wsparcie w nauce",
		WorkerID: w.pedagog, InstitutionID: w.school, Date: domain.NewDate(2020, 2, 10)}, "")
	w.run(domain.RecordDiagnosisInput{FamilyID: w.fid, Area: domain.AreaEducation, Severity: domain.SeverityHigh, Needs: "absencja",
		WorkerID: w.coordinator, InstitutionID: w.mops, Date: domain.NewDate(2020, 2, 11)}, "")
	w.run(domain.RecordDiagnosisInput{FamilyID: w.fid, Area: domain.AreaEmployment, Severity: domain.SeverityLow, Needs: "poszukiwanie pracy",
		WorkerID: w.adv, InstitutionID: w.pup, Date: domain.NewDate(2020, 2, 12)}, "")
	p := w.plan(today)
	assert.Equal(t, projections.StageDiagnosisInProgress, p.Stage)
	require.Len(t, p.Diagnosis.Areas, 2)
	assert.Equal(t, domain.AreaEmployment, p.Diagnosis.Areas[0].Area, "areas in the model's order")
	assert.Equal(t, domain.SeverityHigh, p.Diagnosis.Areas[1].Severity, "an area's severity is the highest input")
	assert.Len(t, p.Diagnosis.Areas[1].Inputs, 2)
	require.Len(t, p.Consents, 2)
	assert.True(t, p.Consents[0].Active)
	assert.False(t, p.Consents[1].Active, "the labour office's consent expired on 2020-05-01")

	w.run(domain.CompleteDiagnosis{FamilyID: w.fid, Date: domain.NewDate(2020, 2, 20)}, "")
	w.run(domain.FormTeam{FamilyID: w.fid, Date: domain.NewDate(2020, 2, 21), Members: []domain.WorkerRef{
		{WorkerID: w.pedagog, InstitutionID: w.school}, {WorkerID: w.adv, InstitutionID: w.pup}}}, "")
	terms := domain.ContractTerms{Variant: domain.VariantA, Assessment: domain.Assessment{Causes: "bezrobocie"}, MainGoal: "stabilizacja",
		Goals: []domain.Goal{{ID: "g1", Description: "regularna nauka"}, {ID: "g2", Description: "praca"}},
		Actions: []domain.Action{
			{ID: "a1", GoalID: "g1", Description: "zajęcia wyrównawcze", Responsible: domain.Party{Kind: domain.PartyInstitution, InstitutionID: w.school}, Deadline: domain.NewDate(2020, 4, 1)},
			{ID: "a2", GoalID: "g2", Description: "rejestracja w PUP", Responsible: domain.Party{Kind: domain.PartyClient}, Deadline: domain.NewDate(2020, 3, 15)},
			{ID: "a3", GoalID: "g2", Description: "doradztwo", Responsible: domain.Party{Kind: domain.PartyInstitution, InstitutionID: w.pup}, Deadline: domain.NewDate(2020, 9, 1)},
			{ID: "a4", GoalID: "g1", Description: "monitoring", Responsible: domain.Party{Kind: domain.PartyCoordinator}, Deadline: domain.NewDate(2020, 7, 1)},
		},
		ClientDuties: "udział", CoordinatorDuties: "koordynacja", StartDate: domain.NewDate(2020, 3, 1), EndDate: domain.NewDate(2020, 12, 31)}
	w.run(domain.DraftContract{FamilyID: w.fid, ContractTerms: terms}, "")
	assert.Equal(t, projections.StageContractDrafted, w.plan(today).Stage)
	assert.Empty(t, w.plan(today).Overdue, "a draft has no overdue actions")

	w.run(domain.SignContract{FamilyID: w.fid, Date: domain.NewDate(2020, 3, 1), ClientID: w.applicant}, "")
	w.run(domain.UpdateAction{FamilyID: w.fid, ActionID: "a2", Status: domain.ActionStatusCompleted, Date: domain.NewDate(2020, 3, 10)}, "")
	p = w.plan(today)
	assert.Equal(t, projections.StageContractInForce, p.Stage)
	require.Len(t, p.Overdue, 1, "a1 was due on 2020-04-01 and is still planned")
	assert.Equal(t, "a1", p.Overdue[0].ActionID)
	assert.Equal(t, domain.SectorEducation, p.Overdue[0].Sector)
	require.Len(t, p.NextDeadlines, 2)
	assert.Equal(t, "a4", p.NextDeadlines[0].ActionID, "by deadline")
	groups := map[string]int{}
	for _, g := range p.Contract.ActionsBySector {
		groups[string(g.Party)+"/"+string(g.Sector)] = len(g.Actions)
	}
	assert.Equal(t, map[string]int{"client/": 1, "coordinator/social_assistance": 1, "institution/education": 1, "institution/labour": 1}, groups)
	// As of an earlier day, nothing was overdue yet.
	assert.Empty(t, w.plan(domain.NewDate(2020, 3, 20)).Overdue)

	// Caseloads.
	f := projections.NewFamilies()
	_, err := projections.Rebuild(context.Background(), w.s, 0, f)
	require.NoError(t, err)
	ped := f.WorkerCaseload(w.pedagog, today)
	require.Len(t, ped.Families, 1)
	require.Len(t, ped.Overdue, 1)
	assert.Equal(t, "a1", ped.Overdue[0].ActionID)
	assert.Empty(t, ped.Upcoming, "the pedagogue's caseload holds the school's actions only")
	coord := f.WorkerCaseload(w.coordinator, today)
	require.Len(t, coord.Upcoming, 1)
	assert.Equal(t, "a4", coord.Upcoming[0].ActionID)
	assert.Len(t, f.InstitutionCaseload(w.pup, today).Upcoming, 1)
	overdue := true
	assert.Len(t, f.List(projections.FamilyFilter{Overdue: &overdue}, today), 1)
	assert.Len(t, f.List(projections.FamilyFilter{PartnershipID: w.pid, Stage: projections.StageContractInForce}, today), 1)
	assert.Equal(t, 1, f.StagesByPartnership(w.pid)[projections.StageContractInForce])

	// Amend: a1 keeps its status, a5 is new.
	amended := terms
	amended.Actions = append(terms.Actions[:4:4], domain.Action{ID: "a5", GoalID: "g2", Description: "staż", Responsible: domain.Party{Kind: domain.PartyInstitution, InstitutionID: w.pup}, Deadline: domain.NewDate(2020, 10, 1)})
	w.run(domain.UpdateAction{FamilyID: w.fid, ActionID: "a1", Status: domain.ActionStatusStarted, Date: domain.NewDate(2020, 4, 2)}, "")
	w.run(domain.DraftContract{FamilyID: w.fid, ContractTerms: amended, Changes: "dodano staż", SignedOn: domain.NewDate(2020, 6, 2)}, "aneks")
	w.run(domain.ReviewContract{FamilyID: w.fid, Date: domain.NewDate(2020, 9, 1), Goals: []domain.GoalReview{{GoalID: "g1", Achievement: domain.PartiallyAchieved}}}, "")
	p = w.plan(today)
	require.NotNil(t, p.Contract)
	assert.Equal(t, 2, p.Contract.Version, "the signed draft was version 1, the amendment is version 2")
	assert.Equal(t, domain.ActionStatusStarted, p.Contract.Actions[0].Status)
	assert.Len(t, p.Contract.Actions, 5)
	require.Len(t, p.Contract.Amendments, 1)
	assert.Equal(t, "aneks", p.Contract.Amendments[0].Reason)
	assert.Equal(t, domain.PartiallyAchieved, p.Contract.Goals[0].Achievement)

	w.run(domain.EndContract{FamilyID: w.fid, Date: domain.NewDate(2020, 12, 31), Ending: domain.EndingGoalsMet}, "")
	w.run(domain.CloseCase{FamilyID: w.fid, Date: domain.NewDate(2021, 1, 5), Outcome: domain.OutcomeGoalsAchieved}, "")
	p = w.plan(today)
	assert.Equal(t, projections.StageClosed, p.Stage)
	assert.Equal(t, "closed", p.Status)
	assert.Empty(t, p.Team, "closing dissolves the team")
	assert.Empty(t, p.Overdue)
	f = projections.NewFamilies()
	_, err = projections.Rebuild(context.Background(), w.s, 0, f)
	require.NoError(t, err)
	assert.Empty(t, f.WorkerCaseload(w.pedagog, today).Families, "closed cases leave caseloads")

	w.run(domain.ReopenCase{FamilyID: w.fid, Date: domain.NewDate(2021, 3, 1)}, "nawrót problemów")
	p = w.plan(today)
	assert.Equal(t, projections.StageOpened, p.Stage)
	assert.Equal(t, 1, p.Reopened)
	assert.Nil(t, p.Contract)
}

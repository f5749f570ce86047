package projections_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/projections"
)

func day(y, m, d int) domain.Date { return domain.NewDate(y, time.Month(m), d) }

// indicatorWorld adds to the family world: a basket of two services (one
// withdrawn), a PZK meeting, formalisation, a training, a member who left,
// and a second family. Every indicator of it is worked out by hand in
// TestIndicatorsOfACraftedHistory.
func indicatorWorld(t *testing.T) (*familyWorld, string) {
	w := newFamilyWorld(t)
	police := domain.NewID()
	w.run(domain.RegisterInstitution{InstitutionID: police, Name: "KPP Sieradz", Sector: domain.SectorPolice, Municipality: "Sieradz", County: "sieradzki"}, "")
	w.at(day(2020, 1, 15), domain.JoinPartnership{PartnershipID: w.pid, InstitutionID: police, Date: day(2020, 1, 15)}, "")
	w.at(day(2020, 1, 20), domain.OfferService{PartnershipID: w.pid, ServiceID: domain.NewID(), InstitutionID: w.school, Name: "zajęcia wyrównawcze"}, "")
	pupService := domain.NewID()
	w.at(day(2020, 1, 20), domain.OfferService{PartnershipID: w.pid, ServiceID: pupService, InstitutionID: w.pup, Name: "doradztwo zawodowe"}, "")
	w.at(day(2020, 2, 5), domain.RecordMeeting{PartnershipID: w.pid, MeetingID: domain.NewID(), Kind: domain.MeetingRegular, Date: day(2020, 2, 5), Place: "MOPS", Attendees: []string{w.mops, w.school}}, "")
	w.at(day(2020, 3, 10), domain.FormalizePartnership{PartnershipID: w.pid, Date: day(2020, 3, 10)}, "")
	w.at(day(2020, 3, 12), domain.RecordStaffSupport{PartnershipID: w.pid, ActivityID: domain.NewID(), Kind: domain.SupportTraining, Date: day(2020, 3, 12), Topic: "współpraca", Institutions: []string{w.mops, w.school}, Workers: []string{w.coordinator, w.pedagog}, Hours: 6}, "")
	w.at(day(2020, 4, 1), domain.WithdrawService{PartnershipID: w.pid, ServiceID: pupService}, "")
	w.at(day(2020, 4, 2), domain.LeavePartnership{PartnershipID: w.pid, InstitutionID: police, Date: day(2020, 4, 2)}, "zmiana priorytetów")

	for _, inst := range []string{w.school, w.pup} {
		w.at(day(2020, 2, 2), domain.GiveConsent{FamilyID: w.fid, ConsentID: domain.NewID(), InstitutionID: inst, Categories: []domain.DataCategory{domain.DataBasic, domain.DataEducation, domain.DataEmployment},
			Purpose: "współpraca w ZZK", LegalBasis: "art. 6 ust. 1 lit. a RODO", GivenBy: w.applicant, GivenOn: day(2020, 2, 2)}, "")
	}
	// Family 1: opened 2020-02-01 (by the family world), diagnosed after
	// 19 days, a team of three, a contract signed after 29 days.
	w.at(day(2020, 2, 10), domain.RecordDiagnosisInput{FamilyID: w.fid, Area: domain.AreaEducation, Severity: domain.SeverityMedium, Needs: "wsparcie w nauce",
		WorkerID: w.pedagog, InstitutionID: w.school, Date: day(2020, 2, 10)}, "")
	w.at(day(2020, 2, 20), domain.CompleteDiagnosis{FamilyID: w.fid, Date: day(2020, 2, 20)}, "")
	w.at(day(2020, 2, 21), domain.FormTeam{FamilyID: w.fid, Date: day(2020, 2, 21), Members: []domain.WorkerRef{
		{WorkerID: w.pedagog, InstitutionID: w.school}, {WorkerID: w.adv, InstitutionID: w.pup}}}, "")
	w.at(day(2020, 2, 25), domain.RecordTeamMeeting{FamilyID: w.fid, MeetingID: domain.NewID(), Date: day(2020, 2, 25), Attendees: []string{w.coordinator, w.pedagog}}, "")
	terms := domain.ContractTerms{Variant: domain.VariantA, Assessment: domain.Assessment{Causes: "bezrobocie"}, MainGoal: "stabilizacja",
		Goals: []domain.Goal{{ID: "g1", Description: "regularna nauka"}, {ID: "g2", Description: "praca"}},
		Actions: []domain.Action{
			{ID: "a1", GoalID: "g1", Description: "zajęcia wyrównawcze", Responsible: domain.Party{Kind: domain.PartyInstitution, InstitutionID: w.school}, Deadline: day(2020, 4, 1)},
			{ID: "a2", GoalID: "g2", Description: "rejestracja w PUP", Responsible: domain.Party{Kind: domain.PartyClient}, Deadline: day(2020, 3, 15)},
			{ID: "a3", GoalID: "g2", Description: "doradztwo", Responsible: domain.Party{Kind: domain.PartyInstitution, InstitutionID: w.pup}, Deadline: day(2020, 4, 15)},
			{ID: "a4", GoalID: "g1", Description: "monitoring", Responsible: domain.Party{Kind: domain.PartyCoordinator}, Deadline: day(2020, 7, 1)},
		},
		ClientDuties: "udział", CoordinatorDuties: "koordynacja", StartDate: day(2020, 3, 1), EndDate: day(2020, 12, 31)}
	w.at(day(2020, 2, 28), domain.DraftContract{FamilyID: w.fid, ContractTerms: terms}, "")
	w.at(day(2020, 3, 1), domain.SignContract{FamilyID: w.fid, Date: day(2020, 3, 1), ClientID: w.applicant}, "")
	w.at(day(2020, 3, 10), domain.UpdateAction{FamilyID: w.fid, ActionID: "a2", Status: domain.ActionStatusCompleted, Date: day(2020, 3, 10)}, "")
	w.at(day(2020, 4, 16), domain.UpdateAction{FamilyID: w.fid, ActionID: "a3", Status: domain.ActionStatusMissed, Date: day(2020, 4, 16)}, "")
	w.at(day(2020, 5, 1), domain.ReviewContract{FamilyID: w.fid, Date: day(2020, 5, 1), Goals: []domain.GoalReview{
		{GoalID: "g1", Achievement: domain.PartiallyAchieved}, {GoalID: "g2", Achievement: domain.Achieved}}}, "")

	// Family 2: opened 2020-03-01, diagnosed after 30 days, closed
	// (client withdrew) and reopened.
	f2, applicant2 := domain.NewID(), domain.NewID()
	w.at(day(2020, 3, 1), domain.OpenFamilyCase{FamilyID: f2, PartnershipID: w.pid, Address: "ul. Druga 2, Sieradz",
		Household:   []domain.Person{{PersonID: applicant2, Name: "Jan Drugi", BirthDate: day(1980, 1, 1), Relation: domain.RelationApplicant}},
		Referral:    domain.ReferralSource{InstitutionID: w.pup, Reason: "bezrobocie"},
		Coordinator: domain.WorkerRef{WorkerID: w.coordinator, InstitutionID: w.mops}, OpenedOn: day(2020, 3, 1)}, "")
	w.at(day(2020, 3, 2), domain.GiveConsent{FamilyID: f2, ConsentID: domain.NewID(), InstitutionID: w.pup, Categories: []domain.DataCategory{domain.DataBasic, domain.DataEmployment},
		Purpose: "aktywizacja", LegalBasis: "art. 6 ust. 1 lit. a RODO", GivenBy: applicant2, GivenOn: day(2020, 3, 2)}, "")
	w.at(day(2020, 3, 20), domain.RecordDiagnosisInput{FamilyID: f2, Area: domain.AreaEmployment, Severity: domain.SeverityLow, Needs: "praca",
		WorkerID: w.adv, InstitutionID: w.pup, Date: day(2020, 3, 20)}, "")
	w.at(day(2020, 3, 31), domain.CompleteDiagnosis{FamilyID: f2, Date: day(2020, 3, 31)}, "")
	w.at(day(2020, 4, 10), domain.CloseCase{FamilyID: f2, Date: day(2020, 4, 10), Outcome: domain.OutcomeClientWithdrew}, "")
	w.at(day(2020, 4, 20), domain.ReopenCase{FamilyID: f2, Date: day(2020, 4, 20)}, "wraca z nowym problemem")
	return w, f2
}

func replayIndicators(t *testing.T, w *familyWorld, until projections.Until) (*projections.Indicators, projections.Stats) {
	t.Helper()
	ind := projections.NewIndicators(nil)
	st, err := projections.Replay(context.Background(), w.s, until, nil, ind)
	require.NoError(t, err)
	return ind, st
}

func f(x float64) *float64 { return &x }

func TestIndicatorsOfACraftedHistory(t *testing.T) {
	w, f2 := indicatorWorld(t)
	ind, _ := replayIndicators(t, w, projections.Until{})
	r := ind.Report(day(2020, 6, 1))
	require.Len(t, r.Partnerships, 1)
	g := r.Partnerships[0]
	assert.Equal(t, w.pid, g.PartnershipID)
	assert.Equal(t, "Sieradz", g.Municipality)

	in := g.Institution
	assert.Equal(t, map[string]int{"social_assistance": 1, "education": 1, "labour": 1}, in.MembersBySector, "the police left")
	assert.Equal(t, 3, in.Members)
	assert.Equal(t, 3, in.SectorCoverage)
	assert.Equal(t, map[string]int{"education": 1}, in.ServicesBySector, "the labour office's service was withdrawn")
	assert.Equal(t, map[string]int{"regular": 1}, in.MeetingsByKind)
	assert.Equal(t, 1, in.Formalized)
	assert.Equal(t, projections.Distribution{N: 1, Min: f(60), Q1: f(60), Median: f(60), Q3: f(60), Max: f(60)}, in.DaysToFormalisation,
		"2020-01-10 → 2020-03-10 is 31 + 29 days (a leap year)")
	assert.Equal(t, 1, in.MembersLeft)

	// Staff support: one training of the coordinator and the pedagogue;
	// the adviser, the third member of the task team, was not trained.
	assert.Equal(t, projections.StaffSupportLevel{
		ByForm:     map[string]projections.SupportForm{"training": {Activities: 1, Hours: 6, Participants: 2, Institutions: 2}},
		Activities: 1, Hours: 6, Participants: 2, Institutions: 2,
		TeamMembers: 3, Trained: 2, TrainedShare: f(66.67),
	}, g.StaffSupport)
	assert.Equal(t, g.StaffSupport, r.Overall.StaffSupport, "one partnership: the same overall")

	wk := g.Worker
	assert.Equal(t, 1, wk.TeamsFormed)
	assert.Equal(t, projections.Mean{N: 1, Value: f(3)}, wk.TeamSizeAtForming, "the coordinator, the pedagogue and the adviser")
	assert.Equal(t, projections.Mean{N: 1, Value: f(3)}, wk.InstitutionsPerTeam)
	assert.Equal(t, projections.Mean{N: 1, Value: f(3)}, wk.SectorsPerTeam)
	assert.Equal(t, 1, wk.TeamMeetings)
	// 2020-02-21 → 2020-06-01: 9 + 31 + 30 + 31 = 101 days = 101 / 30.4375
	// = 3.318 months; 1 meeting / 3.318 = 0.301.
	assert.Equal(t, 3.32, wk.TeamFamilyMonths)
	assert.Equal(t, f(0.3), wk.TeamMeetingsPerFamilyMonth)

	c := g.Client
	assert.Equal(t, 2, c.FamiliesEnrolled)
	assert.Equal(t, 2, c.FamiliesOpen, "the second family was reopened")
	// 19 and 30 days: Q1 = 19 + 0.25·11, median = 19 + 0.5·11, Q3 = 19 + 0.75·11.
	assert.Equal(t, projections.Distribution{N: 2, Min: f(19), Q1: f(21.75), Median: f(24.5), Q3: f(27.25), Max: f(30)}, c.DaysToDiagnosis)
	assert.Equal(t, projections.Distribution{N: 1, Min: f(29), Q1: f(29), Median: f(29), Q3: f(29), Max: f(29)}, c.DaysToContract)
	assert.Equal(t, 1, c.ContractsSigned)
	assert.Equal(t, projections.Mean{N: 1, Value: f(3)}, c.SectorsPerContract, "education, labour and the coordinator's social assistance")
	assert.Equal(t, map[string]projections.ActionCounts{
		"client":            {Completed: 1},
		"labour":            {Missed: 1},
		"education":         {Overdue: 1}, // due 2020-04-01, still planned on 2020-06-01
		"social_assistance": {Open: 1},    // due 2020-07-01
	}, c.ActionsBySector)
	assert.Equal(t, projections.ActionCounts{Completed: 1, Missed: 1, Overdue: 1, Open: 1}, c.Actions)
	assert.Equal(t, map[string]int{"partially_achieved": 1, "achieved": 1}, c.GoalsByAchievement)
	assert.Empty(t, c.ContractEndings)
	assert.Equal(t, map[string]int{"client_withdrew": 1}, c.CaseOutcomes)
	assert.Equal(t, 1, c.Reopenings)

	assert.Equal(t, g.Client, r.Overall.Client, "one partnership: overall is the same")
	assert.Equal(t, g.Institution, r.Overall.Institution)

	// Report's day only decides what is overdue (statuses are those of the
	// replay): on 2020-03-20, a1 was not overdue yet.
	assert.Equal(t, projections.ActionCounts{Completed: 1, Missed: 1, Open: 2}, ind.Report(day(2020, 3, 20)).Overall.Client.Actions)

	// No family id or personal field in the snapshot or the report.
	snap, err := ind.Snapshot()
	require.NoError(t, err)
	rep, err := json.Marshal(r)
	require.NoError(t, err)
	for _, out := range []string{string(snap), string(rep)} {
		for _, secret := range []string{w.fid, f2, "Anna", "Przykładowa", "Jan Drugi", "Druga", w.applicant} {
			assert.NotContains(t, out, secret)
		}
	}
}

func TestIndicatorsAsOfABusinessDay(t *testing.T) {
	w, _ := indicatorWorld(t)
	// Every step's business time is its date, the set-up's too (the
	// partnership initiated on 2020-01-10, family 1 opened on 2020-02-01):
	// as of the end of 2020-02-29 only what happened by then counts.
	ind, st := replayIndicators(t, w, projections.Until{OccurredAt: day(2020, 3, 1).Time().Add(-time.Nanosecond)})
	assert.Positive(t, st.Events)
	r := ind.Report(day(2020, 2, 29))
	c := r.Overall.Client
	assert.Equal(t, 1, c.FamiliesEnrolled, "family 2 was opened on 2020-03-01")
	assert.Equal(t, 1, c.DaysToDiagnosis.N, "family 1 was diagnosed on 2020-02-20")
	assert.Zero(t, c.ContractsSigned, "family 1's contract was signed on 2020-03-01")
	assert.Positive(t, r.Overall.Institution.Members, "the partnership was initiated on 2020-01-10")
}

func TestIndicatorsAreDeterministicAndRestore(t *testing.T) {
	w, _ := indicatorWorld(t)
	a, _ := replayIndicators(t, w, projections.Until{})
	b, _ := replayIndicators(t, w, projections.Until{})
	sa, err := a.Snapshot()
	require.NoError(t, err)
	sb, err := b.Snapshot()
	require.NoError(t, err)
	assert.Equal(t, string(sa), string(sb))
	ra, _ := json.Marshal(a.Report(day(2020, 6, 1)))
	rb, _ := json.Marshal(b.Report(day(2020, 6, 1)))
	assert.Equal(t, string(ra), string(rb))

	c := projections.NewIndicators(nil)
	require.NoError(t, c.Restore(sa))
	rc, _ := json.Marshal(c.Report(day(2020, 6, 1)))
	assert.Equal(t, string(ra), string(rc), "a restored snapshot reports the same")

	// Replaying up to a sequence gives what a live model had there.
	live := projections.NewIndicators(nil)
	r := projections.NewRunner(w.s, "ind", nil, live)
	require.NoError(t, r.Start(context.Background()))
	defer r.Stop(context.Background())
	require.NoError(t, r.WaitFor(context.Background(), w.last))
	sl, err := live.Snapshot()
	require.NoError(t, err)
	assert.Equal(t, string(sa), string(sl))
}

func TestIndicatorsOfAnEmptyStream(t *testing.T) {
	s := openStore(t, t.TempDir())
	ind := projections.NewIndicators(nil)
	st, err := projections.Replay(context.Background(), s, projections.Until{}, nil, ind)
	require.NoError(t, err)
	assert.Zero(t, st.Events)
	r := ind.Report(domain.Date{})
	assert.Empty(t, r.Partnerships)
	assert.Zero(t, r.Overall.Client.FamiliesEnrolled)
	b, err := json.Marshal(r)
	require.NoError(t, err)
	assert.False(t, strings.Contains(string(b), "NaN"))
}

// TestTeamMeetingsPerFamilyMonth works out team meetings per family-month
// by hand on the crafted history plus a second team of family 2 (closed
// and re-formed) and a second partnership.
func TestTeamMeetingsPerFamilyMonth(t *testing.T) {
	w, f2 := indicatorWorld(t)
	meeting := func(fid string, d domain.Date, who ...string) {
		w.at(d, domain.RecordTeamMeeting{FamilyID: fid, MeetingID: domain.NewID(), Date: d, Attendees: who}, "")
	}
	// Family 2 (reopened 2020-04-20): a team from 2020-04-21 until the case
	// closes on 2020-05-11 (20 days, 2 meetings), then a new team from
	// 2020-05-17 (15 days to 2020-06-01, 1 meeting).
	w.at(day(2020, 4, 21), domain.FormTeam{FamilyID: f2, Date: day(2020, 4, 21), Members: []domain.WorkerRef{{WorkerID: w.adv, InstitutionID: w.pup}}}, "")
	meeting(f2, day(2020, 4, 28), w.coordinator, w.adv)
	meeting(f2, day(2020, 5, 5), w.coordinator)
	w.at(day(2020, 5, 11), domain.CloseCase{FamilyID: f2, Date: day(2020, 5, 11), Outcome: domain.OutcomeClientWithdrew}, "")
	w.at(day(2020, 5, 16), domain.ReopenCase{FamilyID: f2, Date: day(2020, 5, 16)}, "znów potrzebuje wsparcia")
	w.at(day(2020, 5, 17), domain.FormTeam{FamilyID: f2, Date: day(2020, 5, 17), Members: []domain.WorkerRef{{WorkerID: w.adv, InstitutionID: w.pup}}}, "")
	meeting(f2, day(2020, 5, 20), w.coordinator)

	// A second partnership: family 3's team (the coordinator alone) from
	// 2020-04-02, 60 days to 2020-06-01, 6 meetings.
	pid2, mops2, coord2, f3 := domain.NewID(), domain.NewID(), domain.NewID(), domain.NewID()
	w.run(domain.RegisterInstitution{InstitutionID: mops2, Name: "MOPS Zduńska Wola", Sector: domain.SectorSocialAssistance, Municipality: "Zduńska Wola", County: "zduńskowolski"}, "")
	w.run(domain.RegisterWorker{InstitutionID: mops2, WorkerID: coord2, Name: "Ewa Próbna", Position: "pracownik socjalny"}, "")
	w.at(day(2020, 3, 1), domain.InitiatePartnership{PartnershipID: pid2, Name: "PZK 2", Municipality: "Zduńska Wola", County: "zduńskowolski", Date: day(2020, 3, 1), LeaderID: mops2}, "")
	w.at(day(2020, 4, 1), domain.OpenFamilyCase{FamilyID: f3, PartnershipID: pid2, Address: "ul. Trzecia 3, Zduńska Wola",
		Household:   []domain.Person{{PersonID: domain.NewID(), Name: "Ewa Trzecia", BirthDate: day(1990, 1, 1), Relation: domain.RelationApplicant}},
		Referral:    domain.ReferralSource{InstitutionID: mops2, Reason: "ubóstwo"},
		Coordinator: domain.WorkerRef{WorkerID: coord2, InstitutionID: mops2}, OpenedOn: day(2020, 4, 1)}, "")
	w.at(day(2020, 4, 2), domain.FormTeam{FamilyID: f3, Date: day(2020, 4, 2)}, "")
	for _, d := range []domain.Date{day(2020, 4, 10), day(2020, 4, 20), day(2020, 4, 30), day(2020, 5, 10), day(2020, 5, 20), day(2020, 5, 30)} {
		meeting(f3, d, coord2)
	}

	ind, _ := replayIndicators(t, w, projections.Until{})
	r := ind.Report(day(2020, 6, 1))
	require.Len(t, r.Partnerships, 2)
	byID := map[string]projections.WorkerLevel{}
	for _, g := range r.Partnerships {
		byID[g.PartnershipID] = g.Worker
	}
	// Sieradz: family 1's team 2020-02-21 → 2020-06-01 is 9 + 31 + 30 + 31
	// = 101 days (a leap year), family 2's teams 20 + 15 days: 136 days =
	// 136 / 30.4375 = 4.468 months; 1 + 3 = 4 meetings; 4 / 4.468 = 0.895.
	p1 := byID[w.pid]
	assert.Equal(t, 3, p1.TeamsFormed)
	assert.Equal(t, 4, p1.TeamMeetings)
	assert.Equal(t, 4.47, p1.TeamFamilyMonths)
	assert.Equal(t, f(0.9), p1.TeamMeetingsPerFamilyMonth)
	// Zduńska Wola: 6 meetings in 60 / 30.4375 = 1.971 months: 3.044.
	p2 := byID[pid2]
	assert.Equal(t, 6, p2.TeamMeetings)
	assert.Equal(t, 1.97, p2.TeamFamilyMonths)
	assert.Equal(t, f(3.04), p2.TeamMeetingsPerFamilyMonth)
	// Overall pools meetings and days (not a mean of the two rates): 10
	// meetings in 196 / 30.4375 = 6.439 months: 1.553.
	all := r.Overall.Worker
	assert.Equal(t, 10, all.TeamMeetings)
	assert.Equal(t, 6.44, all.TeamFamilyMonths)
	assert.Equal(t, f(1.55), all.TeamMeetingsPerFamilyMonth)

	// The report's day caps a team's time (a team formed later counts no
	// time, never negative): on 2020-04-01 only family 1's team had been
	// in place, 9 + 31 = 40 days = 1.31 months.
	assert.Equal(t, 1.31, ind.Report(day(2020, 4, 1)).Overall.Worker.TeamFamilyMonths)
	// On the day the first team formed no family had a team for a day: no
	// rate (null), not a division by zero.
	early := ind.Report(day(2020, 2, 21)).Overall.Worker
	assert.Zero(t, early.TeamFamilyMonths)
	assert.Nil(t, early.TeamMeetingsPerFamilyMonth)
	b, err := json.Marshal(early)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"team_meetings_per_family_month":null`)
}

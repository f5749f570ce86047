package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/api"
	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/projections"
)

// familyFixture is a partnership ready for family cases, set up through
// the API: led by a social-assistance centre (ops) with a school, a labour
// office (pup) and a health clinic as members, the police outside; workers
// at each; a basket service of the labour office, of the school and of the
// clinic, and one withdrawn.
type familyFixture struct {
	partnershipFixture
	pup, clinic string
	// Workers: two coordinators at ops, a career adviser at pup, a
	// pedagogue and a teacher at the school, a nurse at the clinic and an
	// officer of the police.
	coordinator, coordinator2, adviser, pedagogue, teacher, nurse, officer string
	pupService, schoolService, clinicService, oldService                   string
}

func newFamilyFixture(ta *testAPI) familyFixture {
	ta.t.Helper()
	f := familyFixture{partnershipFixture: newPartnershipFixture(ta)}
	f.pup = ta.institution("Powiatowy Urząd Pracy", domain.SectorLabour)
	f.clinic = ta.institution("Poradnia Zdrowia Psychicznego", domain.SectorHealth)
	ta.join(f.id, f.pup)
	ta.join(f.id, f.clinic)
	f.coordinator = ta.registerWorker(f.ops, "Anna Koordynatorka", "starszy pracownik socjalny")
	f.coordinator2 = ta.registerWorker(f.ops, "Jan Drugi", "pracownik socjalny")
	f.adviser = ta.registerWorker(f.pup, "Piotr Doradca", "doradca zawodowy")
	f.pedagogue = ta.registerWorker(f.school, "Maria Pedagog", "pedagog szkolny")
	f.teacher = ta.registerWorker(f.school, "Tomasz Wychowawca", "nauczyciel")
	f.nurse = ta.registerWorker(f.clinic, "Olga Pielęgniarka", "pielęgniarka środowiskowa")
	f.officer = ta.registerWorker(f.police, "Kamil Dzielnicowy", "dzielnicowy")
	f.pupService = ta.offerService(f.id, f.pup, "Doradztwo zawodowe")
	f.schoolService = ta.offerService(f.id, f.school, "Świetlica szkolna")
	f.clinicService = ta.offerService(f.id, f.clinic, "Terapia rodzinna")
	f.oldService = ta.offerService(f.id, f.pup, "Kurs, którego już nie ma")
	ta.command(http.MethodDelete, f.path+"/services/"+f.oldService, nil, http.StatusOK)
	return f
}

// registerWorker registers a worker at an institution and returns the
// worker's id, read from the institution.
func (ta *testAPI) registerWorker(institution, name, position string) string {
	ta.t.Helper()
	res := ta.command(http.MethodPost, "/api/v1/workers", map[string]any{"institution_id": institution, "name": name, "position": position}, http.StatusCreated)
	var v projections.InstitutionView
	ta.read("/api/v1/institutions/"+institution, res.Sequence, &v)
	for _, w := range v.Workers {
		if w.Name == name {
			return w.ID
		}
	}
	require.FailNow(ta.t, "the worker is not listed", "%s at %s", name, institution)
	return ""
}

// offerService puts a service of an institution into a partnership's
// basket and returns its id.
func (ta *testAPI) offerService(partnership, institution, name string) string {
	ta.t.Helper()
	res := ta.command(http.MethodPost, "/api/v1/partnerships/"+partnership+"/services", map[string]any{"institution_id": institution, "name": name}, http.StatusCreated)
	v, _ := ta.readPartnership(partnership, res.Sequence)
	for _, s := range v.Services {
		if s.Name == name {
			return s.ServiceID
		}
	}
	require.FailNow(ta.t, "the service is not listed", name)
	return ""
}

// familyCase is a family's case opened through the API, with the sequence
// of the last command sent to it.
type familyCase struct {
	id, path         string
	applicant, child string // person ids
	seq              uint64
}

// Names of the household of every test family.
const (
	applicantName = "Maria Przykładowa"
	childName     = "Kacper Przykładowy"
	familyAddress = "ul. Testowa 5/2, 99-999 Testowo"
)

// person is a household member as the API takes it.
func person(id, name, born, relation string) map[string]any {
	return map[string]any{"person_id": id, "name": name, "birth_date": born, "relation": relation}
}

// openBody is the body that opens a family's case of two in f's
// partnership on 2024-05-06, referred by the school.
func openBody(f familyFixture, applicant, child, coordinator string) map[string]any {
	return map[string]any{
		"partnership_id": f.id,
		"household": []map[string]any{
			with(person(applicant, applicantName, "1985-04-12", "applicant"), "pesel", "85041212344"),
			person(child, childName, "2012-09-03", "child"),
		},
		"address":     familyAddress,
		"phone":       "+48 600 000 000",
		"referral":    map[string]any{"institution_id": f.school, "reason": "częste nieobecności dziecka w szkole"},
		"coordinator": map[string]any{"worker_id": coordinator, "institution_id": f.ops},
		"opened_on":   "2024-05-06",
	}
}

// openFamily opens a family's case coordinated by a worker of ops.
func (ta *testAPI) openFamily(f familyFixture, coordinator string) familyCase {
	ta.t.Helper()
	fc := familyCase{applicant: domain.NewID(), child: domain.NewID()}
	res := ta.command(http.MethodPost, "/api/v1/families", openBody(f, fc.applicant, fc.child, coordinator), http.StatusCreated)
	fc.id, fc.path, fc.seq = res.ID, "/api/v1/families/"+res.ID, res.Sequence
	return fc
}

// on sends a command to the family's case as the admin, requires the
// status and remembers its sequence.
func (ta *testAPI) on(fc *familyCase, status int, method, sub string, body any) api.CommandResponse {
	ta.t.Helper()
	res := ta.command(method, fc.path+sub, body, status)
	require.Equal(ta.t, fc.id, res.ID)
	fc.seq = res.Sequence
	return res
}

// plan reads the family's support plan as of a day ("" for today) once
// the read models reached its last command, and requires the ETag to be
// the plan's version.
func (ta *testAPI) plan(fc familyCase, asOf string) (projections.PlanView, response) {
	ta.t.Helper()
	path := fc.path + "/plan"
	if asOf != "" {
		path += "?as_of=" + asOf
	}
	var v projections.PlanView
	r := ta.read(path, fc.seq, &v)
	require.Equal(ta.t, etag(v.Version), r.header.Get("ETag"))
	return v, r
}

func consentBody(institution, givenBy string, categories ...string) map[string]any {
	return map[string]any{"institution_id": institution, "categories": categories, "purpose": "koordynacja wsparcia rodziny w ZZK",
		"legal_basis": "art. 6 ust. 1 lit. a i art. 9 ust. 2 lit. a RODO", "given_by": givenBy, "given_on": "2024-05-07"}
}

func diagnosisBody(worker, institution, area, severity string) map[string]any {
	return map[string]any{"area": area, "severity": severity, "needs": "Potrzeby w obszarze " + area, "strengths": "Motywacja do zmiany",
		"resources": "Wsparcie babci", "barriers": "Brak opieki nad dzieckiem", "worker_id": worker, "institution_id": institution, "date": "2024-05-13"}
}

// action is an action of a contract: responsible is "client",
// "coordinator" or an institution's id.
func action(id, goal, responsible, deadline string) map[string]any {
	party := map[string]any{"kind": responsible}
	if responsible != "client" && responsible != "coordinator" {
		party = map[string]any{"kind": "institution", "institution_id": responsible}
	}
	a := map[string]any{"goal_id": goal, "description": "Działanie " + id, "responsible": party, "deadline": deadline}
	if id != "" {
		a["id"] = id
	}
	return a
}

func goal(id, description string) map[string]any {
	return map[string]any{"id": id, "description": description}
}

// contractBody is a social contract (variant B) from 2024-06-01 to
// 2024-11-30 with goals g1 and g2 and the given actions.
func contractBody(actions ...map[string]any) map[string]any {
	return map[string]any{
		"variant": "B",
		"assessment": map[string]any{"causes": "Długotrwałe bezrobocie matki", "strengths": "Dobre relacje w rodzinie",
			"resources": "Mieszkanie komunalne", "barriers": "Brak kwalifikacji"},
		"main_goal":          "Usamodzielnienie rodziny",
		"goals":              []map[string]any{goal("g1", "Podjęcie zatrudnienia"), goal("g2", "Regularne uczęszczanie dziecka do szkoły")},
		"actions":            actions,
		"client_duties":      "Udział w spotkaniach i szkoleniach",
		"coordinator_duties": "Koordynacja działań ZZK",
		"start_date":         "2024-06-01",
		"end_date":           "2024-11-30",
	}
}

// consentID returns the id of the family's consent for an institution.
func consentID(t *testing.T, v projections.PlanView, institution string) string {
	t.Helper()
	for _, c := range v.Consents {
		if c.InstitutionID == institution {
			return c.ConsentID
		}
	}
	require.FailNow(t, "no consent for the institution", institution)
	return ""
}

// referralTo returns the family's referral to a service.
func referralTo(t *testing.T, v projections.PlanView, service string) projections.ReferralView {
	t.Helper()
	for _, r := range v.Referrals {
		if r.ServiceID == service {
			return r
		}
	}
	require.FailNow(t, "no referral to the service", service)
	return projections.ReferralView{}
}

// actionIn returns an action of the plan's contract.
func actionIn(t *testing.T, v projections.PlanView, id string) projections.ActionView {
	t.Helper()
	require.NotNil(t, v.Contract)
	for _, a := range v.Contract.Actions {
		if a.ID == id {
			return a
		}
	}
	require.FailNow(t, "no such action", id)
	return projections.ActionView{}
}

func teamIDs(team []domain.TeamMember) []string {
	out := []string{}
	for _, m := range team {
		out = append(out, m.WorkerID)
	}
	return out
}

func deadlineIDs(ds []projections.Deadline) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, d.ActionID)
	}
	return out
}

func familyIDs(items []projections.FamilySummary) []string {
	out := []string{}
	for _, s := range items {
		out = append(out, s.ID)
	}
	return out
}

func areaNames(areas []projections.AreaView) []domain.NeedArea {
	out := []domain.NeedArea{}
	for _, a := range areas {
		out = append(out, a.Area)
	}
	return out
}

// sectorGroups names the groups of actions by who carries them out:
// "client", "coordinator/social_assistance", "institution/labour"…
func sectorGroups(c *projections.ContractView) map[string][]string {
	out := map[string][]string{}
	for _, g := range c.ActionsBySector {
		name := string(g.Party)
		if g.Sector != "" {
			name += "/" + string(g.Sector)
		}
		for _, a := range g.Actions {
			out[name] = append(out[name], a.ID)
		}
	}
	return out
}

// occurred gives a command body the business time of its step: noon of
// the day in Poland. The plan as of a past day (?as_of=) shows what had
// happened by the end of that day.
func occurred(day string, body map[string]any) map[string]any {
	return with(body, "occurred_at", day+"T12:00:00+01:00")
}

func TestFamilyLifecycle(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	f := newFamilyFixture(ta)
	p, _ := ta.readPartnership(f.id, f.seq)
	for _, stage := range projections.FamilyStages {
		assert.Zero(t, p.FamiliesByStage[stage], "no family is at %s yet", stage)
	}
	var fc familyCase
	// step sends a command of the lifecycle on its day as the admin and
	// requires the status.
	step := func(day string, status int, method, sub string, body map[string]any) response {
		t.Helper()
		r := ta.admin(method, fc.path+sub, occurred(day, body))
		require.Equal(t, status, r.status, "%s %s: %s", method, sub, r.raw)
		var res api.CommandResponse
		require.NoError(t, json.Unmarshal(r.raw, &res))
		require.Equal(t, fc.id, res.ID)
		assert.Equal(t, etag(res.Version), r.header.Get("ETag"))
		fc.seq = res.Sequence
		ta.settle(res.Sequence)
		return r
	}

	// Open the case.
	fc = familyCase{applicant: domain.NewID(), child: domain.NewID()}
	r := ta.admin(http.MethodPost, "/api/v1/families", occurred("2024-05-06", with(openBody(f, fc.applicant, fc.child, f.coordinator), "reason", "wniosek szkoły")))
	require.Equal(t, http.StatusCreated, r.status, "%s", r.raw)
	var res api.CommandResponse
	require.NoError(t, json.Unmarshal(r.raw, &res))
	require.NoError(t, domain.CheckID("family id", res.ID))
	fc.id, fc.path, fc.seq = res.ID, "/api/v1/families/"+res.ID, res.Sequence
	ta.settle(res.Sequence)
	assert.Equal(t, "/api/v1/families/"+fc.id+"/plan", r.header.Get("Location"))
	assert.Equal(t, etag(1), r.header.Get("ETag"))
	assert.EqualValues(t, 1, res.Version)

	v, _ := ta.plan(fc, "")
	assert.Equal(t, fc.id, v.ID)
	assert.Equal(t, f.id, v.PartnershipID)
	assert.Equal(t, "open", v.Status)
	assert.Equal(t, projections.StageOpened, v.Stage)
	assert.False(t, v.Erased)
	assert.Equal(t, "2024-05-06", v.OpenedOn.String())
	require.Len(t, v.Household, 2)
	assert.Equal(t, applicantName, v.Household[0].Name)
	assert.Equal(t, "85041212344", v.Household[0].PESEL)
	assert.Equal(t, domain.RelationApplicant, v.Household[0].Relation)
	assert.Equal(t, childName, v.Household[1].Name)
	assert.Equal(t, familyAddress, v.Address)
	assert.Equal(t, f.school, v.Referral.InstitutionID)
	assert.Equal(t, f.coordinator, v.Coordinator.WorkerID)
	assert.Equal(t, "Anna Koordynatorka", v.Coordinator.Name)
	assert.Equal(t, domain.SectorSocialAssistance, v.Coordinator.Sector)
	assert.Empty(t, v.Consents)
	assert.Empty(t, v.Team)
	assert.Empty(t, v.Diagnosis.Areas)
	assert.Nil(t, v.Contract)
	assert.Empty(t, v.NextDeadlines)
	assert.EqualValues(t, 1, v.Version)

	// A second family, opened by the other coordinator, stays opened: the
	// lists below tell them apart.
	other := ta.openFamily(f, f.coordinator2)

	// Consents: the labour office and the school; the clinic until the end
	// of June; the police, withdrawn three days later.
	r = step("2024-05-07", http.StatusCreated, http.MethodPost, "/consents", consentBody(f.pup, fc.applicant, "basic", "employment", "income"))
	assert.Equal(t, "/api/v1/families/"+fc.id+"/plan", r.header.Get("Location"))
	v, _ = ta.plan(fc, "2024-05-07")
	require.Len(t, v.Consents, 1)
	assert.Equal(t, f.pup, v.Consents[0].InstitutionID)
	assert.Equal(t, []domain.DataCategory{"basic", "employment", "income"}, v.Consents[0].Categories)
	assert.True(t, v.Consents[0].Active)
	require.NoError(t, domain.CheckID("consent id", v.Consents[0].ConsentID))
	v, _ = ta.plan(fc, "2024-05-06")
	assert.Empty(t, v.Consents, "on the day before, there was no consent")

	step("2024-05-07", http.StatusCreated, http.MethodPost, "/consents", consentBody(f.school, fc.child, "basic", "education"))
	step("2024-05-07", http.StatusCreated, http.MethodPost, "/consents", with(consentBody(f.clinic, fc.applicant, "basic", "health"), "expires_on", "2024-06-30"))
	step("2024-05-07", http.StatusCreated, http.MethodPost, "/consents", consentBody(f.police, fc.applicant, "basic", "justice"))
	v, _ = ta.plan(fc, "2024-05-09")
	require.Len(t, v.Consents, 4)
	for _, c := range v.Consents {
		assert.True(t, c.Active, "consent for %s on 2024-05-09", c.InstitutionID)
	}
	police := consentID(t, v, f.police)
	step("2024-05-10", http.StatusOK, http.MethodPost, "/consents/"+police+"/withdraw", map[string]any{"withdrawn_on": "2024-05-10", "reason": "decyzja wnioskodawczyni"})
	active := func(v projections.PlanView) map[string]bool {
		out := map[string]bool{}
		for _, c := range v.Consents {
			out[c.InstitutionID] = c.Active
		}
		return out
	}
	v, _ = ta.plan(fc, "2024-05-09")
	assert.Equal(t, map[string]bool{f.pup: true, f.school: true, f.clinic: true, f.police: true}, active(v), "the day before the withdrawal")
	v, _ = ta.plan(fc, "2024-06-15")
	assert.Equal(t, map[string]bool{f.pup: true, f.school: true, f.clinic: true, f.police: false}, active(v), "after the withdrawal")
	v, _ = ta.plan(fc, "")
	assert.Equal(t, map[string]bool{f.pup: true, f.school: true, f.clinic: false, f.police: false}, active(v),
		"today the clinic's consent has expired and the police's is withdrawn")
	for _, c := range v.Consents {
		if c.InstitutionID == f.police {
			assert.True(t, c.Withdrawn)
			assert.Equal(t, "2024-05-10", c.WithdrawnOn.String())
		}
	}

	// A legal basis: the police get data on a statutory duty, consent or
	// not.
	step("2024-05-10", http.StatusOK, http.MethodPost, "/legal-bases", map[string]any{"institution_id": f.police, "categories": []string{"basic", "violence"},
		"legal_basis": "art. 9a ust. 4 ustawy o przeciwdziałaniu przemocy", "recorded_on": "2024-05-10", "reason": "procedura Niebieskiej Karty"})
	v, _ = ta.plan(fc, "")
	require.Len(t, v.LegalBases, 1)
	assert.Equal(t, f.police, v.LegalBases[0].InstitutionID)
	assert.Equal(t, []domain.DataCategory{"basic", "violence"}, v.LegalBases[0].Categories)
	assert.Equal(t, "2024-05-10", v.LegalBases[0].RecordedOn.String())
	assert.Equal(t, projections.StageOpened, v.Stage)

	// The diagnosis of needs, from the labour office, the school and the
	// coordinator's own centre.
	step("2024-05-13", http.StatusOK, http.MethodPost, "/diagnosis", diagnosisBody(f.adviser, f.pup, "employment", "high"))
	v, _ = ta.plan(fc, "")
	assert.Equal(t, projections.StageDiagnosisInProgress, v.Stage)
	require.Len(t, v.Diagnosis.Areas, 1)
	assert.Equal(t, domain.SeverityHigh, v.Diagnosis.Areas[0].Severity)
	require.Len(t, v.Diagnosis.Areas[0].Inputs, 1)
	assert.Equal(t, domain.SectorLabour, v.Diagnosis.Areas[0].Inputs[0].Sector)
	assert.Equal(t, f.adviser, v.Diagnosis.Areas[0].Inputs[0].WorkerID)
	assert.Equal(t, "Potrzeby w obszarze employment", v.Diagnosis.Areas[0].Inputs[0].Needs)
	assert.False(t, v.Diagnosis.Completed)

	step("2024-05-13", http.StatusOK, http.MethodPost, "/diagnosis", diagnosisBody(f.pedagogue, f.school, "education", "medium"))
	step("2024-05-14", http.StatusOK, http.MethodPost, "/diagnosis", with(diagnosisBody(f.coordinator, f.ops, "employment", "low"), "date", "2024-05-14"))
	v, _ = ta.plan(fc, "")
	assert.Equal(t, []domain.NeedArea{"employment", "education"}, areaNames(v.Diagnosis.Areas))
	assert.Equal(t, domain.SeverityHigh, v.Diagnosis.Areas[0].Severity, "an area's severity is the highest of its inputs")
	require.Len(t, v.Diagnosis.Areas[0].Inputs, 2)
	assert.Equal(t, domain.SectorSocialAssistance, v.Diagnosis.Areas[0].Inputs[1].Sector)
	assert.Equal(t, domain.SeverityMedium, v.Diagnosis.Areas[1].Severity)
	assert.Equal(t, domain.SectorEducation, v.Diagnosis.Areas[1].Inputs[0].Sector)
	v, _ = ta.plan(fc, "2024-05-13")
	require.Len(t, v.Diagnosis.Areas, 2)
	assert.Len(t, v.Diagnosis.Areas[0].Inputs, 1, "the coordinator's input came a day later")

	step("2024-05-17", http.StatusOK, http.MethodPost, "/diagnosis/complete", map[string]any{"date": "2024-05-17", "summary": "Bezrobocie i absencja szkolna"})
	v, _ = ta.plan(fc, "")
	assert.Equal(t, projections.StageDiagnosed, v.Stage)
	assert.True(t, v.Diagnosis.Completed)
	assert.Equal(t, "2024-05-17", v.Diagnosis.CompletedOn.String())
	assert.Equal(t, "Bezrobocie i absencja szkolna", v.Diagnosis.Summary)

	// The task team (ZZK): the coordinator by right, the adviser and the
	// pedagogue; the teacher joins and leaves.
	step("2024-05-20", http.StatusOK, http.MethodPost, "/team", map[string]any{"date": "2024-05-20",
		"members": []map[string]any{{"worker_id": f.adviser, "institution_id": f.pup}, {"worker_id": f.pedagogue, "institution_id": f.school}}})
	v, _ = ta.plan(fc, "")
	assert.Equal(t, []string{f.coordinator, f.adviser, f.pedagogue}, teamIDs(v.Team))
	assert.Equal(t, "2024-05-20", v.TeamFormedOn.String())
	assert.Equal(t, domain.SectorLabour, v.Team[1].Sector)
	assert.Equal(t, "Piotr Doradca", v.Team[1].Name)
	assert.Equal(t, "Powiatowy Urząd Pracy", v.Team[1].Institution)
	assert.Equal(t, projections.StageDiagnosed, v.Stage)

	step("2024-05-20", http.StatusOK, http.MethodPost, "/team/members", map[string]any{"worker_id": f.teacher, "institution_id": f.school, "date": "2024-05-20"})
	v, _ = ta.plan(fc, "")
	assert.Equal(t, []string{f.coordinator, f.adviser, f.pedagogue, f.teacher}, teamIDs(v.Team))
	step("2024-05-21", http.StatusOK, http.MethodDelete, "/team/members/"+f.teacher, map[string]any{"date": "2024-05-21", "reason": "zmiana wychowawcy klasy"})
	v, _ = ta.plan(fc, "")
	assert.Equal(t, []string{f.coordinator, f.adviser, f.pedagogue}, teamIDs(v.Team))
	v, _ = ta.plan(fc, "2024-05-20")
	assert.Equal(t, []string{f.coordinator, f.adviser, f.pedagogue, f.teacher}, teamIDs(v.Team), "on the day the teacher joined")

	r = step("2024-05-22", http.StatusCreated, http.MethodPost, "/team/meetings", map[string]any{"date": "2024-05-22",
		"attendees": []string{f.coordinator, f.adviser, f.pedagogue}, "decisions": []string{"Skierowanie do doradcy zawodowego"}, "next_steps": []string{"Projekt kontraktu"}})
	assert.Equal(t, "/api/v1/families/"+fc.id+"/plan", r.header.Get("Location"))
	v, _ = ta.plan(fc, "")
	require.Len(t, v.TeamMeetings, 1)
	assert.Equal(t, []string{f.coordinator, f.adviser, f.pedagogue}, v.TeamMeetings[0].Attendees)
	assert.Equal(t, []string{"Skierowanie do doradcy zawodowego"}, v.TeamMeetings[0].Decisions)
	assert.Equal(t, []string{"Projekt kontraktu"}, v.TeamMeetings[0].NextSteps)
	require.NoError(t, domain.CheckID("meeting id", v.TeamMeetings[0].MeetingID))

	// Referrals to the basket: the labour office's is accepted (and
	// completed later), the school's declined.
	r = step("2024-05-23", http.StatusCreated, http.MethodPost, "/referrals", map[string]any{"service_id": f.pupService, "date": "2024-05-23", "note": "pilne"})
	assert.Equal(t, "/api/v1/families/"+fc.id+"/plan", r.header.Get("Location"))
	step("2024-05-23", http.StatusCreated, http.MethodPost, "/referrals", map[string]any{"service_id": f.schoolService, "date": "2024-05-23"})
	v, _ = ta.plan(fc, "")
	require.Len(t, v.Referrals, 2)
	toPup, toSchool := referralTo(t, v, f.pupService), referralTo(t, v, f.schoolService)
	assert.Equal(t, domain.ReferralRequestedStatus, toPup.Status)
	assert.Equal(t, "Doradztwo zawodowe", toPup.ServiceName)
	assert.Equal(t, f.pup, toPup.InstitutionID)
	assert.Equal(t, "pilne", toPup.Note)
	assert.Equal(t, domain.ReferralRequestedStatus, toSchool.Status)

	step("2024-05-24", http.StatusOK, http.MethodPost, "/referrals/"+toPup.ReferralID, map[string]any{"status": "accepted", "date": "2024-05-24"})
	v, _ = ta.plan(fc, "")
	assert.Equal(t, domain.ReferralAcceptedStatus, referralTo(t, v, f.pupService).Status)
	step("2024-05-24", http.StatusOK, http.MethodPost, "/referrals/"+toSchool.ReferralID, map[string]any{"status": "declined", "date": "2024-05-24", "reason": "brak wolnych miejsc"})
	v, _ = ta.plan(fc, "")
	declined := referralTo(t, v, f.schoolService)
	assert.Equal(t, domain.ReferralDeclinedStatus, declined.Status)
	assert.Equal(t, "brak wolnych miejsc", declined.Reason)
	assert.Equal(t, "2024-05-24", declined.UpdatedOn.String())

	// The social contract: actions for the client, the coordinator, the
	// labour office (with its basket service) and the school.
	a3 := with(action("a3", "g1", f.pup, "2024-08-31"), "service_id", f.pupService)
	actions := []map[string]any{action("a1", "g1", "client", "2024-07-15"), action("a2", "g1", "coordinator", "2024-06-30"), a3,
		action("a4", "g2", f.school, "2024-09-30"), action("a5", "g2", "client", "2024-10-15")}
	step("2024-05-29", http.StatusOK, http.MethodPost, "/contract", contractBody(actions...))
	v, _ = ta.plan(fc, "")
	assert.Equal(t, projections.StageContractDrafted, v.Stage)
	require.NotNil(t, v.Contract)
	assert.Equal(t, 1, v.Contract.Version)
	assert.Equal(t, "draft", v.Contract.Status)
	assert.Equal(t, domain.VariantB, v.Contract.Variant)
	assert.Equal(t, "Usamodzielnienie rodziny", v.Contract.MainGoal)
	assert.Equal(t, "Długotrwałe bezrobocie matki", v.Contract.Assessment.Causes)
	assert.Equal(t, "2024-06-01", v.Contract.StartDate.String())
	assert.Equal(t, "2024-11-30", v.Contract.EndDate.String())
	require.Len(t, v.Contract.Goals, 2)
	assert.Equal(t, "g1", v.Contract.Goals[0].ID)
	require.Len(t, v.Contract.Actions, 5)
	for _, a := range v.Contract.Actions {
		assert.Equal(t, domain.ActionStatusPlanned, a.Status, a.ID)
		assert.False(t, a.Overdue, "a draft's actions are not overdue: %s", a.ID)
	}
	assert.Equal(t, f.pupService, actionIn(t, v, "a3").ServiceID)
	assert.Equal(t, domain.SectorLabour, actionIn(t, v, "a3").Responsible.Sector)
	assert.Equal(t, map[string][]string{"client": {"a1", "a5"}, "coordinator/social_assistance": {"a2"},
		"institution/labour": {"a3"}, "institution/education": {"a4"}}, sectorGroups(v.Contract))
	var parties []string
	for _, g := range v.Contract.ActionsBySector {
		parties = append(parties, string(g.Party))
	}
	assert.Equal(t, []string{"client", "coordinator", "institution", "institution"}, parties, "the client first, then the coordinator, then the institutions")
	assert.Empty(t, v.Overdue, "a draft has no deadlines yet")
	assert.Empty(t, v.NextDeadlines)

	step("2024-06-01", http.StatusOK, http.MethodPost, "/contract/sign", map[string]any{"date": "2024-06-01", "client_id": fc.applicant})
	v, _ = ta.plan(fc, "2024-06-01")
	assert.Equal(t, projections.StageContractInForce, v.Stage)
	assert.Equal(t, "in_force", v.Contract.Status)
	assert.Equal(t, "2024-06-01", v.Contract.SignedOn.String())
	assert.Equal(t, []string{"a2", "a1", "a3", "a4", "a5"}, deadlineIDs(v.NextDeadlines), "by deadline")
	assert.Empty(t, v.Overdue)
	v, _ = ta.plan(fc, "2024-09-05")
	assert.Equal(t, []string{"a2", "a1", "a3"}, deadlineIDs(v.Overdue))
	assert.Equal(t, []string{"a4", "a5"}, deadlineIDs(v.NextDeadlines))
	v, _ = ta.plan(fc, "2024-05-31")
	assert.Equal(t, projections.StageContractDrafted, v.Stage, "not yet signed on the day before")

	// Carrying out the actions.
	step("2024-06-10", http.StatusOK, http.MethodPost, "/contract/actions/a1", map[string]any{"status": "started", "date": "2024-06-10"})
	v, _ = ta.plan(fc, "2024-06-11")
	assert.Equal(t, domain.ActionStatusStarted, actionIn(t, v, "a1").Status)
	assert.Equal(t, "2024-06-10", actionIn(t, v, "a1").StatusOn.String())
	step("2024-06-20", http.StatusOK, http.MethodPost, "/referrals/"+toPup.ReferralID, map[string]any{"status": "completed", "date": "2024-06-20"})
	v, _ = ta.plan(fc, "")
	assert.Equal(t, domain.ReferralCompletedStatus, referralTo(t, v, f.pupService).Status)
	assert.Equal(t, "2024-06-20", referralTo(t, v, f.pupService).UpdatedOn.String())
	step("2024-07-01", http.StatusOK, http.MethodPost, "/contract/actions/a1", map[string]any{"status": "completed", "date": "2024-07-01", "note": "ukończyła kurs"})
	v, _ = ta.plan(fc, "2024-07-02")
	assert.Equal(t, domain.ActionStatusCompleted, actionIn(t, v, "a1").Status)
	assert.Equal(t, "ukończyła kurs", actionIn(t, v, "a1").Note)
	assert.True(t, actionIn(t, v, "a2").Overdue, "the coordinator's action was due on 2024-06-30")
	assert.Equal(t, []string{"a2"}, deadlineIDs(v.Overdue))
	step("2024-07-02", http.StatusOK, http.MethodPost, "/contract/actions/a2", map[string]any{"status": "missed", "date": "2024-07-02"})
	v, _ = ta.plan(fc, "2024-09-05")
	assert.Equal(t, domain.ActionStatusMissed, actionIn(t, v, "a2").Status)
	assert.False(t, actionIn(t, v, "a2").Overdue, "a missed action is no longer overdue")
	assert.True(t, actionIn(t, v, "a3").Overdue)
	assert.False(t, actionIn(t, v, "a4").Overdue)
	assert.Equal(t, []string{"a3"}, deadlineIDs(v.Overdue))
	assert.Equal(t, projections.Deadline{FamilyID: fc.id, ActionID: "a3", Description: "Działanie a3", Deadline: domain.NewDate(2024, 8, 31),
		Status: domain.ActionStatusPlanned, Party: domain.PartyInstitution, Institution: f.pup, Sector: domain.SectorLabour}, v.Overdue[0])
	assert.Equal(t, []string{"a4", "a5"}, deadlineIDs(v.NextDeadlines))
	for _, g := range v.Contract.ActionsBySector {
		if g.Sector == domain.SectorLabour {
			require.Len(t, g.Actions, 1)
			assert.True(t, g.Actions[0].Overdue, "the groups show whether an action is overdue")
		}
	}

	// The lists, caseloads and the partnership's count, while the
	// contract is in force.
	t.Run("families are listed by filter", func(t *testing.T) {
		list := func(query string) []string {
			t.Helper()
			var l api.List[projections.FamilySummary]
			ta.read("/api/v1/families?"+query, fc.seq, &l)
			return familyIDs(l.Items)
		}
		both := []string{fc.id, other.id}
		tests := []struct {
			name, query string
			want        []string
		}{
			{"all families", "", both},
			{"of the partnership", "partnership=" + f.id, both},
			{"of another partnership", "partnership=" + domain.NewID(), []string{}},
			{"open", "status=open", both},
			{"closed", "status=closed", []string{}},
			{"with a contract in force", "stage=contract_in_force", []string{fc.id}},
			{"just opened", "stage=opened", []string{other.id}},
			{"diagnosed", "stage=diagnosed", []string{}},
			{"coordinated by the first coordinator", "coordinator=" + f.coordinator, []string{fc.id}},
			{"coordinated by the second coordinator", "coordinator=" + f.coordinator2, []string{other.id}},
			{"coordinated by a worker who coordinates none", "coordinator=" + f.adviser, []string{}},
			{"with the adviser on the team", "worker=" + f.adviser, []string{fc.id}},
			{"with the teacher, who left, on the team", "worker=" + f.teacher, []string{}},
			{"with the labour office on the team", "institution=" + f.pup, []string{fc.id}},
			{"with the clinic on the team", "institution=" + f.clinic, []string{}},
			{"overdue on 2024-09-05", "overdue=true&as_of=2024-09-05", []string{fc.id}},
			{"not overdue on 2024-09-05", "overdue=false&as_of=2024-09-05", []string{other.id}},
			{"overdue on 2024-08-01", "overdue=true&as_of=2024-08-01", []string{}},
			{"of the partnership with a contract in force, overdue", "partnership=" + f.id + "&stage=contract_in_force&overdue=1&as_of=2024-09-05", []string{fc.id}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				assert.Equal(t, tt.want, list(tt.query))
			})
		}
		var l api.List[projections.FamilySummary]
		ta.read("/api/v1/families?stage=contract_in_force&as_of=2024-09-05", fc.seq, &l)
		require.Len(t, l.Items, 1)
		s := l.Items[0]
		assert.Equal(t, applicantName, s.Applicant)
		assert.Equal(t, 2, s.Members)
		assert.Equal(t, 3, s.TeamSize)
		assert.Equal(t, 1, s.OverdueActions)
		assert.Equal(t, "2024-09-30", s.NextDeadline.String())
		assert.Equal(t, "Anna Koordynatorka", s.Coordinator)
		assert.Equal(t, projections.StageContractInForce, s.Stage)
	})
	t.Run("bad filters are refused naming the query parameter", func(t *testing.T) {
		tests := []struct{ name, query, field string }{
			{"a status that does not exist", "status=pending", "status"},
			{"a stage that does not exist", "stage=contract", "stage"},
			{"an overdue that is not a boolean", "overdue=maybe", "overdue"},
			{"a malformed partnership", "partnership=pzk-1", "partnership"},
			{"a malformed coordinator", "coordinator=anna", "coordinator"},
			{"a malformed worker", "worker=" + strings.ToUpper(f.adviser), "worker"},
			{"a malformed institution", "institution=mops", "institution"},
			{"an impossible as_of", "as_of=2024-02-30", "as_of"},
			{"an as_of written the Polish way", "as_of=05.09.2024", "as_of"},
			{"a min_seq that is not a number", "min_seq=last", "min_seq"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := ta.lastSeq()
				r := ta.admin(http.MethodGet, "/api/v1/families?"+tt.query, nil)
				requireProblem(t, r, http.StatusBadRequest, "invalid_field", tt.field)
				assert.Equal(t, "/api/v1/families", r.body["instance"])
				assert.Equal(t, before, ta.lastSeq())
			})
		}
	})
	t.Run("caseloads show the open families and the actions due", func(t *testing.T) {
		caseload := func(kind, id string) projections.Caseload {
			t.Helper()
			var c projections.Caseload
			ta.read("/api/v1/"+kind+"/"+id+"/caseload?as_of=2024-09-05", fc.seq, &c)
			assert.Equal(t, "2024-09-05", c.AsOf.String())
			return c
		}
		c := caseload("workers", f.adviser)
		assert.Equal(t, []string{fc.id}, familyIDs(c.Families))
		assert.Equal(t, []string{"a3"}, deadlineIDs(c.Overdue))
		assert.Empty(t, c.Upcoming)
		c = caseload("workers", f.pedagogue)
		assert.Equal(t, []string{fc.id}, familyIDs(c.Families))
		assert.Empty(t, c.Overdue)
		assert.Equal(t, []string{"a4"}, deadlineIDs(c.Upcoming))
		c = caseload("workers", f.coordinator)
		assert.Equal(t, []string{fc.id}, familyIDs(c.Families))
		assert.Empty(t, c.Overdue, "the coordinator's action was missed, not forgotten")
		c = caseload("workers", f.coordinator2)
		assert.Equal(t, []string{other.id}, familyIDs(c.Families))
		c = caseload("workers", f.teacher)
		assert.Empty(t, c.Families, "the teacher left the team")
		c = caseload("institutions", f.pup)
		assert.Equal(t, []string{fc.id}, familyIDs(c.Families))
		assert.Equal(t, []string{"a3"}, deadlineIDs(c.Overdue))
		c = caseload("institutions", f.school)
		assert.Equal(t, []string{"a4"}, deadlineIDs(c.Upcoming))
		c = caseload("institutions", f.ops)
		assert.ElementsMatch(t, []string{fc.id, other.id}, familyIDs(c.Families), "the coordinating centre has both")
		assert.Empty(t, c.Overdue)
		c = caseload("institutions", f.clinic)
		assert.Empty(t, c.Families)

		for _, path := range []string{"/api/v1/workers/anna/caseload", "/api/v1/institutions/mops/caseload"} {
			requireProblem(t, ta.admin(http.MethodGet, path, nil), http.StatusNotFound, "not_found", "")
		}
		requireProblem(t, ta.admin(http.MethodGet, "/api/v1/workers/"+f.adviser+"/caseload?as_of=jutro", nil), http.StatusBadRequest, "invalid_field", "as_of")
	})
	p, _ = ta.readPartnership(f.id, fc.seq)
	assert.Equal(t, 1, p.FamiliesByStage[projections.StageContractInForce])
	assert.Equal(t, 1, p.FamiliesByStage[projections.StageOpened])
	assert.Equal(t, 0, p.FamiliesByStage[projections.StageClosed])
	assert.Len(t, p.FamiliesByStage, len(projections.FamilyStages))

	// Review, amendment (aneks), extension, end.
	step("2024-09-10", http.StatusOK, http.MethodPost, "/contract/review", map[string]any{"date": "2024-09-10",
		"goals": []map[string]any{{"goal_id": "g1", "achievement": "achieved"}, {"goal_id": "g2", "achievement": "partially_achieved"}}, "notes": "postępy"})
	v, _ = ta.plan(fc, "")
	require.Len(t, v.Contract.Reviews, 1)
	assert.Equal(t, "postępy", v.Contract.Reviews[0].Notes)
	assert.Equal(t, domain.Achieved, v.Contract.Goals[0].Achievement)
	assert.Equal(t, domain.PartiallyAchieved, v.Contract.Goals[1].Achievement)

	amended := contractBody(append(actions, action("a6", "g3", "client", "2024-11-15"))...)
	amended["goals"] = append(amended["goals"].([]map[string]any), goal("g3", "Stabilizacja finansowa"))
	step("2024-09-12", http.StatusOK, http.MethodPost, "/contract", with(amended, "changes", "dodano cel g3 i działanie a6", "signed_on", "2024-09-12", "reason", "nowa oferta pracy"))
	v, _ = ta.plan(fc, "2024-09-12")
	assert.Equal(t, projections.StageContractInForce, v.Stage)
	assert.Equal(t, 2, v.Contract.Version)
	assert.Equal(t, "in_force", v.Contract.Status, "an amendment is in force at once")
	assert.Equal(t, "2024-06-01", v.Contract.SignedOn.String())
	require.Len(t, v.Contract.Amendments, 1)
	assert.Equal(t, projections.Amendment{Version: 2, Changes: "dodano cel g3 i działanie a6", SignedOn: domain.NewDate(2024, 9, 12), Reason: "nowa oferta pracy"}, v.Contract.Amendments[0])
	assert.Len(t, v.Contract.Goals, 3)
	assert.Equal(t, domain.Achieved, v.Contract.Goals[0].Achievement, "a kept goal keeps its achievement")
	assert.Len(t, v.Contract.Reviews, 1, "reviews stay")
	assert.Equal(t, domain.ActionStatusCompleted, actionIn(t, v, "a1").Status, "actions kept by id keep their status")
	assert.Equal(t, domain.ActionStatusMissed, actionIn(t, v, "a2").Status)
	assert.Equal(t, domain.ActionStatusPlanned, actionIn(t, v, "a6").Status)
	assert.Equal(t, []string{"a3"}, deadlineIDs(v.Overdue))
	assert.Equal(t, []string{"a4", "a5", "a6"}, deadlineIDs(v.NextDeadlines))
	assert.Equal(t, []string{"a1", "a5", "a6"}, sectorGroups(v.Contract)["client"])

	step("2024-10-01", http.StatusOK, http.MethodPost, "/contract/extend", map[string]any{"end_date": "2024-12-31", "reason": "czas na szkolenie"})
	v, _ = ta.plan(fc, "")
	assert.Equal(t, "2024-12-31", v.Contract.EndDate.String())
	assert.Equal(t, "2024-06-01", v.Contract.StartDate.String())
	assert.Equal(t, 2, v.Contract.Version, "an extension is not a new version")

	step("2024-12-15", http.StatusOK, http.MethodPost, "/contract/end", map[string]any{"date": "2024-12-15", "ending": "goals_met"})
	v, _ = ta.plan(fc, "2024-12-20")
	assert.Equal(t, projections.StageContractEnded, v.Stage)
	assert.Equal(t, "ended", v.Contract.Status)
	assert.Equal(t, "2024-12-15", v.Contract.EndedOn.String())
	assert.Equal(t, domain.EndingGoalsMet, v.Contract.Ending)
	assert.Empty(t, v.Overdue, "an ended contract has nothing overdue")
	assert.Empty(t, v.NextDeadlines)
	assert.Equal(t, "open", v.Status)

	// Close and reopen.
	step("2024-12-20", http.StatusOK, http.MethodPost, "/close", map[string]any{"date": "2024-12-20", "outcome": "goals_achieved", "reason": "cele osiągnięte"})
	v, _ = ta.plan(fc, "")
	assert.Equal(t, "closed", v.Status)
	assert.Equal(t, projections.StageClosed, v.Stage)
	assert.Equal(t, domain.OutcomeGoalsAchieved, v.Outcome)
	assert.Equal(t, "2024-12-20", v.ClosedOn.String())
	assert.Empty(t, v.Team, "closing dissolves the team")
	assert.True(t, v.TeamFormedOn.IsZero())
	assert.Equal(t, "ended", v.Contract.Status, "the round's contract stays in the plan")
	var l api.List[projections.FamilySummary]
	ta.read("/api/v1/families?status=closed", fc.seq, &l)
	assert.Equal(t, []string{fc.id}, familyIDs(l.Items))
	var c projections.Caseload
	ta.read("/api/v1/workers/"+f.adviser+"/caseload", fc.seq, &c)
	assert.Empty(t, c.Families, "a closed case leaves the caseloads")
	p, _ = ta.readPartnership(f.id, fc.seq)
	assert.Equal(t, 1, p.FamiliesByStage[projections.StageClosed])
	assert.Equal(t, 0, p.FamiliesByStage[projections.StageContractInForce])

	step("2025-01-10", http.StatusOK, http.MethodPost, "/reopen", map[string]any{"date": "2025-01-10", "reason": "ponowny wniosek o pomoc"})
	v, _ = ta.plan(fc, "")
	assert.Equal(t, "open", v.Status)
	assert.Equal(t, projections.StageOpened, v.Stage, "a reopened case starts a new round")
	assert.Equal(t, 1, v.Reopened)
	assert.Nil(t, v.Contract)
	assert.Empty(t, v.Diagnosis.Areas)
	assert.False(t, v.Diagnosis.Completed)
	assert.True(t, v.ClosedOn.IsZero())
	assert.Empty(t, v.Outcome)
	assert.Len(t, v.Consents, 4, "consents outlive a round")
	assert.Len(t, v.Referrals, 2)
	assert.Len(t, v.TeamMeetings, 1)
	p, _ = ta.readPartnership(f.id, fc.seq)
	assert.Equal(t, 2, p.FamiliesByStage[projections.StageOpened])
	assert.Equal(t, 0, p.FamiliesByStage[projections.StageClosed])
	assert.EqualValues(t, 32, v.Version, "one version per event: closing also dissolved the team")

	// The plan as it stood on past days.
	v, _ = ta.plan(fc, "2024-05-06")
	assert.Equal(t, projections.StageOpened, v.Stage)
	assert.EqualValues(t, 1, v.Version)
	v, _ = ta.plan(fc, "2024-12-21")
	assert.Equal(t, projections.StageClosed, v.Stage)
	assert.Equal(t, 0, v.Reopened)
}

// familyBadFixture holds family cases in the states the command routes
// need: a bare one (just opened), a fresh one (consents, one diagnosis
// input, a referral requested, a draft for the client and the coordinator,
// no team), one with a team and a draft ready to sign, one with its
// contract in force (action a3 completed), and a closed one.
type familyBadFixture struct {
	familyFixture
	bare, fresh, teamed, inForce, closed familyCase
	policeConsent, referral              string // of fresh
}

func newFamilyBadFixture(ta *testAPI) familyBadFixture {
	ta.t.Helper()
	f := familyBadFixture{familyFixture: newFamilyFixture(ta)}
	f.bare = ta.openFamily(f.familyFixture, f.coordinator)

	f.fresh = ta.openFamily(f.familyFixture, f.coordinator)
	fc := &f.fresh
	ta.on(fc, http.StatusCreated, http.MethodPost, "/consents", consentBody(f.pup, fc.applicant, "basic", "employment"))
	ta.on(fc, http.StatusCreated, http.MethodPost, "/consents", consentBody(f.school, fc.applicant, "basic", "education"))
	ta.on(fc, http.StatusCreated, http.MethodPost, "/consents", consentBody(f.police, fc.applicant, "basic"))
	ta.on(fc, http.StatusOK, http.MethodPost, "/diagnosis", diagnosisBody(f.adviser, f.pup, "employment", "high"))
	ta.on(fc, http.StatusCreated, http.MethodPost, "/referrals", map[string]any{"service_id": f.pupService, "date": "2024-05-23"})
	ta.on(fc, http.StatusOK, http.MethodPost, "/contract", contractBody(action("a1", "g1", "client", "2024-07-15"), action("a2", "g2", "coordinator", "2024-06-30")))
	v, _ := ta.plan(*fc, "")
	f.policeConsent = consentID(ta.t, v, f.police)
	f.referral = referralTo(ta.t, v, f.pupService).ReferralID

	f.teamed = ta.openFamily(f.familyFixture, f.coordinator)
	fc = &f.teamed
	ta.on(fc, http.StatusCreated, http.MethodPost, "/consents", consentBody(f.pup, fc.applicant, "basic", "employment"))
	ta.on(fc, http.StatusCreated, http.MethodPost, "/consents", consentBody(f.school, fc.applicant, "basic", "education"))
	ta.on(fc, http.StatusOK, http.MethodPost, "/diagnosis", diagnosisBody(f.adviser, f.pup, "employment", "high"))
	ta.on(fc, http.StatusOK, http.MethodPost, "/diagnosis/complete", map[string]any{"date": "2024-05-17"})
	ta.on(fc, http.StatusOK, http.MethodPost, "/team", map[string]any{"date": "2024-05-20", "members": []map[string]any{{"worker_id": f.adviser, "institution_id": f.pup}}})
	ta.on(fc, http.StatusOK, http.MethodPost, "/contract", contractBody(action("a1", "g1", "client", "2024-07-15"),
		action("a2", "g2", f.pup, "2024-08-31"), action("a3", "g1", "coordinator", "2024-06-30")))

	f.inForce = ta.openFamily(f.familyFixture, f.coordinator)
	fc = &f.inForce
	ta.on(fc, http.StatusCreated, http.MethodPost, "/consents", consentBody(f.pup, fc.applicant, "basic", "employment"))
	ta.on(fc, http.StatusOK, http.MethodPost, "/diagnosis", diagnosisBody(f.adviser, f.pup, "employment", "high"))
	ta.on(fc, http.StatusOK, http.MethodPost, "/diagnosis/complete", map[string]any{"date": "2024-05-17"})
	ta.on(fc, http.StatusOK, http.MethodPost, "/team", map[string]any{"date": "2024-05-20", "members": []map[string]any{{"worker_id": f.adviser, "institution_id": f.pup}}})
	ta.on(fc, http.StatusOK, http.MethodPost, "/contract", contractBody(action("a1", "g1", "client", "2024-07-15"),
		action("a2", "g2", f.pup, "2024-08-31"), action("a3", "g1", "coordinator", "2024-06-30")))
	ta.on(fc, http.StatusOK, http.MethodPost, "/contract/sign", map[string]any{"date": "2024-06-01", "client_id": fc.applicant})
	ta.on(fc, http.StatusOK, http.MethodPost, "/contract/actions/a3", map[string]any{"status": "completed", "date": "2024-06-20"})

	f.closed = ta.openFamily(f.familyFixture, f.coordinator)
	ta.on(&f.closed, http.StatusOK, http.MethodPost, "/close", map[string]any{"date": "2024-06-01", "outcome": "other"})
	return f
}

// familyRoutes are the command routes of family cases, each with a body
// it accepts in f.
func familyRoutes(f familyBadFixture) map[string]commandRoute {
	fresh, teamed, inForce := f.fresh.path, f.teamed.path, f.inForce.path
	amend := with(contractBody(action("a1", "g1", "client", "2024-07-15"), action("a2", "g2", f.pup, "2024-08-31"),
		action("a3", "g1", "coordinator", "2024-06-30"), action("a4", "g2", "client", "2024-10-31")),
		"changes", "dodano działanie a4", "signed_on", "2024-07-01", "reason", "nowe potrzeby dziecka")
	return map[string]commandRoute{
		"open": {name: "open a family's case", method: http.MethodPost, path: "/api/v1/families",
			valid: openBody(f.familyFixture, domain.NewID(), domain.NewID(), f.coordinator), firstRequired: "partnership_id"},
		"consent": {name: "give a consent", method: http.MethodPost, path: fresh + "/consents",
			valid: consentBody(f.clinic, f.fresh.applicant, "basic", "health"), firstRequired: "institution_id"},
		"withdraw": {name: "withdraw a consent", method: http.MethodPost, path: fresh + "/consents/" + f.policeConsent + "/withdraw",
			valid: map[string]any{"withdrawn_on": "2024-05-15"}, firstRequired: "withdrawn_on"},
		"legal": {name: "record a legal basis", method: http.MethodPost, path: fresh + "/legal-bases",
			valid: map[string]any{"institution_id": f.police, "categories": []string{"justice"}, "legal_basis": "postanowienie sądu rodzinnego",
				"recorded_on": "2024-05-08", "reason": "nadzór kuratora"}, firstRequired: "institution_id"},
		"diagnosis": {name: "record a diagnosis input", method: http.MethodPost, path: fresh + "/diagnosis",
			valid: diagnosisBody(f.pedagogue, f.school, "education", "medium"), firstRequired: "area"},
		"complete": {name: "complete the diagnosis", method: http.MethodPost, path: fresh + "/diagnosis/complete",
			valid: map[string]any{"date": "2024-05-17", "summary": "podsumowanie"}, firstRequired: "date"},
		"team": {name: "form the task team", method: http.MethodPost, path: fresh + "/team",
			valid: map[string]any{"date": "2024-05-20", "members": []map[string]any{{"worker_id": f.adviser, "institution_id": f.pup}}}, firstRequired: "date"},
		"add": {name: "add a team member", method: http.MethodPost, path: teamed + "/team/members",
			valid: map[string]any{"worker_id": f.pedagogue, "institution_id": f.school, "date": "2024-05-21"}, firstRequired: "worker_id"},
		"remove": {name: "remove a team member", method: http.MethodDelete, path: teamed + "/team/members/" + f.adviser,
			valid: map[string]any{"date": "2024-05-28", "reason": "zmiana doradcy"}, firstRequired: "date"},
		"meeting": {name: "record a team meeting", method: http.MethodPost, path: teamed + "/team/meetings",
			valid: map[string]any{"date": "2024-05-22", "attendees": []string{f.coordinator, f.adviser}, "decisions": []string{"kontrakt"}}, firstRequired: "date"},
		"referral": {name: "request a referral", method: http.MethodPost, path: fresh + "/referrals",
			valid: map[string]any{"service_id": f.schoolService, "date": "2024-05-23", "note": "od września"}, firstRequired: "service_id"},
		"decide": {name: "update a referral", method: http.MethodPost, path: fresh + "/referrals/" + f.referral,
			valid: map[string]any{"status": "accepted", "date": "2024-05-24"}, firstRequired: "status"},
		"draft": {name: "draft the social contract", method: http.MethodPost, path: fresh + "/contract",
			valid: contractBody(action("a1", "g1", "client", "2024-07-15"), action("a2", "g2", "coordinator", "2024-06-30")), firstRequired: "variant"},
		"sign": {name: "sign the social contract", method: http.MethodPost, path: teamed + "/contract/sign",
			valid: map[string]any{"date": "2024-06-01", "client_id": f.teamed.applicant}, firstRequired: "date"},
		"action": {name: "update an action", method: http.MethodPost, path: inForce + "/contract/actions/a1",
			valid: map[string]any{"status": "started", "date": "2024-06-10"}, firstRequired: "status"},
		"review": {name: "review the contract", method: http.MethodPost, path: inForce + "/contract/review",
			valid: map[string]any{"date": "2024-09-10", "goals": []map[string]any{{"goal_id": "g1", "achievement": "achieved"}}}, firstRequired: "date"},
		"amend": {name: "amend the contract", method: http.MethodPost, path: inForce + "/contract", valid: amend, firstRequired: "variant"},
		"extend": {name: "extend the contract", method: http.MethodPost, path: inForce + "/contract/extend",
			valid: map[string]any{"end_date": "2024-12-31"}, firstRequired: "end_date"},
		"end": {name: "end the contract", method: http.MethodPost, path: inForce + "/contract/end",
			valid: map[string]any{"date": "2024-12-15", "ending": "goals_met"}, firstRequired: "date"},
		"close": {name: "close the case", method: http.MethodPost, path: fresh + "/close",
			valid: map[string]any{"date": "2024-12-20", "outcome": "goals_achieved"}, firstRequired: "date"},
		"reopen": {name: "reopen the case", method: http.MethodPost, path: f.closed.path + "/reopen",
			valid: map[string]any{"date": "2024-07-01", "reason": "ponowny wniosek"}, firstRequired: "date"},
	}
}

// The order in which the valid bodies of familyRoutes succeed one after
// the other.
var familyOrder = []string{"open", "consent", "withdraw", "legal", "diagnosis", "complete", "team", "referral", "decide", "draft", "close",
	"add", "meeting", "remove", "sign", "action", "review", "amend", "extend", "end", "reopen"}

func TestFamilyBadInputWritesNothing(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)

	// The valid bodies are valid indeed, so that each case below fails for
	// the one reason it names.
	spare := newFamilyBadFixture(ta)
	spareRoutes := familyRoutes(spare)
	require.Len(t, spareRoutes, len(familyOrder))
	for _, key := range familyOrder {
		r := spareRoutes[key]
		res := ta.admin(r.method, r.path, r.valid)
		require.Less(t, res.status, 300, "%s: %s", r.name, res.raw)
	}

	f := newFamilyBadFixture(ta)
	routes := familyRoutes(f)
	unknown := domain.NewID()
	tests, req, at := badCases(routes, familyOrder)
	body := func(key string) map[string]any { return routes[key].valid }
	fam := "/api/v1/families/"
	open := body("open")
	applicant, child := open["household"].([]map[string]any)[0], open["household"].([]map[string]any)[1]
	household := func(people ...map[string]any) map[string]any { return with(open, "household", people) }
	draft, amend := body("draft"), body("amend")
	actions := func(b map[string]any, as ...map[string]any) map[string]any { return with(b, "actions", as) }
	team := func(refs ...map[string]any) map[string]any { return with(body("team"), "members", refs) }
	ref := func(worker, institution string) map[string]any {
		return map[string]any{"worker_id": worker, "institution_id": institution}
	}

	tests = append(tests,
		// Opening a case.
		req("open", "open a case without a partnership", with(open, "partnership_id", nil), 400, "required", "partnership_id"),
		req("open", "open a case in a malformed partnership", with(open, "partnership_id", "pzk"), 400, "invalid_field", "partnership_id"),
		req("open", "open a case in a partnership that does not exist", with(open, "partnership_id", unknown), 422, "partnership_not_found", "partnership_id"),
		req("open", "open a case whose partnership id is a number", with(open, "partnership_id", 7), 400, "invalid_field", "partnership_id"),
		req("open", "open a case without a household", with(open, "household", nil), 400, "required", "household"),
		req("open", "open a case with an empty household", household(), 400, "required", "household"),
		req("open", "open a case whose household is an object", with(open, "household", applicant), 400, "invalid_field", "household"),
		req("open", "open a case without an applicant", household(with(applicant, "relation", "parent"), child), 400, "invalid_field", "household"),
		req("open", "open a case with two applicants", household(applicant, with(child, "relation", "applicant")), 400, "invalid_field", "household"),
		req("open", "open a case with a member without a name", household(applicant, with(child, "name", nil)), 400, "required", "household[1].name"),
		req("open", "open a case with a member without a person id", household(with(applicant, "person_id", nil), child), 400, "required", "household[0].person_id"),
		req("open", "open a case with a malformed person id", household(with(applicant, "person_id", "maria"), child), 400, "invalid_field", "household[0].person_id"),
		req("open", "open a case with a person listed twice", household(applicant, with(child, "person_id", applicant["person_id"])), 400, "invalid_field", "household[1].person_id"),
		req("open", "open a case with a relation that does not exist", household(applicant, with(child, "relation", "cousin")), 400, "invalid_field", "household[1].relation"),
		req("open", "open a case with a member without a birth date", household(applicant, with(child, "birth_date", nil)), 400, "required", "household[1].birth_date"),
		req("open", "open a case with a birth date of 2012-02-30", household(applicant, with(child, "birth_date", "2012-02-30")), 400, "invalid_field", "household[1].birth_date"),
		req("open", "open a case with a member born after it was opened", household(applicant, with(child, "birth_date", "2024-06-01")), 400, "invalid_field", "household[1].birth_date"),
		req("open", "open a case with a PESEL of ten digits", household(with(applicant, "pesel", "8504121234"), child), 400, "invalid_field", "household[0].pesel"),
		req("open", "open a case with a PESEL whose check digit is wrong", household(with(applicant, "pesel", "85041212345"), child), 400, "invalid_field", "household[0].pesel"),
		req("open", "open a case with a PESEL of another birth date", household(with(applicant, "birth_date", "1985-04-13"), child), 400, "invalid_field", "household[0].pesel"),
		req("open", "open a case without an address", with(open, "address", nil), 400, "required", "address"),
		req("open", "open a case with an address that is a list", with(open, "address", []string{"ul. Testowa"}), 400, "invalid_field", "address"),
		req("open", "open a case without an opening date", with(open, "opened_on", nil), 400, "required", "opened_on"),
		req("open", "open a case on 2024-02-30", with(open, "opened_on", "2024-02-30"), 400, "invalid_field", "opened_on"),
		req("open", "open a case on a date that is a number", with(open, "opened_on", 20240506), 400, "invalid_field", "opened_on"),
		req("open", "open a case in 1989", with(open, "opened_on", "1989-12-31"), 400, "invalid_field", "opened_on"),
		req("open", "open a case without a referral reason", with(open, "referral", map[string]any{"institution_id": f.school}), 400, "required", "referral.reason"),
		req("open", "open a case referred by an institution that does not exist", with(open, "referral", map[string]any{"institution_id": unknown, "reason": "x"}), 422, "institution_not_found", "referral.institution_id"),
		req("open", "open a case without a coordinator", with(open, "coordinator", nil), 400, "required", "coordinator.worker_id"),
		req("open", "open a case whose coordinator is a string", with(open, "coordinator", f.coordinator), 400, "invalid_field", "coordinator"),
		req("open", "open a case coordinated from a school", with(open, "coordinator", ref(f.pedagogue, f.school)), 409, "coordinator_institution", "coordinator.institution_id"),
		req("open", "open a case coordinated by a worker who does not exist", with(open, "coordinator", ref(unknown, f.ops)), 422, "worker_not_found", "coordinator.worker_id"),
		req("open", "open a case coordinated by a worker of another institution", with(open, "coordinator", ref(f.adviser, f.ops)), 422, "worker_not_found", "coordinator.worker_id"),
		req("open", "open a case choosing its own id", with(open, "family_id", unknown), 400, "invalid_field", "family_id"),

		// Any command to a family that does not exist, or to a malformed id.
		at("consent", "give a consent in a family that does not exist", fam+unknown+"/consents", body("consent"), 404, "family_not_found", ""),
		at("consent", "give a consent in a malformed family id", fam+"rodzina-1/consents", body("consent"), 404, "not_found", ""),
		at("diagnosis", "record a diagnosis input in a family that does not exist", fam+unknown+"/diagnosis", body("diagnosis"), 404, "family_not_found", ""),
		at("team", "form a team in a family with a malformed id", fam+strings.ToUpper(f.fresh.id)+"/team", body("team"), 404, "not_found", ""),
		at("sign", "sign a contract in a family that does not exist", fam+unknown+"/contract/sign", body("sign"), 404, "family_not_found", ""),
		at("close", "close a case that does not exist", fam+unknown+"/close", body("close"), 404, "family_not_found", ""),
		at("reopen", "reopen a case with a malformed id", fam+"x/reopen", body("reopen"), 404, "not_found", ""),

		// Consents.
		req("consent", "give a consent without an institution", with(body("consent"), "institution_id", nil), 400, "required", "institution_id"),
		req("consent", "give a consent to a malformed institution", with(body("consent"), "institution_id", "pup"), 400, "invalid_field", "institution_id"),
		req("consent", "give a consent to an institution that does not exist", with(body("consent"), "institution_id", unknown), 422, "institution_not_found", "institution_id"),
		req("consent", "give a consent without categories", with(body("consent"), "categories", nil), 400, "required", "categories"),
		req("consent", "give a consent of a category that does not exist", with(body("consent"), "categories", []string{"basic", "secrets"}), 400, "invalid_field", "categories[1]"),
		req("consent", "give a consent whose categories are a string", with(body("consent"), "categories", "basic"), 400, "invalid_field", "categories"),
		req("consent", "give a consent without a purpose", with(body("consent"), "purpose", nil), 400, "required", "purpose"),
		req("consent", "give a consent without a legal basis", with(body("consent"), "legal_basis", " "), 400, "required", "legal_basis"),
		req("consent", "give a consent by nobody", with(body("consent"), "given_by", nil), 400, "required", "given_by"),
		req("consent", "give a consent by a person outside the household", with(body("consent"), "given_by", unknown), 400, "invalid_field", "given_by"),
		req("consent", "give a consent on 2024-02-30", with(body("consent"), "given_on", "2024-02-30"), 400, "invalid_field", "given_on"),
		req("consent", "give a consent without a date", with(body("consent"), "given_on", nil), 400, "required", "given_on"),
		req("consent", "give a consent that expires before it is given", with(body("consent"), "expires_on", "2024-05-01"), 400, "invalid_field", "expires_on"),
		req("consent", "give a consent choosing its own id", with(body("consent"), "consent_id", unknown), 400, "invalid_field", "consent_id"),
		at("consent", "give a consent in a closed case", f.closed.path+"/consents", consentBody(f.pup, f.closed.applicant, "basic"), 409, "case_closed", ""),

		// Withdrawing a consent.
		req("withdraw", "withdraw a consent without a date", with(body("withdraw"), "withdrawn_on", nil), 400, "required", "withdrawn_on"),
		req("withdraw", "withdraw a consent on 2024-04-31", with(body("withdraw"), "withdrawn_on", "2024-04-31"), 400, "invalid_field", "withdrawn_on"),
		req("withdraw", "withdraw a consent naming it in the body", with(body("withdraw"), "consent_id", f.policeConsent), 400, "invalid_field", "consent_id"),
		// A consent the family never gave is named by the path: see the
		// report on path references answered 422 rather than 404.
		at("withdraw", "withdraw a consent that does not exist", f.fresh.path+"/consents/"+unknown+"/withdraw", body("withdraw"), 404, "consent_not_found", ""),
		at("withdraw", "withdraw a consent of another family", f.bare.path+"/consents/"+f.policeConsent+"/withdraw", body("withdraw"), 404, "consent_not_found", ""),
		at("withdraw", "withdraw a consent with a malformed id", f.fresh.path+"/consents/zgoda-1/withdraw", body("withdraw"), 404, "not_found", ""),

		// Legal bases.
		req("legal", "record a legal basis without a reason", with(body("legal"), "reason", nil), 400, "required", "reason"),
		req("legal", "record a legal basis without an institution", with(body("legal"), "institution_id", nil), 400, "required", "institution_id"),
		req("legal", "record a legal basis for an institution that does not exist", with(body("legal"), "institution_id", unknown), 422, "institution_not_found", "institution_id"),
		req("legal", "record a legal basis without categories", with(body("legal"), "categories", []string{}), 400, "required", "categories"),
		req("legal", "record a legal basis without naming it", with(body("legal"), "legal_basis", nil), 400, "required", "legal_basis"),
		req("legal", "record a legal basis on 2024-13-01", with(body("legal"), "recorded_on", "2024-13-01"), 400, "invalid_field", "recorded_on"),

		// Diagnosis inputs.
		req("diagnosis", "record a diagnosis input without an area", with(body("diagnosis"), "area", nil), 400, "required", "area"),
		req("diagnosis", "record a diagnosis input in an area that does not exist", with(body("diagnosis"), "area", "happiness"), 400, "invalid_field", "area"),
		req("diagnosis", "record a diagnosis input without a severity", with(body("diagnosis"), "severity", nil), 400, "required", "severity"),
		req("diagnosis", "record a diagnosis input of a severity that does not exist", with(body("diagnosis"), "severity", "extreme"), 400, "invalid_field", "severity"),
		req("diagnosis", "record a diagnosis input without needs", with(body("diagnosis"), "needs", ""), 400, "required", "needs"),
		req("diagnosis", "record a diagnosis input whose needs are a number", with(body("diagnosis"), "needs", 3), 400, "invalid_field", "needs"),
		req("diagnosis", "record a diagnosis input without a worker", with(body("diagnosis"), "worker_id", nil), 400, "required", "worker_id"),
		req("diagnosis", "record a diagnosis input by a malformed worker", with(body("diagnosis"), "worker_id", "maria"), 400, "invalid_field", "worker_id"),
		req("diagnosis", "record a diagnosis input by a worker who does not exist", with(body("diagnosis"), "worker_id", unknown), 422, "worker_not_found", "worker_id"),
		req("diagnosis", "record a diagnosis input by a worker of another institution", with(body("diagnosis"), "worker_id", f.adviser), 422, "worker_not_found", "worker_id"),
		req("diagnosis", "record a diagnosis input in an area the institution's consent does not cover", with(body("diagnosis"), "area", "violence"), 409, "no_consent", "area"),
		req("diagnosis", "record a diagnosis input in the health area with a consent for education", with(body("diagnosis"), "area", "disability"), 409, "no_consent", "area"),
		req("diagnosis", "record a diagnosis input of an institution outside the partnership", with(body("diagnosis"), "worker_id", f.officer, "institution_id", f.police), 409, "not_member", "institution_id"),
		req("diagnosis", "record a diagnosis input of an institution without consent", with(body("diagnosis"), "worker_id", f.nurse, "institution_id", f.clinic), 409, "no_consent", "institution_id"),
		req("diagnosis", "record a diagnosis input on 2024-02-30", with(body("diagnosis"), "date", "2024-02-30"), 400, "invalid_field", "date"),
		req("diagnosis", "record a diagnosis input without a date", with(body("diagnosis"), "date", nil), 400, "required", "date"),
		at("diagnosis", "record a diagnosis input after the diagnosis was completed", f.teamed.path+"/diagnosis", body("diagnosis"), 409, "diagnosis_completed", ""),
		at("diagnosis", "record a diagnosis input in a closed case", f.closed.path+"/diagnosis", body("diagnosis"), 409, "case_closed", ""),

		// Completing the diagnosis.
		req("complete", "complete the diagnosis without a date", with(body("complete"), "date", nil), 400, "required", "date"),
		req("complete", "complete the diagnosis on 2024-06-31", with(body("complete"), "date", "2024-06-31"), 400, "invalid_field", "date"),
		req("complete", "complete the diagnosis with a summary that is a list", with(body("complete"), "summary", []string{"a"}), 400, "invalid_field", "summary"),
		at("complete", "complete a diagnosis without inputs", f.bare.path+"/diagnosis/complete", body("complete"), 409, "diagnosis_empty", ""),
		at("complete", "complete a diagnosis twice", f.teamed.path+"/diagnosis/complete", body("complete"), 409, "diagnosis_completed", ""),

		// Forming the team.
		req("team", "form a team without a date", with(body("team"), "date", nil), 400, "required", "date"),
		req("team", "form a team on 2024-05-32", with(body("team"), "date", "2024-05-32"), 400, "invalid_field", "date"),
		req("team", "form a team whose members are an object", with(body("team"), "members", ref(f.adviser, f.pup)), 400, "invalid_field", "members"),
		req("team", "form a team with a malformed worker", team(ref("piotr", f.pup)), 400, "invalid_field", "members[0].worker_id"),
		req("team", "form a team with a member without an institution", team(map[string]any{"worker_id": f.adviser}), 400, "required", "members[0].institution_id"),
		req("team", "form a team with a worker listed twice", team(ref(f.adviser, f.pup), ref(f.adviser, f.pup)), 400, "invalid_field", "members[1].worker_id"),
		req("team", "form a team with a worker who does not exist", team(ref(unknown, f.pup)), 422, "worker_not_found", "members[0].worker_id"),
		req("team", "form a team with an institution outside the partnership", team(ref(f.adviser, f.pup), ref(f.officer, f.police)), 409, "not_member", "members[1].institution_id"),
		req("team", "form a team with a member without consent", team(ref(f.nurse, f.clinic)), 409, "no_consent", "members[0].institution_id"),
		at("team", "form a team twice", f.teamed.path+"/team", body("team"), 409, "team_exists", ""),
		at("team", "form a team in a closed case", f.closed.path+"/team", body("team"), 409, "case_closed", ""),

		// Adding a team member.
		req("add", "add a team member without a worker", with(body("add"), "worker_id", nil), 400, "required", "worker_id"),
		req("add", "add a team member whose id is a number", with(body("add"), "worker_id", 12), 400, "invalid_field", "worker_id"),
		req("add", "add a team member without an institution", with(body("add"), "institution_id", nil), 400, "required", "institution_id"),
		req("add", "add a team member who does not exist", with(body("add"), "worker_id", unknown), 422, "worker_not_found", "worker_id"),
		req("add", "add a team member without consent", with(body("add"), "worker_id", f.nurse, "institution_id", f.clinic), 409, "no_consent", "institution_id"),
		req("add", "add a team member of an institution outside the partnership", with(body("add"), "worker_id", f.officer, "institution_id", f.police), 409, "not_member", "institution_id"),
		req("add", "add a team member who is on the team", with(body("add"), "worker_id", f.adviser, "institution_id", f.pup), 409, "already_on_team", "worker_id"),
		req("add", "add the coordinator to the team", with(body("add"), "worker_id", f.coordinator, "institution_id", f.ops), 409, "already_on_team", "worker_id"),
		req("add", "add a team member on 2024-02-30", with(body("add"), "date", "2024-02-30"), 400, "invalid_field", "date"),
		at("add", "add a team member before the team is formed", f.fresh.path+"/team/members", body("add"), 409, "no_team", ""),

		// Removing a team member.
		req("remove", "remove a team member without a reason", with(body("remove"), "reason", nil), 400, "required", "reason"),
		req("remove", "remove a team member with a blank reason", with(body("remove"), "reason", "  "), 400, "required", "reason"),
		req("remove", "remove a team member without a date", with(body("remove"), "date", nil), 400, "required", "date"),
		req("remove", "remove a team member on 2024-02-30", with(body("remove"), "date", "2024-02-30"), 400, "invalid_field", "date"),
		at("remove", "remove the coordinator from the team", f.teamed.path+"/team/members/"+f.coordinator, body("remove"), 409, "coordinator_cannot_leave", "worker_id"),
		at("remove", "remove a worker who is not on the team", f.teamed.path+"/team/members/"+f.pedagogue, body("remove"), 409, "not_on_team", "worker_id"),
		at("remove", "remove a worker who does not exist", f.teamed.path+"/team/members/"+unknown, body("remove"), 409, "not_on_team", "worker_id"),
		at("remove", "remove a team member with a malformed id", f.teamed.path+"/team/members/piotr", body("remove"), 404, "not_found", ""),

		// Team meetings.
		req("meeting", "record a team meeting without attendees", with(body("meeting"), "attendees", []string{}), 400, "required", "attendees"),
		req("meeting", "record a team meeting attended by a worker not on the team", with(body("meeting"), "attendees", []string{f.coordinator, f.pedagogue}), 409, "not_on_team", "attendees[1]"),
		req("meeting", "record a team meeting with a malformed attendee", with(body("meeting"), "attendees", []string{"anna"}), 400, "invalid_field", "attendees[0]"),
		req("meeting", "record a team meeting with an attendee listed twice", with(body("meeting"), "attendees", []string{f.adviser, f.adviser}), 400, "invalid_field", "attendees[1]"),
		req("meeting", "record a team meeting with a blank decision", with(body("meeting"), "decisions", []string{""}), 400, "required", "decisions[0]"),
		req("meeting", "record a team meeting without a date", with(body("meeting"), "date", nil), 400, "required", "date"),
		req("meeting", "record a team meeting choosing its own id", with(body("meeting"), "meeting_id", unknown), 400, "invalid_field", "meeting_id"),
		at("meeting", "record a team meeting before the team is formed", f.fresh.path+"/team/meetings", body("meeting"), 409, "no_team", ""),

		// Referrals.
		req("referral", "request a referral without a service", with(body("referral"), "service_id", nil), 400, "required", "service_id"),
		req("referral", "request a referral to a malformed service", with(body("referral"), "service_id", "swietlica"), 400, "invalid_field", "service_id"),
		req("referral", "request a referral to a service that does not exist", with(body("referral"), "service_id", unknown), 422, "service_not_found", "service_id"),
		req("referral", "request a referral to a withdrawn service", with(body("referral"), "service_id", f.oldService), 422, "service_not_found", "service_id"),
		req("referral", "request a referral to a service of an institution without consent", with(body("referral"), "service_id", f.clinicService), 409, "no_consent", "service_id"),
		req("referral", "request a referral the family already has", with(body("referral"), "service_id", f.pupService), 409, "already_exists", "service_id"),
		req("referral", "request a referral on 2024-02-30", with(body("referral"), "date", "2024-02-30"), 400, "invalid_field", "date"),
		req("referral", "request a referral choosing its own id", with(body("referral"), "referral_id", unknown), 400, "invalid_field", "referral_id"),

		// Updating a referral.
		req("decide", "update a referral without a status", with(body("decide"), "status", nil), 400, "required", "status"),
		req("decide", "update a referral back to requested", with(body("decide"), "status", "requested"), 400, "invalid_field", "status"),
		req("decide", "complete a referral that was not accepted", with(body("decide"), "status", "completed"), 409, "referral_transition", "status"),
		req("decide", "decline a referral without a reason", with(body("decide"), "status", "declined"), 400, "required", "reason"),
		req("decide", "update a referral on 2024-02-30", with(body("decide"), "date", "2024-02-30"), 400, "invalid_field", "date"),
		at("decide", "update a referral that does not exist", f.fresh.path+"/referrals/"+unknown, body("decide"), 404, "referral_not_found", ""),
		at("decide", "update a referral with a malformed id", f.fresh.path+"/referrals/skierowanie", body("decide"), 404, "not_found", ""),

		// Drafting the contract.
		req("draft", "draft a contract without a variant", with(draft, "variant", nil), 400, "required", "variant"),
		req("draft", "draft a contract of variant C", with(draft, "variant", "C"), 400, "invalid_field", "variant"),
		req("draft", "draft a contract without the causes of the situation", with(draft, "assessment", map[string]any{"strengths": "x"}), 400, "required", "assessment.causes"),
		req("draft", "draft a contract without a main goal", with(draft, "main_goal", nil), 400, "required", "main_goal"),
		req("draft", "draft a contract without goals", with(draft, "goals", []any{}), 400, "required", "goals"),
		req("draft", "draft a contract with a goal without an id", with(draft, "goals", []map[string]any{{"description": "x"}}), 400, "required", "goals[0].id"),
		req("draft", "draft a contract with a goal id with a space", with(draft, "goals", []map[string]any{goal("g 1", "x")}), 400, "invalid_field", "goals[0].id"),
		req("draft", "draft a contract with a goal of a need area that does not exist", with(draft, "goals", []map[string]any{with(goal("g1", "x"), "area", "weather"), goal("g2", "y")}), 400, "invalid_field", "goals[0].area"),
		req("draft", "draft a contract with an action of a need area that does not exist", actions(draft, with(action("a1", "g1", "client", "2024-07-01"), "area", "weather")), 400, "invalid_field", "actions[0].area"),
		req("draft", "draft a contract with a goal listed twice", with(draft, "goals", []map[string]any{goal("g1", "x"), goal("g2", "y"), goal("g1", "z")}), 400, "invalid_field", "goals[2].id"),
		req("draft", "draft a contract without actions", actions(draft), 400, "required", "actions"),
		req("draft", "draft a contract with an action of a goal it does not have", actions(draft, action("a1", "g9", "client", "2024-07-01")), 400, "invalid_field", "actions[0].goal_id"),
		req("draft", "draft a contract with an action without a goal", actions(draft, action("a1", "", "client", "2024-07-01")), 400, "required", "actions[0].goal_id"),
		req("draft", "draft a contract with an action of nobody", actions(draft, with(action("a1", "g1", "client", "2024-07-01"), "responsible", map[string]any{})), 400, "required", "actions[0].responsible.kind"),
		req("draft", "draft a contract with an action of a party that does not exist", actions(draft, with(action("a1", "g1", "client", "2024-07-01"), "responsible", map[string]any{"kind": "neighbour"})), 400, "invalid_field", "actions[0].responsible.kind"),
		req("draft", "draft a contract with an action of an institution not named", actions(draft, with(action("a1", "g1", "client", "2024-07-01"), "responsible", map[string]any{"kind": "institution"})), 400, "required", "actions[0].responsible.institution_id"),
		req("draft", "draft a contract with a client's action naming an institution", actions(draft, with(action("a1", "g1", "client", "2024-07-01"), "responsible", map[string]any{"kind": "client", "institution_id": f.pup})), 400, "invalid_field", "actions[0].responsible.institution_id"),
		req("draft", "draft a contract with an action whose sector is given", actions(draft, with(action("a1", "g1", "client", "2024-07-01"), "responsible", map[string]any{"kind": "client", "sector": "labour"})), 400, "invalid_field", "actions[0].responsible.sector"),
		req("draft", "draft a contract with an action of an institution not on the team", actions(draft, action("a1", "g1", f.pup, "2024-07-01")), 409, "institution_not_on_team", "actions[0].responsible.institution_id"),
		req("draft", "draft a contract with an action of an institution that does not exist", actions(draft, action("a1", "g1", "client", "2024-07-01"), action("a2", "g1", unknown, "2024-07-01")), 409, "institution_not_on_team", "actions[1].responsible.institution_id"),
		req("draft", "draft a contract with a deadline before its start", actions(draft, action("a1", "g1", "client", "2024-05-31")), 400, "deadline_outside_contract", "actions[0].deadline"),
		req("draft", "draft a contract with a deadline after its end", actions(draft, action("a1", "g1", "client", "2024-07-01"), action("a2", "g2", "coordinator", "2024-12-01")), 400, "deadline_outside_contract", "actions[1].deadline"),
		req("draft", "draft a contract with an action without a deadline", actions(draft, with(action("a1", "g1", "client", "2024-07-01"), "deadline", nil)), 400, "required", "actions[0].deadline"),
		req("draft", "draft a contract with a deadline of 2024-06-31", actions(draft, action("a1", "g1", "client", "2024-06-31")), 400, "invalid_field", "actions[0].deadline"),
		req("draft", "draft a contract with an action id listed twice", actions(draft, action("a1", "g1", "client", "2024-07-01"), action("a1", "g2", "client", "2024-08-01")), 400, "invalid_field", "actions[1].id"),
		req("draft", "draft a contract with an action id with a slash", actions(draft, action("a/1", "g1", "client", "2024-07-01")), 400, "invalid_field", "actions[0].id"),
		req("draft", "draft a contract with an action of a service that does not exist", actions(draft, with(action("a1", "g1", "client", "2024-07-01"), "service_id", unknown)), 422, "service_not_found", "actions[0].service_id"),
		req("draft", "draft a contract with an action of a withdrawn service", actions(draft, with(action("a1", "g1", "client", "2024-07-01"), "service_id", f.oldService)), 422, "service_not_found", "actions[0].service_id"),
		req("draft", "draft a contract with a malformed service", actions(draft, with(action("a1", "g1", "client", "2024-07-01"), "service_id", "kurs")), 400, "invalid_field", "actions[0].service_id"),
		req("draft", "draft a contract that ends before it starts", with(draft, "end_date", "2024-05-01"), 400, "invalid_field", "end_date"),
		req("draft", "draft a contract without a start", with(draft, "start_date", nil), 400, "required", "start_date"),
		req("draft", "draft a contract starting on 2024-02-30", with(draft, "start_date", "2024-02-30"), 400, "invalid_field", "start_date"),
		req("draft", "draft a contract without the client's duties", with(draft, "client_duties", nil), 400, "required", "client_duties"),
		req("draft", "draft a contract with the changes of an amendment", with(draft, "changes", "zmiana"), 400, "invalid_field", "changes"),
		req("draft", "draft a contract with the signing date of an amendment", with(draft, "signed_on", "2024-06-01"), 400, "invalid_field", "changes"),
		req("draft", "draft a contract whose goals are a string", with(draft, "goals", "g1"), 400, "invalid_field", "goals"),
		at("draft", "draft a contract in a closed case", f.closed.path+"/contract", draft, 409, "case_closed", ""),

		// Amending the contract in force.
		req("amend", "amend the contract without saying what changed", with(amend, "changes", nil), 400, "required", "changes"),
		req("amend", "amend the contract without the signing date", with(amend, "signed_on", nil), 400, "required", "signed_on"),
		req("amend", "amend the contract without a reason", with(amend, "reason", nil), 400, "required", "reason"),
		req("amend", "amend the contract signed on 2024-02-30", with(amend, "signed_on", "2024-02-30"), 400, "invalid_field", "signed_on"),
		req("amend", "amend the contract with an action of an institution not on the team", actions(amend, action("a1", "g1", f.school, "2024-07-01")), 409, "institution_not_on_team", "actions[0].responsible.institution_id"),
		req("amend", "amend the contract with a deadline outside it", actions(amend, action("a1", "g1", "client", "2025-01-01")), 400, "deadline_outside_contract", "actions[0].deadline"),

		// Signing.
		req("sign", "sign a contract without a date", with(body("sign"), "date", nil), 400, "required", "date"),
		req("sign", "sign a contract on 2024-06-31", with(body("sign"), "date", "2024-06-31"), 400, "invalid_field", "date"),
		req("sign", "sign a contract without the client", with(body("sign"), "client_id", nil), 400, "required", "client_id"),
		req("sign", "sign a contract by a person outside the household", with(body("sign"), "client_id", unknown), 400, "invalid_field", "client_id"),
		req("sign", "sign a contract by a malformed person", with(body("sign"), "client_id", "maria"), 400, "invalid_field", "client_id"),
		at("sign", "sign before the diagnosis is completed", f.fresh.path+"/contract/sign", with(body("sign"), "client_id", f.fresh.applicant), 409, "diagnosis_not_completed", ""),
		at("sign", "sign without a draft", f.bare.path+"/contract/sign", with(body("sign"), "client_id", f.bare.applicant), 409, "no_contract", ""),
		at("sign", "sign a contract in force", f.inForce.path+"/contract/sign", with(body("sign"), "client_id", f.inForce.applicant), 409, "no_contract", ""),

		// Actions.
		req("action", "update an action without a status", with(body("action"), "status", nil), 400, "required", "status"),
		req("action", "update an action back to planned", with(body("action"), "status", "planned"), 400, "invalid_field", "status"),
		req("action", "update an action without a date", with(body("action"), "date", nil), 400, "required", "date"),
		req("action", "update an action on 2024-09-31", with(body("action"), "date", "2024-09-31"), 400, "invalid_field", "date"),
		req("action", "update an action with a note that is a number", with(body("action"), "note", 1), 400, "invalid_field", "note"),
		at("action", "start a completed action", f.inForce.path+"/contract/actions/a3", body("action"), 409, "action_transition", "status"),
		at("action", "update an action that does not exist", f.inForce.path+"/contract/actions/a9", body("action"), 404, "action_not_found", ""),
		at("action", "update an action with a malformed id", f.inForce.path+"/contract/actions/a.1", body("action"), 404, "not_found", ""),
		at("action", "update an action of a draft", f.teamed.path+"/contract/actions/a1", body("action"), 409, "no_contract", ""),

		// Reviews.
		req("review", "review the contract without a date", with(body("review"), "date", nil), 400, "required", "date"),
		req("review", "review the contract without goals", with(body("review"), "goals", nil), 400, "required", "goals"),
		req("review", "review a goal the contract does not have", with(body("review"), "goals", []map[string]any{{"goal_id": "g9", "achievement": "achieved"}}), 400, "invalid_field", "goals[0].goal_id"),
		req("review", "review a goal without an achievement", with(body("review"), "goals", []map[string]any{{"goal_id": "g1"}}), 400, "required", "goals[0].achievement"),
		req("review", "review a goal with an achievement that does not exist", with(body("review"), "goals", []map[string]any{{"goal_id": "g1", "achievement": "perfect"}}), 400, "invalid_field", "goals[0].achievement"),
		at("review", "review a contract that is not signed", f.teamed.path+"/contract/review", body("review"), 409, "no_contract", ""),

		// Extending.
		req("extend", "extend the contract without an end date", with(body("extend"), "end_date", nil), 400, "required", "end_date"),
		req("extend", "extend the contract to 2024-11-31", with(body("extend"), "end_date", "2024-11-31"), 400, "invalid_field", "end_date"),
		req("extend", "extend the contract to an earlier end", with(body("extend"), "end_date", "2024-10-31"), 400, "invalid_field", "end_date"),
		req("extend", "extend the contract to the same end", with(body("extend"), "end_date", "2024-11-30"), 400, "invalid_field", "end_date"),
		at("extend", "extend a contract that is not signed", f.teamed.path+"/contract/extend", body("extend"), 409, "no_contract", ""),

		// Ending.
		req("end", "end the contract without an ending", with(body("end"), "ending", nil), 400, "required", "ending"),
		req("end", "end the contract with an ending that does not exist", with(body("end"), "ending", "bored"), 400, "invalid_field", "ending"),
		req("end", "end a contract the client broke without the sanction", with(body("end"), "ending", "client_broke"), 400, "required", "sanction"),
		req("end", "end the contract before it was signed", with(body("end"), "date", "2024-05-31"), 400, "date_out_of_order", "date"),
		req("end", "end the contract without a date", with(body("end"), "date", nil), 400, "required", "date"),
		at("end", "end a contract that is not signed", f.teamed.path+"/contract/end", body("end"), 409, "no_contract", ""),

		// Closing.
		req("close", "close the case without an outcome", with(body("close"), "outcome", nil), 400, "required", "outcome"),
		req("close", "close the case with an outcome that does not exist", with(body("close"), "outcome", "solved"), 400, "invalid_field", "outcome"),
		req("close", "close the case before it was opened", with(body("close"), "date", "2024-05-05"), 400, "date_out_of_order", "date"),
		req("close", "close the case on 2024-02-30", with(body("close"), "date", "2024-02-30"), 400, "invalid_field", "date"),
		at("close", "close a case with a contract in force", f.inForce.path+"/close", body("close"), 409, "contract_in_force", ""),
		at("close", "close a closed case", f.closed.path+"/close", body("close"), 409, "case_closed", ""),

		// Reopening.
		req("reopen", "reopen the case without a reason", with(body("reopen"), "reason", nil), 400, "required", "reason"),
		req("reopen", "reopen the case with a blank reason", with(body("reopen"), "reason", "\t"), 400, "required", "reason"),
		req("reopen", "reopen the case without a date", with(body("reopen"), "date", nil), 400, "required", "date"),
		req("reopen", "reopen the case before it was closed", with(body("reopen"), "date", "2024-05-31"), 400, "date_out_of_order", "date"),
		at("reopen", "reopen an open case", f.bare.path+"/reopen", body("reopen"), 409, "case_open", ""),
	)

	runBadCases(t, ta, tests)

	// Nothing was written to the families either: their plans are as the
	// fixture left them.
	for _, fc := range []familyCase{f.bare, f.fresh, f.teamed, f.inForce, f.closed} {
		_, r := ta.plan(fc, "")
		assert.Equal(t, etag(versionOf(t, ta, fc)), r.header.Get("ETag"))
	}
}

// versionOf returns the number of events of a family's case in the store.
func versionOf(t *testing.T, ta *testAPI, fc familyCase) int64 {
	t.Helper()
	envs, err := ta.store.Load(t.Context(), domain.AggregateFamily, fc.id)
	require.NoError(t, err)
	require.NotEmpty(t, envs)
	return envs[len(envs)-1].AggregateVersion
}

// race sends the requests at once, each from its own goroutine, and
// returns the answers in order.
func race(t *testing.T, ta *testAPI, token string, reqs ...badRequest) []response {
	t.Helper()
	out := make([]response, len(reqs))
	errs := make([]error, len(reqs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, rq := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i], errs[i] = ta.send(rq.method, rq.path, token, rq.headers, rq.body)
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	return out
}

func TestFamilyConcurrentEdits(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	f := newFamilyFixture(ta)
	admin := ta.tokens[domain.RoleAdmin]

	t.Run("of two commands with the same If-Match one wins and the other conflicts", func(t *testing.T) {
		for round := range 3 {
			fc := ta.openFamily(f, f.coordinator)
			ta.on(&fc, http.StatusCreated, http.MethodPost, "/consents", consentBody(f.pup, fc.applicant, "basic", "employment"))
			ta.on(&fc, http.StatusCreated, http.MethodPost, "/consents", consentBody(f.school, fc.applicant, "basic", "education"))
			v, r := ta.plan(fc, "")
			match := map[string]string{"If-Match": r.header.Get("ETag")}
			before := ta.lastSeq()
			answers := race(t, ta, admin,
				badRequest{method: http.MethodPost, path: fc.path + "/diagnosis", headers: match, body: diagnosisBody(f.adviser, f.pup, "employment", "high")},
				badRequest{method: http.MethodPost, path: fc.path + "/diagnosis", headers: match, body: diagnosisBody(f.pedagogue, f.school, "education", "low")})
			var won, lost []response
			for _, a := range answers {
				if a.status == http.StatusOK {
					won = append(won, a)
				} else {
					lost = append(lost, a)
				}
			}
			require.Len(t, won, 1, "round %d: exactly one wins: %s / %s", round, answers[0].raw, answers[1].raw)
			require.Len(t, lost, 1)
			require.Equal(t, http.StatusConflict, lost[0].status, "%s", lost[0].raw)
			assert.Equal(t, "version_conflict", lost[0].body["code"])
			assert.Equal(t, "If-Match", lost[0].body["field"])
			assert.NotContains(t, lost[0].body["detail"], "koop.", "no subject leaks")
			assert.Equal(t, etag(v.Version+1), won[0].header.Get("ETag"))
			assert.Equal(t, before+1, ta.lastSeq(), "one command written")

			var res api.CommandResponse
			require.NoError(t, json.Unmarshal(won[0].raw, &res))
			fc.seq = res.Sequence
			v, _ = ta.plan(fc, "")
			assert.Equal(t, res.Version, v.Version)
			require.Len(t, v.Diagnosis.Areas, 1, "one input recorded")
			assert.Len(t, v.Diagnosis.Areas[0].Inputs, 1)

			// The loser, sent again with the new ETag, goes through.
			r = ta.do(http.MethodPost, fc.path+"/diagnosis", admin, map[string]string{"If-Match": won[0].header.Get("ETag")},
				diagnosisBody(f.coordinator, f.ops, "income", "medium"))
			require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
		}
	})

	t.Run("of two completions of one diagnosis without If-Match one completes it and the other is refused", func(t *testing.T) {
		for round := range 3 {
			fc := ta.openFamily(f, f.coordinator)
			ta.on(&fc, http.StatusOK, http.MethodPost, "/diagnosis", diagnosisBody(f.coordinator, f.ops, "income", "high"))
			before := ta.lastSeq()
			complete := badRequest{method: http.MethodPost, path: fc.path + "/diagnosis/complete", body: map[string]any{"date": "2024-05-17"}}
			answers := race(t, ta, admin, complete, complete)
			statuses := []int{answers[0].status, answers[1].status}
			assert.ElementsMatch(t, []int{http.StatusOK, http.StatusConflict}, statuses, "round %d: %s / %s", round, answers[0].raw, answers[1].raw)
			for _, a := range answers {
				if a.status == http.StatusConflict {
					requireProblem(t, a, http.StatusConflict, "diagnosis_completed", "")
				}
			}
			assert.Equal(t, before+1, ta.lastSeq(), "the diagnosis is completed once")
			fc.seq = before + 1
			v, _ := ta.plan(fc, "")
			assert.True(t, v.Diagnosis.Completed)
			assert.EqualValues(t, 3, v.Version)
		}
	})

	t.Run("two concurrent commands that can both succeed both do without If-Match", func(t *testing.T) {
		fc := ta.openFamily(f, f.coordinator)
		before := ta.lastSeq()
		answers := race(t, ta, admin,
			badRequest{method: http.MethodPost, path: fc.path + "/consents", body: consentBody(f.pup, fc.applicant, "basic")},
			badRequest{method: http.MethodPost, path: fc.path + "/consents", body: consentBody(f.school, fc.applicant, "basic")})
		for _, a := range answers {
			require.Equal(t, http.StatusCreated, a.status, "%s", a.raw)
		}
		assert.Equal(t, before+2, ta.lastSeq())
		fc.seq = before + 2
		v, _ := ta.plan(fc, "")
		assert.Len(t, v.Consents, 2)
		assert.EqualValues(t, 3, v.Version)
	})
}

// user registers a user of a role acting for an institution and, if
// given, as one of its workers, and returns the user's token.
func (ta *testAPI) user(role domain.Role, institution, worker string) string {
	ta.t.Helper()
	body := map[string]any{"name": "Użytkownik " + string(role), "role": role}
	if institution != "" {
		body["institution_id"] = institution
	}
	if worker != "" {
		body["worker_id"] = worker
	}
	res := ta.command(http.MethodPost, "/api/v1/users", body, http.StatusCreated)
	r := ta.admin(http.MethodPost, "/api/v1/users/"+res.ID+"/tokens", nil)
	require.Equal(ta.t, http.StatusCreated, r.status, "%s", r.raw)
	var issued api.IssuedToken
	require.NoError(ta.t, json.Unmarshal(r.raw, &issued))
	ta.settle(issued.Sequence)
	return issued.Token
}

func TestFamilyRoles(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	f := newFamilyFixture(ta)
	fc := ta.openFamily(f, f.coordinator)
	ta.on(&fc, http.StatusCreated, http.MethodPost, "/consents", consentBody(f.pup, fc.applicant, "basic", "employment"))
	ta.on(&fc, http.StatusCreated, http.MethodPost, "/consents", consentBody(f.school, fc.applicant, "basic", "education"))
	ta.on(&fc, http.StatusOK, http.MethodPost, "/diagnosis", diagnosisBody(f.pedagogue, f.school, "education", "medium"))
	ta.on(&fc, http.StatusOK, http.MethodPost, "/team", map[string]any{"date": "2024-05-20", "members": []map[string]any{{"worker_id": f.adviser, "institution_id": f.pup}}})

	coordinator := ta.user(domain.RoleCoordinator, f.ops, f.coordinator)
	otherCoordinator := ta.user(domain.RoleCoordinator, f.ops, f.coordinator2)
	adviser := ta.user(domain.RoleWorker, f.pup, f.adviser)
	teacher := ta.user(domain.RoleWorker, f.school, f.teacher)
	animator := ta.user(domain.RoleAnimator, f.ops, "")
	otherAnimator := ta.user(domain.RoleAnimator, f.school, "")
	auditor, evaluator := ta.tokens[domain.RoleAuditor], ta.tokens[domain.RoleEvaluator]

	// get reads path as the token's user once the read models caught up.
	get := func(token, path string) response {
		t.Helper()
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		return ta.do(http.MethodGet, path+sep+"min_seq="+strconv.FormatUint(fc.seq, 10), token, nil, nil)
	}
	// refused requires the command to be refused and nothing written.
	refused := func(t *testing.T, token string, w badRequest, status int, code string) {
		t.Helper()
		before := ta.lastSeq()
		r := ta.do(w.method, w.path, token, nil, w.body)
		requireProblem(t, r, status, code, "")
		assert.Equal(t, before, ta.lastSeq(), "nothing is written")
		assert.NotContains(t, string(r.raw), applicantName)
	}
	input := badRequest{name: "record a diagnosis input", method: http.MethodPost, path: fc.path + "/diagnosis", body: diagnosisBody(f.adviser, f.pup, "employment", "high")}
	writes := []badRequest{
		{name: "open a case", method: http.MethodPost, path: "/api/v1/families", body: openBody(f, domain.NewID(), domain.NewID(), f.coordinator)},
		{name: "give a consent", method: http.MethodPost, path: fc.path + "/consents", body: consentBody(f.clinic, fc.applicant, "basic")},
		input,
		{name: "close the case", method: http.MethodPost, path: fc.path + "/close", body: map[string]any{"date": "2024-06-01", "outcome": "other"}},
		{name: "erase the family", method: http.MethodPost, path: fc.path + "/erase", body: map[string]any{"legal_basis": "art. 17 RODO", "date": "2024-06-01", "reason": "wniosek"}},
	}
	familyReads := []string{"/api/v1/families", fc.path + "/plan", fc.path + "/history", fc.path + "/export"}

	t.Run("the evaluator reaches no family route", func(t *testing.T) {
		for _, path := range append(familyReads, "/api/v1/workers/"+f.adviser+"/caseload", "/api/v1/institutions/"+f.ops+"/caseload") {
			r := get(evaluator, path)
			requireProblem(t, r, http.StatusForbidden, "role_forbidden", "")
			assert.NotContains(t, string(r.raw), applicantName, path)
		}
		for _, w := range writes {
			refused(t, evaluator, w, http.StatusForbidden, "role_forbidden")
		}
	})

	t.Run("the animator of the partnership reads the list and the counts but may not write", func(t *testing.T) {
		r := get(animator, "/api/v1/families")
		require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
		var l api.List[projections.FamilySummary]
		require.NoError(t, json.Unmarshal(r.raw, &l))
		require.Equal(t, []string{fc.id}, familyIDs(l.Items))
		assert.Empty(t, l.Items[0].Applicant, "aggregates only: no name")
		assert.Equal(t, projections.StageDiagnosisInProgress, l.Items[0].Stage)
		r = get(animator, "/api/v1/partnerships/"+f.id)
		require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
		var pv api.PartnershipResponse
		require.NoError(t, json.Unmarshal(r.raw, &pv))
		assert.Equal(t, 1, pv.FamiliesByStage[projections.StageDiagnosisInProgress])
		// The plan holds personal data: docs/security.md gives the
		// animator aggregates only.
		requireProblem(t, get(animator, fc.path+"/plan"), http.StatusForbidden, "forbidden", "")
		for _, w := range writes {
			refused(t, animator, w, http.StatusForbidden, "role_forbidden")
		}
	})
	t.Run("the animator of another partnership does not see the family", func(t *testing.T) {
		r := get(otherAnimator, "/api/v1/families")
		require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
		var l api.List[projections.FamilySummary]
		require.NoError(t, json.Unmarshal(r.raw, &l))
		assert.Empty(t, l.Items)
		requireProblem(t, get(otherAnimator, fc.path+"/plan"), http.StatusNotFound, "family_not_found", "")
	})
	t.Run("the auditor reads the history and the list, not the plan, and writes nothing", func(t *testing.T) {
		r := get(auditor, fc.path+"/history")
		require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
		var h api.List[projections.HistoryEntry]
		require.NoError(t, json.Unmarshal(r.raw, &h))
		assert.Len(t, h.Items, 5)
		r = get(auditor, "/api/v1/families")
		require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
		assert.NotContains(t, string(r.raw), applicantName)
		requireProblem(t, get(auditor, fc.path+"/plan"), http.StatusForbidden, "forbidden", "")
		for _, w := range writes {
			refused(t, auditor, w, http.StatusForbidden, "role_forbidden")
		}
	})

	t.Run("a worker on the team records their own diagnosis input", func(t *testing.T) {
		r := ta.do(http.MethodPost, fc.path+"/diagnosis", adviser, nil, diagnosisBody(f.adviser, f.pup, "employment", "high"))
		require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
		var res api.CommandResponse
		require.NoError(t, json.Unmarshal(r.raw, &res))
		fc.seq = res.Sequence
		envs, err := ta.store.Load(t.Context(), domain.AggregateFamily, fc.id)
		require.NoError(t, err)
		last := envs[len(envs)-1]
		assert.Equal(t, "DiagnosisInputRecorded", last.Type)
		assert.Equal(t, domain.RoleWorker, last.Actor.Role, "the event names who recorded it")
		assert.Equal(t, f.pup, last.Actor.InstitutionID)

		r = get(adviser, fc.path+"/plan")
		require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
		var v projections.PlanView
		require.NoError(t, json.Unmarshal(r.raw, &v))
		assert.Equal(t, []domain.NeedArea{"employment"}, areaNames(v.Diagnosis.Areas),
			"the labour office's consent covers employment, not the school's education input")
		assert.Equal(t, applicantName, v.Household[0].Name)
	})
	t.Run("a worker on the team may not record what the coordinator decides", func(t *testing.T) {
		refused(t, adviser, badRequest{method: http.MethodPost, path: fc.path + "/diagnosis",
			body: diagnosisBody(f.pedagogue, f.school, "education", "low")}, http.StatusForbidden, "forbidden")
		refused(t, adviser, writes[1], http.StatusForbidden, "forbidden")
		refused(t, adviser, writes[3], http.StatusForbidden, "forbidden")
		refused(t, adviser, writes[4], http.StatusForbidden, "role_forbidden")
		requireProblem(t, get(adviser, fc.path+"/export"), http.StatusForbidden, "role_forbidden", "")
	})
	t.Run("a worker off the team does not see the family", func(t *testing.T) {
		requireProblem(t, get(teacher, fc.path+"/plan"), http.StatusNotFound, "family_not_found", "")
		refused(t, teacher, badRequest{method: http.MethodPost, path: fc.path + "/diagnosis",
			body: diagnosisBody(f.teacher, f.school, "education", "low")}, http.StatusNotFound, "family_not_found")
		r := get(teacher, "/api/v1/families")
		require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
		assert.NotContains(t, string(r.raw), fc.id)
	})
	t.Run("the family's coordinator reads and decides everything", func(t *testing.T) {
		for _, path := range familyReads {
			r := get(coordinator, path)
			assert.Equal(t, http.StatusOK, r.status, "GET %s: %s", path, r.raw)
		}
		r := ta.do(http.MethodPost, fc.path+"/consents", coordinator, nil, consentBody(f.clinic, fc.applicant, "basic"))
		require.Equal(t, http.StatusCreated, r.status, "%s", r.raw)
		r = get(coordinator, "/api/v1/workers/"+f.coordinator+"/caseload")
		require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
		requireProblem(t, get(coordinator, "/api/v1/workers/"+f.adviser+"/caseload"), http.StatusForbidden, "forbidden", "")
	})
	t.Run("another coordinator does not see the family", func(t *testing.T) {
		requireProblem(t, get(otherCoordinator, fc.path+"/plan"), http.StatusNotFound, "family_not_found", "")
		refused(t, otherCoordinator, writes[1], http.StatusNotFound, "family_not_found")
	})
	t.Run("a coordinator opens only the cases they coordinate", func(t *testing.T) {
		refused(t, otherCoordinator, writes[0], http.StatusForbidden, "forbidden")
		r := ta.do(http.MethodPost, "/api/v1/families", otherCoordinator, nil, openBody(f, domain.NewID(), domain.NewID(), f.coordinator2))
		require.Equal(t, http.StatusCreated, r.status, "%s", r.raw)
	})
	t.Run("without a token nothing of a family is told", func(t *testing.T) {
		for _, path := range []string{fc.path + "/plan", "/api/v1/families/" + domain.NewID() + "/plan", "/api/v1/families"} {
			r := ta.do(http.MethodGet, path, "", nil, nil)
			requireProblem(t, r, http.StatusUnauthorized, "token_missing", "Authorization")
		}
	})
}

func TestFamilyPlanQueries(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	f := newFamilyFixture(ta)
	fc := ta.openFamily(f, f.coordinator)

	tests := []struct {
		name, path  string
		status      int
		code, field string
	}{
		{name: "the plan of a family that does not exist", path: "/api/v1/families/" + domain.NewID() + "/plan", status: 404, code: "family_not_found"},
		{name: "the plan of a malformed family id", path: "/api/v1/families/rodzina/plan", status: 404, code: "not_found"},
		{name: "the plan as of an impossible day", path: fc.path + "/plan?as_of=2024-02-30", status: 400, code: "invalid_field", field: "as_of"},
		{name: "the plan as of a day written the Polish way", path: fc.path + "/plan?as_of=06.05.2024", status: 400, code: "invalid_field", field: "as_of"},
		{name: "the plan as of a day before the family was recorded", path: fc.path + "/plan?time=recorded&as_of=2024-05-06", status: 404, code: "family_not_found"},
		{name: "the plan as of a moment before the family was recorded", path: fc.path + "/plan?time=recorded&as_of=" + url.QueryEscape("2024-06-01T10:00:00Z"), status: 404, code: "family_not_found"},
		{name: "the plan in a time that is neither business nor recorded", path: fc.path + "/plan?time=local&as_of=2024-06-01", status: 400, code: "invalid_field", field: "time"},
		{name: "the plan in recorded time without a moment", path: fc.path + "/plan?time=recorded", status: 400, code: "required", field: "as_of"},
		{name: "the plan at a sequence that is not a number", path: fc.path + "/plan?min_seq=-1", status: 400, code: "invalid_field", field: "min_seq"},
		{name: "the export of a family that does not exist", path: "/api/v1/families/" + domain.NewID() + "/export", status: 404, code: "family_not_found"},
		{name: "the export of a malformed family id", path: "/api/v1/families/x/export", status: 404, code: "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ta.admin(http.MethodGet, tt.path, nil)
			requireProblem(t, r, tt.status, tt.code, tt.field)
		})
	}
	t.Run("a method the plan does not take", func(t *testing.T) {
		before := ta.lastSeq()
		r := ta.admin(http.MethodPost, fc.path+"/plan", map[string]any{})
		require.Equal(t, http.StatusMethodNotAllowed, r.status, "%s", r.raw)
		assert.Equal(t, "GET, HEAD", r.header.Get("Allow"))
		assert.Equal(t, before, ta.lastSeq())
	})
	t.Run("the plan reads its own write at once", func(t *testing.T) {
		for i := range 3 {
			r := ta.admin(http.MethodPost, fc.path+"/diagnosis", diagnosisBody(f.coordinator, f.ops, "income", "low"))
			require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
			var res api.CommandResponse
			require.NoError(t, json.Unmarshal(r.raw, &res))
			fc.seq = res.Sequence
			v, got := ta.plan(fc, "")
			assert.Equal(t, res.Version, v.Version)
			require.Len(t, v.Diagnosis.Areas, 1)
			assert.Len(t, v.Diagnosis.Areas[0].Inputs, i+1)
			pos, err := strconv.ParseUint(got.header.Get("X-Koop-Position"), 10, 64)
			require.NoError(t, err)
			assert.GreaterOrEqual(t, pos, res.Sequence)
		}
	})
}

package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/api"
	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/projections"
)

// accessWorld is the world of the access matrix (docs/security.md), built
// through the API: a partnership P led by MOPS with a school and a police
// station as members, a partnership Q led by another centre; two
// coordinators at MOPS (C1 leads F1 and the throwaway F3, C2 leads F2), a
// pedagogue W of the school and an officer X of the police on F1's team,
// and a worker Y of the school on no team.
type accessWorld struct {
	mops, school, police, other string // institutions; other leads Q
	p, q                        string // partnerships
	c1, c2, w, x, y             string // workers
	f1, f2, f3                  familyCase
	policeConsent               string // X's institution's consent for F1
	toSchool, toPolice          string // F1's referrals to a service of the school and of the police
	// spareUser and spareToken are a user and one of its tokens for the
	// token routes.
	spareUser, spareToken string
	// tokens and userIDs of the matrix's users, by name: the admin, the
	// auditor, the evaluator, the animator of P, the animator of Q, C1, C2,
	// W, X, Y.
	tokens, userIDs map[string]string
}

// Names of the matrix's users.
const (
	uAdmin     = "the admin"
	uAuditor   = "the auditor"
	uEvaluator = "the evaluator"
	uAnimatorP = "the animator of P"
	uAnimatorQ = "the animator of Q"
	uC1        = "C1"
	uC2        = "C2"
	uW         = "W"
	uX         = "X"
	uY         = "Y"
)

func newAccessWorld(ta *testAPI) accessWorld {
	ta.t.Helper()
	w := accessWorld{tokens: map[string]string{}, userIDs: map[string]string{}}
	w.mops = ta.institution("MOPS Testowo", domain.SectorSocialAssistance)
	w.school = ta.institution("Szkoła Podstawowa nr 1", domain.SectorEducation)
	w.police = ta.institution("Komisariat Policji", domain.SectorPolice)
	w.other = ta.institution("GOPS Inna Gmina", domain.SectorSocialAssistance)
	w.p = ta.partnership("PZK Testowo", w.mops).ID
	ta.join(w.p, w.school)
	ta.join(w.p, w.police)
	w.q = ta.partnership("PZK Inna Gmina", w.other).ID

	w.c1 = ta.registerWorker(w.mops, "Anna Koordynatorka", "starszy pracownik socjalny")
	w.c2 = ta.registerWorker(w.mops, "Jan Drugi", "pracownik socjalny")
	w.w = ta.registerWorker(w.school, "Maria Pedagog", "pedagog szkolny")
	w.x = ta.registerWorker(w.police, "Kamil Dzielnicowy", "dzielnicowy")
	w.y = ta.registerWorker(w.school, "Tomasz Wychowawca", "nauczyciel")

	// openBody and openFamily take a family fixture: the partnership and
	// its leader and school are all they read.
	fix := familyFixture{partnershipFixture: partnershipFixture{ops: w.mops, school: w.school, police: w.police, id: w.p}}
	w.f1 = ta.openFamily(fix, w.c1)
	ta.on(&w.f1, http.StatusCreated, http.MethodPost, "/consents", consentBody(w.school, w.f1.applicant, "basic", "education"))
	ta.on(&w.f1, http.StatusCreated, http.MethodPost, "/consents", consentBody(w.police, w.f1.applicant, "basic", "justice"))
	ta.on(&w.f1, http.StatusOK, http.MethodPost, "/diagnosis", diagnosisBody(w.c1, w.mops, "health", "high"))
	ta.on(&w.f1, http.StatusOK, http.MethodPost, "/diagnosis", diagnosisBody(w.w, w.school, "education", "medium"))
	ta.on(&w.f1, http.StatusOK, http.MethodPost, "/diagnosis", diagnosisBody(w.x, w.police, "justice", "low"))
	ta.on(&w.f1, http.StatusOK, http.MethodPost, "/team", map[string]any{"date": "2024-05-20", "members": []map[string]any{
		{"worker_id": w.w, "institution_id": w.school}, {"worker_id": w.x, "institution_id": w.police}}})
	schoolService, policeService := ta.offerService(w.p, w.school, "Zajęcia wyrównawcze"), ta.offerService(w.p, w.police, "Konsultacje dzielnicowego")
	ta.on(&w.f1, http.StatusCreated, http.MethodPost, "/referrals", map[string]any{"service_id": schoolService, "date": "2024-05-23"})
	ta.on(&w.f1, http.StatusCreated, http.MethodPost, "/referrals", map[string]any{"service_id": policeService, "date": "2024-05-23"})
	v, _ := ta.plan(w.f1, "")
	w.policeConsent = consentID(ta.t, v, w.police)
	w.toSchool, w.toPolice = referralTo(ta.t, v, schoolService).ReferralID, referralTo(ta.t, v, policeService).ReferralID
	w.f2 = ta.openFamily(fix, w.c2)
	w.f3 = ta.openFamily(fix, w.c1)

	for name, u := range map[string]struct {
		role                domain.Role
		institution, worker string
	}{
		uAdmin: {role: domain.RoleAdmin}, uAuditor: {role: domain.RoleAuditor}, uEvaluator: {role: domain.RoleEvaluator},
		uAnimatorP: {domain.RoleAnimator, w.mops, ""}, uAnimatorQ: {domain.RoleAnimator, w.other, ""},
		uC1: {domain.RoleCoordinator, w.mops, w.c1}, uC2: {domain.RoleCoordinator, w.mops, w.c2},
		uW: {domain.RoleWorker, w.school, w.w}, uX: {domain.RoleWorker, w.police, w.x}, uY: {domain.RoleWorker, w.school, w.y},
	} {
		w.tokens[name] = ta.user(u.role, u.institution, u.worker)
		r := ta.do(http.MethodGet, "/api/v1/me", w.tokens[name], nil, nil)
		require.Equal(ta.t, http.StatusOK, r.status, "%s", r.raw)
		var me api.Principal
		require.NoError(ta.t, json.Unmarshal(r.raw, &me))
		require.Equal(ta.t, u.role, me.Role)
		w.userIDs[name] = me.UserID
	}

	w.spareUser = ta.command(http.MethodPost, "/api/v1/users", map[string]any{"name": "Konto zapasowe", "role": "evaluator"}, http.StatusCreated).ID
	r := ta.admin(http.MethodPost, "/api/v1/users/"+w.spareUser+"/tokens", nil)
	require.Equal(ta.t, http.StatusCreated, r.status, "%s", r.raw)
	var issued api.IssuedToken
	require.NoError(ta.t, json.Unmarshal(r.raw, &issued))
	ta.settle(issued.Sequence)
	w.spareToken = issued.TokenID
	return w
}

// accessRow is one cell of the matrix: a user's request and what it must
// answer. A refusal (4xx) is a problem with code that writes nothing and
// tells nothing of the family; a 2xx command writes, a 2xx read writes
// nothing; check, if given, looks into the answer.
type accessRow struct {
	name         string
	user         string
	method, path string
	body         any
	status       int
	code         string
	check        func(t *testing.T, r response)
}

// familySecrets are the personal data of the world's families: none of
// them may appear in a refusal.
var familySecrets = []string{applicantName, childName, familyAddress, "85041212344", "+48 600 000 000",
	"Potrzeby w obszarze", "częste nieobecności dziecka w szkole"}

func TestAccessMatrix(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	w := newAccessWorld(ta)
	f1, f2, f3 := w.f1.path, w.f2.path, w.f3.path
	now := projections.Today(time.Now())
	today, yesterday := now.String(), now.Time().AddDate(0, 0, -1).Format(time.DateOnly)

	// plan requires a plan of the family with exactly these diagnosis
	// areas and the household named.
	plan := func(id string, areas ...domain.NeedArea) func(*testing.T, response) {
		return func(t *testing.T, r response) {
			var v projections.PlanView
			require.NoError(t, json.Unmarshal(r.raw, &v))
			assert.Equal(t, id, v.ID)
			assert.ElementsMatch(t, areas, areaNames(v.Diagnosis.Areas), "the diagnosis areas shown")
			require.NotEmpty(t, v.Household)
			assert.Equal(t, applicantName, v.Household[0].Name)
		}
	}
	// summaries requires exactly these families, the applicant named or
	// not.
	summaries := func(t *testing.T, items []projections.FamilySummary, named bool, ids []string) {
		t.Helper()
		assert.ElementsMatch(t, ids, familyIDs(items))
		for _, s := range items {
			if named {
				assert.Equal(t, applicantName, s.Applicant, s.ID)
			} else {
				assert.Empty(t, s.Applicant, "aggregates only: %s", s.ID)
			}
		}
	}
	families := func(named bool, ids ...string) func(*testing.T, response) {
		return func(t *testing.T, r response) {
			var l api.List[projections.FamilySummary]
			require.NoError(t, json.Unmarshal(r.raw, &l))
			summaries(t, l.Items, named, ids)
			if !named {
				assert.NotContains(t, string(r.raw), applicantName)
			}
		}
	}
	caseload := func(named bool, ids ...string) func(*testing.T, response) {
		return func(t *testing.T, r response) {
			var c projections.Caseload
			require.NoError(t, json.Unmarshal(r.raw, &c))
			summaries(t, c.Families, named, ids)
			for _, d := range append(c.Overdue, c.Upcoming...) {
				assert.Contains(t, ids, d.FamilyID, "a deadline of a family not shown")
				if !named {
					assert.Empty(t, d.Description, "what the contract says is not for aggregate readers")
				}
			}
			if !named {
				assert.NotContains(t, string(r.raw), applicantName)
			}
		}
	}
	history := func(t *testing.T, r response) {
		var h api.List[projections.HistoryEntry]
		require.NoError(t, json.Unmarshal(r.raw, &h))
		require.NotEmpty(t, h.Items)
		assert.Equal(t, "FamilyCaseOpened", h.Items[0].Type)
	}
	export := func(id string) func(*testing.T, response) {
		return func(t *testing.T, r response) {
			var e exported
			require.NoError(t, json.Unmarshal(r.raw, &e))
			assert.Equal(t, id, e.FamilyID)
			assert.NotEmpty(t, e.Events)
			require.NotEmpty(t, e.Plan.Household)
			assert.Equal(t, applicantName, e.Plan.Household[0].Name)
		}
	}
	// entries are the reads an access-log answer lists.
	entries := func(t *testing.T, r response) []domain.Access {
		t.Helper()
		var l api.List[domain.Access]
		require.NoError(t, json.Unmarshal(r.raw, &l))
		return l.Items
	}
	// accessed requires the access log to hold a read of a family by a
	// user, as what, under which relation.
	accessed := func(user, family, what, rel string) func(*testing.T, response) {
		return func(t *testing.T, r response) {
			found := false
			for _, a := range entries(t, r) {
				if a.UserID == w.userIDs[user] && a.FamilyID == family && a.What == what && a.Relation == rel {
					found = true
					assert.NotZero(t, a.Sequence)
					assert.WithinDuration(t, time.Now(), a.At, time.Minute)
				}
			}
			assert.True(t, found, "%s's read of %s (%s, %s) is logged: %s", user, family, what, rel, r.raw)
		}
	}
	// onlyUser requires every read listed to be the user's, and none of
	// them of the family.
	onlyUser := func(user string, notFamily string) func(*testing.T, response) {
		return func(t *testing.T, r response) {
			items := entries(t, r)
			require.NotEmpty(t, items)
			for _, a := range items {
				assert.Equal(t, w.userIDs[user], a.UserID)
				assert.NotEqual(t, notFamily, a.FamilyID, "a refused read is not a read")
			}
		}
	}
	all := func(checks ...func(*testing.T, response)) func(*testing.T, response) {
		return func(t *testing.T, r response) {
			for _, c := range checks {
				c(t, r)
			}
		}
	}

	diagnosis := func(worker, institution, area string) map[string]any {
		return diagnosisBody(worker, institution, area, "low")
	}
	closeBody := map[string]any{"date": "2024-06-01", "outcome": "other"}
	eraseBody := map[string]any{"legal_basis": eraseBasis, "date": "2024-06-01", "reason": eraseReason}
	started := map[string]any{"status": "started", "date": "2024-06-10"}
	meeting := map[string]any{"date": "2024-06-05", "attendees": []string{w.c1, w.w}, "decisions": []string{"Wsparcie w nauce"}}
	leave := map[string]any{"date": "2024-06-20", "reason": "zmiana pedagoga w szkole"}
	withdraw := map[string]any{"withdrawn_on": today, "reason": "decyzja wnioskodawczyni"}
	service := func(institution, name string) map[string]any {
		return map[string]any{"institution_id": institution, "name": name}
	}
	open := func(coordinator string) map[string]any {
		fix := familyFixture{partnershipFixture: partnershipFixture{ops: w.mops, school: w.school, id: w.p}}
		return openBody(fix, domain.NewID(), domain.NewID(), coordinator)
	}
	wCaseload, yCaseload := "/api/v1/workers/"+w.w+"/caseload", "/api/v1/workers/"+w.y+"/caseload"
	c1Caseload, c2Caseload := "/api/v1/workers/"+w.c1+"/caseload", "/api/v1/workers/"+w.c2+"/caseload"
	xCaseload := "/api/v1/workers/" + w.x + "/caseload"
	mopsCaseload, schoolCaseload := "/api/v1/institutions/"+w.mops+"/caseload", "/api/v1/institutions/"+w.school+"/caseload"
	users, tokens := "/api/v1/users", "/api/v1/users/"+w.spareUser+"/tokens"
	get, post, del := http.MethodGet, http.MethodPost, http.MethodDelete
	ok, created := http.StatusOK, http.StatusCreated
	forbidden, notFound := http.StatusForbidden, http.StatusNotFound
	id1, id2, id3 := w.f1.id, w.f2.id, w.f3.id

	rows := []accessRow{
		// The support plan.
		{name: "the admin reads F1's plan whole", user: uAdmin, method: get, path: f1 + "/plan", status: ok, check: plan(id1, "health", "education", "justice")},
		{name: "C1 reads the plan of F1, which they lead, whole", user: uC1, method: get, path: f1 + "/plan", status: ok, check: plan(id1, "health", "education", "justice")},
		{name: "W reads F1's plan without the areas the school's consent does not cover", user: uW, method: get, path: f1 + "/plan", status: ok, check: plan(id1, "education")},
		{name: "W reads F1's plan as of a given day without the areas the school's consent does not cover", user: uW, method: get, path: f1 + "/plan?as_of=" + today, status: ok, check: plan(id1, "education")},
		{name: "W reads F1's plan as recorded by the end of today without the areas the school's consent does not cover", user: uW, method: get, path: f1 + "/plan?time=recorded&as_of=" + today, status: ok, check: plan(id1, "education")},
		{name: "X reads F1's plan with only the justice area", user: uX, method: get, path: f1 + "/plan", status: ok, check: plan(id1, "justice")},
		{name: "C2 does not see F1's plan", user: uC2, method: get, path: f1 + "/plan", status: notFound, code: "family_not_found"},
		{name: "C2 does not see F1's plan as of a given day", user: uC2, method: get, path: f1 + "/plan?as_of=" + today, status: notFound, code: "family_not_found"},
		{name: "C2 reads the plan of F2, which they lead", user: uC2, method: get, path: f2 + "/plan", status: ok, check: plan(id2)},
		{name: "C1 does not see F2's plan", user: uC1, method: get, path: f2 + "/plan", status: notFound, code: "family_not_found"},
		{name: "W does not see F2's plan", user: uW, method: get, path: f2 + "/plan", status: notFound, code: "family_not_found"},
		{name: "Y of the school, on no team, does not see F1's plan", user: uY, method: get, path: f1 + "/plan", status: notFound, code: "family_not_found"},
		{name: "the auditor may not read F1's plan", user: uAuditor, method: get, path: f1 + "/plan", status: forbidden, code: "forbidden"},
		{name: "the animator of P may not read F1's plan", user: uAnimatorP, method: get, path: f1 + "/plan", status: forbidden, code: "forbidden"},
		{name: "the animator of P may not read F2's plan", user: uAnimatorP, method: get, path: f2 + "/plan", status: forbidden, code: "forbidden"},
		{name: "the animator of Q does not see F1's plan", user: uAnimatorQ, method: get, path: f1 + "/plan", status: notFound, code: "family_not_found"},
		{name: "the evaluator may not read F1's plan", user: uEvaluator, method: get, path: f1 + "/plan", status: forbidden, code: "role_forbidden"},

		// The decision history.
		{name: "the admin reads F1's history", user: uAdmin, method: get, path: f1 + "/history", status: ok, check: history},
		{name: "C1 reads F1's history", user: uC1, method: get, path: f1 + "/history", status: ok, check: history},
		{name: "the auditor reads F1's history", user: uAuditor, method: get, path: f1 + "/history", status: ok, check: history},
		{name: "the auditor reads F2's history", user: uAuditor, method: get, path: f2 + "/history", status: ok, check: history},
		{name: "C2 does not see F1's history", user: uC2, method: get, path: f1 + "/history", status: notFound, code: "family_not_found"},
		{name: "C1 does not see F2's history", user: uC1, method: get, path: f2 + "/history", status: notFound, code: "family_not_found"},
		{name: "W on F1's team may not read its history", user: uW, method: get, path: f1 + "/history", status: forbidden, code: "role_forbidden"},
		{name: "Y may not read F1's history", user: uY, method: get, path: f1 + "/history", status: forbidden, code: "role_forbidden"},
		{name: "the animator of P may not read F1's history", user: uAnimatorP, method: get, path: f1 + "/history", status: forbidden, code: "role_forbidden"},
		{name: "the evaluator may not read F1's history", user: uEvaluator, method: get, path: f1 + "/history", status: forbidden, code: "role_forbidden"},

		// The data subject's export.
		{name: "the admin exports F1", user: uAdmin, method: get, path: f1 + "/export", status: ok, check: export(id1)},
		{name: "C1 exports F1", user: uC1, method: get, path: f1 + "/export", status: ok, check: export(id1)},
		{name: "C2 does not see F1's export", user: uC2, method: get, path: f1 + "/export", status: notFound, code: "family_not_found"},
		{name: "C1 does not see F2's export", user: uC1, method: get, path: f2 + "/export", status: notFound, code: "family_not_found"},
		{name: "W on F1's team may not export it", user: uW, method: get, path: f1 + "/export", status: forbidden, code: "role_forbidden"},
		{name: "the auditor may not export F1", user: uAuditor, method: get, path: f1 + "/export", status: forbidden, code: "role_forbidden"},
		{name: "the animator of P may not export F1", user: uAnimatorP, method: get, path: f1 + "/export", status: forbidden, code: "role_forbidden"},
		{name: "the evaluator may not export F1", user: uEvaluator, method: get, path: f1 + "/export", status: forbidden, code: "role_forbidden"},

		// Family lists and their filters.
		{name: "the admin lists every family, named", user: uAdmin, method: get, path: "/api/v1/families", status: ok, check: families(true, id1, id2, id3)},
		{name: "C1 lists the families they lead", user: uC1, method: get, path: "/api/v1/families", status: ok, check: families(true, id1, id3)},
		{name: "C2 lists F2 and not F1", user: uC2, method: get, path: "/api/v1/families", status: ok, check: families(true, id2)},
		{name: "W lists F1, whose team they are on", user: uW, method: get, path: "/api/v1/families", status: ok, check: families(true, id1)},
		{name: "X lists F1, whose team they are on", user: uX, method: get, path: "/api/v1/families", status: ok, check: families(true, id1)},
		{name: "Y lists no family", user: uY, method: get, path: "/api/v1/families", status: ok, check: families(true)},
		{name: "the auditor lists every family without the applicants' names", user: uAuditor, method: get, path: "/api/v1/families", status: ok, check: families(false, id1, id2, id3)},
		{name: "the animator of P lists P's families without the applicants' names", user: uAnimatorP, method: get, path: "/api/v1/families", status: ok, check: families(false, id1, id2, id3)},
		{name: "the animator of Q lists none of P's families", user: uAnimatorQ, method: get, path: "/api/v1/families", status: ok, check: families(false)},
		{name: "the evaluator may not list families", user: uEvaluator, method: get, path: "/api/v1/families", status: forbidden, code: "role_forbidden"},
		{name: "the admin filters the list by C2 as coordinator", user: uAdmin, method: get, path: "/api/v1/families?coordinator=" + w.c2, status: ok, check: families(true, id2)},
		{name: "C1 filtering by C2 as coordinator finds nothing", user: uC1, method: get, path: "/api/v1/families?coordinator=" + w.c2, status: ok, check: families(true)},
		{name: "C2 filtering by C1 as coordinator finds nothing", user: uC2, method: get, path: "/api/v1/families?coordinator=" + w.c1, status: ok, check: families(true)},
		{name: "W filters the list by themself on the team", user: uW, method: get, path: "/api/v1/families?worker=" + w.w, status: ok, check: families(true, id1)},
		{name: "W filters the list by the school on the team", user: uW, method: get, path: "/api/v1/families?institution=" + w.school, status: ok, check: families(true, id1)},
		{name: "Y filtering by the school on the team finds nothing", user: uY, method: get, path: "/api/v1/families?institution=" + w.school, status: ok, check: families(true)},
		{name: "the animator of P filters the list by P", user: uAnimatorP, method: get, path: "/api/v1/families?partnership=" + w.p, status: ok, check: families(false, id1, id2, id3)},
		{name: "the animator of P filtering by Q finds nothing", user: uAnimatorP, method: get, path: "/api/v1/families?partnership=" + w.q, status: ok, check: families(false)},
		{name: "the animator of Q filtering by P finds nothing", user: uAnimatorQ, method: get, path: "/api/v1/families?partnership=" + w.p, status: ok, check: families(false)},
		{name: "the auditor filters the list by C1 as coordinator", user: uAuditor, method: get, path: "/api/v1/families?coordinator=" + w.c1, status: ok, check: families(false, id1, id3)},

		// Caseloads: one's own, not another's.
		{name: "C1 reads their own caseload", user: uC1, method: get, path: c1Caseload, status: ok, check: caseload(true, id1, id3)},
		{name: "C1 may not read C2's caseload", user: uC1, method: get, path: c2Caseload, status: forbidden, code: "forbidden"},
		{name: "C2 reads their own caseload", user: uC2, method: get, path: c2Caseload, status: ok, check: caseload(true, id2)},
		{name: "W reads their own caseload", user: uW, method: get, path: wCaseload, status: ok, check: caseload(true, id1)},
		{name: "W may not read Y's caseload", user: uW, method: get, path: yCaseload, status: forbidden, code: "forbidden"},
		{name: "Y reads their own, empty caseload", user: uY, method: get, path: yCaseload, status: ok, check: caseload(true)},
		{name: "X reads their own caseload", user: uX, method: get, path: xCaseload, status: ok, check: caseload(true, id1)},
		{name: "W reads the school's caseload", user: uW, method: get, path: schoolCaseload, status: ok, check: caseload(true, id1)},
		{name: "Y reads the school's caseload without F1", user: uY, method: get, path: schoolCaseload, status: ok, check: caseload(true)},
		{name: "W may not read the caseload of MOPS", user: uW, method: get, path: mopsCaseload, status: forbidden, code: "forbidden"},
		{name: "C1 reads the caseload of MOPS with the families they lead", user: uC1, method: get, path: mopsCaseload, status: ok, check: caseload(true, id1, id3)},
		{name: "C2 reads the caseload of MOPS with F2 only", user: uC2, method: get, path: mopsCaseload, status: ok, check: caseload(true, id2)},
		{name: "the animator of P reads the caseload of MOPS without the applicants' names", user: uAnimatorP, method: get, path: mopsCaseload, status: ok, check: caseload(false, id1, id2, id3)},
		{name: "the animator of P may not read C1's caseload", user: uAnimatorP, method: get, path: c1Caseload, status: forbidden, code: "forbidden"},
		{name: "the animator of Q may not read the caseload of MOPS", user: uAnimatorQ, method: get, path: mopsCaseload, status: forbidden, code: "forbidden"},
		{name: "the auditor may not read the caseload of MOPS", user: uAuditor, method: get, path: mopsCaseload, status: forbidden, code: "forbidden"},
		{name: "the admin reads W's caseload", user: uAdmin, method: get, path: wCaseload, status: ok, check: caseload(true, id1)},
		{name: "the evaluator may not read W's caseload", user: uEvaluator, method: get, path: wCaseload, status: forbidden, code: "role_forbidden"},
		{name: "the evaluator may not read the caseload of MOPS", user: uEvaluator, method: get, path: mopsCaseload, status: forbidden, code: "role_forbidden"},

		// Commands on a family: the team records its own input.
		{name: "W records their own diagnosis input on F1", user: uW, method: post, path: f1 + "/diagnosis", body: diagnosis(w.w, w.school, "education"), status: ok},
		{name: "W may not record a diagnosis input as X", user: uW, method: post, path: f1 + "/diagnosis", body: diagnosis(w.x, w.police, "justice"), status: forbidden, code: "forbidden"},
		{name: "X records their own diagnosis input on F1", user: uX, method: post, path: f1 + "/diagnosis", body: diagnosis(w.x, w.police, "justice"), status: ok},
		{name: "Y may not record a diagnosis input on F1, which they do not see", user: uY, method: post, path: f1 + "/diagnosis", body: diagnosis(w.y, w.school, "education"), status: notFound, code: "family_not_found"},
		{name: "C2 may not record a diagnosis input on F1, which they do not see", user: uC2, method: post, path: f1 + "/diagnosis", body: diagnosis(w.c2, w.mops, "income"), status: notFound, code: "family_not_found"},
		{name: "the auditor may not record a diagnosis input", user: uAuditor, method: post, path: f1 + "/diagnosis", body: diagnosis(w.c1, w.mops, "income"), status: forbidden, code: "role_forbidden"},
		{name: "the animator of P may not record a diagnosis input", user: uAnimatorP, method: post, path: f1 + "/diagnosis", body: diagnosis(w.c1, w.mops, "income"), status: forbidden, code: "role_forbidden"},
		{name: "the evaluator may not record a diagnosis input", user: uEvaluator, method: post, path: f1 + "/diagnosis", body: diagnosis(w.c1, w.mops, "income"), status: forbidden, code: "role_forbidden"},
		{name: "W records a team meeting of F1", user: uW, method: post, path: f1 + "/team/meetings", body: meeting, status: created},
		{name: "W may not give a consent for F1", user: uW, method: post, path: f1 + "/consents", body: consentBody(w.mops, w.f1.applicant, "basic"), status: forbidden, code: "forbidden"},
		{name: "W may not complete F1's diagnosis", user: uW, method: post, path: f1 + "/diagnosis/complete", body: map[string]any{"date": "2024-05-17"}, status: forbidden, code: "forbidden"},
		{name: "C1 completes F1's diagnosis", user: uC1, method: post, path: f1 + "/diagnosis/complete", body: map[string]any{"date": "2024-05-17", "summary": "Absencja szkolna"}, status: ok},
		{name: "W may not draft F1's contract", user: uW, method: post, path: f1 + "/contract", body: contractBody(action("a1", "g1", "client", "2024-07-15")), status: forbidden, code: "forbidden"},
		{name: "C1 drafts F1's contract", user: uC1, method: post, path: f1 + "/contract", body: contractBody(action("a1", "g1", "client", "2024-07-15"), action("a2", "g2", "coordinator", "2024-10-15"),
			action("a3", "g2", w.school, "2024-09-30"), action("a4", "g2", w.police, "2024-09-30")), status: ok},
		{name: "C1 signs F1's contract", user: uC1, method: post, path: f1 + "/contract/sign", body: map[string]any{"date": "2024-06-01", "client_id": w.f1.applicant}, status: ok},

		// Who moves what: an action by its institution or the coordinator,
		// a referral by the institution it was sent to or the coordinator.
		{name: "W updates the school's action of F1's contract", user: uW, method: post, path: f1 + "/contract/actions/a3", body: started, status: ok},
		{name: "W may not update the police's action of F1's contract", user: uW, method: post, path: f1 + "/contract/actions/a4", body: started, status: forbidden, code: "forbidden"},
		{name: "W may not update the client's action of F1's contract", user: uW, method: post, path: f1 + "/contract/actions/a1", body: started, status: forbidden, code: "forbidden"},
		{name: "W may not update the coordinator's action of F1's contract", user: uW, method: post, path: f1 + "/contract/actions/a2", body: started, status: forbidden, code: "forbidden"},
		{name: "X may not update the school's action of F1's contract", user: uX, method: post, path: f1 + "/contract/actions/a3", body: map[string]any{"status": "completed", "date": "2024-06-11"}, status: forbidden, code: "forbidden"},
		{name: "X may not update the client's action of F1's contract", user: uX, method: post, path: f1 + "/contract/actions/a1", body: started, status: forbidden, code: "forbidden"},
		{name: "X updates the police's action of F1's contract", user: uX, method: post, path: f1 + "/contract/actions/a4", body: started, status: ok},
		{name: "W may not withdraw the school's action of F1's contract", user: uW, method: post, path: f1 + "/contract/actions/a3/withdraw", body: map[string]any{"date": "2024-06-10", "reason": "pomyłka"}, status: forbidden, code: "forbidden"},
		{name: "C1 updates the client's action of F1's contract", user: uC1, method: post, path: f1 + "/contract/actions/a1", body: started, status: ok},
		{name: "C1 updates their own action of F1's contract", user: uC1, method: post, path: f1 + "/contract/actions/a2", body: started, status: ok},
		{name: "X may not accept the referral sent to the school", user: uX, method: post, path: f1 + "/referrals/" + w.toSchool, body: map[string]any{"status": "accepted", "date": "2024-05-24"}, status: forbidden, code: "forbidden"},
		{name: "W may not accept the referral sent to the police", user: uW, method: post, path: f1 + "/referrals/" + w.toPolice, body: map[string]any{"status": "accepted", "date": "2024-05-24"}, status: forbidden, code: "forbidden"},
		{name: "W accepts the referral sent to the school", user: uW, method: post, path: f1 + "/referrals/" + w.toSchool, body: map[string]any{"status": "accepted", "date": "2024-05-24"}, status: ok},
		{name: "C1 accepts the referral sent to the police", user: uC1, method: post, path: f1 + "/referrals/" + w.toPolice, body: map[string]any{"status": "accepted", "date": "2024-05-24"}, status: ok},
		{name: "X completes the referral sent to the police", user: uX, method: post, path: f1 + "/referrals/" + w.toPolice, body: map[string]any{"status": "completed", "date": "2024-06-24"}, status: ok},
		{name: "Y may not update an action of F1's contract", user: uY, method: post, path: f1 + "/contract/actions/a1", body: map[string]any{"status": "completed", "date": "2024-06-11"}, status: notFound, code: "family_not_found"},
		{name: "C2 may not update an action of F1's contract", user: uC2, method: post, path: f1 + "/contract/actions/a1", body: map[string]any{"status": "completed", "date": "2024-06-11"}, status: notFound, code: "family_not_found"},
		{name: "the auditor may not update an action", user: uAuditor, method: post, path: f1 + "/contract/actions/a1", body: map[string]any{"status": "completed", "date": "2024-06-11"}, status: forbidden, code: "role_forbidden"},
		{name: "the animator of P may not update an action", user: uAnimatorP, method: post, path: f1 + "/contract/actions/a1", body: map[string]any{"status": "completed", "date": "2024-06-11"}, status: forbidden, code: "role_forbidden"},
		{name: "the evaluator may not update an action", user: uEvaluator, method: post, path: f1 + "/contract/actions/a1", body: map[string]any{"status": "completed", "date": "2024-06-11"}, status: forbidden, code: "role_forbidden"},
		{name: "the caseload of MOPS read by the animator of P still has no names", user: uAnimatorP, method: get, path: mopsCaseload, status: ok, check: caseload(false, id1, id2, id3)},
		{name: "W may not close F1's case", user: uW, method: post, path: f1 + "/close", body: closeBody, status: forbidden, code: "forbidden"},
		{name: "X may not close F1's case", user: uX, method: post, path: f1 + "/close", body: closeBody, status: forbidden, code: "forbidden"},
		{name: "C2 may not close F1's case, which they do not see", user: uC2, method: post, path: f1 + "/close", body: closeBody, status: notFound, code: "family_not_found"},
		{name: "C1 may not close F2's case, which they do not see", user: uC1, method: post, path: f2 + "/close", body: closeBody, status: notFound, code: "family_not_found"},
		{name: "the evaluator may not close F1's case", user: uEvaluator, method: post, path: f1 + "/close", body: closeBody, status: forbidden, code: "role_forbidden"},

		// Opening a case.
		{name: "C2 may not open a case that C1 would coordinate", user: uC2, method: post, path: "/api/v1/families", body: open(w.c1), status: forbidden, code: "forbidden"},
		{name: "W may not open a case", user: uW, method: post, path: "/api/v1/families", body: open(w.w), status: forbidden, code: "forbidden"},
		{name: "the auditor may not open a case", user: uAuditor, method: post, path: "/api/v1/families", body: open(w.c1), status: forbidden, code: "role_forbidden"},
		{name: "the animator of P may not open a case", user: uAnimatorP, method: post, path: "/api/v1/families", body: open(w.c1), status: forbidden, code: "role_forbidden"},
		{name: "the evaluator may not open a case", user: uEvaluator, method: post, path: "/api/v1/families", body: open(w.c1), status: forbidden, code: "role_forbidden"},

		// Erasure, on the throwaway F3.
		{name: "W may not erase F1", user: uW, method: post, path: f1 + "/erase", body: eraseBody, status: forbidden, code: "role_forbidden"},
		{name: "the auditor may not erase F3", user: uAuditor, method: post, path: f3 + "/erase", body: eraseBody, status: forbidden, code: "role_forbidden"},
		{name: "the animator of P may not erase F3", user: uAnimatorP, method: post, path: f3 + "/erase", body: eraseBody, status: forbidden, code: "role_forbidden"},
		{name: "the evaluator may not erase F3", user: uEvaluator, method: post, path: f3 + "/erase", body: eraseBody, status: forbidden, code: "role_forbidden"},
		{name: "C2 may not erase F3, which they do not see", user: uC2, method: post, path: f3 + "/erase", body: eraseBody, status: notFound, code: "family_not_found"},
		{name: "C1 erases F3, which they lead", user: uC1, method: post, path: f3 + "/erase", body: eraseBody, status: ok, check: func(t *testing.T, r response) {
			assert.Equal(t, true, r.body["key_destroyed"])
		}},

		// The families due for erasure: only those one may erase.
		{name: "C1 lists the families due for erasure", user: uC1, method: get, path: "/api/v1/retention/due", status: ok},
		{name: "W may not list the families due for erasure", user: uW, method: get, path: "/api/v1/retention/due", status: forbidden, code: "role_forbidden"},
		{name: "the auditor may not list the families due for erasure", user: uAuditor, method: get, path: "/api/v1/retention/due", status: forbidden, code: "role_forbidden"},
		{name: "the evaluator may not list the families due for erasure", user: uEvaluator, method: get, path: "/api/v1/retention/due", status: forbidden, code: "role_forbidden"},

		// Partnership commands: the animator runs the partnerships their
		// institution leads.
		{name: "the animator of P offers a service in P", user: uAnimatorP, method: post, path: "/api/v1/partnerships/" + w.p + "/services", body: service(w.school, "Świetlica terapeutyczna"), status: created},
		{name: "the animator of Q may not offer a service in P", user: uAnimatorQ, method: post, path: "/api/v1/partnerships/" + w.p + "/services", body: service(w.school, "Warsztaty dla rodziców"), status: forbidden, code: "forbidden"},
		{name: "the animator of Q offers a service in Q", user: uAnimatorQ, method: post, path: "/api/v1/partnerships/" + w.q + "/services", body: service(w.other, "Poradnictwo rodzinne"), status: created},
		{name: "the animator of P may not offer a service in Q", user: uAnimatorP, method: post, path: "/api/v1/partnerships/" + w.q + "/services", body: service(w.other, "Asystent rodziny"), status: forbidden, code: "forbidden"},
		{name: "the admin offers a service in Q", user: uAdmin, method: post, path: "/api/v1/partnerships/" + w.q + "/services", body: service(w.other, "Grupa wsparcia"), status: created},
		{name: "C1 may not offer a service in P", user: uC1, method: post, path: "/api/v1/partnerships/" + w.p + "/services", body: service(w.school, "Klub młodzieżowy"), status: forbidden, code: "role_forbidden"},
		{name: "the auditor may not offer a service in P", user: uAuditor, method: post, path: "/api/v1/partnerships/" + w.p + "/services", body: service(w.school, "Mediacje rodzinne"), status: forbidden, code: "role_forbidden"},
		{name: "the evaluator reads the directory of P", user: uEvaluator, method: get, path: "/api/v1/partnerships/" + w.p, status: ok},

		// Users and tokens: the admin's.
		{name: "the admin lists the users", user: uAdmin, method: get, path: users, status: ok},
		{name: "C1 may not list the users", user: uC1, method: get, path: users, status: forbidden, code: "role_forbidden"},
		{name: "the auditor may not list the users", user: uAuditor, method: get, path: users, status: forbidden, code: "role_forbidden"},
		{name: "the admin registers a user", user: uAdmin, method: post, path: users, body: map[string]any{"name": "Nowy ewaluator", "role": "evaluator"}, status: created},
		{name: "the animator of P may not register a user", user: uAnimatorP, method: post, path: users, body: map[string]any{"name": "Nowy ewaluator", "role": "evaluator"}, status: forbidden, code: "role_forbidden"},
		{name: "the admin issues a token", user: uAdmin, method: post, path: tokens, status: created},
		{name: "W may not issue a token", user: uW, method: post, path: tokens, status: forbidden, code: "role_forbidden"},
		{name: "the evaluator may not issue a token", user: uEvaluator, method: post, path: tokens, status: forbidden, code: "role_forbidden"},
		{name: "C1 may not revoke a token", user: uC1, method: del, path: tokens + "/" + w.spareToken, status: forbidden, code: "role_forbidden"},
		{name: "the admin revokes a token", user: uAdmin, method: del, path: tokens + "/" + w.spareToken, status: ok},

		// Consent withdrawal takes effect at once.
		{name: "W may not withdraw the police's consent for F1", user: uW, method: post, path: f1 + "/consents/" + w.policeConsent + "/withdraw", body: withdraw, status: forbidden, code: "forbidden"},
		{name: "C2 may not withdraw a consent for F1, which they do not see", user: uC2, method: post, path: f1 + "/consents/" + w.policeConsent + "/withdraw", body: withdraw, status: notFound, code: "family_not_found"},
		{name: "C1 withdraws the police's consent for F1 as of today", user: uC1, method: post, path: f1 + "/consents/" + w.policeConsent + "/withdraw", body: withdraw, status: ok},
		{name: "X no longer sees F1's plan", user: uX, method: get, path: f1 + "/plan", status: notFound, code: "family_not_found"},
		{name: "X may no longer update an action of F1's contract", user: uX, method: post, path: f1 + "/contract/actions/a4", body: map[string]any{"status": "completed", "date": "2024-06-12"}, status: notFound, code: "family_not_found"},
		{name: "X may no longer record a team meeting of F1", user: uX, method: post, path: f1 + "/team/meetings", body: map[string]any{"date": "2024-06-12", "attendees": []string{w.x}}, status: notFound, code: "family_not_found"},
		{name: "X no longer sees F1's plan as of a day before the withdrawal", user: uX, method: get, path: f1 + "/plan?as_of=" + yesterday, status: notFound, code: "family_not_found"},
		{name: "X no longer lists F1", user: uX, method: get, path: "/api/v1/families", status: ok, check: families(true)},
		{name: "X's caseload no longer shows F1", user: uX, method: get, path: xCaseload, status: ok, check: caseload(true)},
		{name: "W still reads F1's plan, the school's consent standing", user: uW, method: get, path: f1 + "/plan", status: ok, check: plan(id1, "education")},
		{name: "C1 still reads F1's plan whole", user: uC1, method: get, path: f1 + "/plan", status: ok, check: plan(id1, "health", "education", "justice")},

		// Closing: the coordinator decides.
		{name: "C2 closes F2's case", user: uC2, method: post, path: f2 + "/close", body: closeBody, status: ok},
		{name: "the admin lists the closed families", user: uAdmin, method: get, path: "/api/v1/families?status=closed", status: ok, check: families(true, id2)},
		{name: "C1 finds no closed family of theirs", user: uC1, method: get, path: "/api/v1/families?status=closed", status: ok, check: families(true)},
		{name: "the auditor lists the closed families without names", user: uAuditor, method: get, path: "/api/v1/families?status=closed", status: ok, check: families(false, id2)},

		// The access log: the auditor's and the admin's.
		{name: "the auditor finds W's reads of F1's plan as a team member in F1's access log", user: uAuditor, method: get, path: "/api/v1/access-log?family=" + id1, status: ok,
			check: all(accessed(uW, id1, "plan", "team"), accessed(uC1, id1, "plan", "coordinator"), accessed(uAuditor, id1, "history", "auditor"),
				accessed(uC1, id1, "export", "coordinator"), accessed(uW, id1, "list", "team"), accessed(uW, id1, "caseload", "team"))},
		{name: "the auditor finds W's reads of F1's plan in W's access log", user: uAuditor, method: get, path: "/api/v1/access-log?user=" + w.userIDs[uW], status: ok,
			check: all(accessed(uW, id1, "plan", "team"), onlyUser(uW, id2))},
		{name: "the auditor finds none of C2's refused reads of F1 in C2's access log", user: uAuditor, method: get, path: "/api/v1/access-log?user=" + w.userIDs[uC2], status: ok,
			check: all(accessed(uC2, id2, "plan", "coordinator"), onlyUser(uC2, id1))},
		{name: "the admin reads F1's access log", user: uAdmin, method: get, path: "/api/v1/access-log?family=" + id1, status: ok, check: accessed(uW, id1, "plan", "team")},
		{name: "C1 may not read the access log", user: uC1, method: get, path: "/api/v1/access-log?family=" + id1, status: forbidden, code: "role_forbidden"},
		{name: "W may not read their own access log", user: uW, method: get, path: "/api/v1/access-log?user=" + w.userIDs[uW], status: forbidden, code: "role_forbidden"},
		{name: "the animator of P may not read the access log", user: uAnimatorP, method: get, path: "/api/v1/access-log?family=" + id1, status: forbidden, code: "role_forbidden"},
		{name: "the evaluator may not read the access log", user: uEvaluator, method: get, path: "/api/v1/access-log?family=" + id1, status: forbidden, code: "role_forbidden"},

		// The team relation lasts while one is on the current team.
		{name: "W may not remove X from F1's team", user: uW, method: del, path: f1 + "/team/members/" + w.x, body: leave, status: forbidden, code: "forbidden"},
		{name: "C1 removes W from F1's team", user: uC1, method: del, path: f1 + "/team/members/" + w.w, body: leave, status: ok},
		{name: "W, off the team, no longer sees F1's plan", user: uW, method: get, path: f1 + "/plan", status: notFound, code: "family_not_found"},
		{name: "W, off the team, may no longer update an action of F1's contract", user: uW, method: post, path: f1 + "/contract/actions/a3", body: map[string]any{"status": "completed", "date": "2024-06-21"}, status: notFound, code: "family_not_found"},
		{name: "W, off the team, no longer lists F1", user: uW, method: get, path: "/api/v1/families", status: ok, check: families(true)},
		{name: "W's caseload no longer shows F1", user: uW, method: get, path: wCaseload, status: ok, check: caseload(true)},
	}

	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			token, known := w.tokens[row.user]
			require.True(t, known, "no user %q", row.user)
			before := ta.lastSeq()
			r := ta.do(row.method, row.path, token, nil, row.body)
			switch {
			case row.status >= 400:
				requireProblem(t, r, row.status, row.code, "")
				assert.Equal(t, before, ta.lastSeq(), "a refused request writes nothing")
				for _, secret := range familySecrets {
					assert.NotContains(t, string(r.raw), secret, "a refusal tells nothing of the family")
				}
				if row.status == http.StatusNotFound {
					assert.NotContains(t, string(r.raw), w.p, "a family out of scope does not reveal its partnership")
					// Out of scope answers as if the family did not exist.
					for _, fc := range []familyCase{w.f1, w.f2, w.f3} {
						if strings.Contains(row.path, fc.id) {
							ghost := domain.NewID()
							g := ta.do(row.method, strings.ReplaceAll(row.path, fc.id, ghost), token, nil, row.body)
							assert.Equal(t, strings.ReplaceAll(string(g.raw), ghost, fc.id), string(r.raw), "the answer for a family that does not exist")
							assert.Equal(t, before, ta.lastSeq(), "a refused request writes nothing")
						}
					}
				}
			case row.method == http.MethodGet:
				require.Equal(t, row.status, r.status, "%s", r.raw)
				assert.Equal(t, before, ta.lastSeq(), "a read writes nothing")
			default:
				require.Equal(t, row.status, r.status, "%s", r.raw)
				var res api.CommandResponse
				require.NoError(t, json.Unmarshal(r.raw, &res))
				assert.Greater(t, res.Sequence, before, "the command is written")
				ta.settle(res.Sequence)
			}
			if row.check != nil {
				row.check(t, r)
			}
		})
	}
}

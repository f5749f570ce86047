package api_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/projections"
)

// Texts of the violence part of the case: none may reach a worker whose
// institution's consent does not cover violence.
const (
	violenceGoal    = "Bezpieczeństwo matki i dzieci w domu"
	violenceAction  = "Działanie a1"
	violenceService = "Grupa wsparcia dla osób doznających przemocy"
	violenceNeeds   = "Potrzeby w obszarze violence"
	assessmentCause = "Długotrwałe bezrobocie matki"
)

func TestConsentCoversEveryPartOfThePlan(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	mops := ta.institution("MOPS Testowo", domain.SectorSocialAssistance)
	school := ta.institution("Szkoła Podstawowa nr 1", domain.SectorEducation)
	p := ta.partnership("PZK Testowo", mops).ID
	ta.join(p, school)
	coordinator := ta.registerWorker(mops, "Anna Koordynatorka", "pracownik socjalny")
	pedagogue := ta.registerWorker(school, "Maria Pedagog", "pedagog szkolny")
	res := ta.command(http.MethodPost, "/api/v1/partnerships/"+p+"/services",
		map[string]any{"institution_id": mops, "name": violenceService, "area": "violence"}, http.StatusCreated)
	pv, _ := ta.readPartnership(p, res.Sequence)
	require.Len(t, pv.Services, 1)
	service := pv.Services[0].ServiceID
	assert.Equal(t, domain.AreaViolence, pv.Services[0].Area)

	fix := familyFixture{partnershipFixture: partnershipFixture{ops: mops, school: school, id: p}}
	fc := ta.openFamily(fix, coordinator)
	ta.on(&fc, http.StatusCreated, http.MethodPost, "/consents", consentBody(school, fc.applicant, "basic"))
	ta.on(&fc, http.StatusOK, http.MethodPost, "/diagnosis", diagnosisBody(coordinator, mops, "violence", "critical"))
	ta.on(&fc, http.StatusOK, http.MethodPost, "/diagnosis", diagnosisBody(coordinator, mops, "parenting", "medium"))
	ta.on(&fc, http.StatusOK, http.MethodPost, "/team", map[string]any{"date": "2024-05-20", "members": []map[string]any{{"worker_id": pedagogue, "institution_id": school}}})
	ta.on(&fc, http.StatusCreated, http.MethodPost, "/referrals", map[string]any{"service_id": service, "date": "2024-05-23"})
	token := ta.user(domain.RoleWorker, school, pedagogue)
	t.Run("a diagnosis input in an area the consent does not cover is refused and writes nothing", func(t *testing.T) {
		ta.settle(fc.seq)
		before := ta.lastSeq()
		r := ta.do(http.MethodPost, fc.path+"/diagnosis", token, nil, diagnosisBody(pedagogue, school, "violence", "high"))
		requireProblem(t, r, http.StatusConflict, "no_consent", "area")
		assert.Equal(t, before, ta.lastSeq(), "a refused input writes nothing")
		r = ta.do(http.MethodPost, fc.path+"/diagnosis", token, nil, diagnosisBody(pedagogue, school, "education", "high"))
		requireProblem(t, r, http.StatusConflict, "no_consent", "area")
		assert.Equal(t, before, ta.lastSeq(), "a refused input writes nothing")
	})
	ta.on(&fc, http.StatusOK, http.MethodPost, "/diagnosis/complete", map[string]any{"date": "2024-05-24", "summary": "Przemoc w rodzinie"})
	contract := contractBody(action("a1", "g1", "coordinator", "2024-07-15"), action("a2", "g2", school, "2024-09-30"), action("a3", "g2", "client", "2024-09-30"))
	contract["goals"] = []map[string]any{
		{"id": "g1", "description": violenceGoal, "area": "violence"},
		{"id": "g2", "description": "Regularne uczęszczanie dziecka do szkoły", "area": "parenting"},
	}
	ta.on(&fc, http.StatusOK, http.MethodPost, "/contract", contract)
	ta.on(&fc, http.StatusOK, http.MethodPost, "/contract/sign", map[string]any{"date": "2024-06-01", "client_id": fc.applicant})
	whole, _ := ta.plan(fc, "")
	require.NotNil(t, whole.Contract)
	assert.Equal(t, domain.AreaViolence, actionIn(t, whole, "a1").Area, "an action takes its goal's area")
	assert.Equal(t, domain.AreaViolence, whole.Referrals[0].Area, "a referral takes its service's area")

	// seen reads the plan as the pedagogue.
	seen := func(t *testing.T) (projections.PlanView, string) {
		t.Helper()
		ta.settle(fc.seq)
		r := ta.do(http.MethodGet, fc.path+"/plan", token, nil, nil)
		require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
		var v projections.PlanView
		require.NoError(t, json.Unmarshal(r.raw, &v))
		return v, string(r.raw)
	}
	goals := func(v projections.PlanView) (ids []string) {
		for _, g := range v.Contract.Goals {
			ids = append(ids, g.ID)
		}
		return ids
	}
	actions := func(v projections.PlanView) (ids []string) {
		for _, a := range v.Contract.Actions {
			ids = append(ids, a.ID)
		}
		for _, s := range v.Contract.ActionsBySector {
			for _, a := range s.Actions {
				ids = append(ids, a.ID+" by sector")
			}
		}
		for _, d := range append(v.NextDeadlines, v.Overdue...) {
			ids = append(ids, d.ActionID+" due")
		}
		return ids
	}
	// hidden requires the violence part of the case not to reach the
	// pedagogue.
	hidden := func(t *testing.T) {
		t.Helper()
		v, raw := seen(t)
		require.NotNil(t, v.Contract)
		assert.Equal(t, []string{"g2"}, goals(v), "the goals shown")
		assert.ElementsMatch(t, []string{"a2", "a3", "a2 by sector", "a3 by sector", "a2 due", "a3 due"}, actions(v), "the actions shown")
		assert.Empty(t, v.Referrals, "the referral to the violence service")
		assert.Equal(t, []domain.NeedArea{domain.AreaParenting}, areaNames(v.Diagnosis.Areas), "the diagnosis areas shown")
		assert.Empty(t, v.Contract.Assessment, "the assessment sums up the violence too")
		assert.Empty(t, v.Contract.MainGoal)
		assert.Empty(t, v.Diagnosis.Summary)
		for _, secret := range []string{violenceGoal, violenceAction, violenceService, violenceNeeds, assessmentCause, "Przemoc w rodzinie"} {
			assert.NotContains(t, raw, secret)
		}
		assert.Contains(t, raw, applicantName, "basic data stays")
	}

	t.Run("a worker whose consent covers basic data does not see the violence part of the plan", hidden)

	var consent string
	t.Run("once a consent covering violence is recorded the worker sees it", func(t *testing.T) {
		ta.on(&fc, http.StatusCreated, http.MethodPost, "/consents", consentBody(school, fc.applicant, "basic", "violence"))
		v, raw := seen(t)
		require.NotNil(t, v.Contract)
		assert.Equal(t, []string{"g1", "g2"}, goals(v))
		assert.Contains(t, actions(v), "a1")
		require.Len(t, v.Referrals, 1)
		assert.Equal(t, violenceService, v.Referrals[0].ServiceName)
		assert.ElementsMatch(t, []domain.NeedArea{domain.AreaViolence, domain.AreaParenting}, areaNames(v.Diagnosis.Areas))
		assert.Equal(t, assessmentCause, v.Contract.Assessment.Causes)
		assert.Contains(t, raw, violenceNeeds)
		for _, c := range v.Consents {
			if c.InstitutionID == school && len(c.Categories) == 2 {
				consent = c.ConsentID
			}
		}
	})

	t.Run("after the consent is withdrawn the worker no longer sees it", func(t *testing.T) {
		require.NotEmpty(t, consent)
		today := projections.Today(time.Now()).String()
		ta.on(&fc, http.StatusOK, http.MethodPost, "/consents/"+consent+"/withdraw", map[string]any{"withdrawn_on": today, "reason": "decyzja wnioskodawczyni"})
		hidden(t)
	})

	t.Run("the coordinator sees the whole plan throughout", func(t *testing.T) {
		v, _ := ta.plan(fc, "")
		assert.Len(t, v.Contract.Goals, 2)
		assert.Len(t, v.Contract.Actions, 3)
		assert.Len(t, v.Referrals, 1)
		assert.Equal(t, assessmentCause, v.Contract.Assessment.Causes)
	})
}

func TestMistakesAreTakenBackByNewEvents(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	mops := ta.institution("MOPS Testowo", domain.SectorSocialAssistance)
	school := ta.institution("Szkoła Podstawowa nr 1", domain.SectorEducation)
	p := ta.partnership("PZK Testowo", mops).ID
	ta.join(p, school)
	coordinator := ta.registerWorker(mops, "Anna Koordynatorka", "pracownik socjalny")
	pedagogue := ta.registerWorker(school, "Maria Pedagog", "pedagog szkolny")
	fix := familyFixture{partnershipFixture: partnershipFixture{ops: mops, school: school, id: p}}
	fc := ta.openFamily(fix, coordinator)
	ta.on(&fc, http.StatusCreated, http.MethodPost, "/consents", consentBody(school, fc.applicant, "basic", "education"))
	ta.on(&fc, http.StatusOK, http.MethodPost, "/team", map[string]any{"date": "2024-05-20", "members": []map[string]any{{"worker_id": pedagogue, "institution_id": school}}})
	ta.on(&fc, http.StatusOK, http.MethodPost, "/diagnosis", diagnosisBody(coordinator, mops, "housing", "high"))
	token := ta.user(domain.RoleWorker, school, pedagogue)
	coord := ta.user(domain.RoleCoordinator, mops, coordinator)
	as := func(t *testing.T, token, path string, body any, status int) response {
		t.Helper()
		ta.settle(fc.seq)
		r := ta.do(http.MethodPost, fc.path+path, token, nil, body)
		require.Equal(t, status, r.status, "%s", r.raw)
		if status < 300 {
			var res struct{ Sequence uint64 }
			require.NoError(t, json.Unmarshal(r.raw, &res))
			fc.seq = res.Sequence
		}
		return r
	}
	// unchanged requires a refusal with the field named that writes
	// nothing.
	unchanged := func(t *testing.T, token, path string, body any, status int, code, field string) {
		t.Helper()
		ta.settle(fc.seq)
		before := ta.lastSeq()
		r := ta.do(http.MethodPost, fc.path+path, token, nil, body)
		requireProblem(t, r, status, code, field)
		assert.Equal(t, before, ta.lastSeq(), "a refused request writes nothing")
	}
	as(t, token, "/diagnosis", diagnosisBody(pedagogue, school, "education", "critical"), http.StatusOK)
	v, _ := ta.plan(fc, "")
	require.Len(t, v.Diagnosis.Areas, 2)
	ids := map[domain.NeedArea]string{}
	for _, a := range v.Diagnosis.Areas {
		require.Len(t, a.Inputs, 1)
		require.NoError(t, domain.CheckID("input id", a.Inputs[0].InputID))
		ids[a.Area] = a.Inputs[0].InputID
	}
	correction := map[string]any{"severity": "low", "needs": "Pomoc w odrabianiu lekcji", "date": "2024-05-21", "reason": "waga zawyżona przez pomyłkę"}
	withdrawal := map[string]any{"date": "2024-05-21", "reason": "wpisane do niewłaściwej rodziny"}

	t.Run("a team member may not withdraw another institution's input", func(t *testing.T) {
		unchanged(t, token, "/diagnosis/"+ids[domain.AreaHousing]+"/withdraw", withdrawal, http.StatusForbidden, "forbidden", "")
	})
	t.Run("a correction without a reason is refused", func(t *testing.T) {
		unchanged(t, token, "/diagnosis/"+ids[domain.AreaEducation]+"/correct", map[string]any{"severity": "low", "needs": "x", "date": "2024-05-21"},
			http.StatusBadRequest, "required", "reason")
	})
	t.Run("a correction of an unknown input is refused", func(t *testing.T) {
		unchanged(t, coord, "/diagnosis/"+domain.NewID()+"/correct", correction, http.StatusNotFound, "input_not_found", "")
	})
	t.Run("a withdrawal with a malformed input id is refused", func(t *testing.T) {
		unchanged(t, coord, "/diagnosis/wklad/withdraw", withdrawal, http.StatusNotFound, "not_found", "")
	})
	t.Run("a team member corrects their own input and the plan shows the correction", func(t *testing.T) {
		as(t, token, "/diagnosis/"+ids[domain.AreaEducation]+"/correct", correction, http.StatusOK)
		v, _ := ta.plan(fc, "")
		for _, a := range v.Diagnosis.Areas {
			if a.Area == domain.AreaEducation {
				assert.Equal(t, domain.SeverityLow, a.Severity, "the area's severity follows the correction")
				assert.Equal(t, "Pomoc w odrabianiu lekcji", a.Inputs[0].Needs)
			}
		}
	})
	t.Run("the coordinator withdraws an input and the plan no longer shows it", func(t *testing.T) {
		as(t, coord, "/diagnosis/"+ids[domain.AreaHousing]+"/withdraw", withdrawal, http.StatusOK)
		v, _ := ta.plan(fc, "")
		assert.Equal(t, []domain.NeedArea{domain.AreaEducation}, areaNames(v.Diagnosis.Areas))
		unchanged(t, coord, "/diagnosis/"+ids[domain.AreaHousing]+"/withdraw", withdrawal, http.StatusNotFound, "input_not_found", "")
	})

	ta.on(&fc, http.StatusOK, http.MethodPost, "/diagnosis/complete", map[string]any{"date": "2024-05-24"})
	ta.on(&fc, http.StatusOK, http.MethodPost, "/contract", contractBody(action("a1", "g1", "client", "2024-11-15"), action("a2", "g2", school, "2024-11-15")))
	ta.on(&fc, http.StatusOK, http.MethodPost, "/contract/sign", map[string]any{"date": "2024-06-01", "client_id": fc.applicant})

	t.Run("a team member may not withdraw an action, even their institution's", func(t *testing.T) {
		unchanged(t, token, "/contract/actions/a2/withdraw", withdrawal, http.StatusForbidden, "forbidden", "")
	})
	t.Run("an action withdrawn without a reason is refused", func(t *testing.T) {
		unchanged(t, coord, "/contract/actions/a2/withdraw", map[string]any{"date": "2024-06-05"}, http.StatusBadRequest, "required", "reason")
	})
	t.Run("the coordinator withdraws an action: it stays, withdrawn, and is no longer due", func(t *testing.T) {
		as(t, coord, "/contract/actions/a2/withdraw", map[string]any{"date": "2024-06-05", "reason": "zajęcia odwołane przez szkołę"}, http.StatusOK)
		v, _ := ta.plan(fc, "")
		a := actionIn(t, v, "a2")
		assert.Equal(t, domain.ActionStatusWithdrawn, a.Status)
		assert.Equal(t, "zajęcia odwołane przez szkołę", a.Note)
		assert.False(t, a.Overdue)
		for _, d := range append(v.NextDeadlines, v.Overdue...) {
			assert.NotEqual(t, "a2", d.ActionID, "a withdrawn action is not due")
		}
		unchanged(t, token, "/contract/actions/a2", map[string]any{"status": "started", "date": "2024-06-06"}, http.StatusConflict, "action_transition", "status")
	})
	t.Run("the history shows every correction and withdrawal with its reason", func(t *testing.T) {
		var h struct {
			Items []projections.HistoryEntry `json:"items"`
		}
		ta.read(fc.path+"/history", fc.seq, &h)
		reasons := map[string]string{}
		for _, e := range h.Items {
			reasons[e.Type] = e.Reason
			assert.NotEqual(t, e.Type, e.Summary, "a summary for %s", e.Type)
			for _, id := range ids {
				assert.NotContains(t, e.Summary, id, "the history names an input by its area and who gave it, not its id")
			}
		}
		assert.Equal(t, "waga zawyżona przez pomyłkę", reasons["DiagnosisInputCorrected"])
		assert.Equal(t, "wpisane do niewłaściwej rodziny", reasons["DiagnosisInputWithdrawn"])
		assert.Equal(t, "zajęcia odwołane przez szkołę", reasons["ActionWithdrawn"])
		assert.Contains(t, reasons, "DiagnosisInputRecorded", "the withdrawn input stays in the history")
		summaries := map[string]string{}
		for _, e := range h.Items {
			summaries[e.Type] = e.Summary
		}
		assert.Contains(t, summaries["DiagnosisInputWithdrawn"], "mieszkanie", "the withdrawn input's area")
		assert.Contains(t, summaries["DiagnosisInputWithdrawn"], "Anna Koordynatorka", "who gave the withdrawn input")
		assert.Contains(t, summaries["ActionWithdrawn"], "Działanie a2", "the withdrawn action's description")
	})
}

package api_test

import (
	"context"
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
	"github.com/kooperacje/kooperacje/vault"
)

// Texts of the family of the privacy tests, each to be found readable
// before the erasure and nowhere after it.
const (
	openReason     = "wniosek pedagoga szkolnego"
	needsText      = "Zadłużenie czynszowe i brak pracy"
	summaryText    = "Rodzina wymaga wsparcia w trzech obszarach"
	leaveReason    = "zmiana pedagoga w szkole"
	declineReason  = "brak wolnych miejsc w świetlicy"
	closeReason    = "rodzina zrezygnowała ze wsparcia"
	eraseReason    = "wniosek wnioskodawczyni o usunięcie danych"
	eraseBasis     = "art. 17 ust. 1 lit. b RODO"
	retentionBasis = "zarządzenie dyrektora MOPS"
)

// closedFamily takes a family through consents, a diagnosis, a team that
// one member leaves, a declined referral and a draft contract, and closes
// it on 2024-07-01.
func closedFamily(ta *testAPI, f familyFixture) familyCase {
	ta.t.Helper()
	fc := familyCase{applicant: domain.NewID(), child: domain.NewID()}
	res := ta.command(http.MethodPost, "/api/v1/families", with(openBody(f, fc.applicant, fc.child, f.coordinator), "reason", openReason), http.StatusCreated)
	fc.id, fc.path, fc.seq = res.ID, "/api/v1/families/"+res.ID, res.Sequence
	ta.on(&fc, http.StatusCreated, http.MethodPost, "/consents", consentBody(f.pup, fc.applicant, "basic", "employment"))
	ta.on(&fc, http.StatusCreated, http.MethodPost, "/consents", consentBody(f.school, fc.applicant, "basic", "education"))
	ta.on(&fc, http.StatusOK, http.MethodPost, "/diagnosis", with(diagnosisBody(f.adviser, f.pup, "employment", "high"), "needs", needsText))
	ta.on(&fc, http.StatusOK, http.MethodPost, "/diagnosis/complete", map[string]any{"date": "2024-05-17", "summary": summaryText})
	ta.on(&fc, http.StatusOK, http.MethodPost, "/team", map[string]any{"date": "2024-05-20",
		"members": []map[string]any{{"worker_id": f.adviser, "institution_id": f.pup}, {"worker_id": f.pedagogue, "institution_id": f.school}}})
	ta.on(&fc, http.StatusOK, http.MethodDelete, "/team/members/"+f.pedagogue, map[string]any{"date": "2024-05-27", "reason": leaveReason})
	ta.on(&fc, http.StatusCreated, http.MethodPost, "/referrals", map[string]any{"service_id": f.schoolService, "date": "2024-05-23"})
	v, _ := ta.plan(fc, "")
	ta.on(&fc, http.StatusOK, http.MethodPost, "/referrals/"+referralTo(ta.t, v, f.schoolService).ReferralID,
		map[string]any{"status": "declined", "date": "2024-05-24", "reason": declineReason})
	ta.on(&fc, http.StatusOK, http.MethodPost, "/contract", contractBody(action("a1", "g1", "client", "2024-07-15"), action("a2", "g2", f.pup, "2024-08-31")))
	ta.on(&fc, http.StatusOK, http.MethodPost, "/close", map[string]any{"date": "2024-07-01", "outcome": "client_withdrew", "reason": closeReason})
	return fc
}

// exported is the answer of GET /families/{id}/export, its events as
// JSON objects.
type exported struct {
	FamilyID   string               `json:"family_id"`
	ExportedAt time.Time            `json:"exported_at"`
	Plan       projections.PlanView `json:"plan"`
	Events     []map[string]any     `json:"events"`
	byType     map[string]map[string]any
}

func (ta *testAPI) export(fc familyCase) (exported, response) {
	ta.t.Helper()
	var e exported
	r := ta.read(fc.path+"/export", fc.seq, &e)
	e.byType = map[string]map[string]any{}
	for _, ev := range e.Events {
		e.byType[ev["type"].(string)] = ev
	}
	return e, r
}

// payload returns a member of an exported event's payload, following
// the path through objects and lists (given as indexes "0", "1"…).
func payload(t *testing.T, ev map[string]any, path ...string) any {
	t.Helper()
	require.NotNil(t, ev, "the event is exported")
	var node any = ev["payload"]
	for _, p := range path {
		switch n := node.(type) {
		case map[string]any:
			node = n[p]
		case []any:
			i := int(p[0] - '0')
			require.Less(t, i, len(n), "%v", path)
			node = n[i]
		default:
			require.FailNow(t, "no such member", "%v in %v", path, ev["payload"])
		}
	}
	return node
}

func TestEraseFamily(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	f := newFamilyFixture(ta)
	fc := closedFamily(ta, f)
	open := ta.openFamily(f, f.coordinator)
	admin := ta.tokens[domain.RoleAdmin]

	t.Run("the export before the erasure holds everything, readable", func(t *testing.T) {
		e, r := ta.export(fc)
		assert.Equal(t, `attachment; filename="rodzina-`+fc.id+`.json"`, r.header.Get("Content-Disposition"))
		assert.Equal(t, fc.id, e.FamilyID)
		assert.WithinDuration(t, time.Now(), e.ExportedAt, time.Minute)
		assert.NotContains(t, string(r.raw), "enc:v1", "nothing sealed is handed out")

		assert.Equal(t, applicantName, e.Plan.Household[0].Name)
		assert.Equal(t, familyAddress, e.Plan.Address)
		assert.Equal(t, projections.StageClosed, e.Plan.Stage)

		version := versionOf(t, ta, fc)
		require.Len(t, e.Events, int(version), "every event of the family")
		for i, ev := range e.Events {
			assert.Equal(t, fc.id, ev["aggregate_id"])
			assert.Equal(t, "family", ev["aggregate_type"])
			assert.EqualValues(t, i+1, ev["aggregate_version"])
			assert.NotEmpty(t, ev["event_id"])
			assert.NotEmpty(t, ev["recorded_at"])
			assert.NotNil(t, ev["payload"], "%v", ev["type"])
			assert.NotEmpty(t, ev["hash"], "each event is chained")
		}
		opened := e.byType["FamilyCaseOpened"]
		assert.Equal(t, applicantName, payload(t, opened, "household", "0", "name"))
		assert.Equal(t, "85041212344", payload(t, opened, "household", "0", "pesel"))
		assert.Equal(t, "1985-04-12", payload(t, opened, "household", "0", "birth_date"))
		assert.Equal(t, familyAddress, payload(t, opened, "address"))
		assert.Equal(t, openReason, opened["reason"])
		assert.Equal(t, needsText, payload(t, e.byType["DiagnosisInputRecorded"], "needs"))
		assert.Equal(t, summaryText, payload(t, e.byType["DiagnosisCompleted"], "summary"))
		assert.Equal(t, leaveReason, e.byType["TeamMemberLeft"]["reason"])
		assert.Equal(t, declineReason, e.byType["ReferralDeclined"]["reason"])
		assert.Equal(t, closeReason, e.byType["CaseClosed"]["reason"])
		assert.Equal(t, "Działanie a1", payload(t, e.byType["ContractDrafted"], "terms", "actions", "0", "description"))
		assert.Equal(t, map[string]any{"user_id": ta.userIDs[domain.RoleAdmin], "role": "admin"}, opened["actor"])

		var log api.List[domain.Access]
		ta.read("/api/v1/access-log?family="+fc.id, fc.seq, &log)
		var what []string
		for _, a := range log.Items {
			what = append(what, a.What)
		}
		assert.Contains(t, what, "export", "the export is a logged read of personal data")
	})

	t.Run("the retention of the coordinating centre makes the closed family due", func(t *testing.T) {
		r := ta.admin(http.MethodPut, "/api/v1/institutions/"+f.ops+"/retention", map[string]any{"days": 30, "reason": retentionBasis})
		require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
		var res api.CommandResponse
		require.NoError(t, json.Unmarshal(r.raw, &res))
		assert.Equal(t, f.ops, res.ID)
		due := func(asOf string) []projections.Due {
			t.Helper()
			var l api.List[projections.Due]
			ta.read("/api/v1/retention/due?as_of="+asOf, res.Sequence, &l)
			return l.Items
		}
		assert.Empty(t, due("2024-07-30"), "29 days after closing")
		got := due("2024-07-31")
		require.Len(t, got, 1, "30 days after closing; the open family is never due")
		assert.Equal(t, projections.Due{FamilyID: fc.id, InstitutionID: f.ops, ClosedOn: domain.NewDate(2024, 7, 1), Days: 30,
			DueOn: domain.NewDate(2024, 7, 31)}, got[0])
		assert.Len(t, due("2030-01-01"), 1)

		requireProblem(t, ta.admin(http.MethodGet, "/api/v1/retention/due?as_of=2024-07-32", nil), http.StatusBadRequest, "invalid_field", "as_of")
		for _, role := range []domain.Role{domain.RoleWorker, domain.RoleAnimator, domain.RoleAuditor, domain.RoleEvaluator} {
			r := ta.do(http.MethodGet, "/api/v1/retention/due", ta.tokens[role], nil, nil)
			requireProblem(t, r, http.StatusForbidden, "role_forbidden", "")
		}
		before := ta.lastSeq()
		r = ta.admin(http.MethodPut, "/api/v1/institutions/"+f.ops+"/retention", map[string]any{"days": -5})
		requireProblem(t, r, http.StatusBadRequest, "invalid_field", "days")
		assert.Equal(t, before, ta.lastSeq())
	})

	route := commandRoute{name: "erase a family", method: http.MethodPost, path: fc.path + "/erase",
		valid: map[string]any{"legal_basis": eraseBasis, "date": "2024-08-01", "reason": eraseReason}, firstRequired: "legal_basis"}
	t.Run("an erasure that cannot be carried out writes nothing and keeps the key", func(t *testing.T) {
		valid, unknown := route.valid, domain.NewID()
		_, got := ta.plan(fc, "")
		tests := badBodies(route)
		add := func(name, path string, headers map[string]string, body any, status int, code, field string) {
			tests = append(tests, badRequest{name: name, method: http.MethodPost, path: path, headers: headers, body: body, status: status, code: code, field: field})
		}
		add("erase a family without a reason", route.path, nil, with(valid, "reason", nil), 400, "required", "reason")
		add("erase a family with a blank reason", route.path, nil, with(valid, "reason", " \n"), 400, "required", "reason")
		add("erase a family without a legal basis", route.path, nil, with(valid, "legal_basis", nil), 400, "required", "legal_basis")
		add("erase a family with a legal basis that is a number", route.path, nil, with(valid, "legal_basis", 17), 400, "invalid_field", "legal_basis")
		add("erase a family with a legal basis of 301 characters", route.path, nil, with(valid, "legal_basis", strings.Repeat("a", 301)), 400, "invalid_field", "legal_basis")
		add("erase a family without a date", route.path, nil, with(valid, "date", nil), 400, "required", "date")
		add("erase a family on 2024-02-30", route.path, nil, with(valid, "date", "2024-02-30"), 400, "invalid_field", "date")
		add("erase a family on a date that is a number", route.path, nil, with(valid, "date", 20240801), 400, "invalid_field", "date")
		add("erase a family in 1989", route.path, nil, with(valid, "date", "1989-01-01"), 400, "invalid_field", "date")
		add("erase a family naming it in the body", route.path, nil, with(valid, "family_id", fc.id), 400, "invalid_field", "family_id")
		add("erase a family that does not exist", "/api/v1/families/"+unknown+"/erase", nil, valid, 404, "family_not_found", "")
		add("erase a family with a malformed id", "/api/v1/families/rodzina/erase", nil, valid, 404, "not_found", "")
		add("erase a family at a stale version", route.path, map[string]string{"If-Match": etag(3)}, valid, 409, "version_conflict", "If-Match")
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := ta.lastSeq()
				r := ta.do(tt.method, tt.path, admin, tt.headers, tt.body)
				assert.Equal(t, before, ta.lastSeq(), "nothing is written: %s", r.raw)
				requireProblem(t, r, tt.status, tt.code, tt.field)
				assert.NotContains(t, r.body, "key_destroyed")
			})
		}
		_, err := ta.keys.DataKey(t.Context(), fc.id, false)
		require.NoError(t, err, "the data key is still there")
		v, again := ta.plan(fc, "")
		assert.Equal(t, got.header.Get("ETag"), again.header.Get("ETag"))
		assert.False(t, v.Erased)
		assert.Equal(t, applicantName, v.Household[0].Name)
	})

	var erasedAt uint64
	t.Run("the erasure destroys the key and forgets the person", func(t *testing.T) {
		before := ta.lastSeq()
		version := versionOf(t, ta, fc)
		r := ta.admin(http.MethodPost, route.path, route.valid)
		require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
		var res api.EraseResponse
		require.NoError(t, json.Unmarshal(r.raw, &res))
		assert.True(t, res.KeyDestroyed)
		assert.Equal(t, fc.id, res.ID)
		assert.Equal(t, version+1, res.Version)
		assert.Equal(t, before+1, res.Sequence)
		assert.Equal(t, before+1, ta.lastSeq(), "one event: FamilyErased")
		fc.seq, erasedAt = res.Sequence, res.Sequence

		_, err := ta.keys.DataKey(t.Context(), fc.id, false)
		require.ErrorIs(t, err, vault.ErrErased)
		_, err = ta.keys.DataKey(t.Context(), open.id, false)
		require.NoError(t, err, "another family's key stays")
	})

	t.Run("the plan reads erased for names, address and texts; stage and counts stay", func(t *testing.T) {
		v, r := ta.plan(fc, "")
		assert.True(t, v.Erased)
		assert.NotContains(t, string(r.raw), applicantName)
		assert.NotContains(t, string(r.raw), needsText)
		require.Len(t, v.Household, 2, "the household is counted still")
		for _, p := range v.Household {
			assert.Equal(t, domain.ErasedText, p.Name)
			assert.True(t, p.BirthDate.IsZero(), "an erased date reads as null")
		}
		assert.Equal(t, domain.ErasedText, v.Household[0].PESEL)
		assert.Equal(t, domain.RelationApplicant, v.Household[0].Relation, "the relation is no personal datum")
		assert.Equal(t, domain.ErasedText, v.Address)
		assert.Equal(t, domain.ErasedText, v.Phone)
		assert.Equal(t, domain.ErasedText, v.Referral.Reason)
		assert.Equal(t, projections.StageClosed, v.Stage)
		assert.Equal(t, "closed", v.Status)
		assert.Equal(t, domain.OutcomeClientWithdrew, v.Outcome)
		assert.Equal(t, "2024-07-01", v.ClosedOn.String(), "the dates of the steps stay for evaluation")
		assert.Equal(t, "Anna Koordynatorka", v.Coordinator.Name, "staff names are not the family's data")
		assert.Len(t, v.Consents, 2)
		require.Len(t, v.Diagnosis.Areas, 1)
		assert.Equal(t, domain.AreaEmployment, v.Diagnosis.Areas[0].Area)
		assert.Equal(t, domain.SeverityHigh, v.Diagnosis.Areas[0].Severity)
		assert.Equal(t, domain.ErasedText, v.Diagnosis.Areas[0].Inputs[0].Needs)
		assert.Equal(t, domain.ErasedText, v.Diagnosis.Summary)
		assert.True(t, v.Diagnosis.Completed)
		require.Len(t, v.Referrals, 1)
		assert.Equal(t, domain.ReferralDeclinedStatus, v.Referrals[0].Status)
		assert.Equal(t, domain.ErasedText, v.Referrals[0].Reason)
		require.NotNil(t, v.Contract)
		assert.Equal(t, domain.ErasedText, v.Contract.MainGoal)
		require.Len(t, v.Contract.Actions, 2)
		assert.Equal(t, domain.ErasedText, v.Contract.Actions[0].Description)
		assert.Equal(t, "2024-07-15", v.Contract.Actions[0].Deadline.String())

		var l api.List[projections.FamilySummary]
		ta.read("/api/v1/families?status=closed", fc.seq, &l)
		require.Len(t, l.Items, 1)
		assert.True(t, l.Items[0].Erased)
		assert.Equal(t, domain.ErasedText, l.Items[0].Applicant)
		assert.Equal(t, 2, l.Items[0].Members)

		var due api.List[projections.Due]
		ta.read("/api/v1/retention/due?as_of=2030-01-01", fc.seq, &due)
		assert.Empty(t, due.Items, "an erased family is no longer due")
	})

	t.Run("an erased family takes no more commands", func(t *testing.T) {
		tests := []badRequest{
			{name: "erase it again", path: route.path, body: route.valid},
			{name: "reopen it", path: fc.path + "/reopen", body: map[string]any{"date": "2024-09-01", "reason": "ponowny wniosek"}},
			{name: "give a consent", path: fc.path + "/consents", body: consentBody(f.clinic, fc.applicant, "basic")},
			{name: "record a diagnosis input", path: fc.path + "/diagnosis", body: diagnosisBody(f.adviser, f.pup, "employment", "low")},
			{name: "close it", path: fc.path + "/close", body: map[string]any{"date": "2024-09-01", "outcome": "other"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := ta.lastSeq()
				r := ta.do(http.MethodPost, tt.path, admin, nil, tt.body)
				requireProblem(t, r, http.StatusConflict, "family_erased", "")
				assert.Equal(t, before, ta.lastSeq(), "nothing is written")
			})
		}
		_, err := ta.keys.DataKey(t.Context(), fc.id, false)
		require.ErrorIs(t, err, vault.ErrErased, "erasing again keeps the key destroyed")
	})

	t.Run("the export after the erasure keeps who forgot whom, when and why", func(t *testing.T) {
		e, r := ta.export(fc)
		for _, secret := range []string{applicantName, childName, familyAddress, "85041212344", openReason, needsText, summaryText,
			leaveReason, declineReason, closeReason, "Działanie a1", "enc:v1"} {
			assert.NotContains(t, string(r.raw), secret)
		}
		assert.True(t, e.Plan.Erased)
		require.Len(t, e.Events, int(versionOf(t, ta, fc)))
		opened := e.byType["FamilyCaseOpened"]
		assert.Equal(t, domain.ErasedText, payload(t, opened, "household", "0", "name"))
		assert.Nil(t, payload(t, opened, "household", "0", "birth_date"))
		assert.Equal(t, "applicant", payload(t, opened, "household", "0", "relation"))
		assert.Equal(t, domain.ErasedText, payload(t, opened, "address"))
		assert.Equal(t, domain.ErasedText, opened["reason"])
		assert.Equal(t, f.id, payload(t, opened, "partnership_id"), "ids stay")
		assert.Equal(t, "2024-05-06", payload(t, opened, "opened_on"), "the dates of the steps stay")
		assert.Equal(t, domain.ErasedText, payload(t, e.byType["DiagnosisInputRecorded"], "needs"))
		assert.Equal(t, "high", payload(t, e.byType["DiagnosisInputRecorded"], "severity"))
		assert.Equal(t, domain.ErasedText, e.byType["TeamMemberLeft"]["reason"])
		assert.Equal(t, domain.ErasedText, e.byType["ReferralDeclined"]["reason"])
		assert.Equal(t, domain.ErasedText, e.byType["CaseClosed"]["reason"])

		erased := e.byType["FamilyErased"]
		require.NotNil(t, erased)
		assert.Equal(t, eraseReason, erased["reason"], "the reason of the erasure stays readable")
		assert.Equal(t, map[string]any{"user_id": ta.userIDs[domain.RoleAdmin], "role": "admin"}, erased["actor"])
		assert.Equal(t, eraseBasis, payload(t, erased, "legal_basis"))
		assert.Equal(t, "2024-08-01", payload(t, erased, "date"))
		assert.Equal(t, e.Events[len(e.Events)-1]["event_id"], erased["event_id"], "the erasure is the last event")

		// The other family is untouched.
		other, _ := ta.export(open)
		assert.Equal(t, applicantName, other.Plan.Household[0].Name)
		assert.False(t, other.Plan.Erased)
	})

	t.Run("a rebuild from the stream reads as the live plan", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		envs, err := ta.store.Load(ctx, domain.AggregateFamily, fc.id)
		require.NoError(t, err)
		rebuilt := projections.NewFamilies()
		for _, env := range envs {
			require.NoError(t, rebuilt.Apply(env))
		}
		live, _ := ta.plan(familyCase{id: fc.id, path: fc.path, seq: erasedAt}, "")
		again, ok := rebuilt.Plan(fc.id, live.AsOf)
		require.True(t, ok)
		assert.Equal(t, live, again)
	})
}

package api_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/api"
	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/projections"
)

// runBadCases sends each bad request as the admin and checks the problem,
// the field it names, and that the stream did not change.
func runBadCases(t *testing.T, ta *testAPI, tests []badRequest) {
	t.Helper()
	names := map[string]bool{}
	for _, tt := range tests {
		require.False(t, names[tt.name], "case names are unique: %s", tt.name)
		names[tt.name] = true
		t.Run(tt.name, func(t *testing.T) {
			before := ta.lastSeq()
			r := ta.do(tt.method, tt.path, ta.tokens[domain.RoleAdmin], tt.headers, tt.body)
			assert.Equal(t, before, ta.lastSeq(), "nothing is written: %s", r.raw)
			requireProblem(t, r, tt.status, tt.code, tt.field)
			assert.NotEmpty(t, r.body["detail"])
			assert.Equal(t, strings.SplitN(tt.path, "?", 2)[0], r.body["instance"])
		})
	}
}

func TestFamilyStepsOutOfTimeOrOrderWriteNothing(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	f := newFamilyBadFixture(ta)
	routes := familyRoutes(f)
	_, req, at := badCases(routes, nil)
	body := func(key string) map[string]any { return routes[key].valid }
	// The fixture's cases were opened on 2024-05-06 in a partnership
	// initiated on 2024-03-01; fresh has consents of 2024-05-07, an input
	// of 2024-05-13 and a referral of 2024-05-23; teamed a diagnosis
	// completed on 2024-05-17 and a team formed on 2024-05-20; inForce a
	// contract signed on 2024-06-01; closed was closed on 2024-06-01.
	tests := []badRequest{
		// Business time.
		req("meeting", "record a team meeting whose occurred_at is 9999-12-31", with(body("meeting"), "occurred_at", "9999-12-31T00:00:00Z"), 400, "date_in_future", "occurred_at"),
		req("meeting", "record a team meeting dated next year", with(body("meeting"), "date", time.Now().AddDate(1, 0, 0).Format(time.DateOnly)), 400, "date_in_future", "date"),
		req("open", "open a case in 2099", with(body("open"), "opened_on", "2099-01-01"), 400, "date_in_future", "opened_on"),
		req("open", "open a case before the partnership was initiated", with(body("open"), "opened_on", "2024-02-29"), 400, "date_before_initiation", "opened_on"),
		req("consent", "give a consent whose occurred_at falls on another day than given_on", with(body("consent"), "occurred_at", "2024-05-08T12:00:00+02:00"), 400, "invalid_field", "occurred_at"),
		req("consent", "give a consent whose occurred_at is late on the evening before in UTC", with(body("consent"), "occurred_at", "2024-05-06T21:59:00Z"), 400, "invalid_field", "occurred_at"),
		req("legal", "record a legal basis whose occurred_at is before 1990", with(body("legal"), "occurred_at", "1989-12-31T12:00:00Z"), 400, "invalid_field", "occurred_at"),
		req("extend", "extend the contract with an occurred_at in the future", with(body("extend"), "occurred_at", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)), 400, "date_in_future", "occurred_at"),
		req("extend", "extend the contract with an occurred_at before the case was opened", with(body("extend"), "occurred_at", "2024-05-05T12:00:00+02:00"), 400, "date_out_of_order", "occurred_at"),

		// Order of steps.
		req("withdraw", "withdraw a consent before it was given", with(body("withdraw"), "withdrawn_on", "2024-05-06"), 400, "date_out_of_order", "withdrawn_on"),
		req("consent", "give a consent before the case was opened", with(body("consent"), "given_on", "2024-05-05"), 400, "date_out_of_order", "given_on"),
		req("legal", "record a legal basis before the case was opened", with(body("legal"), "recorded_on", "2024-05-01"), 400, "date_out_of_order", "recorded_on"),
		req("diagnosis", "record a diagnosis input before the case was opened", with(body("diagnosis"), "date", "2024-05-05"), 400, "date_out_of_order", "date"),
		req("complete", "complete the diagnosis before the case was opened", with(body("complete"), "date", "2024-05-05"), 400, "date_out_of_order", "date"),
		req("complete", "complete the diagnosis before its latest input", with(body("complete"), "date", "2024-05-12"), 400, "date_out_of_order", "date"),
		req("team", "form the team before the case was opened", with(body("team"), "date", "2024-05-05"), 400, "date_out_of_order", "date"),
		req("add", "add a team member before the team was formed", with(body("add"), "date", "2024-05-19"), 400, "date_out_of_order", "date"),
		req("remove", "remove a team member before they joined", with(body("remove"), "date", "2024-05-19"), 400, "date_out_of_order", "date"),
		req("meeting", "record a team meeting before the team was formed", with(body("meeting"), "date", "2024-05-19"), 400, "date_out_of_order", "date"),
		req("referral", "request a referral before the case was opened", with(body("referral"), "date", "2024-05-05"), 400, "date_out_of_order", "date"),
		req("decide", "accept a referral before it was requested", with(body("decide"), "date", "2024-05-22"), 400, "date_out_of_order", "date"),
		req("decide", "decline a referral before it was requested", with(body("decide"), "status", "declined", "date", "2024-05-22", "reason", "brak miejsc"), 400, "date_out_of_order", "date"),
		req("draft", "draft a contract starting before the case was opened", with(body("draft"), "start_date", "2024-05-05"), 400, "date_out_of_order", "start_date"),
		req("draft", "draft a contract dated before the case was opened", with(body("draft"), "date", "2024-05-05"), 400, "date_out_of_order", "date"),
		req("sign", "sign the contract before the diagnosis was completed", with(body("sign"), "date", "2024-05-16"), 400, "date_out_of_order", "date"),
		req("action", "update an action before the contract was signed", with(body("action"), "date", "2024-05-31"), 400, "date_out_of_order", "date"),
		req("review", "review the contract before it was signed", with(body("review"), "date", "2024-05-31"), 400, "date_out_of_order", "date"),
		req("amend", "amend the contract signed before the contract itself", with(body("amend"), "signed_on", "2024-05-31"), 400, "date_out_of_order", "signed_on"),
		req("end", "end the contract before its latest step", with(body("end"), "date", "2024-06-19"), 400, "date_out_of_order", "date"),
		at("close", "close the case before its latest step", f.fresh.path+"/close", with(body("close"), "date", "2024-05-22"), 400, "date_out_of_order", "date"),
		at("reopen", "reopen the case the day before it was closed", f.closed.path+"/reopen", with(body("reopen"), "date", "2024-05-31"), 400, "date_out_of_order", "date"),
	}
	runBadCases(t, ta, tests)
}

func TestPartnershipStepsOutOfTimeOrOrderWriteNothing(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	f := newBadInputFixture(ta)
	routes := commandRoutes(f)
	_, req, _ := badCases(routes, nil)
	body := func(key string) map[string]any { return routes[key].valid }
	tests := []badRequest{
		req("meeting", "record a partnership meeting whose occurred_at is 9999-12-31", with(body("meeting"), "occurred_at", "9999-12-31T00:00:00Z"), 400, "date_in_future", "occurred_at"),
		req("meeting", "record a partnership meeting in 2099", with(body("meeting"), "date", "2099-06-01"), 400, "date_in_future", "date"),
		req("staff", "record staff support whose occurred_at is before 1990", with(body("staff"), "occurred_at", "1970-01-01T00:00:00Z"), 400, "invalid_field", "occurred_at"),
		req("offer", "offer a service with an occurred_at before the partnership was initiated", with(body("offer"), "occurred_at", "2024-02-01T12:00:00+01:00"), 400, "date_before_initiation", "occurred_at"),
		req("leave", "leave a partnership before joining it", with(body("leave"), "date", "2024-03-15"), 400, "date_out_of_order", "date"),
		req("meeting", "record a partnership meeting attended by an institution before it joined", with(body("meeting"), "date", "2024-03-20"), 400, "date_out_of_order", "attendees[1]"),
		req("staff", "record staff support for an institution before it joined", with(body("staff"), "date", "2024-03-20", "institutions", []string{f.ops, f.school}), 400, "date_out_of_order", "institutions[1]"),
		req("initiate", "initiate a partnership in 2099", with(body("initiate"), "date", "2099-01-01"), 400, "date_in_future", "date"),
	}
	runBadCases(t, ta, tests)
}

func TestAStepsBusinessTimeIsItsDate(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	f := newFamilyFixture(ta)
	fc := ta.openFamily(f, f.coordinator) // opened_on 2024-05-06, no occurred_at
	ta.on(&fc, http.StatusCreated, http.MethodPost, "/consents", consentBody(f.pup, fc.applicant, "basic", "employment"))

	// As of the opening day the case exists, though it was recorded today.
	v, _ := ta.plan(fc, "2024-05-06")
	assert.Equal(t, projections.StageOpened, v.Stage)
	assert.Empty(t, v.Consents, "the consent was given on 2024-05-07")
	v, _ = ta.plan(fc, "2024-05-07")
	assert.Len(t, v.Consents, 1)
	r := ta.admin(http.MethodGet, fc.path+"/plan?as_of=2024-05-05&min_seq="+strconv.FormatUint(fc.seq, 10), nil)
	requireProblem(t, r, http.StatusNotFound, "family_not_found", "")

	// The history dates each step at noon in Poland of its day.
	var h api.List[projections.HistoryEntry]
	ta.read(fc.path+"/history", fc.seq, &h)
	require.Len(t, h.Items, 2)
	for i, day := range []string{"2024-05-06", "2024-05-07"} {
		d, err := domain.ParseDate(day)
		require.NoError(t, err)
		assert.True(t, d.Noon().Equal(h.Items[i].OccurredAt), "%s at %s", h.Items[i].Type, h.Items[i].OccurredAt)
		assert.Equal(t, day, h.Items[i].OccurredAt.In(projections.Warsaw).Format(time.DateOnly))
	}

	// An explicit occurred_at on the step's day is kept.
	res := ta.on(&fc, http.StatusOK, http.MethodPost, "/diagnosis", with(diagnosisBody(f.adviser, f.pup, "employment", "high"), "occurred_at", "2024-05-13T08:15:00+02:00"))
	ta.read(fc.path+"/history", res.Sequence, &h)
	last := h.Items[len(h.Items)-1]
	assert.True(t, time.Date(2024, 5, 13, 6, 15, 0, 0, time.UTC).Equal(last.OccurredAt), "%s", last.OccurredAt)
}

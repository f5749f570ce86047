package api_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/api"
	"github.com/kooperacje/kooperacje/domain"
)

// commandRoute is a command route with a body it accepts as it stands.
type commandRoute struct {
	name         string // what the command does, as a sentence: "join a partnership"
	method, path string
	valid        map[string]any
	bodyOptional bool
	// firstRequired is the field an empty JSON object is refused for.
	firstRequired string
}

// badRequest is a request that must be refused and write nothing.
type badRequest struct {
	name    string
	method  string
	path    string
	headers map[string]string
	body    any
	status  int
	code    string
	field   string
}

// with returns a copy of body with the given members set; a nil value
// removes the member.
func with(body map[string]any, kv ...any) map[string]any {
	out := maps.Clone(body)
	for i := 0; i < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(out, k)
			continue
		}
		out[k] = kv[i+1]
	}
	return out
}

// reqFunc and atFunc make a bad request to a route: req on the route's
// own path, at on another path.
type (
	reqFunc func(key, name string, body any, status int, code, field string) badRequest
	atFunc  func(key, name, path string, body any, status int, code, field string) badRequest
)

// badCases returns the bad bodies of every route in order, and the makers
// of a route's further bad requests.
func badCases(routes map[string]commandRoute, order []string) ([]badRequest, reqFunc, atFunc) {
	var tests []badRequest
	for _, key := range order {
		tests = append(tests, badBodies(routes[key])...)
	}
	req := func(key, name string, body any, status int, code, field string) badRequest {
		r := routes[key]
		return badRequest{name: name, method: r.method, path: r.path, body: body, status: status, code: code, field: field}
	}
	at := func(key, name, path string, body any, status int, code, field string) badRequest {
		b := req(key, name, body, status, code, field)
		b.path = path
		return b
	}
	return tests, req, at
}

// badBodies are the bad requests every command route refuses the same way.
func badBodies(r commandRoute) []badRequest {
	valid := r.valid
	out := []badRequest{
		{name: "a body that is not JSON", body: rawBody(`{name: "x"`), status: 400, code: "invalid_field"},
		{name: "a body that is cut short", body: rawBody(`{"name": "x"`), status: 400, code: "invalid_field"},
		{name: "the body null", body: rawBody(`null`), status: 400, code: "invalid_field"},
		{name: "a body that is an array", body: rawBody(`[` + mustJSON(valid) + `]`), status: 400, code: "invalid_field"},
		{name: "a body that is a string", body: rawBody(`"hello"`), status: 400, code: "invalid_field"},
		{name: "two JSON objects in the body", body: rawBody(mustJSON(valid) + ` {}`), status: 400, code: "invalid_field"},
		{name: "an unknown field", body: with(valid, "colour", "red"), status: 400, code: "invalid_field", field: "colour"},
		{name: "a reason that is not a string", body: with(valid, "reason", 5), status: 400, code: "invalid_field", field: "reason"},
		{name: "an occurred_at that is not a time", body: with(valid, "occurred_at", "yesterday"), status: 400, code: "invalid_field", field: "occurred_at"},
		{name: "a body over 64 KiB", body: with(valid, "reason", strings.Repeat("x", api.MaxBodyBytes)), status: 413, code: "body_too_large"},
		{name: "a body sent as text/plain", headers: map[string]string{"Content-Type": "text/plain"}, body: valid,
			status: 415, code: "unsupported_media_type", field: "Content-Type"},
		{name: "a body sent as form data", headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, body: rawBody("name=x"),
			status: 415, code: "unsupported_media_type", field: "Content-Type"},
		{name: "a malformed Content-Type", headers: map[string]string{"Content-Type": "json;;"}, body: valid,
			status: 415, code: "unsupported_media_type", field: "Content-Type"},
		{name: "an If-Match that is no version", headers: map[string]string{"If-Match": `"abc"`}, body: valid,
			status: 400, code: "invalid_field", field: "If-Match"},
		{name: "a negative If-Match", headers: map[string]string{"If-Match": `"-1"`}, body: valid,
			status: 400, code: "invalid_field", field: "If-Match"},
		{name: "an Idempotency-Key with a space", headers: map[string]string{"Idempotency-Key": "my key"}, body: valid,
			status: 400, code: "invalid_field", field: "Idempotency-Key"},
		{name: "an Idempotency-Key with non-ASCII letters", headers: map[string]string{"Idempotency-Key": "klucz-żółty"}, body: valid,
			status: 400, code: "invalid_field", field: "Idempotency-Key"},
		{name: "an Idempotency-Key over 200 characters", headers: map[string]string{"Idempotency-Key": strings.Repeat("k", 201)}, body: valid,
			status: 400, code: "invalid_field", field: "Idempotency-Key"},
	}
	out = append(out, hygieneBodies(r)...)
	if !r.bodyOptional {
		out = append(out,
			badRequest{name: "no body", status: 400, code: "required"},
			badRequest{name: "a body of white space", body: rawBody(" \n\t "), status: 400, code: "required"},
			badRequest{name: "an empty JSON object", body: rawBody(`{}`), status: 400, code: "required", field: r.firstRequired},
		)
	}
	for i := range out {
		out[i].name = r.name + " with " + out[i].name
		out[i].method, out[i].path = r.method, r.path
	}
	return out
}

// badInputFixture is what the bad requests are sent to: a partnership
// (the school a member, the police not), a service in its basket and one
// withdrawn, a partnership of one sector and one formalised; the leader
// keeps closed cases 3650 days.
type badInputFixture struct {
	partnershipFixture
	service, oldService string
	lonely, done        string
}

func newBadInputFixture(ta *testAPI) badInputFixture {
	ta.t.Helper()
	f := badInputFixture{partnershipFixture: newPartnershipFixture(ta)}
	ta.command(http.MethodPost, f.path+"/services", map[string]any{"institution_id": f.school, "name": "Świetlica"}, http.StatusCreated)
	res := ta.command(http.MethodPost, f.path+"/services", map[string]any{"institution_id": f.school, "name": "Stara świetlica"}, http.StatusCreated)
	v, _ := ta.readPartnership(f.id, res.Sequence)
	require.Len(ta.t, v.Services, 2)
	f.service, f.oldService = v.Services[0].ServiceID, v.Services[1].ServiceID
	ta.command(http.MethodDelete, f.path+"/services/"+f.oldService, nil, http.StatusOK)
	f.lonely = ta.partnership("PZK jednego sektora", f.police).ID
	f.done = ta.partnership("PZK sformalizowany", f.ops).ID
	ta.join(f.done, f.school)
	ta.command(http.MethodPost, "/api/v1/partnerships/"+f.done+"/formalize", map[string]any{"date": "2024-05-01"}, http.StatusOK)
	ta.command(http.MethodPut, "/api/v1/institutions/"+f.ops+"/retention", map[string]any{"days": 3650}, http.StatusOK)
	return f
}

// commandRoutes are the command routes of institutions and partnerships,
// each with a body it accepts in f.
func commandRoutes(f badInputFixture) map[string]commandRoute {
	p := f.path
	return map[string]commandRoute{
		"institution": {name: "register an institution", method: http.MethodPost, path: "/api/v1/institutions",
			valid: map[string]any{"name": "Poradnia", "sector": "health", "municipality": "Testowo", "county": "testowski"}, firstRequired: "sector"},
		"retention": {name: "set the retention of an institution", method: http.MethodPut, path: "/api/v1/institutions/" + f.school + "/retention",
			valid: map[string]any{"days": 3650}, firstRequired: "days"},
		"worker": {name: "register a worker", method: http.MethodPost, path: "/api/v1/workers",
			valid: map[string]any{"institution_id": f.ops, "name": "Anna Nowak", "position": "pracownik socjalny"}, firstRequired: "institution_id"},
		"initiate": {name: "initiate a partnership", method: http.MethodPost, path: "/api/v1/partnerships",
			valid: map[string]any{"name": "PZK", "municipality": "Testowo", "county": "testowski", "date": "2024-03-01", "leader_id": f.ops}, firstRequired: "name"},
		"join": {name: "join a partnership", method: http.MethodPost, path: p + "/members",
			valid: map[string]any{"institution_id": f.police, "date": "2024-04-01"}, firstRequired: "institution_id"},
		"leave": {name: "leave a partnership", method: http.MethodDelete, path: p + "/members/" + f.school,
			valid: map[string]any{"date": "2024-09-01", "reason": "zmiana dyrekcji"}, firstRequired: "date"},
		"offer": {name: "offer a service", method: http.MethodPost, path: p + "/services",
			valid: map[string]any{"institution_id": f.school, "name": "Zajęcia"}, firstRequired: "institution_id"},
		"withdraw": {name: "withdraw a service", method: http.MethodDelete, path: p + "/services/" + f.service,
			valid: map[string]any{"reason": "koniec projektu"}, bodyOptional: true},
		"meeting": {name: "record a meeting", method: http.MethodPost, path: p + "/meetings",
			valid: map[string]any{"kind": "regular", "date": "2024-05-01", "place": "MOPS", "attendees": []string{f.ops, f.school}}, firstRequired: "kind"},
		"formalize": {name: "formalize a partnership", method: http.MethodPost, path: p + "/formalize",
			valid: map[string]any{"date": "2024-06-01"}, firstRequired: "date"},
		"staff": {name: "record staff support", method: http.MethodPost, path: p + "/staff-support",
			valid: map[string]any{"kind": "training", "date": "2024-05-01", "topic": "kryzys", "institutions": []string{f.ops}}, firstRequired: "kind"},
	}
}

// The order in which the valid bodies of commandRoutes succeed one after
// the other.
var commandOrder = []string{"institution", "retention", "worker", "initiate", "offer", "meeting", "staff", "withdraw", "formalize", "join", "leave"}

func TestBadInputWritesNothing(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)

	// The valid bodies are valid indeed, so that each case below fails for
	// the one reason it names.
	spare := newBadInputFixture(ta)
	for _, key := range commandOrder {
		r := commandRoutes(spare)[key]
		res := ta.admin(r.method, r.path, r.valid)
		require.Less(t, res.status, 300, "%s: %s", r.name, res.raw)
	}

	f := newBadInputFixture(ta)
	routes := commandRoutes(f)
	unknown := domain.NewID()
	p := f.path

	tests, req, at := badCases(routes, commandOrder)
	retention := routes["retention"].valid
	inst, worker, initiate := routes["institution"].valid, routes["worker"].valid, routes["initiate"].valid
	join, leave, offer := routes["join"].valid, routes["leave"].valid, routes["offer"].valid
	meeting, formalize, staff := routes["meeting"].valid, routes["formalize"].valid, routes["staff"].valid
	pp := "/api/v1/partnerships/"
	tests = append(tests,
		// Institutions.
		req("institution", "register an institution without a name", with(inst, "name", nil), 400, "required", "name"),
		req("institution", "register an institution with a blank name", with(inst, "name", "   "), 400, "required", "name"),
		req("institution", "register an institution without a sector", with(inst, "sector", nil), 400, "required", "sector"),
		req("institution", "register an institution without a municipality", with(inst, "municipality", nil), 400, "required", "municipality"),
		req("institution", "register an institution without a county", with(inst, "county", nil), 400, "required", "county"),
		req("institution", "register an institution whose sector is a number", with(inst, "sector", 5), 400, "invalid_field", "sector"),
		req("institution", "register an institution in a sector that does not exist", with(inst, "sector", "space_agency"), 400, "invalid_field", "sector"),
		req("institution", "register an institution whose name is a list", with(inst, "name", []string{"a"}), 400, "invalid_field", "name"),
		req("institution", "register an institution with a name of 301 characters", with(inst, "name", strings.Repeat("a", 301)), 400, "invalid_field", "name"),
		req("institution", "register an institution with a control character in its name", with(inst, "name", "MOPS\x00"), 400, "invalid_field", "name"),
		req("institution", "register an institution choosing its own id", with(inst, "institution_id", unknown), 400, "invalid_field", "institution_id"),

		// Retention.
		req("retention", "set a retention of no days", with(retention, "days", 0), 400, "required", "days"),
		req("retention", "set a retention of 36501 days", with(retention, "days", 36501), 400, "invalid_field", "days"),
		req("retention", "set a retention written as text", with(retention, "days", "10 lat"), 400, "invalid_field", "days"),
		at("retention", "set the retention an institution has already", "/api/v1/institutions/"+f.ops+"/retention", retention, 409, "already_exists", "days"),
		at("retention", "set the retention of an institution that does not exist", "/api/v1/institutions/"+unknown+"/retention", retention, 404, "institution_not_found", ""),
		at("retention", "set the retention of a malformed institution id", "/api/v1/institutions/mops/retention", retention, 404, "not_found", ""),

		// Workers.
		req("worker", "register a worker without an institution", with(worker, "institution_id", nil), 400, "required", "institution_id"),
		req("worker", "register a worker at a malformed institution id", with(worker, "institution_id", "ops-1"), 400, "invalid_field", "institution_id"),
		req("worker", "register a worker at an institution that does not exist", with(worker, "institution_id", unknown), 422, "institution_not_found", "institution_id"),
		req("worker", "register a worker without a name", with(worker, "name", nil), 400, "required", "name"),
		req("worker", "register a worker without a position", with(worker, "position", nil), 400, "required", "position"),
		req("worker", "register a worker whose institution id is a number", with(worker, "institution_id", 7), 400, "invalid_field", "institution_id"),
		req("worker", "register a worker choosing their own id", with(worker, "worker_id", unknown), 400, "invalid_field", "worker_id"),

		// Initiating a partnership.
		req("initiate", "initiate a partnership without a name", with(initiate, "name", nil), 400, "required", "name"),
		req("initiate", "initiate a partnership without a county", with(initiate, "county", nil), 400, "required", "county"),
		req("initiate", "initiate a partnership without a date", with(initiate, "date", nil), 400, "required", "date"),
		req("initiate", "initiate a partnership on 2019-02-30", with(initiate, "date", "2019-02-30"), 400, "invalid_field", "date"),
		req("initiate", "initiate a partnership on a date written the Polish way", with(initiate, "date", "01.03.2024"), 400, "invalid_field", "date"),
		req("initiate", "initiate a partnership whose date is a number", with(initiate, "date", 20240301), 400, "invalid_field", "date"),
		req("initiate", "initiate a partnership in 1989", with(initiate, "date", "1989-12-31"), 400, "invalid_field", "date"),
		req("initiate", "initiate a partnership without a leader", with(initiate, "leader_id", nil), 400, "required", "leader_id"),
		req("initiate", "initiate a partnership led by a malformed id", with(initiate, "leader_id", "MOPS"), 400, "invalid_field", "leader_id"),
		req("initiate", "initiate a partnership led by an institution that does not exist", with(initiate, "leader_id", unknown), 422, "institution_not_found", "leader_id"),
		req("initiate", "initiate a partnership co-led by an institution that does not exist", with(initiate, "co_leader_id", unknown), 422, "institution_not_found", "co_leader_id"),
		req("initiate", "initiate a partnership co-led by its leader", with(initiate, "co_leader_id", f.ops), 400, "invalid_field", "co_leader_id"),
		req("initiate", "initiate a partnership whose name is a number", with(initiate, "name", 5), 400, "invalid_field", "name"),
		req("initiate", "initiate a partnership choosing its own id", with(initiate, "partnership_id", unknown), 400, "invalid_field", "partnership_id"),

		// Joining.
		req("join", "join a partnership without an institution", with(join, "institution_id", nil), 400, "required", "institution_id"),
		req("join", "join a partnership without a date", with(join, "date", nil), 400, "required", "date"),
		req("join", "join a partnership on 2019-02-30", with(join, "date", "2019-02-30"), 400, "invalid_field", "date"),
		req("join", "join a partnership with an institution that does not exist", with(join, "institution_id", unknown), 422, "institution_not_found", "institution_id"),
		req("join", "join a partnership with a malformed institution id", with(join, "institution_id", "school"), 400, "invalid_field", "institution_id"),
		req("join", "join a partnership twice", with(join, "institution_id", f.school), 409, "already_member", "institution_id"),
		req("join", "join a partnership it leads", with(join, "institution_id", f.ops), 409, "already_member", "institution_id"),
		req("join", "join a partnership before it was initiated", with(join, "date", "2024-02-29"), 400, "date_before_initiation", "date"),
		req("join", "join a partnership with a signatory that is a number", with(join, "signatory", 1), 400, "invalid_field", "signatory"),
		at("join", "join a partnership that does not exist", pp+unknown+"/members", join, 404, "partnership_not_found", ""),
		at("join", "join a partnership with a malformed id", pp+"pzk/members", join, 404, "not_found", ""),

		// Leaving.
		at("leave", "leave a partnership it leads", p+"/members/"+f.ops, leave, 409, "leader_cannot_leave", "institution_id"),
		at("leave", "leave a partnership it is not a member of", p+"/members/"+f.police, leave, 409, "not_member", "institution_id"),
		at("leave", "leave a partnership as an institution that does not exist", p+"/members/"+unknown, leave, 409, "not_member", "institution_id"),
		at("leave", "leave a partnership with a malformed institution id", p+"/members/school", leave, 404, "not_found", ""),
		at("leave", "leave a partnership that does not exist", pp+unknown+"/members/"+f.school, leave, 404, "partnership_not_found", ""),
		at("leave", "leave a partnership with a malformed id", pp+"x/members/"+f.school, leave, 404, "not_found", ""),
		req("leave", "leave a partnership without a reason", with(leave, "reason", nil), 400, "required", "reason"),
		req("leave", "leave a partnership with a blank reason", with(leave, "reason", " "), 400, "required", "reason"),
		req("leave", "leave a partnership without a date", with(leave, "date", nil), 400, "required", "date"),
		req("leave", "leave a partnership on 2019-02-30", with(leave, "date", "2019-02-30"), 400, "invalid_field", "date"),
		req("leave", "leave a partnership before it was initiated", with(leave, "date", "2020-01-01"), 400, "date_before_initiation", "date"),
		req("leave", "leave a partnership naming the institution in the body", with(leave, "institution_id", f.school), 400, "invalid_field", "institution_id"),

		// Offering a service.
		req("offer", "offer a service without a name", with(offer, "name", nil), 400, "required", "name"),
		req("offer", "offer a service for a need area that does not exist", with(offer, "area", "weather"), 400, "invalid_field", "area"),
		req("offer", "offer a service without an institution", with(offer, "institution_id", nil), 400, "required", "institution_id"),
		req("offer", "offer a service of an institution that is not a member", with(offer, "institution_id", f.police), 409, "not_member", "institution_id"),
		req("offer", "offer a service of an institution that does not exist", with(offer, "institution_id", unknown), 409, "not_member", "institution_id"),
		req("offer", "offer a service in a sector that does not exist", with(offer, "sector", "magic"), 400, "invalid_field", "sector"),
		req("offer", "offer a service whose capacity is text", with(offer, "capacity", "ten"), 400, "invalid_field", "capacity"),
		req("offer", "offer a service with a negative capacity", with(offer, "capacity", -1), 400, "invalid_field", "capacity"),
		req("offer", "offer a service whose capacity is a fraction", with(offer, "capacity", 1.5), 400, "invalid_field", "capacity"),
		req("offer", "offer a service whose target groups are a string", with(offer, "target_groups", "dzieci"), 400, "invalid_field", "target_groups"),
		req("offer", "offer a service with a blank target group", with(offer, "target_groups", []string{"dzieci", ""}), 400, "required", "target_groups[1]"),
		req("offer", "offer a service choosing its own id", with(offer, "service_id", unknown), 400, "invalid_field", "service_id"),
		at("offer", "offer a service to a partnership that does not exist", pp+unknown+"/services", offer, 404, "partnership_not_found", ""),
		at("offer", "offer a service to a malformed partnership id", pp+"1/services", offer, 404, "not_found", ""),

		// Withdrawing a service.
		at("withdraw", "withdraw a service that does not exist", p+"/services/"+unknown, nil, 404, "service_not_found", ""),
		at("withdraw", "withdraw a service that was withdrawn already", p+"/services/"+f.oldService, nil, 404, "service_not_found", ""),
		at("withdraw", "withdraw a service with a malformed id", p+"/services/swietlica", nil, 404, "not_found", ""),
		at("withdraw", "withdraw a service of a partnership that does not exist", pp+unknown+"/services/"+f.service, nil, 404, "partnership_not_found", ""),
		at("withdraw", "withdraw a service of a malformed partnership id", pp+"x/services/"+f.service, nil, 404, "not_found", ""),

		// Meetings.
		req("meeting", "record a meeting attended by an institution that is not a member", with(meeting, "attendees", []string{f.police}), 409, "not_member", "attendees[0]"),
		req("meeting", "record a meeting whose second attendee is not a member", with(meeting, "attendees", []string{f.ops, f.police}), 409, "not_member", "attendees[1]"),
		req("meeting", "record a meeting attended by an institution that does not exist", with(meeting, "attendees", []string{unknown}), 409, "not_member", "attendees[0]"),
		req("meeting", "record a meeting with an attendee listed twice", with(meeting, "attendees", []string{f.ops, f.ops}), 400, "invalid_field", "attendees[1]"),
		req("meeting", "record a meeting with a malformed attendee", with(meeting, "attendees", []string{"ops"}), 400, "invalid_field", "attendees[0]"),
		req("meeting", "record a meeting with no attendees", with(meeting, "attendees", []string{}), 400, "required", "attendees"),
		req("meeting", "record a meeting whose attendees are numbers", with(meeting, "attendees", []int{5}), 400, "invalid_field", "attendees[0]"),
		req("meeting", "record a meeting without a kind", with(meeting, "kind", nil), 400, "required", "kind"),
		req("meeting", "record a meeting of a kind that does not exist", with(meeting, "kind", "party"), 400, "invalid_field", "kind"),
		req("meeting", "record a meeting without a place", with(meeting, "place", nil), 400, "required", "place"),
		req("meeting", "record a meeting without a date", with(meeting, "date", nil), 400, "required", "date"),
		req("meeting", "record a meeting on 2019-02-30", with(meeting, "date", "2019-02-30"), 400, "invalid_field", "date"),
		req("meeting", "record a meeting before the partnership was initiated", with(meeting, "date", "2023-12-31"), 400, "date_before_initiation", "date"),
		req("meeting", "record a meeting choosing its own id", with(meeting, "meeting_id", unknown), 400, "invalid_field", "meeting_id"),
		at("meeting", "record a meeting of a partnership that does not exist", pp+unknown+"/meetings", meeting, 404, "partnership_not_found", ""),

		// Formalising.
		at("formalize", "formalize a partnership of one sector", pp+f.lonely+"/formalize", formalize, 409, "formalize_needs_sectors", ""),
		at("formalize", "formalize a partnership twice", pp+f.done+"/formalize", formalize, 409, "already_formalized", ""),
		req("formalize", "formalize a partnership without a date", with(formalize, "date", nil), 400, "required", "date"),
		req("formalize", "formalize a partnership on 2019-02-30", with(formalize, "date", "2019-02-30"), 400, "invalid_field", "date"),
		req("formalize", "formalize a partnership before it was initiated", with(formalize, "date", "2024-02-01"), 400, "date_before_initiation", "date"),
		req("formalize", "formalize a partnership at a place that is a number", with(formalize, "place", 3), 400, "invalid_field", "place"),
		at("formalize", "formalize a partnership that does not exist", pp+unknown+"/formalize", formalize, 404, "partnership_not_found", ""),
		at("formalize", "formalize a partnership with a malformed id", pp+strings.ToUpper(f.id)+"/formalize", formalize, 404, "not_found", ""),

		// Staff support.
		req("staff", "record staff support without a kind", with(staff, "kind", nil), 400, "required", "kind"),
		req("staff", "record staff support of a kind that does not exist", with(staff, "kind", "holiday"), 400, "invalid_field", "kind"),
		req("staff", "record staff support without institutions", with(staff, "institutions", nil), 400, "required", "institutions"),
		req("staff", "record staff support of an institution that is not a member", with(staff, "institutions", []string{f.police}), 409, "not_member", "institutions[0]"),
		req("staff", "record staff support of a malformed worker", with(staff, "workers", []string{"anna"}), 400, "invalid_field", "workers[0]"),
		req("staff", "record staff support of 2000 hours", with(staff, "hours", 2000), 400, "invalid_field", "hours"),
		at("staff", "record staff support of a partnership that does not exist", pp+unknown+"/staff-support", staff, 404, "partnership_not_found", ""),
	)

	runBadCases(t, ta, tests)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

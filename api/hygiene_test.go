package api_test

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
)

// rawMarker stands in a body for a value written as raw JSON (see raw).
const rawMarker = "\x01raw\x01"

// raw encodes body, in which one string is rawMarker, with that string
// replaced by the raw JSON text v: an escape such as \ud800 or bytes that
// are not UTF-8, which encoding a Go string would repair.
func raw(body map[string]any, v string) rawBody {
	enc := mustJSON(body)
	marker := mustJSON(rawMarker)
	if !strings.Contains(enc, marker) {
		panic("raw: no marker in " + enc)
	}
	return rawBody(strings.Replace(enc, marker, v, 1))
}

// hygieneBodies are the bad requests every command route refuses by the
// rules of text and member names (docs/api.md, "Text and member names").
func hygieneBodies(r commandRoute) []badRequest {
	valid := r.valid
	k := slices.Sorted(maps.Keys(valid))[0]
	cased := strings.ToUpper(k[:1]) + k[1:]
	body := mustJSON(valid)
	out := []badRequest{
		{name: "a member name in another case", body: with(valid, k, nil, cased, valid[k]), status: 400, code: "invalid_field", field: cased},
		{name: "a member name in capitals", body: with(valid, k, nil, strings.ToUpper(k), valid[k]), status: 400, code: "invalid_field", field: strings.ToUpper(k)},
		{name: "a member given twice", body: rawBody(`{"` + k + `":` + mustJSON(valid[k]) + `,` + body[1:]), status: 400, code: "invalid_field", field: k},
		{name: "a member name that is not UTF-8", body: rawBody(`{"x` + "\xff" + `":1,` + body[1:]), status: 400, code: "invalid_field"},
		{name: "a member name holding a NUL", body: rawBody(`{"` + k + `\u0000":1,` + body[1:]), status: 400, code: "invalid_field"},
		{name: "a reason holding a NUL", body: with(valid, "reason", "zmiana\x00dyrekcji"), status: 400, code: "invalid_field", field: "reason"},
		{name: "a reason holding an escape character", body: with(valid, "reason", "\x1b[2Jzmiana"), status: 400, code: "invalid_field", field: "reason"},
		{name: "a reason holding DEL", body: with(valid, "reason", "zmiana\x7f"), status: 400, code: "invalid_field", field: "reason"},
		{name: "a reason holding a lone high surrogate", body: raw(with(valid, "reason", rawMarker), `"zmiana \ud800"`), status: 400, code: "invalid_field", field: "reason"},
		{name: "a reason holding a lone low surrogate", body: raw(with(valid, "reason", rawMarker), `"\udc00 zmiana"`), status: 400, code: "invalid_field", field: "reason"},
		{name: "a reason holding surrogates in the wrong order", body: raw(with(valid, "reason", rawMarker), `"\ude00\ud83d"`), status: 400, code: "invalid_field", field: "reason"},
		{name: "a reason in Latin-2 bytes", body: raw(with(valid, "reason", rawMarker), "\"pow\xf3d\""), status: 400, code: "invalid_field", field: "reason"},
		{name: "a reason with a truncated letter", body: raw(with(valid, "reason", rawMarker), "\"pow\xc3\""), status: 400, code: "invalid_field", field: "reason"},
	}
	return out
}

// The rules of text and member names, on the family routes, where bodies
// nest: each bad request answers 4xx naming the field at its full path
// and writes nothing.
func TestTextAndMemberNamesWriteNothing(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	f := newFamilyBadFixture(ta)
	routes := familyRoutes(f)
	body := func(key string) map[string]any { return routes[key].valid }
	open := body("open")
	household := open["household"].([]map[string]any)
	applicant, child := household[0], household[1]
	people := func(ps ...map[string]any) map[string]any { return with(open, "household", ps) }
	draft := body("draft")
	goals := draft["goals"].([]map[string]any)
	actions := draft["actions"].([]map[string]any)
	req := func(key, name string, b any, status int, code, field string) badRequest {
		r := routes[key]
		return badRequest{name: name, method: r.method, path: r.path, body: b, status: status, code: code, field: field}
	}
	institution := map[string]any{"name": "Poradnia", "sector": "health", "municipality": "Testowo", "county": "testowski"}
	inst := func(name string, b any, status int, code, field string) badRequest {
		return badRequest{name: name, method: http.MethodPost, path: "/api/v1/institutions", body: b, status: status, code: code, field: field}
	}

	tests := []badRequest{
		// Unknown members are named by their full path.
		req("open", "open a case with an unknown member of a person", people(with(applicant, "zz", 1), child), 400, "invalid_field", "household[0].zz"),
		req("open", "open a case with an unknown member of the second person", people(applicant, with(child, "shoe_size", 38)), 400, "invalid_field", "household[1].shoe_size"),
		req("open", "open a case with an unknown member of the coordinator", with(open, "coordinator", with(open["coordinator"].(map[string]any), "zz", true)), 400, "invalid_field", "coordinator.zz"),
		req("open", "open a case with an unknown member of the referral", with(open, "referral", with(open["referral"].(map[string]any), "zz", "x")), 400, "invalid_field", "referral.zz"),
		req("draft", "draft a contract with an unknown member of a goal", with(draft, "goals", []map[string]any{goals[0], with(goals[1], "zz", 1)}), 400, "invalid_field", "goals[1].zz"),
		req("draft", "draft a contract with an unknown member of an action's responsible party",
			with(draft, "actions", []map[string]any{with(actions[0], "responsible", map[string]any{"kind": "client", "zz": 1}), actions[1]}), 400, "invalid_field", "actions[0].responsible.zz"),
		req("draft", "draft a contract with an unknown member of the assessment",
			with(draft, "assessment", with(draft["assessment"].(map[string]any), "zz", "x")), 400, "invalid_field", "assessment.zz"),

		// Values of the wrong type, and dates their own decoder refuses,
		// are named by their full path too.
		req("open", "open a case with a person's name that is a number", people(applicant, with(child, "name", 7)), 400, "invalid_field", "household[1].name"),
		req("open", "open a case with a person who is a string", with(open, "household", []any{applicant, "Kacper"}), 400, "invalid_field", "household[1]"),
		req("open", "open a case with a coordinator's worker id that is a list", with(open, "coordinator", map[string]any{"worker_id": []string{f.coordinator}, "institution_id": f.ops}), 400, "invalid_field", "coordinator.worker_id"),
		req("open", "open a case with a birth date written the Polish way", people(with(applicant, "birth_date", "12.04.1985"), child), 400, "invalid_field", "household[0].birth_date"),
		req("draft", "draft a contract with a goal that is a string", with(draft, "goals", []any{goals[0], "g2"}), 400, "invalid_field", "goals[1]"),
		req("draft", "draft a contract with an action's responsible party that is a list",
			with(draft, "actions", []map[string]any{actions[0], with(actions[1], "responsible", []string{"client"})}), 400, "invalid_field", "actions[1].responsible"),
		req("team", "form a team with a member's worker id that is a number", with(body("team"), "members", []map[string]any{{"worker_id": 5, "institution_id": f.pup}}), 400, "invalid_field", "members[0].worker_id"),

		// Member names are case-sensitive, nested ones too.
		req("open", "open a case with a person's name in another case", people(with(applicant, "name", nil, "Name", applicantName), child), 400, "invalid_field", "household[0].Name"),
		req("open", "open a case with the coordinator's worker id in another case",
			with(open, "coordinator", map[string]any{"Worker_ID": f.coordinator, "institution_id": f.ops}), 400, "invalid_field", "coordinator.Worker_ID"),
		req("open", "open a case with the whole member name in capitals", with(open, "address", nil, "ADDRESS", familyAddress), 400, "invalid_field", "ADDRESS"),
		req("open", "open a case with a person given twice the same member",
			raw(people(with(applicant, "name", rawMarker), child), `"Maria", "name": "Anna"`), 400, "invalid_field", "household[0].name"),

		// Text that is not UTF-8, lone surrogates and control characters,
		// in nested members.
		req("open", "open a case with a person's name in Latin-2 bytes", raw(people(with(applicant, "name", rawMarker), child), "\"Micha\xb3\""), 400, "invalid_field", "household[0].name"),
		req("open", "open a case with a person's name holding a lone surrogate", raw(people(applicant, with(child, "name", rawMarker)), `"Kacper \ud83d"`), 400, "invalid_field", "household[1].name"),
		req("open", "open a case with a person's name holding a NUL", people(applicant, with(child, "name", "Kacper\x00")), 400, "invalid_field", "household[1].name"),
		req("open", "open a case with a person's name on two lines", people(applicant, with(child, "name", "Kacper\nPrzykładowy")), 400, "invalid_field", "household[1].name"),
		req("open", "open a case with an address holding a tab", with(open, "address", "ul. Testowa 5\t99-999"), 400, "invalid_field", "address"),
		req("open", "open a case with a referral reason holding a C1 control", with(open, "referral", with(open["referral"].(map[string]any), "reason", "nieobecności\u009b")), 400, "invalid_field", "referral.reason"),
		req("open", "open a case with a PESEL holding a NUL", people(with(applicant, "pesel", "8504121234\x00"), child), 400, "invalid_field", "household[0].pesel"),
		req("open", "open a case with an id holding an escaped NUL", with(open, "partnership_id", f.id+"\x00"), 400, "invalid_field", "partnership_id"),
		req("meeting", "record a team meeting with a decision holding a NUL", with(body("meeting"), "decisions", []string{"kontrakt", "a\x00"}), 400, "invalid_field", "decisions[1]"),
		req("draft", "draft a contract with a goal holding a lone surrogate", raw(with(draft, "goals", []map[string]any{goals[0], with(goals[1], "description", rawMarker)}), `"\udfff"`), 400, "invalid_field", "goals[1].description"),

		// Invisible characters only are no value.
		req("open", "open a case with a person named by a zero-width space", people(applicant, with(child, "name", "\u200b")), 400, "required", "household[1].name"),
		req("open", "open a case with an address of a byte-order mark and a no-break space", with(open, "address", "\ufeff\u00a0"), 400, "required", "address"),
		req("diagnosis", "record a diagnosis input whose needs are a word joiner and a soft hyphen", with(body("diagnosis"), "needs", "\u2060\u00ad"), 400, "required", "needs"),
		req("meeting", "record a team meeting with a decision of zero-width joiners", with(body("meeting"), "decisions", []string{"kontrakt", "\u200d\u200c"}), 400, "required", "decisions[1]"),
		req("reopen", "reopen the case for a reason of ideographic spaces", with(body("reopen"), "reason", "\u3000\u3000"), 400, "required", "reason"),
		inst("register an institution named by a soft hyphen", with(institution, "name", "\u00ad"), 400, "required", "name"),
		inst("register an institution named by a Hangul filler", with(institution, "name", "\u3164"), 400, "required", "name"),
		inst("register an institution in a county of thin spaces", with(institution, "county", "\u2009\u202f"), 400, "required", "county"),
		inst("register an institution whose name is on two lines", with(institution, "name", "Poradnia\nRodzinna"), 400, "invalid_field", "name"),
		inst("register an institution with an unknown member in capitals", with(institution, "name", nil, "NAME", "Poradnia"), 400, "invalid_field", "NAME"),
	}
	runBadCases(t, ta, tests)

	t.Run("free text may hold line breaks and tabs, and invisible characters between letters", func(t *testing.T) {
		before := ta.lastSeq()
		r := ta.admin(http.MethodPost, f.fresh.path+"/diagnosis", with(body("diagnosis"),
			"needs", "1.\tWsparcie w nauce\r\n2.\tZajęcia pozalekcyjne", "strengths", "Zofia\u200dNowak", "reason", "notatka\nz rozmowy"))
		require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
		assert.Equal(t, before+1, ta.lastSeq())
	})
}

// A command that is wrong on its own is 400 naming the field whoever sends
// it, before the role's or the family's permission is looked at; a valid
// one is still refused as before.
func TestBadInputComesBeforePermission(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	f := newFamilyFixture(ta)
	fc := ta.openFamily(f, f.coordinator)
	coordinator := ta.user(domain.RoleCoordinator, f.ops, f.coordinator)
	outsider := ta.user(domain.RoleWorker, f.police, f.officer)
	open := openBody(f, domain.NewID(), domain.NewID(), f.coordinator)

	tests := []struct {
		name         string
		token        string
		method, path string
		body         any
		status       int
		code, field  string
	}{
		{name: "a coordinator opening a case without a coordinator", token: coordinator, method: http.MethodPost, path: "/api/v1/families",
			body: with(open, "coordinator", nil), status: 400, code: "required", field: "coordinator.worker_id"},
		{name: "a coordinator opening a case without a partnership", token: coordinator, method: http.MethodPost, path: "/api/v1/families",
			body: with(open, "partnership_id", nil, "coordinator", map[string]any{"worker_id": f.coordinator2, "institution_id": f.ops}), status: 400, code: "required", field: "partnership_id"},
		{name: "a coordinator opening a case for another coordinator", token: coordinator, method: http.MethodPost, path: "/api/v1/families",
			body: with(open, "coordinator", map[string]any{"worker_id": f.coordinator2, "institution_id": f.ops}), status: 403, code: "forbidden"},
		{name: "a worker off the team recording an input without an area", token: outsider, method: http.MethodPost, path: fc.path + "/diagnosis",
			body: with(diagnosisBody(f.officer, f.police, "justice", "low"), "area", nil), status: 400, code: "required", field: "area"},
		{name: "a worker off the team recording a valid input", token: outsider, method: http.MethodPost, path: fc.path + "/diagnosis",
			body: diagnosisBody(f.officer, f.police, "justice", "low"), status: 404, code: "family_not_found"},
		{name: "a worker recording an input with a reason holding a NUL", token: outsider, method: http.MethodPost, path: fc.path + "/diagnosis",
			body: with(diagnosisBody(f.officer, f.police, "justice", "low"), "reason", "\x00"), status: 400, code: "invalid_field", field: "reason"},
		{name: "a worker off the team removing a member without a reason", token: outsider, method: http.MethodDelete, path: fc.path + "/team/members/" + f.officer,
			body: map[string]any{"date": "2024-03-01"}, status: 400, code: "required", field: "reason"},
		{name: "a worker off the team withdrawing an action without a reason", token: outsider, method: http.MethodPost, path: fc.path + "/contract/actions/a1/withdraw",
			body: map[string]any{"date": "2024-03-01"}, status: 400, code: "required", field: "reason"},
		{name: "a worker off the team withdrawing a diagnosis input with a blank reason", token: outsider, method: http.MethodPost, path: fc.path + "/diagnosis/" + domain.NewID() + "/withdraw",
			body: map[string]any{"date": "2024-03-01", "reason": "\u200b "}, status: 400, code: "required", field: "reason"},
		{name: "a worker off the team withdrawing an action with a reason", token: outsider, method: http.MethodPost, path: fc.path + "/contract/actions/a1/withdraw",
			body: map[string]any{"date": "2024-03-01", "reason": "pomyłka"}, status: 404, code: "family_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := ta.lastSeq()
			r := ta.do(tt.method, tt.path, tt.token, nil, tt.body)
			assert.Equal(t, before, ta.lastSeq(), "nothing is written: %s", r.raw)
			requireProblem(t, r, tt.status, tt.code, tt.field)
		})
	}
}

package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/api"
	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/projections"
)

func TestProbesAreOpenToAnyone(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)

	r := ta.do(http.MethodGet, "/healthz", "", nil, nil)
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, "ok", r.body["status"])

	r = ta.do(http.MethodGet, "/readyz", "", nil, nil)
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, "ready", r.body["status"])
	assert.EqualValues(t, ta.lastSeq(), r.body["position"], "the users of the harness are applied")

	r = ta.do(http.MethodGet, "/api/v1/openapi.json", "", nil, nil)
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	var doc map[string]any
	require.NoError(t, json.Unmarshal(r.raw, &doc), "the OpenAPI description is a JSON object: %s", r.raw)
}

func TestMetricsCountCommands(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)

	r := ta.do(http.MethodGet, "/metrics", "", nil, nil)
	require.Equal(t, http.StatusOK, r.status)
	assert.NotContains(t, string(r.raw), "kooperacje_commands_total{", "no command handled yet")
	assert.Contains(t, string(r.raw), "kooperacje_projection_position ")

	ta.institution("MOPS Testowo", domain.SectorSocialAssistance)
	bad := ta.admin(http.MethodPost, "/api/v1/institutions", map[string]any{"name": "Bez sektora", "municipality": "m", "county": "c"})
	require.Equal(t, http.StatusBadRequest, bad.status)

	r = ta.do(http.MethodGet, "/metrics", "", nil, nil)
	require.Equal(t, http.StatusOK, r.status)
	text := string(r.raw)
	assert.Contains(t, text, `kooperacje_commands_total{command="RegisterInstitution",outcome="written"} 1`)
	assert.Contains(t, text, `kooperacje_commands_total{command="RegisterInstitution",outcome="rejected"} 1`)
	assert.Contains(t, text, `kooperacje_http_request_duration_seconds_count{code="201",route="POST /api/v1/institutions"} 1`)
	assert.Contains(t, text, `kooperacje_http_request_duration_seconds_count{code="400",route="POST /api/v1/institutions"} 1`)
	st := ta.handler.Cache.Stats()
	require.NotZero(t, st.Misses+st.Hits)
	assert.Contains(t, text, fmt.Sprintf("kooperacje_aggregate_cache_lookups_total{result=\"miss\"} %d\n", st.Misses))
	assert.Contains(t, text, fmt.Sprintf("kooperacje_aggregate_cache_entries %d\n", st.Entries))
	assert.Contains(t, text, "kooperacje_aggregate_cache_erasures_total 0\n")
}

func TestMeAnswersWhoIsAsking(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	for _, role := range domain.Roles {
		r := ta.do(http.MethodGet, "/api/v1/me", ta.tokens[role], nil, nil)
		require.Equal(t, http.StatusOK, r.status, "%s: %s", role, r.raw)
		var p api.Principal
		require.NoError(t, json.Unmarshal(r.raw, &p))
		assert.Equal(t, api.Principal{UserID: ta.userIDs[role], Name: "Test " + string(role), Role: role}, p)
		assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
		assert.NotContains(t, string(r.raw), ta.tokens[role], "the token is never echoed")
	}
}

func TestInstitutions(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)

	r := ta.admin(http.MethodPost, "/api/v1/institutions", map[string]any{
		"name": "Szkoła Podstawowa nr 1", "sector": "education", "municipality": "Testowo", "county": "testowski",
		"address": "ul. Szkolna 1", "reason": "nowy członek systemu wsparcia",
	})
	require.Equal(t, http.StatusCreated, r.status, "%s", r.raw)
	var created api.CommandResponse
	require.NoError(t, json.Unmarshal(r.raw, &created))
	assert.Equal(t, "/api/v1/institutions/"+created.ID, r.header.Get("Location"))
	assert.Equal(t, etag(1), r.header.Get("ETag"))
	assert.EqualValues(t, 1, created.Version)
	require.NoError(t, domain.CheckID("id", created.ID))
	assert.Equal(t, ta.lastSeq(), created.Sequence)

	var school projections.InstitutionView
	got := ta.read(r.header.Get("Location"), created.Sequence, &school)
	assert.Equal(t, etag(1), got.header.Get("ETag"))
	assert.NotEmpty(t, got.header.Get("X-Koop-Position"))
	assert.Equal(t, created.ID, school.ID)
	assert.Equal(t, "Szkoła Podstawowa nr 1", school.Name)
	assert.Equal(t, domain.SectorEducation, school.Sector)
	assert.Equal(t, "Testowo", school.Municipality)
	assert.Equal(t, "testowski", school.County)
	assert.Equal(t, "ul. Szkolna 1", school.Address)
	assert.Empty(t, school.Workers)
	assert.EqualValues(t, 1, school.Version)
	assert.False(t, school.RegisteredAt.IsZero())

	ops := ta.institution("Ośrodek Pomocy Społecznej", domain.SectorSocialAssistance)
	last := ta.command(http.MethodPost, "/api/v1/institutions", map[string]any{
		"name": "Poradnia", "sector": "health", "municipality": "Innowo", "county": "testowski",
	}, http.StatusCreated)

	t.Run("the list holds every institution by name", func(t *testing.T) {
		var list api.List[projections.InstitutionView]
		ta.read("/api/v1/institutions", last.Sequence, &list)
		var names []string
		for _, v := range list.Items {
			names = append(names, v.Name)
		}
		assert.Equal(t, []string{"Ośrodek Pomocy Społecznej", "Poradnia", "Szkoła Podstawowa nr 1"}, names)
	})
	t.Run("the list filters by sector", func(t *testing.T) {
		var list api.List[projections.InstitutionView]
		ta.read("/api/v1/institutions?sector=social_assistance", last.Sequence, &list)
		require.Len(t, list.Items, 1)
		assert.Equal(t, ops, list.Items[0].ID)
	})
	t.Run("the list filters by municipality", func(t *testing.T) {
		var list api.List[projections.InstitutionView]
		ta.read("/api/v1/institutions?municipality=Innowo", last.Sequence, &list)
		require.Len(t, list.Items, 1)
		assert.Equal(t, last.ID, list.Items[0].ID)
	})
	t.Run("a sector with no institutions lists none", func(t *testing.T) {
		var list api.List[projections.InstitutionView]
		got := ta.read("/api/v1/institutions?sector=police", last.Sequence, &list)
		assert.NotNil(t, list.Items)
		assert.Contains(t, string(got.raw), `"items":[]`)
	})
	t.Run("an unknown sector is a bad request", func(t *testing.T) {
		r := ta.admin(http.MethodGet, "/api/v1/institutions?sector=space_agency", nil)
		requireProblem(t, r, http.StatusBadRequest, "invalid_field", "sector")
	})
	t.Run("an unknown institution is not found", func(t *testing.T) {
		r := ta.admin(http.MethodGet, "/api/v1/institutions/"+domain.NewID(), nil)
		requireProblem(t, r, http.StatusNotFound, "institution_not_found", "")
	})
	t.Run("a malformed id is not found", func(t *testing.T) {
		for _, id := range []string{"nope", "42", strings.ToUpper(created.ID), created.ID + "0"} {
			r := ta.admin(http.MethodGet, "/api/v1/institutions/"+id, nil)
			requireProblem(t, r, http.StatusNotFound, "not_found", "")
		}
	})
	t.Run("a path that is no route is not found", func(t *testing.T) {
		r := ta.admin(http.MethodGet, "/api/v1/institutions/"+created.ID+"/nothing", nil)
		requireProblem(t, r, http.StatusNotFound, "no_route", "")
	})
}

func TestWorkers(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	ops := ta.institution("OPS Testowo", domain.SectorSocialAssistance)

	r := ta.admin(http.MethodPost, "/api/v1/workers", map[string]any{
		"institution_id": ops, "name": "Anna Nowak", "position": "pracownik socjalny",
	})
	require.Equal(t, http.StatusCreated, r.status, "%s", r.raw)
	var res api.CommandResponse
	require.NoError(t, json.Unmarshal(r.raw, &res))
	assert.Equal(t, ops, res.ID, "the worker is written to the institution")
	assert.EqualValues(t, 2, res.Version)
	assert.Equal(t, "/api/v1/institutions/"+ops, r.header.Get("Location"))
	assert.Equal(t, etag(2), r.header.Get("ETag"))

	var v projections.InstitutionView
	got := ta.read("/api/v1/institutions/"+ops, res.Sequence, &v)
	assert.Equal(t, etag(2), got.header.Get("ETag"))
	require.Len(t, v.Workers, 1)
	assert.Equal(t, "Anna Nowak", v.Workers[0].Name)
	assert.Equal(t, "pracownik socjalny", v.Workers[0].Position)
	require.NoError(t, domain.CheckID("worker id", v.Workers[0].ID))
	assert.EqualValues(t, 2, v.Version)
}

// partnershipFixture is a partnership led by a social-assistance centre,
// with a school as second member.
type partnershipFixture struct {
	ops, school, police string // institutions; police is not a member
	id, path            string
	version             int64
	seq                 uint64
}

func newPartnershipFixture(ta *testAPI) partnershipFixture {
	ta.t.Helper()
	f := partnershipFixture{
		ops:    ta.institution("MOPS Testowo", domain.SectorSocialAssistance),
		school: ta.institution("Szkoła Podstawowa nr 1", domain.SectorEducation),
		police: ta.institution("Komisariat Policji", domain.SectorPolice),
	}
	p := ta.partnership("PZK Testowo", f.ops)
	f.id, f.path = p.ID, "/api/v1/partnerships/"+p.ID
	j := ta.join(f.id, f.school)
	f.version, f.seq = j.Version, j.Sequence
	return f
}

// readPartnership reads a partnership once the read models reached seq.
func (ta *testAPI) readPartnership(id string, seq uint64) (api.PartnershipResponse, response) {
	ta.t.Helper()
	var v api.PartnershipResponse
	r := ta.read("/api/v1/partnerships/"+id, seq, &v)
	return v, r
}

func TestPartnershipLifecycle(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	ops := ta.institution("MOPS Testowo", domain.SectorSocialAssistance)
	pcpr := ta.institution("PCPR Testowski", domain.SectorFamilySupport)
	school := ta.institution("Szkoła Podstawowa nr 1", domain.SectorEducation)
	police := ta.institution("Komisariat Policji", domain.SectorPolice)

	// Initiate.
	r := ta.admin(http.MethodPost, "/api/v1/partnerships", map[string]any{
		"name": "PZK Testowo", "municipality": "Testowo", "county": "testowski", "date": "2024-03-01",
		"place": "Urząd Gminy", "leader_id": ops, "co_leader_id": pcpr, "reason": "uchwała rady gminy",
	})
	require.Equal(t, http.StatusCreated, r.status, "%s", r.raw)
	var res api.CommandResponse
	require.NoError(t, json.Unmarshal(r.raw, &res))
	id := res.ID
	path := "/api/v1/partnerships/" + id
	assert.Equal(t, path, r.header.Get("Location"))
	assert.EqualValues(t, 3, res.Version, "initiated, the leader and the co-leader joined")
	assert.Equal(t, etag(3), r.header.Get("ETag"))

	v, got := ta.readPartnership(id, res.Sequence)
	assert.Equal(t, etag(3), got.header.Get("ETag"))
	assert.Equal(t, "PZK Testowo", v.Name)
	assert.Equal(t, "Testowo", v.Municipality)
	assert.Equal(t, "testowski", v.County)
	assert.Equal(t, "2024-03-01", v.InitiatedOn.String())
	assert.Equal(t, "Urząd Gminy", v.Place)
	assert.Equal(t, ops, v.LeaderID)
	assert.Equal(t, pcpr, v.CoLeaderID)
	assert.Equal(t, projections.StageInitiated, v.Stage)
	require.Len(t, v.Members, 2)
	assert.Equal(t, ops, v.Members[0].InstitutionID)
	assert.Equal(t, "MOPS Testowo", v.Members[0].Name)
	assert.Equal(t, pcpr, v.Members[1].InstitutionID)
	assert.Equal(t, []domain.Sector{domain.SectorSocialAssistance, domain.SectorFamilySupport}, v.Sectors)
	assert.Empty(t, v.Services)
	assert.Empty(t, v.Meetings)
	assert.NotNil(t, v.FamiliesByStage)
	assert.EqualValues(t, 3, v.Version)

	// List.
	var list api.List[projections.PartnershipSummary]
	ta.read("/api/v1/partnerships", res.Sequence, &list)
	require.Len(t, list.Items, 1)
	assert.Equal(t, projections.PartnershipSummary{ID: id, Name: "PZK Testowo", Municipality: "Testowo",
		Stage: projections.StageInitiated, InitiatedOn: v.InitiatedOn, Members: 2, Sectors: 2}, list.Items[0])

	// Join.
	r = ta.admin(http.MethodPost, path+"/members", map[string]any{
		"institution_id": school, "date": "2024-04-02", "signatory": "dyrektor Jan Kowalski",
		"powers": "opinie pedagoga", "resources": "sala gimnastyczna",
	})
	require.Equal(t, http.StatusCreated, r.status, "%s", r.raw)
	require.NoError(t, json.Unmarshal(r.raw, &res))
	assert.Equal(t, id, res.ID)
	assert.EqualValues(t, 4, res.Version)
	assert.Equal(t, path, r.header.Get("Location"))
	assert.Equal(t, etag(4), r.header.Get("ETag"))
	v, _ = ta.readPartnership(id, res.Sequence)
	require.Len(t, v.Members, 3)
	assert.Equal(t, domain.Member{InstitutionID: school, Name: "Szkoła Podstawowa nr 1", Sector: domain.SectorEducation,
		JoinedOn: domain.NewDate(2024, 4, 2), Signatory: "dyrektor Jan Kowalski", Powers: "opinie pedagoga",
		Resources: "sala gimnastyczna"}, v.Members[2])
	assert.Equal(t, []domain.Sector{domain.SectorSocialAssistance, domain.SectorFamilySupport, domain.SectorEducation}, v.Sectors)
	ta.join(id, police)

	// Offer two services.
	r = ta.admin(http.MethodPost, path+"/services", map[string]any{
		"institution_id": school, "name": "Zajęcia wyrównawcze", "description": "po lekcjach",
		"target_groups": []string{"dzieci"}, "capacity": 12, "access": "zgłoszenie u pedagoga",
	})
	require.Equal(t, http.StatusCreated, r.status, "%s", r.raw)
	require.NoError(t, json.Unmarshal(r.raw, &res))
	assert.Equal(t, id, res.ID)
	assert.Equal(t, path, r.header.Get("Location"))
	assert.Equal(t, etag(res.Version), r.header.Get("ETag"))
	ta.command(http.MethodPost, path+"/services", map[string]any{
		"institution_id": police, "name": "Dzielnicowy", "sector": "other",
	}, http.StatusCreated)
	res = ta.command(http.MethodPost, path+"/services", map[string]any{
		"institution_id": ops, "name": "Poradnictwo", "sector": "social_assistance",
	}, http.StatusCreated)
	v, _ = ta.readPartnership(id, res.Sequence)
	require.Len(t, v.Services, 3)
	lessons, beat, advice := v.Services[0], v.Services[1], v.Services[2]
	require.NoError(t, domain.CheckID("service id", lessons.ServiceID))
	assert.Equal(t, school, lessons.InstitutionID)
	assert.Equal(t, "Szkoła Podstawowa nr 1", lessons.InstitutionName)
	assert.Equal(t, "Zajęcia wyrównawcze", lessons.Name)
	assert.Equal(t, domain.SectorEducation, lessons.Sector, "the sector defaults to the institution's")
	assert.Equal(t, "po lekcjach", lessons.Description)
	assert.Equal(t, []string{"dzieci"}, lessons.TargetGroups)
	assert.Equal(t, 12, lessons.Capacity)
	assert.Equal(t, "zgłoszenie u pedagoga", lessons.Access)
	assert.False(t, lessons.Withdrawn)
	assert.Equal(t, domain.SectorOther, beat.Sector, "a sector given is kept")
	assert.Equal(t, "Poradnictwo", advice.Name)

	// Withdraw one: no body needed.
	r = ta.admin(http.MethodDelete, path+"/services/"+advice.ServiceID, nil)
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	require.NoError(t, json.Unmarshal(r.raw, &res))
	assert.Empty(t, r.header.Get("Location"))
	assert.Equal(t, etag(res.Version), r.header.Get("ETag"))
	v, _ = ta.readPartnership(id, res.Sequence)
	assert.True(t, v.Services[2].Withdrawn)
	assert.False(t, v.Services[0].Withdrawn)
	ta.read("/api/v1/partnerships", res.Sequence, &list)
	assert.Equal(t, 2, list.Items[0].ActiveServices)

	// Meeting.
	r = ta.admin(http.MethodPost, path+"/meetings", map[string]any{
		"kind": "regular", "date": "2024-05-10", "place": "MOPS, sala 2", "attendees": []string{ops, school},
		"guests": []string{"radna gminy"}, "decisions": []string{"wspólny dyżur"}, "reason": "protokół nr 1",
	})
	require.Equal(t, http.StatusCreated, r.status, "%s", r.raw)
	require.NoError(t, json.Unmarshal(r.raw, &res))
	assert.Equal(t, path, r.header.Get("Location"))
	v, _ = ta.readPartnership(id, res.Sequence)
	require.Len(t, v.Meetings, 1)
	m := v.Meetings[0]
	require.NoError(t, domain.CheckID("meeting id", m.MeetingID))
	assert.Equal(t, domain.MeetingRegular, m.Kind)
	assert.Equal(t, "2024-05-10", m.Date.String())
	assert.Equal(t, "MOPS, sala 2", m.Place)
	assert.Equal(t, []string{ops, school}, m.Attendees)
	assert.Equal(t, []string{"radna gminy"}, m.Guests)
	assert.Equal(t, []string{"wspólny dyżur"}, m.Decisions)
	assert.Equal(t, "protokół nr 1", m.Note)

	// Formalize.
	r = ta.admin(http.MethodPost, path+"/formalize", map[string]any{"date": "2024-06-01", "place": "Urząd Gminy"})
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	require.NoError(t, json.Unmarshal(r.raw, &res))
	assert.Empty(t, r.header.Get("Location"))
	assert.Equal(t, etag(res.Version), r.header.Get("ETag"))
	v, _ = ta.readPartnership(id, res.Sequence)
	assert.Equal(t, projections.StageFormalized, v.Stage)
	assert.Equal(t, "2024-06-01", v.FormalizedOn.String())
	ta.read("/api/v1/partnerships", res.Sequence, &list)
	assert.Equal(t, projections.StageFormalized, list.Items[0].Stage)
	assert.Equal(t, "2024-06-01", list.Items[0].FormalizedOn.String())

	// Leave: the school's service leaves the basket in the same append.
	before := v.Version
	r = ta.admin(http.MethodDelete, path+"/members/"+school, map[string]any{"date": "2024-09-01", "reason": "zmiana dyrekcji"})
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	require.NoError(t, json.Unmarshal(r.raw, &res))
	assert.Empty(t, r.header.Get("Location"))
	assert.Equal(t, before+2, res.Version, "MemberLeft and the school's service withdrawn")
	assert.Equal(t, etag(before+2), r.header.Get("ETag"))
	v, got = ta.readPartnership(id, res.Sequence)
	assert.Equal(t, etag(before+2), got.header.Get("ETag"))
	left := v.Members[2]
	assert.Equal(t, school, left.InstitutionID)
	assert.True(t, left.Left)
	assert.Equal(t, "2024-09-01", left.LeftOn.String())
	assert.Equal(t, "zmiana dyrekcji", left.LeaveReason)
	assert.True(t, v.Services[0].Withdrawn, "the school's service was withdrawn with it")
	assert.False(t, v.Services[1].Withdrawn, "the police's service stays")
	assert.Equal(t, []domain.Sector{domain.SectorSocialAssistance, domain.SectorFamilySupport, domain.SectorPolice}, v.Sectors)
	ta.read("/api/v1/partnerships", res.Sequence, &list)
	assert.Equal(t, 3, list.Items[0].Members)
	assert.Equal(t, 1, list.Items[0].ActiveServices)
	assert.Equal(t, 1, list.Items[0].Meetings)

	// A member that left can join again.
	res = ta.join(id, school)
	v, _ = ta.readPartnership(id, res.Sequence)
	assert.False(t, v.Members[2].Left)
}

func TestPartnershipQueries(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	f := newPartnershipFixture(ta)
	other := ta.partnership("Aaa PZK", f.police)

	t.Run("the list holds every partnership by name", func(t *testing.T) {
		var list api.List[projections.PartnershipSummary]
		ta.read("/api/v1/partnerships", other.Sequence, &list)
		require.Len(t, list.Items, 2)
		assert.Equal(t, other.ID, list.Items[0].ID)
		assert.Equal(t, f.id, list.Items[1].ID)
		assert.Equal(t, 2, list.Items[1].Members)
		assert.Equal(t, 2, list.Items[1].Sectors)
	})
	t.Run("one partnership carries its ETag", func(t *testing.T) {
		v, r := ta.readPartnership(f.id, f.seq)
		assert.Equal(t, etag(f.version), r.header.Get("ETag"))
		assert.Equal(t, f.version, v.Version)
	})
	t.Run("an unknown partnership is not found", func(t *testing.T) {
		r := ta.admin(http.MethodGet, "/api/v1/partnerships/"+domain.NewID(), nil)
		requireProblem(t, r, http.StatusNotFound, "partnership_not_found", "")
	})
	t.Run("a malformed id is not found", func(t *testing.T) {
		r := ta.admin(http.MethodGet, "/api/v1/partnerships/pzk-1", nil)
		requireProblem(t, r, http.StatusNotFound, "not_found", "")
	})
}

func TestStaffSupport(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	f := newPartnershipFixture(ta)

	r := ta.admin(http.MethodPost, f.path+"/staff-support", map[string]any{
		"kind": "training", "date": "2024-05-01", "topic": "praca z rodziną w kryzysie",
		"institutions": []string{f.ops, f.school}, "hours": 6,
	})
	require.Equal(t, http.StatusCreated, r.status, "%s", r.raw)
	var res api.CommandResponse
	require.NoError(t, json.Unmarshal(r.raw, &res))
	assert.Equal(t, f.id, res.ID)
	assert.Equal(t, f.version+1, res.Version)
	assert.Equal(t, f.path, r.header.Get("Location"))
	assert.Equal(t, etag(f.version+1), r.header.Get("ETag"))

	_, got := ta.readPartnership(f.id, res.Sequence)
	assert.Equal(t, etag(f.version+1), got.header.Get("ETag"))
	r = ta.do(http.MethodPost, f.path+"/formalize", ta.tokens[domain.RoleAdmin], map[string]string{"If-Match": got.header.Get("ETag")},
		map[string]any{"date": "2024-06-01"})
	assert.Equal(t, http.StatusOK, r.status, "the ETag read after staff support is current: %s", r.raw)
}

// A command addressed to one partnership never changes another.
func TestCommandsChangeOnlyTheAddressedPartnership(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	f := newPartnershipFixture(ta)
	other := ta.partnership("Inny PZK", f.ops)

	res := ta.join(other.ID, f.police)
	v, _ := ta.readPartnership(f.id, res.Sequence)
	assert.Len(t, v.Members, 2)
	assert.Equal(t, f.version, v.Version)
	o, _ := ta.readPartnership(other.ID, res.Sequence)
	assert.Len(t, o.Members, 2)
	assert.Equal(t, other.Version+1, o.Version)
}

func TestRetention(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	ops := ta.institution("MOPS Testowo", domain.SectorSocialAssistance)
	path := "/api/v1/institutions/" + ops

	r := ta.admin(http.MethodPut, path+"/retention", map[string]any{"days": 3650, "reason": "zarządzenie dyrektora"})
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	var res api.CommandResponse
	require.NoError(t, json.Unmarshal(r.raw, &res))
	assert.Equal(t, ops, res.ID)
	assert.EqualValues(t, 2, res.Version)
	assert.Equal(t, etag(2), r.header.Get("ETag"))
	assert.Empty(t, r.header.Get("Location"))

	var v projections.InstitutionView
	got := ta.read(path, res.Sequence, &v)
	assert.Equal(t, 3650, v.Retention)
	assert.Equal(t, etag(2), got.header.Get("ETag"))

	r = ta.do(http.MethodPut, path+"/retention", ta.tokens[domain.RoleAnimator], map[string]string{"If-Match": got.header.Get("ETag")},
		map[string]any{"days": 1825})
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	require.NoError(t, json.Unmarshal(r.raw, &res))
	ta.read(path, res.Sequence, &v)
	assert.Equal(t, 1825, v.Retention)
	assert.EqualValues(t, 3, v.Version)
}

func TestMethodsARouteDoesNotTake(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	ops := ta.institution("MOPS Testowo", domain.SectorSocialAssistance)
	tests := []struct {
		name, method, path, allow string
	}{
		{name: "PUT on the institutions", method: http.MethodPut, path: "/api/v1/institutions", allow: "GET, HEAD, POST"},
		{name: "DELETE on an institution", method: http.MethodDelete, path: "/api/v1/institutions/" + ops, allow: "GET, HEAD"},
		{name: "GET on the workers", method: http.MethodGet, path: "/api/v1/workers", allow: "POST"},
		{name: "PATCH on the partnerships", method: http.MethodPatch, path: "/api/v1/partnerships", allow: "GET, HEAD, POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is not allowed", func(t *testing.T) {
			before := ta.lastSeq()
			r := ta.admin(tt.method, tt.path, map[string]any{})
			assert.Equal(t, before, ta.lastSeq())
			require.Equal(t, http.StatusMethodNotAllowed, r.status, "%s", r.raw)
			assert.Equal(t, tt.allow, r.header.Get("Allow"))
			assert.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
		})
	}
}

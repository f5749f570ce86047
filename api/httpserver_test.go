package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/api"
	"github.com/kooperacje/kooperacje/domain"
)

// requireHardened requires the headers every answer carries.
func requireHardened(t *testing.T, r response) {
	t.Helper()
	assert.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"), "answer %d: %s", r.status, r.raw)
	assert.Equal(t, "DENY", r.header.Get("X-Frame-Options"))
	assert.Contains(t, r.header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
}

func TestEveryAnswerIsHardened(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	f := newPartnershipFixture(ta)
	admin := ta.tokens[domain.RoleAdmin]
	tests := []struct {
		name         string
		method, path string
		token        string
		body         any
		status       int
	}{
		{name: "a probe", method: http.MethodGet, path: "/healthz", status: 200},
		{name: "the metrics", method: http.MethodGet, path: "/metrics", status: 200},
		{name: "the OpenAPI document", method: http.MethodGet, path: "/api/v1/openapi.json", status: 200},
		{name: "a read", method: http.MethodGet, path: "/api/v1/partnerships/" + f.id, token: admin, status: 200},
		{name: "a command", method: http.MethodPost, path: f.path + "/meetings", token: admin,
			body: map[string]any{"kind": "regular", "date": "2024-05-01", "place": "MOPS", "attendees": []string{f.ops}}, status: 201},
		{name: "bad input", method: http.MethodPost, path: f.path + "/meetings", token: admin, body: rawBody(`{"KIND":"regular"}`), status: 400},
		{name: "no token", method: http.MethodGet, path: "/api/v1/me", status: 401},
		{name: "a role that may not", method: http.MethodGet, path: "/api/v1/users", token: ta.tokens[domain.RoleWorker], status: 403},
		{name: "a path no route knows", method: http.MethodGet, path: "/api/v1/nothing", token: admin, status: 404},
		{name: "a method a route does not take", method: http.MethodDelete, path: "/healthz", status: 405},
		{name: "a path with a dot-dot segment", method: http.MethodGet, path: "/api/v1/partnerships/../me", token: admin, status: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ta.do(tt.method, tt.path, tt.token, nil, tt.body)
			require.Equal(t, tt.status, r.status, "%s", r.raw)
			requireHardened(t, r)
		})
	}
}

// A path that is not in its clean form is no resource: 404 as a problem,
// not the redirect to the cleaned path that http.ServeMux would answer,
// and a command sent to it writes nothing.
func TestPathsWithDotSegmentsAreNotFound(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	f := newPartnershipFixture(ta)
	admin := ta.tokens[domain.RoleAdmin]
	meeting := map[string]any{"kind": "regular", "date": "2024-05-01", "place": "MOPS", "attendees": []string{f.ops}}
	tests := []struct {
		name, method, path string
		body               any
	}{
		{name: "a dot-dot segment leading elsewhere", method: http.MethodGet, path: "/api/v1/families/../me"},
		{name: "a dot-dot segment leading back", method: http.MethodGet, path: "/api/v1/partnerships/x/../" + f.id},
		{name: "a dot segment", method: http.MethodGet, path: "/api/v1/./me"},
		{name: "an empty segment", method: http.MethodGet, path: "/api/v1//me"},
		{name: "a dot-dot segment written as an escape", method: http.MethodGet, path: "/api/v1/families/%2e%2e/me"},
		{name: "a dot-dot segment at the end", method: http.MethodGet, path: "/api/v1/me/.."},
		{name: "a dot-dot segment above the root", method: http.MethodGet, path: "/../healthz"},
		{name: "a probe behind a dot segment", method: http.MethodGet, path: "/./healthz"},
		{name: "a command behind a dot-dot segment", method: http.MethodPost, path: f.path + "/x/../meetings", body: meeting},
		{name: "a command behind an empty segment", method: http.MethodPost, path: "/api/v1/partnerships//" + f.id + "/meetings", body: meeting},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := ta.lastSeq()
			r := ta.do(tt.method, tt.path, admin, nil, tt.body)
			assert.Equal(t, before, ta.lastSeq(), "nothing is written")
			requireProblem(t, r, http.StatusNotFound, "no_route", "")
			assert.Empty(t, r.header.Get("Location"), "no redirect")
			requireHardened(t, r)
		})
	}
}

// Request headers are capped at api.MaxHeaderBytes: a megabyte of them is
// refused with 431 before anything is read, a request within the cap is
// served.
func TestRequestHeadersAreCapped(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	f := newPartnershipFixture(ta)
	admin := ta.tokens[domain.RoleAdmin]
	meeting := map[string]any{"kind": "regular", "date": "2024-05-01", "place": "MOPS", "attendees": []string{f.ops}}

	t.Run("a header of one megabyte is refused with 431 and writes nothing", func(t *testing.T) {
		before := ta.lastSeq()
		r := ta.do(http.MethodPost, f.path+"/meetings", admin, map[string]string{"X-Padding": strings.Repeat("a", 1<<20)}, meeting)
		assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, r.status, "%s", r.raw)
		assert.Equal(t, before, ta.lastSeq())
	})
	t.Run("many headers over the cap together are refused with 431", func(t *testing.T) {
		headers := map[string]string{}
		for i := range 40 {
			headers["X-Padding-"+strings.Repeat("p", i+1)] = strings.Repeat("a", 2<<10)
		}
		r := ta.do(http.MethodGet, "/api/v1/me", admin, headers, nil)
		assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, r.status, "%s", r.raw)
	})
	t.Run("headers within the cap are served", func(t *testing.T) {
		r := ta.do(http.MethodPost, f.path+"/meetings", admin, map[string]string{"X-Padding": strings.Repeat("a", api.MaxHeaderBytes-4<<10)}, meeting)
		assert.Equal(t, http.StatusCreated, r.status, "%s", r.raw)
	})
}

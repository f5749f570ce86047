package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/api"
	"github.com/kooperacje/kooperacje/domain"
)

// readRoutes are the GET routes of institutions and partnerships.
func readRoutes(f partnershipFixture) []string {
	return []string{
		"/api/v1/me",
		"/api/v1/institutions",
		"/api/v1/institutions?sector=education",
		"/api/v1/institutions/" + f.ops,
		"/api/v1/partnerships",
		"/api/v1/partnerships/" + f.id,
	}
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	f := newBadInputFixture(ta)
	unissued, _ := api.NewToken()

	// A token that was revoked and one that expired.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	system := domain.Meta{Actor: domain.Actor{UserID: ta.userIDs[domain.RoleAdmin], Role: domain.RoleSystem}}
	revoked, revokedHash := api.NewToken()
	tokenID := domain.NewID()
	_, err := ta.handler.Execute(ctx, domain.IssueToken{UserID: ta.userIDs[domain.RoleAdmin], TokenID: tokenID, Hash: revokedHash}, system, domain.AnyVersion)
	require.NoError(t, err)
	_, err = ta.handler.Execute(ctx, domain.RevokeToken{UserID: ta.userIDs[domain.RoleAdmin], TokenID: tokenID}, system, domain.AnyVersion)
	require.NoError(t, err)
	expired, expiredHash := api.NewToken()
	past := time.Now().Add(-time.Minute)
	res, err := ta.handler.Execute(ctx, domain.IssueToken{UserID: ta.userIDs[domain.RoleAdmin], TokenID: domain.NewID(), Hash: expiredHash, ExpiresAt: &past}, system, domain.AnyVersion)
	require.NoError(t, err)
	require.NoError(t, ta.runner.WaitFor(ctx, res.Sequence))

	tests := []struct {
		name          string
		authorization string // "" sends none
		code          string
		secret        string // must not appear in the answer
	}{
		{name: "no Authorization header", code: "token_missing"},
		{name: "Basic credentials", authorization: "Basic YWRtaW46YWRtaW4=", code: "token_malformed", secret: "YWRtaW46YWRtaW4="},
		{name: "the Bearer scheme without a token", authorization: "Bearer", code: "token_malformed"},
		{name: "the Bearer scheme with a blank token", authorization: "Bearer    ", code: "token_malformed"},
		{name: "a bare token without a scheme", authorization: ta.tokens[domain.RoleAdmin], code: "token_malformed", secret: ta.tokens[domain.RoleAdmin]},
		{name: "a token that was never issued", authorization: "Bearer " + unissued, code: "token_invalid", secret: unissued},
		{name: "a token that is not of this system", authorization: "Bearer abc.def.ghi", code: "token_invalid", secret: "abc.def.ghi"},
		{name: "a revoked token", authorization: "Bearer " + revoked, code: "token_invalid", secret: revoked},
		{name: "an expired token", authorization: "Bearer " + expired, code: "token_invalid", secret: expired},
		{name: "the hash of a token instead of the token", authorization: "Bearer " + api.HashToken(ta.tokens[domain.RoleAdmin]), code: "token_invalid"},
	}
	type request struct{ method, path string }
	var requests []request
	for _, path := range readRoutes(f.partnershipFixture) {
		requests = append(requests, request{http.MethodGet, path})
	}
	// A resource that does not exist answers 401 too: without a token
	// nothing is told, not even what exists.
	requests = append(requests, request{http.MethodGet, "/api/v1/institutions/" + domain.NewID()})
	routes := commandRoutes(f)
	for _, key := range commandOrder {
		requests = append(requests, request{routes[key].method, routes[key].path})
	}

	for _, tt := range tests {
		t.Run("a request with "+tt.name+" is not authenticated", func(t *testing.T) {
			before := ta.lastSeq()
			for _, rq := range requests {
				var body any
				if rq.method != http.MethodGet {
					for _, key := range commandOrder {
						if routes[key].path == rq.path {
							body = routes[key].valid
						}
					}
				}
				r := ta.do(rq.method, rq.path, "", map[string]string{"Authorization": tt.authorization}, body)
				requireProblem(t, r, http.StatusUnauthorized, tt.code, "Authorization")
				assert.Equal(t, `Bearer realm="kooperacje"`, r.header.Get("WWW-Authenticate"), "%s %s", rq.method, rq.path)
				assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
				if tt.secret != "" {
					assert.NotContains(t, string(r.raw), tt.secret, "the credentials are not echoed")
				}
				for _, leak := range []string{ta.userIDs[domain.RoleAdmin], "Test admin", "sha256", "nats", "jetstream", ".go:"} {
					assert.NotContains(t, strings.ToLower(string(r.raw)), strings.ToLower(leak), "%s %s", rq.method, rq.path)
				}
			}
			assert.Equal(t, before, ta.lastSeq(), "nothing is written")
		})
	}

	t.Run("the scheme is case-insensitive", func(t *testing.T) {
		r := ta.do(http.MethodGet, "/api/v1/me", "", map[string]string{"Authorization": "bearer " + ta.tokens[domain.RoleAuditor]}, nil)
		require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
		assert.Equal(t, string(domain.RoleAuditor), r.body["role"])
	})
	t.Run("public routes ignore a bad token", func(t *testing.T) {
		for _, path := range []string{"/healthz", "/readyz", "/metrics", "/api/v1/openapi.json"} {
			r := ta.do(http.MethodGet, path, unissued, nil, nil)
			assert.Equal(t, http.StatusOK, r.status, "%s: %s", path, r.raw)
		}
	})
}

func TestAuthorisation(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	f := newBadInputFixture(ta)
	routes := commandRoutes(f)

	for _, role := range []domain.Role{domain.RoleCoordinator, domain.RoleWorker, domain.RoleEvaluator, domain.RoleAuditor} {
		for _, key := range commandOrder {
			rt := routes[key]
			t.Run("the "+string(role)+" may not "+rt.name, func(t *testing.T) {
				before := ta.lastSeq()
				r := ta.do(rt.method, rt.path, ta.tokens[role], nil, rt.valid)
				requireProblem(t, r, http.StatusForbidden, "role_forbidden", "")
				assert.Empty(t, r.header.Get("WWW-Authenticate"))
				assert.Contains(t, r.body["detail"], string(role))
				assert.Equal(t, before, ta.lastSeq(), "nothing is written")
			})
		}
	}

	for _, role := range domain.Roles {
		t.Run("the "+string(role)+" may read institutions and partnerships", func(t *testing.T) {
			for _, path := range readRoutes(f.partnershipFixture) {
				r := ta.do(http.MethodGet, path, ta.tokens[role], nil, nil)
				assert.Equal(t, http.StatusOK, r.status, "%s: %s", path, r.raw)
				assert.Contains(t, r.header.Get("Content-Type"), "application/json")
			}
		})
	}

	// The animator runs the partnerships their institution leads: every
	// command on them is theirs as well as the admin's; on others, none.
	spare := newBadInputFixture(ta)
	animator := ta.user(domain.RoleAnimator, spare.ops, "")
	for _, key := range commandOrder {
		if key == "institution" || key == "worker" || key == "retention" {
			continue // institutions are every animator's, not a partnership's
		}
		rt := commandRoutes(spare)[key]
		t.Run("an animator of another institution may not "+rt.name, func(t *testing.T) {
			before := ta.lastSeq()
			r := ta.do(rt.method, rt.path, ta.tokens[domain.RoleAnimator], nil, rt.valid)
			requireProblem(t, r, http.StatusForbidden, "forbidden", "")
			assert.Equal(t, before, ta.lastSeq())
		})
	}
	for _, key := range commandOrder {
		rt := commandRoutes(spare)[key]
		t.Run("the animator may "+rt.name, func(t *testing.T) {
			before := ta.lastSeq()
			r := ta.do(rt.method, rt.path, animator, nil, rt.valid)
			require.Less(t, r.status, 300, "%s", r.raw)
			assert.Equal(t, before+1, ta.lastSeq())
		})
	}
}

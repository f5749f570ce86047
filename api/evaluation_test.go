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
)

// withEvaluation gives the API the stream and the keyring, as serve does.
func withEvaluation(c *api.Config) {
	c.Stream = c.Store.(projections.Source)
	c.Pseudonyms = c.Keys.(api.Pseudonyms)
}

func TestEvaluationForTheEvaluatorOnPseudonymsOnly(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t, withEvaluation)
	f := newFamilyFixture(ta)
	f1 := ta.openFamily(f, f.coordinator)
	f2 := ta.openFamily(f, f.coordinator2)

	get := func(role domain.Role, query string) response {
		return ta.do(http.MethodGet, "/api/v1/evaluation"+query, ta.tokens[role], nil, nil)
	}
	for _, role := range []domain.Role{domain.RoleEvaluator, domain.RoleAdmin} {
		r := get(role, "")
		require.Equal(t, http.StatusOK, r.status, "%s: %s", role, r.raw)
		assert.Equal(t, "application/json; charset=utf-8", r.header.Get("Content-Type"))
		var ev api.Evaluation
		require.NoError(t, json.Unmarshal(r.raw, &ev))
		require.Len(t, ev.Partnerships, 1)
		assert.Equal(t, f.id, ev.Partnerships[0].PartnershipID)
		assert.Equal(t, 2, ev.Partnerships[0].Client.FamiliesEnrolled)
		assert.Equal(t, 2, ev.Overall.Client.FamiliesEnrolled)
		assert.Equal(t, api.CutoffToday, ev.CutoffRule, "no as_of: the default rule")
		assert.Equal(t, projections.Today(time.Now()), ev.AsOf, "as of today in Poland")
		require.NotNil(t, ev.Cutoff)
		assert.True(t, ev.Cutoff.OccurredAt.Equal(api.EndOfDay(ev.AsOf)), "cut at the end of today")
		assert.Equal(t, ta.lastSeq(), ev.Replay.Position)
		assert.Zero(t, ev.Replay.SkippedUnknown)
		body := string(r.raw)
		for _, secret := range append([]string{f1.id, f2.id, f1.applicant, f1.child, f2.applicant, f2.child}, familySecrets...) {
			assert.NotContains(t, body, secret, "the evaluation carries pseudonyms only")
		}
	}

	// The same document as kooperacje evaluate writes, byte for byte. The
	// commands were sent without occurred_at: their business time is their
	// date, from the partnership's initiation on 2024-03-01 on, so as of
	// the day before nothing had happened yet.
	yesterday := domain.NewDate(2024, 2, 29)
	r := get(domain.RoleEvaluator, "?as_of="+yesterday.String())
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	ev, err := api.Evaluate(context.Background(), ta.store, ta.keys, projections.Until{OccurredAt: api.EndOfDay(yesterday)}, yesterday, "", time.Now())
	require.NoError(t, err)
	want, err := api.EncodeEvaluation(ev)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(r.raw))
	assert.Equal(t, yesterday, ev.AsOf)
	assert.Equal(t, api.CutoffAsOf, ev.CutoffRule)
	require.NotNil(t, ev.Cutoff)
	assert.True(t, ev.Cutoff.OccurredAt.Equal(api.EndOfDay(yesterday)))
	assert.Empty(t, ev.Partnerships, "nothing had happened by the day before the initiation")
	assert.Zero(t, ev.Overall.Client.FamiliesEnrolled)

	for _, role := range []domain.Role{domain.RoleCoordinator, domain.RoleWorker, domain.RoleAnimator, domain.RoleAuditor} {
		r := get(role, "")
		requireProblem(t, r, http.StatusForbidden, "role_forbidden", "")
		assert.False(t, strings.Contains(string(r.raw), "partnerships"), "a refusal tells nothing")
	}
	r = ta.do(http.MethodGet, "/api/v1/evaluation", "", nil, nil)
	requireProblem(t, r, http.StatusUnauthorized, "token_missing", "Authorization")

	for _, bad := range []string{"2024-13-01", "yesterday", "2024-05-05T10:00:00Z"} {
		requireProblem(t, get(domain.RoleEvaluator, "?as_of="+bad), http.StatusBadRequest, "invalid_field", "as_of")
	}
	requireProblem(t, get(domain.RoleEvaluator, "?by=town"), http.StatusBadRequest, "invalid_field", "by")
	r = get(domain.RoleEvaluator, "?by=county")
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	var byCounty api.Evaluation
	require.NoError(t, json.Unmarshal(r.raw, &byCounty))
	assert.Equal(t, projections.ByCounty, byCounty.By)
	require.Len(t, byCounty.Partnerships, 1, "the fixture's partnership is in one county")
	assert.Empty(t, byCounty.Partnerships[0].PartnershipID)
	assert.Equal(t, 2, byCounty.Partnerships[0].Client.FamiliesEnrolled)
}

func TestEvaluationWithoutAStreamIsUnavailable(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	r := ta.do(http.MethodGet, "/api/v1/evaluation", ta.tokens[domain.RoleEvaluator], nil, nil)
	requireProblem(t, r, http.StatusServiceUnavailable, "evaluation_unavailable", "")
}

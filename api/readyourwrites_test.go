package api_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/api"
	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/projections"
)

func TestReadYourWrites(t *testing.T) {
	t.Parallel()
	const maxWait = 300 * time.Millisecond
	ta := newTestAPI(t, func(c *api.Config) { c.MaxWait = maxWait })
	f := newPartnershipFixture(ta)
	queries := []string{
		"/api/v1/institutions",
		"/api/v1/institutions/" + f.ops,
		"/api/v1/partnerships",
		"/api/v1/partnerships/" + f.id,
	}

	t.Run("every write is read at once with its sequence", func(t *testing.T) {
		for i := range 5 {
			res := ta.command(http.MethodPost, "/api/v1/institutions", map[string]any{
				"name": "Instytucja " + strconv.Itoa(i), "sector": "ngo", "municipality": "Testowo", "county": "testowski",
			}, http.StatusCreated)
			var v projections.InstitutionView
			r := ta.read("/api/v1/institutions/"+res.ID, res.Sequence, &v)
			assert.Equal(t, "Instytucja "+strconv.Itoa(i), v.Name)
			pos, err := strconv.ParseUint(r.header.Get("X-Koop-Position"), 10, 64)
			require.NoError(t, err)
			assert.GreaterOrEqual(t, pos, res.Sequence)
		}
	})

	t.Run("a query waits for a sequence not applied yet", func(t *testing.T) {
		next := ta.lastSeq() + 1
		answer := make(chan response, 1)
		go func() {
			r, _ := ta.send(http.MethodGet, "/api/v1/institutions?sector=police&min_seq="+strconv.FormatUint(next, 10),
				ta.tokens[domain.RoleAuditor], nil, nil)
			answer <- r
		}()
		time.Sleep(50 * time.Millisecond)
		ta.institution("Posterunek Policji", domain.SectorPolice)
		select {
		case r := <-answer:
			require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
			assert.Contains(t, string(r.raw), "Posterunek Policji", "the query answered after the write was applied")
		case <-time.After(5 * time.Second):
			t.Fatal("the query did not answer")
		}
	})

	for _, q := range queries {
		for _, bad := range []string{"abc", "-1", "1.5", "0x10", "18446744073709551616"} {
			t.Run("GET "+q+" with min_seq="+bad+" is a bad request", func(t *testing.T) {
				r := ta.admin(http.MethodGet, q+"?min_seq="+bad, nil)
				requireProblem(t, r, http.StatusBadRequest, "invalid_field", "min_seq")
			})
		}
		t.Run("GET "+q+" with a sequence far in the future times out quickly", func(t *testing.T) {
			start := time.Now()
			r := ta.admin(http.MethodGet, q+"?min_seq=1000000000", nil)
			elapsed := time.Since(start)
			requireProblem(t, r, http.StatusGatewayTimeout, "not_caught_up", "min_seq")
			assert.GreaterOrEqual(t, elapsed, maxWait-10*time.Millisecond)
			assert.Less(t, elapsed, maxWait+2*time.Second)
		})
		t.Run("GET "+q+" with min_seq=0 answers at once", func(t *testing.T) {
			r := ta.admin(http.MethodGet, q+"?min_seq=0", nil)
			assert.Equal(t, http.StatusOK, r.status, "%s", r.raw)
		})
	}

	t.Run("the projections are still ready after timeouts", func(t *testing.T) {
		r := ta.do(http.MethodGet, "/readyz", "", nil, nil)
		assert.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	})
}

package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/api"
	"github.com/kooperacje/kooperacje/domain"
)

func TestIfMatch(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	f := newPartnershipFixture(ta)
	admin := ta.tokens[domain.RoleAdmin]
	stale := etag(f.version - 1)

	t.Run("a stale version conflicts and writes nothing", func(t *testing.T) {
		before := ta.lastSeq()
		r := ta.do(http.MethodPost, f.path+"/members", admin, map[string]string{"If-Match": stale},
			map[string]any{"institution_id": f.police, "date": "2024-05-01"})
		requireProblem(t, r, http.StatusConflict, "version_conflict", "If-Match")
		assert.Equal(t, before, ta.lastSeq())
	})
	t.Run("a version ahead of the partnership conflicts and writes nothing", func(t *testing.T) {
		before := ta.lastSeq()
		r := ta.do(http.MethodPost, f.path+"/formalize", admin, map[string]string{"If-Match": etag(f.version + 5)},
			map[string]any{"date": "2024-05-01"})
		requireProblem(t, r, http.StatusConflict, "version_conflict", "If-Match")
		assert.Equal(t, before, ta.lastSeq())
	})
	t.Run("a version on a partnership that does not exist conflicts", func(t *testing.T) {
		before := ta.lastSeq()
		r := ta.do(http.MethodPost, "/api/v1/partnerships/"+domain.NewID()+"/formalize", admin, map[string]string{"If-Match": etag(1)},
			map[string]any{"date": "2024-05-01"})
		requireProblem(t, r, http.StatusConflict, "version_conflict", "If-Match")
		assert.Equal(t, before, ta.lastSeq())
	})

	var version int64
	t.Run("the current ETag, quoted or not, lets the command through", func(t *testing.T) {
		_, got := ta.readPartnership(f.id, f.seq)
		current := got.header.Get("ETag")
		require.Equal(t, etag(f.version), current)
		r := ta.do(http.MethodPost, f.path+"/members", admin, map[string]string{"If-Match": current},
			map[string]any{"institution_id": f.police, "date": "2024-05-01"})
		require.Equal(t, http.StatusCreated, r.status, "%s", r.raw)
		version = f.version + 1
		assert.Equal(t, etag(version), r.header.Get("ETag"))

		r = ta.do(http.MethodPost, f.path+"/formalize", admin, map[string]string{"If-Match": r.header.Get("ETag")},
			map[string]any{"date": "2024-06-01"})
		require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
		version++
		assert.Equal(t, etag(version), r.header.Get("ETag"))
		var res api.CommandResponse
		require.NoError(t, json.Unmarshal(r.raw, &res))
		assert.Equal(t, version, res.Version)

		v, got := ta.readPartnership(f.id, res.Sequence)
		assert.Equal(t, "formalized", v.Stage)
		assert.Equal(t, etag(version), got.header.Get("ETag"))
	})
	t.Run("If-Match: * accepts any version", func(t *testing.T) {
		r := ta.do(http.MethodPost, f.path+"/meetings", admin, map[string]string{"If-Match": "*"},
			map[string]any{"kind": "regular", "date": "2024-06-02", "place": "MOPS", "attendees": []string{f.ops}})
		require.Equal(t, http.StatusCreated, r.status, "%s", r.raw)
		version++
		assert.Equal(t, etag(version), r.header.Get("ETag"))
	})
	t.Run("of two commands sent with the same ETag at once one wins", func(t *testing.T) {
		before := ta.lastSeq()
		statuses := make([]int, 2)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, place := range []string{"sala A", "sala B"} {
			wg.Go(func() {
				r, err := ta.send(http.MethodPost, f.path+"/meetings", admin, map[string]string{"If-Match": etag(version)},
					map[string]any{"kind": "regular", "date": "2024-06-03", "place": place, "attendees": []string{f.ops}})
				statuses[i], errs[i] = r.status, err
			})
		}
		wg.Wait()
		require.NoError(t, errs[0])
		require.NoError(t, errs[1])
		assert.ElementsMatch(t, []int{http.StatusCreated, http.StatusConflict}, statuses)
		assert.Equal(t, before+1, ta.lastSeq())
	})
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	f := newPartnershipFixture(ta)
	admin := ta.tokens[domain.RoleAdmin]
	initiate := map[string]any{"name": "PZK Ponowiony", "municipality": "Testowo", "county": "testowski",
		"date": "2024-03-01", "leader_id": f.ops}

	t.Run("a retried create answers the same and writes once", func(t *testing.T) {
		key := map[string]string{"Idempotency-Key": "initiate-2024-03-01"}
		before := ta.lastSeq()
		first := ta.do(http.MethodPost, "/api/v1/partnerships", admin, key, initiate)
		require.Equal(t, http.StatusCreated, first.status, "%s", first.raw)
		assert.Empty(t, first.header.Get("Idempotent-Replayed"))
		second := ta.do(http.MethodPost, "/api/v1/partnerships", admin, key, initiate)
		require.Equal(t, http.StatusCreated, second.status, "%s", second.raw)
		assert.Equal(t, "true", second.header.Get("Idempotent-Replayed"))

		assert.JSONEq(t, string(first.raw), string(second.raw), "the same id, version and sequence")
		assert.Equal(t, first.header.Get("Location"), second.header.Get("Location"))
		assert.Equal(t, first.header.Get("ETag"), second.header.Get("ETag"))
		assert.Equal(t, before+1, ta.lastSeq(), "exactly one new message")

		var res api.CommandResponse
		require.NoError(t, json.Unmarshal(first.raw, &res))
		var list api.List[map[string]any]
		ta.read("/api/v1/partnerships", res.Sequence, &list)
		n := 0
		for _, p := range list.Items {
			if p["name"] == "PZK Ponowiony" {
				n++
			}
		}
		assert.Equal(t, 1, n, "one partnership was created")
	})

	t.Run("a retried join answers the same although the institution is a member now", func(t *testing.T) {
		key := map[string]string{"Idempotency-Key": "join-police"}
		body := map[string]any{"institution_id": f.police, "date": "2024-05-01"}
		before := ta.lastSeq()
		first := ta.do(http.MethodPost, f.path+"/members", admin, key, body)
		require.Equal(t, http.StatusCreated, first.status, "%s", first.raw)
		second := ta.do(http.MethodPost, f.path+"/members", admin, key, body)
		require.Equal(t, http.StatusCreated, second.status, "%s", second.raw)
		assert.JSONEq(t, string(first.raw), string(second.raw))
		assert.Equal(t, "true", second.header.Get("Idempotent-Replayed"))
		assert.Equal(t, before+1, ta.lastSeq())

		without := ta.do(http.MethodPost, f.path+"/members", admin, nil, body)
		requireProblem(t, without, http.StatusConflict, "already_member", "institution_id")
	})

	t.Run("the same key on another route is another command", func(t *testing.T) {
		key := map[string]string{"Idempotency-Key": "shared-key"}
		before := ta.lastSeq()
		p := ta.do(http.MethodPost, "/api/v1/partnerships", admin, key, with(initiate, "name", "PZK wspólnego klucza"))
		require.Equal(t, http.StatusCreated, p.status, "%s", p.raw)
		i := ta.do(http.MethodPost, "/api/v1/institutions", admin, key,
			map[string]any{"name": "Poradnia", "sector": "health", "municipality": "Testowo", "county": "testowski"})
		require.Equal(t, http.StatusCreated, i.status, "%s", i.raw)
		assert.Empty(t, i.header.Get("Idempotent-Replayed"))
		assert.Equal(t, "/api/v1/institutions/"+i.body["id"].(string), i.header.Get("Location"), "the answer is about the institution")
		var pr api.CommandResponse
		require.NoError(t, json.Unmarshal(p.raw, &pr))
		j := ta.do(http.MethodPost, "/api/v1/partnerships/"+pr.ID+"/members", admin, key,
			map[string]any{"institution_id": i.body["id"], "date": "2024-05-01"})
		require.Equal(t, http.StatusCreated, j.status, "%s", j.raw)
		assert.Empty(t, j.header.Get("Idempotent-Replayed"))
		assert.Equal(t, before+3, ta.lastSeq(), "three commands, three messages")

		var res api.CommandResponse
		require.NoError(t, json.Unmarshal(j.raw, &res))
		v, _ := ta.readPartnership(pr.ID, res.Sequence)
		assert.Len(t, v.Members, 2, "the join was carried out")
	})

	t.Run("the same key from two users is two commands", func(t *testing.T) {
		key := map[string]string{"Idempotency-Key": "my-first-partnership"}
		animator := ta.user(domain.RoleAnimator, f.ops, "")
		before := ta.lastSeq()
		a := ta.do(http.MethodPost, "/api/v1/partnerships", admin, key, initiate)
		b := ta.do(http.MethodPost, "/api/v1/partnerships", animator, key, initiate)
		require.Equal(t, http.StatusCreated, a.status, "%s", a.raw)
		require.Equal(t, http.StatusCreated, b.status, "%s", b.raw)
		assert.NotEqual(t, a.body["id"], b.body["id"])
		assert.Equal(t, before+2, ta.lastSeq())
	})

	t.Run("concurrent requests with the same key write once", func(t *testing.T) {
		const n = 8
		key := map[string]string{"Idempotency-Key": "concurrent-initiation"}
		before := ta.lastSeq()
		answers := make([]response, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				answers[i], errs[i] = ta.send(http.MethodPost, "/api/v1/partnerships", admin, key, with(initiate, "name", "PZK współbieżny"))
			})
		}
		wg.Wait()
		fresh := 0
		for i := range n {
			require.NoError(t, errs[i])
			require.Equal(t, http.StatusCreated, answers[i].status, "%s", answers[i].raw)
			assert.JSONEq(t, string(answers[0].raw), string(answers[i].raw))
			if answers[i].header.Get("Idempotent-Replayed") == "" {
				fresh++
			}
		}
		assert.Equal(t, 1, fresh, "one answer wrote, the others replayed it")
		assert.Equal(t, before+1, ta.lastSeq(), "exactly one new message")
	})
}

// Commands without If-Match on one partnership are decided again after a
// concurrent change, so that none of them is lost.
func TestConcurrentCommandsWithoutIfMatchAllSucceed(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	f := newPartnershipFixture(ta)
	others := []string{f.police,
		ta.institution("Poradnia", domain.SectorHealth),
		ta.institution("Urząd Pracy", domain.SectorLabour),
	}
	before := ta.lastSeq()
	statuses := make([]int, len(others))
	errs := make([]error, len(others))
	var wg sync.WaitGroup
	for i, inst := range others {
		wg.Go(func() {
			r, err := ta.send(http.MethodPost, f.path+"/members", ta.tokens[domain.RoleAdmin], nil,
				map[string]any{"institution_id": inst, "date": "2024-05-01"})
			statuses[i], errs[i] = r.status, err
		})
	}
	wg.Wait()
	for i := range others {
		require.NoError(t, errs[i])
		assert.Equal(t, http.StatusCreated, statuses[i])
	}
	last := ta.lastSeq()
	assert.Equal(t, before+uint64(len(others)), last)
	v, _ := ta.readPartnership(f.id, last)
	assert.Len(t, v.Members, 2+len(others))
	assert.Equal(t, f.version+int64(len(others)), v.Version)
}

// Forty commands sent at once to one family without If-Match are each
// decided again on the fresh state until they are written: none answers
// 409 for a version it never named. With a stale If-Match the caller did
// name a version, and it conflicts.
func TestConcurrentCommandsOnOneFamilyWithoutIfMatch(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	f := newFamilyFixture(ta)
	admin := ta.tokens[domain.RoleAdmin]
	fc := ta.openFamily(f, f.coordinator)
	start := versionOf(t, ta, fc)

	const n = 40
	areas := []string{"housing", "income", "employment", "health", "parenting"}
	reqs := make([]badRequest, n)
	for i := range reqs {
		reqs[i] = badRequest{method: http.MethodPost, path: fc.path + "/diagnosis",
			body: diagnosisBody(f.coordinator, f.ops, areas[i%len(areas)], "medium")}
	}
	before := ta.lastSeq()
	answers := race(t, ta, admin, reqs...)
	versions := map[string]bool{}
	for i, a := range answers {
		require.Equal(t, http.StatusOK, a.status, "command %d: %s", i, a.raw)
		versions[a.header.Get("ETag")] = true
	}
	assert.Len(t, versions, n, "every command has a version of its own")
	assert.Equal(t, before+n, ta.lastSeq(), "every command is written once")
	assert.Equal(t, start+n, versionOf(t, ta, fc))

	t.Run("with a second engine writing to the family at the same time, every command is written", func(t *testing.T) {
		// Another engine on the same stream: its commands conflict with
		// the API's, which are decided again on the fresh state.
		other := &domain.Handler{Store: ta.store, Cache: domain.NewCache(0)}
		version := versionOf(t, ta, fc)
		before := ta.lastSeq()
		var wg sync.WaitGroup
		direct := make([]error, n/2)
		for i := range direct {
			wg.Go(func() {
				cmd := domain.RecordDiagnosisInput{FamilyID: fc.id, Area: domain.AreaIncome, Severity: domain.SeverityLow, Needs: "Potrzeby",
					WorkerID: f.coordinator, InstitutionID: f.ops, Date: domain.NewDate(2024, time.May, 14)}
				_, direct[i] = other.Execute(context.Background(), cmd, domain.Meta{Actor: domain.Actor{UserID: ta.userIDs[domain.RoleAdmin], Role: domain.RoleAdmin}}, domain.AnyVersion)
			})
		}
		answers := race(t, ta, admin, reqs[:n/2]...)
		wg.Wait()
		for i, err := range direct {
			require.NoError(t, err, "command %d of the other engine", i)
		}
		for i, a := range answers {
			require.Equal(t, http.StatusOK, a.status, "command %d: %s", i, a.raw)
		}
		assert.Equal(t, before+n, ta.lastSeq())
		assert.Equal(t, version+n, versionOf(t, ta, fc))
		start = version + n
	})

	t.Run("a stale If-Match still conflicts and writes nothing", func(t *testing.T) {
		before := ta.lastSeq()
		r := ta.do(http.MethodPost, fc.path+"/diagnosis", admin, map[string]string{"If-Match": etag(start - 1)},
			diagnosisBody(f.coordinator, f.ops, "income", "low"))
		requireProblem(t, r, http.StatusConflict, "version_conflict", "If-Match")
		assert.Equal(t, before, ta.lastSeq())
	})
}

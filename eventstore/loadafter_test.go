package eventstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
	"github.com/kooperacje/kooperacje/internal/natstest"
)

func TestLoadAfter(t *testing.T) {
	s := open(t, "")
	ctx := context.Background()
	id, other := domain.NewID(), domain.NewID()
	var seqs []uint64
	for i, events := range [][]domain.Event{
		{institution("SP nr 1")},
		{worker("Anna"), worker("Beata")},
		{worker("Celina")},
	} {
		res, err := s.Append(ctx, domain.AggregateInstitution, id, int64([]int{0, 1, 3}[i]), meta(), events...)
		require.NoError(t, err)
		seqs = append(seqs, res.Sequence)
		_, err = s.Append(ctx, domain.AggregateInstitution, other, int64(i), meta(), []domain.Event{institution("other"), worker("x"), worker("y")}[i])
		require.NoError(t, err)
	}
	all, err := s.Load(ctx, domain.AggregateInstitution, id)
	require.NoError(t, err)
	require.Len(t, all, 4)

	tests := []struct {
		name     string
		after    uint64
		versions []int64
	}{
		{name: "after nothing: the whole history", after: 0, versions: []int64{1, 2, 3, 4}},
		{name: "after the first command: the later commands", after: seqs[0], versions: []int64{2, 3, 4}},
		{name: "after another aggregate's message between them: the same", after: seqs[0] + 1, versions: []int64{2, 3, 4}},
		{name: "after the second command: the third", after: seqs[1], versions: []int64{4}},
		{name: "after the last command: nothing new", after: seqs[2], versions: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			envs, err := s.LoadAfter(ctx, domain.AggregateInstitution, id, tt.after)
			require.NoError(t, err)
			var versions []int64
			for _, env := range envs {
				versions = append(versions, env.AggregateVersion)
			}
			assert.Equal(t, tt.versions, versions)
			if len(envs) > 0 {
				assert.Equal(t, all[len(all)-len(envs):], envs, "the same envelopes as Load's")
			}
		})
	}

	t.Run("an aggregate without events has nothing new", func(t *testing.T) {
		envs, err := s.LoadAfter(ctx, domain.AggregateInstitution, domain.NewID(), 0)
		require.NoError(t, err)
		assert.Empty(t, envs)
	})
	t.Run("a bad id is refused", func(t *testing.T) {
		_, err := s.LoadAfter(ctx, domain.AggregateInstitution, "a.b", 0)
		require.ErrorIs(t, err, domain.ErrInvalid)
	})
}

// Two engines with aggregate caches on one stream (a second store
// connected to the first one's embedded server, as a second `serve` on a
// cluster): a command via engine B, then a command via engine A, is
// decided on what B wrote, whatever A had cached.
func TestCachedEnginesOnOneStream(t *testing.T) {
	ctx := context.Background()
	a, err := eventstore.Open(ctx, eventstore.Options{DataDir: t.TempDir(), Listen: "127.0.0.1:0", Name: "engine-a"})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	b, err := eventstore.Open(ctx, eventstore.Options{URL: a.ClientURL(), NKeyFile: a.NKeyPath(), Replicas: 1, Name: "engine-b"})
	require.NoError(t, err)
	t.Cleanup(b.Close)
	ha := &domain.Handler{Store: a, Cache: domain.NewCache(0)}
	hb := &domain.Handler{Store: b, Cache: domain.NewCache(0)}
	m := domain.Meta{Actor: domain.Actor{UserID: "u1", Role: domain.RoleAdmin}, Reason: "test"} // business time: each step's date
	exec := func(h *domain.Handler, cmd domain.Command) domain.Result {
		t.Helper()
		res, err := h.Execute(ctx, cmd, m, domain.AnyVersion)
		require.NoError(t, err, "%T", cmd)
		return res
	}

	mops, coordinator, pzk, family := domain.NewID(), domain.NewID(), domain.NewID(), domain.NewID()
	exec(ha, domain.RegisterInstitution{InstitutionID: mops, Name: "MOPS Sieradz", Sector: domain.SectorSocialAssistance, Municipality: "Sieradz", County: "sieradzki"})
	exec(ha, domain.RegisterWorker{InstitutionID: mops, WorkerID: coordinator, Name: "Anna Nowak", Position: "pracownik socjalny"})
	exec(ha, domain.InitiatePartnership{PartnershipID: pzk, Name: "PZK Sieradz", Municipality: "Sieradz", County: "sieradzki",
		Date: domain.NewDate(2024, 1, 10), Place: "MOPS", LeaderID: mops})
	exec(ha, domain.OpenFamilyCase{FamilyID: family, PartnershipID: pzk, Address: "ul. Długa 1",
		Household:   []domain.Person{{PersonID: domain.NewID(), Name: "Jan Kowalski", BirthDate: domain.NewDate(1984, 6, 15), Relation: domain.RelationApplicant}},
		Referral:    domain.ReferralSource{InstitutionID: mops, Reason: "wniosek"},
		Coordinator: domain.WorkerRef{WorkerID: coordinator, InstitutionID: mops}, OpenedOn: domain.NewDate(2024, 2, 1)})
	input := func(workerID string) domain.RecordDiagnosisInput {
		return domain.RecordDiagnosisInput{FamilyID: family, Area: domain.AreaEmployment, Severity: domain.SeverityHigh, Needs: "praca",
			WorkerID: workerID, InstitutionID: mops, Date: domain.NewDate(2024, 2, 10)}
	}
	exec(ha, input(coordinator)) // A knows the family, the partnership and MOPS
	exec(hb, input(coordinator)) // and so does B
	exec(ha, input(coordinator)) // A is up to date again, B is behind

	t.Run("a fact changed via B is fresh for A", func(t *testing.T) {
		second := domain.NewID()
		exec(hb, domain.RegisterWorker{InstitutionID: mops, WorkerID: second, Name: "Ewa Wiśniewska", Position: "asystent rodziny"})
		before := ha.Cache.Stats()
		res := exec(ha, input(second))
		assert.Equal(t, int64(5), res.Version)
		after := ha.Cache.Stats()
		assert.Equal(t, before.Refreshes+1, after.Refreshes, "MOPS brought up to date, the family trusted")
		assert.Equal(t, before.Misses, after.Misses)
	})

	t.Run("a command via B, then via A: A's append conflicts and A decides again on B's state", func(t *testing.T) {
		// B is two commands behind on the family: its first try conflicts too.
		resB := exec(hb, input(coordinator))
		assert.Equal(t, int64(6), resB.Version)
		before := ha.Cache.Stats()
		resA := exec(ha, input(coordinator))
		assert.Equal(t, int64(7), resA.Version)
		assert.Greater(t, resA.Sequence, resB.Sequence)
		assert.Equal(t, before.Refreshes+1, ha.Cache.Stats().Refreshes, "the retry read only what B wrote")
		envs, err := a.Load(ctx, domain.AggregateFamily, family)
		require.NoError(t, err)
		require.Len(t, envs, 7)
		loaded, err := domain.Load(ctx, a, domain.AggregateFamily, family)
		require.NoError(t, err)
		assert.Equal(t, 6, loaded.(*domain.Family).Inputs)
		for _, h := range []*domain.Handler{ha, hb} {
			v, ok := h.Cache.Cached(domain.AggregateFamily, family)
			assert.True(t, ok)
			assert.LessOrEqual(t, v, int64(7))
		}
		v, _ := ha.Cache.Cached(domain.AggregateFamily, family)
		assert.Equal(t, int64(7), v)
	})

	t.Run("a family erased via B is dropped by A when A next uses it", func(t *testing.T) {
		exec(hb, domain.EraseFamily{FamilyID: family, LegalBasis: "art. 17 RODO", Date: domain.NewDate(2024, 3, 1)})
		_, err := ha.Execute(ctx, input(coordinator), m, domain.AnyVersion)
		require.ErrorIs(t, err, domain.ErrFamilyErased)
		_, cached := ha.Cache.Cached(domain.AggregateFamily, family)
		assert.False(t, cached)
		_, cached = hb.Cache.Cached(domain.AggregateFamily, family)
		assert.False(t, cached)
	})
}

// The same on a three-node cluster, where a follower may answer a direct
// get before it holds the newest command: LoadAfter asks the leader for
// the rest, so engine A's retry after B's write decides on B's state.
func TestCachedEnginesShareTheCluster(t *testing.T) {
	c := natstest.StartCluster(t, 3)
	a, b := openEngine(t, c, "engine-a"), openEngine(t, c, "engine-b")
	ctx := context.Background()
	ha := &domain.Handler{Store: a, Cache: domain.NewCache(0)}
	hb := &domain.Handler{Store: b, Cache: domain.NewCache(0)}
	m := domain.Meta{Actor: domain.Actor{UserID: "u1", Role: domain.RoleAdmin}, Reason: "test"}
	id := domain.NewID()
	_, err := ha.Execute(ctx, domain.RegisterInstitution{InstitutionID: id, Name: "MOPS Sieradz",
		Sector: domain.SectorSocialAssistance, Municipality: "Sieradz", County: "sieradzki"}, m, domain.AnyVersion)
	require.NoError(t, err)
	for round := range 5 {
		for i, h := range []*domain.Handler{hb, ha} { // B writes, then A, whose cache is behind by B's write
			res, err := h.Execute(ctx, domain.RegisterWorker{InstitutionID: id, WorkerID: domain.NewID(),
				Name: fmt.Sprint("worker ", round, i), Position: "pracownik socjalny"}, m, domain.AnyVersion)
			require.NoError(t, err)
			assert.Equal(t, int64(2+2*round+i), res.Version)
		}
	}
	envs, err := b.Load(ctx, domain.AggregateInstitution, id)
	require.NoError(t, err)
	assert.Len(t, envs, 11)
	assert.Equal(t, uint64(5), ha.Cache.Stats().Refreshes, "each of A's commands read B's write, and only that")
	v, ok := ha.Cache.Cached(domain.AggregateInstitution, id)
	assert.True(t, ok)
	assert.Equal(t, int64(11), v)
}

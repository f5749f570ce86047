package projections_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/projections"
)

// A runner tells OnApplied of every command it applies, in order: serve
// uses it to drop from the handler's cache a family erased through another
// engine.
func TestOnAppliedDropsErasedFamiliesFromACache(t *testing.T) {
	w := newFamilyWorld(t)
	ctx := context.Background()
	cache := domain.NewCache(0)
	engine := &domain.Handler{Store: w.s, Cache: cache} // this engine's handler
	_, err := engine.Execute(ctx, domain.RecordDiagnosisInput{FamilyID: w.fid, Area: domain.AreaEmployment, Severity: domain.SeverityHigh,
		Needs: "praca", WorkerID: w.coordinator, InstitutionID: w.mops, Date: domain.NewDate(2020, 2, 10)},
		domain.Meta{Actor: domain.Actor{UserID: "u", Role: domain.RoleCoordinator}}, domain.AnyVersion)
	require.NoError(t, err)
	_, cached := cache.Cached(domain.AggregateFamily, w.fid)
	require.True(t, cached)

	r := projections.NewRunner(w.s, "onapplied", nil, projections.NewFamilies())
	var (
		mu   sync.Mutex
		seqs []uint64
	)
	r.OnApplied(func(seq uint64, envs []domain.Envelope) {
		mu.Lock()
		seqs = append(seqs, seq)
		mu.Unlock()
		cache.Observe(envs)
	})
	require.NoError(t, r.Start(ctx))
	t.Cleanup(func() { _ = r.Stop(context.Background()) })

	w.run(domain.EraseFamily{FamilyID: w.fid, LegalBasis: "art. 17 RODO", Date: domain.NewDate(2020, 3, 1)}, "wniosek osoby") // another engine
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, r.WaitFor(wctx, w.last))

	_, cached = cache.Cached(domain.AggregateFamily, w.fid)
	assert.False(t, cached, "the erased family left the cache without a command of this engine")
	assert.Equal(t, uint64(1), cache.Stats().Erasures)
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, seqs)
	assert.Equal(t, w.last, seqs[len(seqs)-1])
	for i := 1; i < len(seqs); i++ {
		assert.Less(t, seqs[i-1], seqs[i], "in stream order, each once")
	}
}

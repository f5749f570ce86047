package projections_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/projections"
)

// gappySource is the store with a subscription that loses every third
// command (as a lost pull after a reconnect does) and reads that time out
// the first few times they are tried (as during a cluster's leader
// election).
type gappySource struct {
	projections.Source
	mu        sync.Mutex
	failReads int
	reads     atomic.Int64
}

func (g *gappySource) Read(ctx context.Context, from, to uint64, fn projections.CommitFunc) error {
	g.reads.Add(1)
	g.mu.Lock()
	fail := g.failReads > 0
	if fail {
		g.failReads--
	}
	g.mu.Unlock()
	if fail {
		return context.DeadlineExceeded
	}
	return g.Source.Read(ctx, from, to, fn)
}

func (g *gappySource) Subscribe(ctx context.Context, name string, from uint64, fn projections.CommitFunc) (interface{ Stop() }, error) {
	return g.Source.Subscribe(ctx, name, from, func(seq uint64, envs []domain.Envelope, err error) error {
		if seq%3 == 0 {
			return nil // lost
		}
		return fn(seq, envs, err)
	})
}

func TestRunnerReadsAGapAgainWhenTheReadFails(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	src := &gappySource{Source: s, failReads: 3}
	inst, part, users := readModels()
	r := projections.NewRunner(src, "gappy", nil, inst, part, users)
	require.NoError(t, r.Start(ctx))
	defer r.Stop(ctx)

	_, last := history(t, s, time.Date(2019, 9, 1, 9, 0, 0, 0, time.UTC))
	if last%3 == 0 {
		// The last command is lost too: one more fills the gap before it.
		res, err := (&domain.Handler{Store: s}).Execute(ctx, domain.RegisterInstitution{InstitutionID: domain.NewID(), Name: "Poradnia",
			Sector: domain.SectorEducation, Municipality: "Sieradz", County: "sieradzki"},
			domain.Meta{Actor: domain.Actor{UserID: "admin", Role: domain.RoleAdmin}, Reason: "test"}, 0)
		require.NoError(t, err)
		last = res.Sequence
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	require.NoError(t, r.WaitFor(wctx, last), "the runner fills its gaps despite failed reads")
	assert.NoError(t, r.Err())
	assert.Greater(t, src.reads.Load(), int64(3), "the failed reads were tried again")

	i2, p2, u2 := readModels()
	_, err := projections.Rebuild(ctx, s, last, i2, p2, u2)
	require.NoError(t, err)
	for _, pair := range [][2]projections.Projection{{inst, i2}, {part, p2}, {users, u2}} {
		live, err := pair[0].Snapshot()
		require.NoError(t, err)
		rebuilt, err := pair[1].Snapshot()
		require.NoError(t, err)
		assert.Equal(t, string(rebuilt), string(live), pair[0].Name())
	}
}

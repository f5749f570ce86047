package eventstore_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
	"github.com/kooperacje/kooperacje/internal/natstest"
)

// TestGroupCommitOnAReplicatedStream runs the group commit against a
// three-node cluster with three replicas, where JetStream stages atomic
// batches in memory and answers a stale expectation with its clustered
// error code: concurrent appends share batches, every command is stored at
// the sequence it was told, a batch with a stale expectation falls back,
// and the chains verify.
func TestGroupCommitOnAReplicatedStream(t *testing.T) {
	ctx := context.Background()
	url := natstest.StartCluster(t, 3).URL()
	openR3 := func(name string) *eventstore.Store {
		s, err := eventstore.Open(ctx, eventstore.Options{URL: url, Replicas: 3, Name: name})
		require.NoError(t, err)
		t.Cleanup(s.Close)
		return s
	}
	s := openR3("first")
	require.Equal(t, 3, s.Replicas())
	eventstore.SetMinBatch(s, 2)

	const clients, each = 16, 4
	var wg sync.WaitGroup
	type done struct {
		res domain.Result
		cmd string
	}
	results := make([][]done, clients)
	for c := range clients {
		wg.Go(func() {
			id := domain.NewID()
			for v := range int64(each) {
				m := meta()
				res, err := s.Append(ctx, domain.AggregateInstitution, id, v, m, worker("w"))
				if err != nil {
					t.Error(err)
					return
				}
				results[c] = append(results[c], done{res, m.CommandID})
			}
		})
	}
	wg.Wait()
	for _, rs := range results {
		require.Len(t, rs, each)
		for _, r := range rs {
			requireStoredAt(t, s, r.res, r.cmd)
		}
	}

	// A stale expectation inside a batch, on the replicated stream.
	ids := newAggregates(t, s, 5)
	_, err := openR3("second").Append(ctx, domain.AggregateInstitution, ids[0], 1, meta(), worker("elsewhere"))
	require.NoError(t, err)
	calls := secondCommands(ids)
	before := s.CommitStats()
	answers := appendHeld(t, s, calls)
	require.ErrorIs(t, answers[0].err, domain.ErrVersionConflict)
	for i, a := range answers[1:] {
		require.NoError(t, a.err)
		requireStoredAt(t, s, a.res, calls[i+1].meta.CommandID)
	}
	st := s.CommitStats()
	assert.Positive(t, st.Batches, "appends shared batches")
	assert.Equal(t, before.Refused+1, st.Refused)
	requireChainsVerify(t, s, clients*each+5+1+4)
}

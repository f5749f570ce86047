package eventstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
)

// Read goes through batches and several decoders: more messages than a
// batch and than the window of batches on their way, in order, and it
// stops where the caller says, by an error or by the context.
func TestReadManyInOrderAndStops(t *testing.T) {
	ctx := context.Background()
	s, err := eventstore.Open(ctx, eventstore.Options{DataDir: t.TempDir(), Listen: eventstore.ListenOff, NoSync: true})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	const n = 700
	for range n {
		_, err := s.Append(ctx, domain.AggregateInstitution, domain.NewID(), 0, meta(), institution("A"))
		require.NoError(t, err)
	}

	var seqs []uint64
	require.NoError(t, s.Read(ctx, 1, 0, func(seq uint64, envs []domain.Envelope, err error) error {
		require.NoError(t, err)
		require.Len(t, envs, 1)
		require.Equal(t, seq, envs[0].Sequence)
		seqs = append(seqs, seq)
		return nil
	}))
	require.Len(t, seqs, n)
	for i, seq := range seqs {
		require.Equal(t, uint64(i+1), seq)
	}

	stop := errors.New("stop")
	var calls int
	err = s.Read(ctx, 1, 0, func(seq uint64, _ []domain.Envelope, _ error) error {
		calls++
		if seq == 100 {
			return stop
		}
		return nil
	})
	require.ErrorIs(t, err, stop)
	assert.Equal(t, 100, calls, "nothing is handed on after the caller stops")

	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	err = s.Read(cctx, 1, 0, func(seq uint64, _ []domain.Envelope, _ error) error {
		if seq == 50 {
			cancel()
		}
		return nil
	})
	require.ErrorIs(t, err, context.Canceled)

	// The store still reads after all that.
	var again int
	require.NoError(t, s.Read(ctx, 600, 0, func(uint64, []domain.Envelope, error) error { again++; return nil }))
	assert.Equal(t, n-599, again)
}

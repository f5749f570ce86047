package eventstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
)

// TestRetryOfAStoredLaterCommandReturnsItsResult covers the retry after a
// timeout of a command that was stored although its answer was lost (a
// leader failover does this): the aggregate has moved past the expected
// version, by that very command, and the retry must get the first result,
// not a conflict.
func TestRetryOfAStoredLaterCommandReturnsItsResult(t *testing.T) {
	ctx := context.Background()
	s := open(t, "")
	id := domain.NewID()
	_, err := s.Append(ctx, domain.AggregateInstitution, id, 0, meta(), institution("A"))
	require.NoError(t, err)
	m := meta()
	first, err := s.Append(ctx, domain.AggregateInstitution, id, 1, m, worker("a"))
	require.NoError(t, err)

	again, err := s.Append(ctx, domain.AggregateInstitution, id, 1, m, worker("a"))
	require.NoError(t, err, "a retry of a stored command is not a conflict")
	assert.True(t, again.Duplicate)
	assert.Equal(t, first.Sequence, again.Sequence)
	assert.Equal(t, first.Version, again.Version)

	// Another command moved the aggregate on since: still the first result.
	_, err = s.Append(ctx, domain.AggregateInstitution, id, 2, meta(), worker("b"))
	require.NoError(t, err)
	again, err = s.Append(ctx, domain.AggregateInstitution, id, 1, m, worker("a"))
	require.NoError(t, err)
	assert.True(t, again.Duplicate)
	assert.Equal(t, first.Sequence, again.Sequence)

	envs, err := s.Load(ctx, domain.AggregateInstitution, id)
	require.NoError(t, err)
	assert.Len(t, envs, 3, "nothing applied twice")
}

// TestLoadThatTimesOutFails: a batched direct get whose answer does not
// come in time ends without an error of its own; Load must not take the
// aggregate for empty.
func TestLoadThatTimesOutFails(t *testing.T) {
	s := open(t, "")
	id := domain.NewID()
	_, err := s.Append(context.Background(), domain.AggregateInstitution, id, 0, meta(), institution("A"))
	require.NoError(t, err)
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	envs, err := s.Load(ctx, domain.AggregateInstitution, id)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Empty(t, envs)
}

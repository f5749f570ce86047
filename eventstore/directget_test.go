package eventstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
)

// TestLoadReadsOnWhenTheServerEndsABatchEarly: the server ends a
// direct-get batch at its byte limit before the count asked for; Load must
// go on from there, not take the short batch for the end.
func TestLoadReadsOnWhenTheServerEndsABatchEarly(t *testing.T) {
	ctx := context.Background()
	s := open(t, "")
	id := domain.NewID()
	for v := range int64(12) {
		_, err := s.Append(ctx, domain.AggregateInstitution, id, v, meta(), worker(strings.Repeat("n", 1000)))
		require.NoError(t, err)
	}
	eventstore.SetLoadMaxBytes(s, 3000) // about three messages a batch
	envs, err := s.Load(ctx, domain.AggregateInstitution, id)
	require.NoError(t, err)
	require.Len(t, envs, 12)
	for i, e := range envs {
		assert.Equal(t, int64(i+1), e.AggregateVersion)
	}
	none, err := s.Load(ctx, domain.AggregateInstitution, domain.NewID())
	require.NoError(t, err)
	assert.Empty(t, none)
}

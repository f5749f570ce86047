package eventstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
)

// TestAccessLogRecordsALongListInOneCall: an administrator's list of
// thousands of families is one request and one Record, more than the
// connection may have in flight at once.
func TestAccessLogRecordsALongListInOneCall(t *testing.T) {
	s := open(t, "")
	ctx := context.Background()
	log, err := s.OpenAccessLog(ctx, 0)
	require.NoError(t, err)
	stream, err := s.JetStream().Stream(ctx, eventstore.AccessStream)
	require.NoError(t, err)
	count := func() uint64 {
		info, err := stream.Info(ctx)
		require.NoError(t, err)
		return info.State.Msgs
	}

	user := domain.NewID()
	entry := func(family string) domain.Access {
		return domain.Access{At: time.Now().UTC(), UserID: user, Role: domain.RoleAdmin, FamilyID: family, What: "list", Relation: "admin"}
	}
	entries := make([]domain.Access, 0, 5000)
	for range 5000 {
		entries = append(entries, entry(domain.NewID()))
	}
	require.NoError(t, log.Record(ctx, entries...))
	assert.Equal(t, uint64(5000), count())
	got, err := log.Query(ctx, entries[4999].FamilyID, "", 0, 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, user, got[0].UserID)

	// An entry that names no family is refused before anything is written.
	bad := []domain.Access{entry(domain.NewID()), entry("not a family id"), entry(domain.NewID())}
	assert.Error(t, log.Record(ctx, bad...))
	assert.Equal(t, uint64(5000), count(), "nothing of a refused call is written")
}

// A long list is logged in atomic batches; where the server refuses them
// (a stream whose atomic publish was turned off), entry by entry.
func TestAccessLogFallsBackWhenBatchesAreRefused(t *testing.T) {
	s := open(t, "")
	ctx := context.Background()
	log, err := s.OpenAccessLog(ctx, 0)
	require.NoError(t, err)
	stream, err := s.JetStream().Stream(ctx, eventstore.AccessStream)
	require.NoError(t, err)
	assert.True(t, stream.CachedInfo().Config.AllowAtomicPublish, "the access log takes atomic batches")

	cfg := stream.CachedInfo().Config
	cfg.AllowAtomicPublish = false
	_, err = s.JetStream().UpdateStream(ctx, cfg)
	require.NoError(t, err)

	user := domain.NewID()
	entries := make([]domain.Access, 0, 300)
	for range 300 {
		entries = append(entries, domain.Access{At: time.Now().UTC(), UserID: user, Role: domain.RoleAdmin, FamilyID: domain.NewID(), What: "list", Relation: "admin"})
	}
	for range 2 { // the second call no longer tries a batch
		require.NoError(t, log.Record(ctx, entries...))
	}
	info, err := stream.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(600), info.State.Msgs)
	got, err := log.Query(ctx, "", user, 0, 1000)
	require.NoError(t, err)
	require.Len(t, got, 600)
	assert.Equal(t, entries[0].FamilyID, got[0].FamilyID)
	assert.Equal(t, entries[299].FamilyID, got[599].FamilyID)
}

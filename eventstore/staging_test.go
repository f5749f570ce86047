package eventstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
)

// batchesLink is where nats-server stages the atomic batches of a stream
// of the embedded server in dir.
func batchesLink(t *testing.T, dir, stream string) string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "jetstream", "*", "streams", stream))
	require.NoError(t, err)
	require.Len(t, m, 1, "the directory of stream %s", stream)
	return filepath.Join(m[0], "batches")
}

// stagingTarget returns the directory the batches link of stream points
// at, failing when it is not a link.
func stagingTarget(t *testing.T, dir, stream string) string {
	t.Helper()
	target, err := os.Readlink(batchesLink(t, dir, stream))
	require.NoError(t, err, "the batches of %s are staged through a link", stream)
	return target
}

// batchOf appends n commands at once so that they go out as one atomic
// batch, and checks that they did.
func batchOf(t *testing.T, s *eventstore.Store, n int) []string {
	t.Helper()
	ids := newAggregates(t, s, n)
	calls := secondCommands(ids)
	before := s.CommitStats()
	for i, a := range appendHeld(t, s, calls) {
		require.NoError(t, a.err)
		requireStoredAt(t, s, a.res, calls[i].meta.CommandID)
	}
	after := s.CommitStats()
	require.Equal(t, before.Batches+1, after.Batches, "one atomic batch")
	require.Equal(t, before.Batched+uint64(n), after.Batched)
	return ids
}

// openStaged opens a store in a new data directory that stages batches
// in memory: in shm, a directory standing for /dev/shm until the test
// ends. The test closes the store (or crashes it).
func openStaged(t *testing.T) (shm, dir string, s *eventstore.Store) {
	t.Helper()
	shm, dir = t.TempDir(), t.TempDir()
	t.Cleanup(eventstore.SetMemoryFS(shm))
	s, err := eventstore.Open(context.Background(), eventstore.Options{DataDir: dir, Listen: eventstore.ListenOff})
	require.NoError(t, err)
	return shm, dir, s
}

func TestBatchesAreStagedInMemory(t *testing.T) {
	shm, dir, s := openStaged(t)
	require.True(t, s.BatchesInMemory())
	_, err := s.OpenAccessLog(context.Background(), 0)
	require.NoError(t, err)

	events := stagingTarget(t, dir, s.StreamName())
	access := stagingTarget(t, dir, eventstore.AccessStream)
	for _, target := range []string{events, access} {
		assert.Equal(t, shm, filepath.Dir(target), "staged in the memory file system")
		assert.True(t, strings.HasPrefix(filepath.Base(target), "kooperacje-batches-"), target)
	}
	assert.NotEqual(t, events, access, "each stream stages in a directory of its own")

	ids := batchOf(t, s, 12)
	for _, id := range ids {
		envs, err := s.Load(context.Background(), domain.AggregateInstitution, id)
		require.NoError(t, err)
		require.Len(t, envs, 2)
	}
	leftover, err := os.ReadDir(events)
	require.NoError(t, err)
	assert.Empty(t, leftover, "a committed batch leaves nothing staged")

	// A batch in progress is staged in the memory directory.
	bp, err := jetstreamext.NewBatchPublisher(s.JetStream())
	require.NoError(t, err)
	first := nats.NewMsg("koop.institution." + domain.NewID())
	first.Data = []byte("{}")
	require.NoError(t, bp.AddMsg(first)) // waits for the server to open the batch
	staged, err := os.ReadDir(events)
	require.NoError(t, err)
	assert.Len(t, staged, 1, "the open batch's file store is in the memory directory")
	require.NoError(t, bp.Discard())

	s.Close()
	for _, p := range []string{events, access, batchesLink(t, dir, s.StreamName())} {
		_, err := os.Lstat(p)
		assert.ErrorIs(t, err, os.ErrNotExist, "%s is removed when the store closes", p)
	}
}

// A killed process leaves its staging behind: the server finishes an
// interrupted batch from it when it starts again, and the store then
// removes it and stages in a fresh directory.
func TestStagingAfterACrash(t *testing.T) {
	shm, dir, s := openStaged(t)
	before := batchOf(t, s, 10)
	old := stagingTarget(t, dir, s.StreamName())
	eventstore.Crash(s)
	_, err := os.Stat(old)
	require.NoError(t, err, "the staging outlives the crash, as tmpfs outlives a killed process")
	// A process killed between making its staging directory and linking
	// it leaves one no link points at; another data directory's is not
	// this one's to remove.
	name := filepath.Base(old)
	orphan, err := os.MkdirTemp(shm, name[:strings.LastIndex(name, "-")+1])
	require.NoError(t, err)
	other := filepath.Join(shm, "kooperacje-batches-KOOPERACJE-000000000000-1")
	require.NoError(t, os.Mkdir(other, 0o700))

	s = open(t, dir)
	for _, d := range []string{old, orphan} {
		_, err = os.Stat(d)
		assert.ErrorIs(t, err, os.ErrNotExist, "%s: the crashed process's staging is removed once the server has started", d)
	}
	_, err = os.Stat(other)
	assert.NoError(t, err, "another data directory's staging stays")
	require.NoError(t, os.Remove(other))
	fresh := stagingTarget(t, dir, s.StreamName())
	assert.NotEqual(t, old, fresh)
	for _, id := range before {
		envs, err := s.Load(context.Background(), domain.AggregateInstitution, id)
		require.NoError(t, err)
		require.Len(t, envs, 2, "every acknowledged command is there after the restart")
	}
	batchOf(t, s, 10)
	entries, err := os.ReadDir(shm)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "only the new process's staging is left")
}

func TestStagingOnDisk(t *testing.T) {
	defer eventstore.SetMemoryFS(t.TempDir())()
	dir := t.TempDir()
	s, err := eventstore.Open(context.Background(), eventstore.Options{DataDir: dir, Listen: eventstore.ListenOff, BatchStaging: eventstore.StagingDisk})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	assert.False(t, s.BatchesInMemory())
	batchOf(t, s, 10)
	fi, err := os.Lstat(batchesLink(t, dir, s.StreamName()))
	if err == nil {
		assert.True(t, fi.IsDir(), "the server's own staging directory, not a link")
	} else {
		assert.ErrorIs(t, err, os.ErrNotExist)
	}
}

func TestStagingWithoutAMemoryFileSystem(t *testing.T) {
	defer eventstore.SetMemoryFS("")()
	_, err := eventstore.Open(context.Background(), eventstore.Options{DataDir: t.TempDir(), Listen: eventstore.ListenOff, BatchStaging: eventstore.StagingMemory})
	require.ErrorIs(t, err, eventstore.ErrNoMemoryFS, "memory asked for and none at hand")

	s := open(t, "")
	assert.False(t, s.BatchesInMemory(), "auto falls back to disk")
	batchOf(t, s, 10)
}

func TestParseBatchStaging(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want eventstore.BatchStaging
		err  bool
	}{
		{"", eventstore.StagingAuto, false},
		{"auto", eventstore.StagingAuto, false},
		{"memory", eventstore.StagingMemory, false},
		{"disk", eventstore.StagingDisk, false},
		{"ram", "", true},
		{"Memory", "", true},
	} {
		t.Run(fmt.Sprintf("%q", tc.in), func(t *testing.T) {
			got, err := eventstore.ParseBatchStaging(tc.in)
			if tc.err {
				require.Error(t, err)
				assert.Contains(t, err.Error(), fmt.Sprintf("%q", tc.in), "the error names the value")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// A batches link that points outside the memory file system (a data
// directory copied or tampered with) never gets its target removed.
func TestStagingRemovesOnlyItsOwnLeftovers(t *testing.T) {
	_, dir, s := openStaged(t)
	link := batchesLink(t, dir, s.StreamName())
	eventstore.Crash(s)

	elsewhere := filepath.Join(t.TempDir(), "kooperacje-batches-KOOPERACJE-1")
	require.NoError(t, os.Mkdir(elsewhere, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(elsewhere, "keep"), []byte("x"), 0o600))
	require.NoError(t, os.Remove(link))
	require.NoError(t, os.Symlink(elsewhere, link))

	open(t, dir)
	_, err := os.Stat(filepath.Join(elsewhere, "keep"))
	assert.NoError(t, err, "a directory outside the memory file system is not the store's to remove")
}

// Forming batches are sent ahead to the server where it stages them in
// memory, not where it stages them on disk: a round that ends small would
// then cost an atomic batch of several fsyncs instead of plain publishes.
func TestBatchesAreSentAheadOnlyWhereStagingIsCheap(t *testing.T) {
	for _, tc := range []struct {
		staging eventstore.BatchStaging
		ahead   bool
	}{
		{eventstore.StagingMemory, true},
		{eventstore.StagingDisk, false},
	} {
		t.Run(string(tc.staging), func(t *testing.T) {
			defer eventstore.SetMemoryFS(t.TempDir())()
			s, err := eventstore.Open(context.Background(), eventstore.Options{DataDir: t.TempDir(), Listen: eventstore.ListenOff, BatchStaging: tc.staging})
			require.NoError(t, err)
			t.Cleanup(s.Close)
			assert.Equal(t, tc.ahead, eventstore.SendsAhead(s))
			batchOf(t, s, 12)
		})
	}
}

package eventstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
)

// open starts a store with an embedded server in dir (a new temporary
// directory when dir is empty) and closes it when the test ends.
func open(tb testing.TB, dir string) *eventstore.Store {
	tb.Helper()
	if dir == "" {
		dir = tb.TempDir()
	}
	s, err := eventstore.Open(context.Background(), eventstore.Options{DataDir: dir, Listen: eventstore.ListenOff})
	require.NoError(tb, err)
	tb.Cleanup(s.Close)
	return s
}

func meta() domain.Meta {
	return domain.Meta{
		CommandID:     domain.NewID(),
		CorrelationID: domain.NewID(),
		Actor:         domain.Actor{UserID: "u1", Role: domain.RoleAdmin},
		OccurredAt:    time.Date(2019, 10, 23, 10, 0, 0, 0, time.UTC),
		Reason:        "test",
	}
}

func institution(name string) domain.InstitutionRegistered {
	return domain.InstitutionRegistered{Name: name, Sector: domain.SectorEducation, Municipality: "Sieradz", County: "sieradzki"}
}

func worker(n string) domain.WorkerRegistered {
	return domain.WorkerRegistered{WorkerID: domain.NewID(), Name: n, Position: "pedagog"}
}

func TestAppendAndLoad(t *testing.T) {
	ctx := context.Background()
	s := open(t, "")
	id := domain.NewID()
	m := meta()
	res, err := s.Append(ctx, domain.AggregateInstitution, id, 0, m, institution("SP nr 1"), worker("A"))
	require.NoError(t, err)
	assert.Equal(t, int64(2), res.Version)
	assert.Equal(t, uint64(1), res.Sequence)
	assert.False(t, res.Duplicate)

	res2, err := s.Append(ctx, domain.AggregateInstitution, id, 2, meta(), worker("B"))
	require.NoError(t, err)
	assert.Equal(t, int64(3), res2.Version)

	envs, err := s.Load(ctx, domain.AggregateInstitution, id)
	require.NoError(t, err)
	require.Len(t, envs, 3)
	for i, e := range envs {
		assert.Equal(t, int64(i+1), e.AggregateVersion)
		assert.Equal(t, id, e.AggregateID)
		assert.NotEmpty(t, e.EventID)
		assert.False(t, e.RecordedAt.IsZero())
	}
	assert.Equal(t, institution("SP nr 1"), envs[0].Payload)
	assert.Equal(t, m.CommandID, envs[0].CommandID)
	assert.Equal(t, m.CorrelationID, envs[1].CorrelationID)
	assert.Equal(t, "test", envs[0].Reason)
	assert.Equal(t, m.OccurredAt, envs[0].OccurredAt)
	assert.Equal(t, uint64(1), envs[1].Sequence, "events of one command share a message")
	assert.Equal(t, uint64(2), envs[2].Sequence)

	none, err := s.Load(ctx, domain.AggregateInstitution, domain.NewID())
	require.NoError(t, err)
	assert.Empty(t, none)
}

func TestLoadReadsOnlyItsSubjectAcrossBatches(t *testing.T) {
	ctx := context.Background()
	s := open(t, "")
	a, b := domain.NewID(), domain.NewID()
	_, err := s.Append(ctx, domain.AggregateInstitution, a, 0, meta(), institution("A"))
	require.NoError(t, err)
	_, err = s.Append(ctx, domain.AggregateInstitution, b, 0, meta(), institution("B"))
	require.NoError(t, err)
	// More commands than one direct-get batch holds, interleaved with another aggregate.
	for v := int64(1); v <= 300; v++ {
		_, err := s.Append(ctx, domain.AggregateInstitution, a, v, meta(), worker("w"))
		require.NoError(t, err)
		if v%50 == 0 {
			_, err = s.Append(ctx, domain.AggregateInstitution, b, v/50, meta(), worker("x"))
			require.NoError(t, err)
		}
	}
	envs, err := s.Load(ctx, domain.AggregateInstitution, a)
	require.NoError(t, err)
	require.Len(t, envs, 301)
	assert.Equal(t, int64(301), envs[300].AggregateVersion)
}

func TestRacingWritersOnOneAggregate(t *testing.T) {
	ctx := context.Background()
	s := open(t, "")
	id := domain.NewID()
	_, err := s.Append(ctx, domain.AggregateInstitution, id, 0, meta(), institution("A"))
	require.NoError(t, err)

	const writers = 8
	var wg sync.WaitGroup
	errs := make([]error, writers)
	start := make(chan struct{})
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = s.Append(ctx, domain.AggregateInstitution, id, 1, meta(), worker("w"))
		}()
	}
	close(start)
	wg.Wait()
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
			continue
		}
		assert.ErrorIs(t, err, domain.ErrConflict)
		assert.ErrorIs(t, err, domain.ErrVersionConflict)
	}
	assert.Equal(t, 1, wins, "exactly one writer wins")
	envs, err := s.Load(ctx, domain.AggregateInstitution, id)
	require.NoError(t, err)
	assert.Len(t, envs, 2)
}

func TestStaleVersionWritesNothing(t *testing.T) {
	ctx := context.Background()
	s := open(t, "")
	id := domain.NewID()
	_, err := s.Append(ctx, domain.AggregateInstitution, id, 0, meta(), institution("A"), worker("a"))
	require.NoError(t, err)
	tests := []struct {
		name     string
		expected int64
	}{
		{"expected version behind", 1},
		{"expected version ahead", 5},
		{"a new aggregate that already exists", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Append(ctx, domain.AggregateInstitution, id, tt.expected, meta(), worker("late"))
			require.ErrorIs(t, err, domain.ErrConflict)
			last, err := s.LastSequence(ctx)
			require.NoError(t, err)
			assert.Equal(t, uint64(1), last)
		})
	}
}

func TestRetriedCommandWritesOnce(t *testing.T) {
	ctx := context.Background()
	s := open(t, "")
	id := domain.NewID()
	m := meta()
	first, err := s.Append(ctx, domain.AggregateInstitution, id, 0, m, institution("A"), worker("a"))
	require.NoError(t, err)
	// The retry carries the same command id; the client does not know its
	// first try succeeded, so it sends the same expected version.
	again, err := s.Append(ctx, domain.AggregateInstitution, id, 0, m, institution("A"), worker("a"))
	require.NoError(t, err)
	assert.True(t, again.Duplicate)
	assert.Equal(t, first.Sequence, again.Sequence)
	assert.Equal(t, first.Version, again.Version)
	assert.Equal(t, first.AggregateID, again.AggregateID)
	last, err := s.LastSequence(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), last)
}

func TestMultiEventCommandIsNeverHalfWritten(t *testing.T) {
	ctx := context.Background()
	s := open(t, "")
	id := domain.NewID()
	// The second event cannot be encoded: nothing of the command may land.
	_, err := s.Append(ctx, domain.AggregateInstitution, id, 0, meta(), institution("A"), badEvent{})
	require.Error(t, err)
	// An oversized command is refused whole too.
	big := make([]domain.Event, 0, 3000)
	big = append(big, institution("A"))
	for range 2999 {
		big = append(big, domain.WorkerRegistered{WorkerID: domain.NewID(), Name: "Jan Kowalski-Nowak z długim nazwiskiem", Position: "pracownik socjalny"})
	}
	_, err = s.Append(ctx, domain.AggregateInstitution, id, 0, meta(), big...)
	require.ErrorIs(t, err, domain.ErrInvalid)
	envs, err := s.Load(ctx, domain.AggregateInstitution, id)
	require.NoError(t, err)
	assert.Empty(t, envs)
	last, err := s.LastSequence(ctx)
	require.NoError(t, err)
	assert.Zero(t, last)

	// A command of several events is stored as one message: a reader sees all or none.
	_, err = s.Append(ctx, domain.AggregateInstitution, id, 0, meta(), institution("A"), worker("a"), worker("b"))
	require.NoError(t, err)
	var got [][]domain.Envelope
	require.NoError(t, s.Read(ctx, 1, 0, func(_ uint64, envs []domain.Envelope, err error) error {
		require.NoError(t, err)
		got = append(got, envs)
		return nil
	}))
	require.Len(t, got, 1)
	assert.Len(t, got[0], 3)
}

type badEvent struct{}

func (badEvent) EventType() string { return "BadEvent" }

func TestBadAppendsAreRefused(t *testing.T) {
	ctx := context.Background()
	s := open(t, "")
	tests := []struct {
		name      string
		aggregate string
		id        string
		expected  int64
		meta      domain.Meta
		events    []domain.Event
	}{
		{"no events", domain.AggregateInstitution, domain.NewID(), 0, meta(), nil},
		{"no command id", domain.AggregateInstitution, domain.NewID(), 0, domain.Meta{}, []domain.Event{institution("A")}},
		{"a wildcard in the id", domain.AggregateInstitution, "a.>", 0, meta(), []domain.Event{institution("A")}},
		{"an empty aggregate", "", domain.NewID(), 0, meta(), []domain.Event{institution("A")}},
		{"a negative version", domain.AggregateInstitution, domain.NewID(), -1, meta(), []domain.Event{institution("A")}},
		{"an unregistered event", domain.AggregateInstitution, domain.NewID(), 0, meta(), []domain.Event{badEvent{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Append(ctx, tt.aggregate, tt.id, tt.expected, tt.meta, tt.events...)
			require.ErrorIs(t, err, domain.ErrInvalid)
		})
	}
	last, err := s.LastSequence(ctx)
	require.NoError(t, err)
	assert.Zero(t, last)
}

func TestRestartKeepsEveryEvent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	id := domain.NewID()
	_, err := s.Append(ctx, domain.AggregateInstitution, id, 0, meta(), institution("A"))
	require.NoError(t, err)
	_, err = s.Append(ctx, domain.AggregateInstitution, id, 1, meta(), worker("a"))
	require.NoError(t, err)
	s.Close()

	s2 := open(t, dir)
	envs, err := s2.Load(ctx, domain.AggregateInstitution, id)
	require.NoError(t, err)
	assert.Len(t, envs, 2)
	// Appending continues from the stored version.
	_, err = s2.Append(ctx, domain.AggregateInstitution, id, 2, meta(), worker("b"))
	require.NoError(t, err)
}

func TestStreamIsAuditGrade(t *testing.T) {
	ctx := context.Background()
	s := open(t, "")
	_, err := s.Append(ctx, domain.AggregateInstitution, domain.NewID(), 0, meta(), institution("A"))
	require.NoError(t, err)
	stream, err := s.JetStream().Stream(ctx, s.StreamName())
	require.NoError(t, err)
	cfg := stream.CachedInfo().Config
	assert.True(t, cfg.DenyDelete)
	assert.True(t, cfg.DenyPurge)
	assert.Zero(t, cfg.MaxAge)
	assert.Equal(t, jetstream.FileStorage, cfg.Storage)
	assert.Error(t, stream.DeleteMsg(ctx, 1), "deleting an event must fail")
	assert.Error(t, stream.Purge(ctx), "purging the stream must fail")

	// Opening again on the same stream updates it idempotently.
	_, err = s.JetStream().CreateOrUpdateStream(ctx, eventstore.StreamConfig(s.StreamName(), 1, eventstore.DefaultDuplicates))
	require.NoError(t, err)
}

func TestEmbeddedServerRefusesAnonymousClients(t *testing.T) {
	dir := t.TempDir()
	s, err := eventstore.Open(context.Background(), eventstore.Options{DataDir: dir, Listen: "127.0.0.1:0"})
	require.NoError(t, err)
	defer s.Close()
	url := s.ClientURL()
	require.NotEmpty(t, url)

	_, err = nats.Connect(url, nats.MaxReconnects(0))
	require.Error(t, err, "an anonymous client must be refused")

	auth, err := nats.NkeyOptionFromSeed(s.NKeyPath())
	require.NoError(t, err)
	nc, err := nats.Connect(url, auth)
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	_, err = js.Stream(context.Background(), eventstore.DefaultStream)
	require.NoError(t, err)
}

func TestReadStopsAtTheCutOff(t *testing.T) {
	ctx := context.Background()
	s := open(t, "")
	for range 5 {
		_, err := s.Append(ctx, domain.AggregateInstitution, domain.NewID(), 0, meta(), institution("A"))
		require.NoError(t, err)
	}
	var seqs []uint64
	require.NoError(t, s.Read(ctx, 2, 4, func(seq uint64, _ []domain.Envelope, err error) error {
		seqs = append(seqs, seq)
		return err
	}))
	assert.Equal(t, []uint64{2, 3, 4}, seqs)
	stop := errors.New("stop")
	err := s.Read(ctx, 1, 0, func(uint64, []domain.Envelope, error) error { return stop })
	assert.ErrorIs(t, err, stop)
	// An empty range reads nothing.
	require.NoError(t, s.Read(ctx, 9, 0, func(uint64, []domain.Envelope, error) error { t.Fatal("read past the end"); return nil }))
}

func TestEmbeddedServerFsyncsEveryWriteByDefault(t *testing.T) {
	s := open(t, "")
	assert.True(t, s.SyncAlways(), "the default must not acknowledge what a power cut can lose")

	unsafe, err := eventstore.Open(context.Background(), eventstore.Options{DataDir: t.TempDir(), NoSync: true})
	require.NoError(t, err)
	defer unsafe.Close()
	assert.False(t, unsafe.SyncAlways())
}

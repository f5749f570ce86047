package domain_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
)

// memStore is an in-memory domain.Store for the tests of this package. It
// keeps the contract of eventstore.Store: an append is all or nothing, it
// succeeds only at the expected version (else an error wrapping
// domain.ErrVersionConflict), and a command id seen before writes nothing
// and returns the first result with Duplicate set.
//
// Payloads are stored as their JSON encoding and decoded again on Load, as
// a real store does, so that a test never shares memory with a command and
// every event the domain records must survive EncodeEvent/DecodeEvent.
type memStore struct {
	mu       sync.Mutex
	now      func() time.Time
	seq      uint64                   // last stream sequence
	streams  map[string][]storedEvent // by subject
	commands map[string]domain.Result // first result by command id
	loads    int
	tails    int // LoadAfter calls
	appends  int // successful, non-duplicate appends
}

// storedEvent is an envelope without its payload, and the payload's JSON.
type storedEvent struct {
	env  domain.Envelope
	data []byte
}

func newMemStore() *memStore {
	return &memStore{
		now:      func() time.Time { return time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC) },
		streams:  map[string][]storedEvent{},
		commands: map[string]domain.Result{},
	}
}

func subject(aggregate, id string) string { return "koop." + aggregate + "." + id }

// Load implements domain.Store.
func (s *memStore) Load(ctx context.Context, aggregate, id string) ([]domain.Envelope, error) {
	s.mu.Lock()
	s.loads++
	s.mu.Unlock()
	return s.load(ctx, aggregate, id)
}

func (s *memStore) load(ctx context.Context, aggregate, id string) ([]domain.Envelope, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	stored := s.streams[subject(aggregate, id)]
	out := make([]domain.Envelope, 0, len(stored))
	for _, se := range stored {
		env := se.env
		payload, err := domain.DecodeEvent(env.Type, env.SchemaVersion, se.data)
		if err != nil && !errors.Is(err, domain.ErrUnknownEventType) {
			return nil, fmt.Errorf("memstore: decode %s v%d of %s: %w", env.Type, env.AggregateVersion, subject(aggregate, id), err)
		}
		env.Payload = payload
		out = append(out, env)
	}
	return out, nil
}

// LoadAfter implements domain.Tailer.
func (s *memStore) LoadAfter(ctx context.Context, aggregate, id string, sequence uint64) ([]domain.Envelope, error) {
	s.mu.Lock()
	s.tails++
	s.mu.Unlock()
	envs, err := s.load(ctx, aggregate, id)
	if err != nil {
		return nil, err
	}
	for i, env := range envs {
		if env.Sequence > sequence {
			return envs[i:], nil
		}
	}
	return nil, nil
}

// Append implements domain.Store.
func (s *memStore) Append(ctx context.Context, aggregate, id string, expectedVersion int64, meta domain.Meta, events ...domain.Event) (domain.Result, error) {
	if err := ctx.Err(); err != nil {
		return domain.Result{}, err
	}
	if len(events) == 0 {
		return domain.Result{}, domain.Invalid("events", "a command must record at least one event")
	}
	if meta.CommandID == "" {
		return domain.Result{}, domain.ErrRequired.With("command_id", "every append needs a command id")
	}
	if expectedVersion < 0 {
		return domain.Result{}, domain.Invalid("expected_version", "must be 0 or more, not %d", expectedVersion)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if first, ok := s.commands[meta.CommandID]; ok {
		first.Duplicate = true
		return first, nil
	}
	subj := subject(aggregate, id)
	if current := int64(len(s.streams[subj])); current != expectedVersion {
		return domain.Result{}, fmt.Errorf("memstore: append to %s: %w", subj,
			domain.ErrVersionConflict.With("", "expected version %d, the aggregate is at version %d", expectedVersion, current))
	}
	recorded := make([]storedEvent, len(events))
	for i, e := range events {
		if e == nil {
			return domain.Result{}, domain.Invalid("events", "event %d is nil", i)
		}
		version := domain.SchemaVersion(e.EventType())
		if version == 0 {
			return domain.Result{}, domain.ErrUnknownEventType.With("type", "event type %q is not registered", e.EventType())
		}
		data, err := domain.EncodeEvent(e)
		if err != nil {
			return domain.Result{}, err
		}
		recorded[i] = storedEvent{data: data, env: domain.Envelope{
			EventID:          domain.NewID(),
			Type:             e.EventType(),
			SchemaVersion:    version,
			AggregateType:    aggregate,
			AggregateID:      id,
			AggregateVersion: expectedVersion + int64(i) + 1,
			OccurredAt:       meta.OccurredAt.UTC(),
			RecordedAt:       s.now().UTC(),
			Actor:            meta.Actor,
			CommandID:        meta.CommandID,
			CorrelationID:    meta.CorrelationID,
			CausationID:      meta.CausationID,
			Reason:           meta.Reason,
			Sequence:         s.seq + 1, // one message per command
		}}
	}
	s.seq++
	s.appends++
	s.streams[subj] = append(s.streams[subj], recorded...)
	res := domain.Result{AggregateType: aggregate, AggregateID: id, Version: expectedVersion + int64(len(events)), Sequence: s.seq}
	s.commands[meta.CommandID] = res
	return res, nil
}

// putRaw appends a stored event as another (perhaps newer) engine wrote
// it, bypassing every check: for tests of loading what the domain does not
// know.
func (s *memStore) putRaw(aggregate, id, eventType string, schemaVersion int, data string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	subj := subject(aggregate, id)
	s.seq++
	s.streams[subj] = append(s.streams[subj], storedEvent{data: []byte(data), env: domain.Envelope{
		EventID: domain.NewID(), Type: eventType, SchemaVersion: schemaVersion,
		AggregateType: aggregate, AggregateID: id, AggregateVersion: int64(len(s.streams[subj]) + 1),
		CommandID: domain.NewID(), Sequence: s.seq,
	}})
}

// total is the number of events stored on all aggregates.
func (s *memStore) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, st := range s.streams {
		n += len(st)
	}
	return n
}

// stats returns how often Load was called and how many appends wrote.
func (s *memStore) stats() (loads, appends int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loads, s.appends
}

// envelopes loads the events of one aggregate or fails the test.
func (s *memStore) envelopes(tb testing.TB, aggregate, id string) []domain.Envelope {
	tb.Helper()
	envs, err := s.Load(context.Background(), aggregate, id)
	require.NoError(tb, err)
	return envs
}

// The fake is only useful if it keeps the store contract the handler
// relies on; these tests pin that contract down.
func TestMemStore(t *testing.T) {
	ctx := context.Background()
	id := domain.IDFromKey("memstore")
	joined := func(name string) domain.Event {
		return domain.MemberJoined{InstitutionID: domain.IDFromKey(name), Name: name, Sector: domain.SectorHealth, Date: domain.NewDate(2024, 1, 2)}
	}
	meta := func(cmd string) domain.Meta {
		return domain.Meta{CommandID: domain.IDFromKey(cmd), CorrelationID: "corr", Reason: "why",
			Actor: domain.Actor{UserID: "u", Role: domain.RoleAnimator}, OccurredAt: time.Date(2024, 1, 2, 10, 0, 0, 0, time.UTC)}
	}

	t.Run("an append records all events of a command with one sequence", func(t *testing.T) {
		s := newMemStore()
		res, err := s.Append(ctx, domain.AggregatePartnership, id, 0, meta("c1"), joined("a"), joined("b"))
		require.NoError(t, err)
		assert.Equal(t, domain.Result{AggregateType: domain.AggregatePartnership, AggregateID: id, Version: 2, Sequence: 1}, res)
		envs := s.envelopes(t, domain.AggregatePartnership, id)
		require.Len(t, envs, 2)
		for i, env := range envs {
			assert.Equal(t, int64(i+1), env.AggregateVersion)
			assert.Equal(t, uint64(1), env.Sequence)
			assert.Equal(t, "MemberJoined", env.Type)
			assert.Equal(t, 1, env.SchemaVersion)
			assert.Equal(t, domain.IDFromKey("c1"), env.CommandID)
			assert.Equal(t, "corr", env.CorrelationID)
			assert.Equal(t, "why", env.Reason)
			assert.Equal(t, domain.RoleAnimator, env.Actor.Role)
			assert.NoError(t, domain.CheckID("event_id", env.EventID))
		}
		assert.Equal(t, joined("b"), envs[1].Payload)
	})

	t.Run("an append at a stale version conflicts and writes nothing", func(t *testing.T) {
		s := newMemStore()
		_, err := s.Append(ctx, domain.AggregatePartnership, id, 0, meta("c1"), joined("a"))
		require.NoError(t, err)
		for _, stale := range []int64{0, 2} {
			_, err = s.Append(ctx, domain.AggregatePartnership, id, stale, meta(fmt.Sprint("stale", stale)), joined("b"))
			require.ErrorIs(t, err, domain.ErrVersionConflict)
			require.ErrorIs(t, err, domain.ErrConflict)
		}
		assert.Equal(t, 1, s.total())
	})

	t.Run("a command id seen before returns the first result and writes nothing", func(t *testing.T) {
		s := newMemStore()
		first, err := s.Append(ctx, domain.AggregatePartnership, id, 0, meta("c1"), joined("a"))
		require.NoError(t, err)
		again, err := s.Append(ctx, domain.AggregatePartnership, id, 1, meta("c1"), joined("b"))
		require.NoError(t, err)
		assert.True(t, again.Duplicate)
		again.Duplicate = false
		assert.Equal(t, first, again)
		assert.Equal(t, 1, s.total())
	})

	t.Run("an append without events or command id is refused", func(t *testing.T) {
		s := newMemStore()
		_, err := s.Append(ctx, domain.AggregatePartnership, id, 0, meta("c1"))
		require.ErrorIs(t, err, domain.ErrInvalid)
		_, err = s.Append(ctx, domain.AggregatePartnership, id, 0, domain.Meta{}, joined("a"))
		require.ErrorIs(t, err, domain.ErrRequired)
		_, err = s.Append(ctx, domain.AggregatePartnership, id, -1, meta("c2"), joined("a"))
		require.ErrorIs(t, err, domain.ErrInvalid)
		assert.Zero(t, s.total())
	})

	t.Run("aggregates are kept apart", func(t *testing.T) {
		s := newMemStore()
		_, err := s.Append(ctx, domain.AggregatePartnership, id, 0, meta("c1"), joined("a"))
		require.NoError(t, err)
		res, err := s.Append(ctx, domain.AggregatePartnership, domain.IDFromKey("other"), 0, meta("c2"), joined("a"))
		require.NoError(t, err)
		assert.Equal(t, int64(1), res.Version)
		assert.Equal(t, uint64(2), res.Sequence)
		assert.Empty(t, s.envelopes(t, domain.AggregateInstitution, id))
	})

	t.Run("a cancelled context is honoured", func(t *testing.T) {
		s := newMemStore()
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := s.Load(cctx, domain.AggregatePartnership, id)
		require.ErrorIs(t, err, context.Canceled)
		_, err = s.Append(cctx, domain.AggregatePartnership, id, 0, meta("c1"), joined("a"))
		require.ErrorIs(t, err, context.Canceled)
		assert.Zero(t, s.total())
	})
}

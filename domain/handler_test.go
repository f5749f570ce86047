package domain_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
)

// racingStore lets another writer slip in before each of the first
// `races` appends, as a concurrent request would between the handler's
// load and its append.
type racingStore struct {
	*memStore
	races    int
	other    func() // the concurrent writer
	mu       sync.Mutex
	attempts int
}

func (s *racingStore) Append(ctx context.Context, aggregate, id string, expected int64, meta domain.Meta, events ...domain.Event) (domain.Result, error) {
	s.mu.Lock()
	s.attempts++
	race := s.attempts <= s.races
	s.mu.Unlock()
	if race {
		s.other()
	}
	return s.memStore.Append(ctx, aggregate, id, expected, meta, events...)
}

// failingStore fails loads (of one aggregate type, or of all when
// loadOnly is empty) or appends with a given error.
type failingStore struct {
	*memStore
	loadErr, appendErr error
	loadOnly           string
	attempts           int
}

func (s *failingStore) Load(ctx context.Context, aggregate, id string) ([]domain.Envelope, error) {
	if s.loadErr != nil && (s.loadOnly == "" || s.loadOnly == aggregate) {
		return nil, s.loadErr
	}
	return s.memStore.Load(ctx, aggregate, id)
}

func (s *failingStore) Append(ctx context.Context, aggregate, id string, expected int64, meta domain.Meta, events ...domain.Event) (domain.Result, error) {
	s.attempts++
	if s.appendErr != nil {
		return domain.Result{}, s.appendErr
	}
	return s.memStore.Append(ctx, aggregate, id, expected, meta, events...)
}

func TestHandlerRetriedCommand(t *testing.T) {
	ctx := context.Background()

	t.Run("a retried join returns the first result although joining again would fail", func(t *testing.T) {
		f := newPZK(t)
		f.initiate("")
		meta := f.meta("")
		first, err := f.h.Execute(ctx, f.joinCmd(f.pup), meta, domain.AnyVersion)
		require.NoError(t, err)
		total := f.store.total()
		_, appends := f.store.stats()

		again, err := f.h.Execute(ctx, f.joinCmd(f.pup), meta, domain.AnyVersion)
		require.NoError(t, err, "a retry is not refused as ErrAlreadyMember")
		assert.True(t, again.Duplicate)
		assert.False(t, first.Duplicate)
		again.Duplicate = false
		assert.Equal(t, first, again)
		assert.Equal(t, total, f.store.total())
		_, appendsAfter := f.store.stats()
		assert.Equal(t, appends, appendsAfter, "the handler does not even try to append")

		// Without the same command id the same intention is refused.
		_, err = f.h.Execute(ctx, f.joinCmd(f.pup), f.meta(""), domain.AnyVersion)
		assert.ErrorIs(t, err, domain.ErrAlreadyMember)
	})

	t.Run("a retried command of several events answers with the version after its last event", func(t *testing.T) {
		f := newPZK(t)
		meta := f.meta("")
		first, err := f.h.Execute(ctx, f.initiateCmd(f.pcpr), meta, domain.AnyVersion)
		require.NoError(t, err)
		require.Equal(t, int64(3), first.Version)
		f.join(f.pup) // the aggregate moves on to version 4

		again, err := f.h.Execute(ctx, f.initiateCmd(f.pcpr), meta, domain.AnyVersion)
		require.NoError(t, err)
		assert.Equal(t, domain.Result{AggregateType: domain.AggregatePartnership, AggregateID: f.id, Version: 3,
			Sequence: first.Sequence, Duplicate: true}, again)
		assert.Len(t, f.store.envelopes(t, domain.AggregatePartnership, f.id), 4)
	})

	t.Run("a retried command with a stale If-Match still gets its first answer", func(t *testing.T) {
		f := newPZK(t)
		f.initiate("") // version 2
		meta := f.meta("")
		first, err := f.h.Execute(ctx, f.joinCmd(f.pup), meta, 2)
		require.NoError(t, err)
		f.join(f.school)

		again, err := f.h.Execute(ctx, f.joinCmd(f.pup), meta, 2)
		require.NoError(t, err)
		assert.True(t, again.Duplicate)
		assert.Equal(t, first.Sequence, again.Sequence)
		assert.Equal(t, first.Version, again.Version)
	})

	t.Run("a retried command that was refused is decided again", func(t *testing.T) {
		f := newPZK(t)
		meta := f.meta("")
		_, err := f.h.Execute(ctx, f.joinCmd(f.pup), meta, domain.AnyVersion)
		require.ErrorIs(t, err, domain.ErrPartnershipNotFound)
		f.initiate("")

		res, err := f.h.Execute(ctx, f.joinCmd(f.pup), meta, domain.AnyVersion)
		require.NoError(t, err)
		assert.False(t, res.Duplicate)
		assert.True(t, f.state().IsMember(f.pup))
	})

	t.Run("a command id reused on another aggregate writes nothing", func(t *testing.T) {
		f := newPZK(t)
		meta := f.meta("")
		_, err := f.h.Execute(ctx, f.initiateCmd(""), meta, domain.AnyVersion)
		require.NoError(t, err)
		total := f.store.total()

		res, err := f.h.Execute(ctx, domain.RegisterWorker{InstitutionID: f.pup, WorkerID: domain.NewID(),
			Name: "Jan Kowalski", Position: "doradca zawodowy"}, meta, domain.AnyVersion)
		require.NoError(t, err)
		assert.True(t, res.Duplicate)
		assert.Equal(t, total, f.store.total())
	})
}

func TestHandlerExpectedVersion(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		expected int64
		wantErr  bool
	}{
		{name: "the expected version is the current one", expected: 2},
		{name: "the expected version is stale", expected: 1, wantErr: true},
		{name: "the expected version is ahead of the aggregate", expected: 3, wantErr: true},
		{name: "the aggregate is expected to be new but exists", expected: 0, wantErr: true},
		{name: "any version is expected", expected: domain.AnyVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newPZK(t)
			f.initiate("") // version 2
			total := f.store.total()
			_, appends := f.store.stats()

			res, err := f.h.Execute(ctx, f.joinCmd(f.pup), f.meta(""), tt.expected)

			if !tt.wantErr {
				require.NoError(t, err)
				assert.Equal(t, int64(3), res.Version)
				return
			}
			require.ErrorIs(t, err, domain.ErrVersionConflict)
			require.ErrorIs(t, err, domain.ErrConflict)
			var de *domain.Error
			require.ErrorAs(t, err, &de)
			assert.Equal(t, "If-Match", de.Field)
			assert.Contains(t, de.Message, "version 2")
			assert.Equal(t, total, f.store.total())
			_, appendsAfter := f.store.stats()
			assert.Equal(t, appends, appendsAfter)
		})
	}

	t.Run("a new aggregate is created at expected version 0", func(t *testing.T) {
		f := newPZK(t)
		res, err := f.h.Execute(ctx, f.initiateCmd(""), f.meta(""), 0)
		require.NoError(t, err)
		assert.Equal(t, int64(2), res.Version)
	})

	t.Run("a version conflict comes before the decision", func(t *testing.T) {
		f := newPZK(t)
		f.initiate("")
		_, err := f.h.Execute(ctx, f.joinCmd(f.mops), f.meta(""), 1)
		assert.ErrorIs(t, err, domain.ErrVersionConflict, "not ErrAlreadyMember")
	})

	t.Run("a concurrent change under If-Match is a conflict, not retried", func(t *testing.T) {
		f := newPZK(t)
		f.initiate("")
		store := &racingStore{memStore: f.store, races: 1, other: func() { f.join(f.school) }}
		h := &domain.Handler{Store: store}

		_, err := h.Execute(ctx, f.joinCmd(f.pup), f.meta(""), 2)
		require.ErrorIs(t, err, domain.ErrVersionConflict)
		assert.Equal(t, 1, store.attempts)
		assert.False(t, f.state().IsMember(f.pup))
		assert.True(t, f.state().IsMember(f.school))
	})
}

func TestHandlerRetriesConcurrentChanges(t *testing.T) {
	ctx := context.Background()

	t.Run("a command without If-Match is decided again on the new state", func(t *testing.T) {
		f := newPZK(t)
		f.initiate("")
		f.offer("asystent rodziny", f.mops)
		concurrent := 0
		store := &racingStore{memStore: f.store, races: 2, other: func() {
			concurrent++
			f.offer(fmt.Sprint("usługa ", concurrent), f.mops)
		}}
		h := &domain.Handler{Store: store}

		res, err := h.Execute(ctx, f.joinCmd(f.pup), f.meta(""), domain.AnyVersion)
		require.NoError(t, err)
		assert.Equal(t, 3, store.attempts, "two conflicts, then success")
		assert.Equal(t, int64(6), res.Version, "2 initiating, 1 offer, 2 concurrent offers, the join")
		assert.True(t, f.state().IsMember(f.pup))
	})

	t.Run("the decision on the new state may refuse", func(t *testing.T) {
		f := newPZK(t)
		f.initiate("")
		store := &racingStore{memStore: f.store, races: 1, other: func() { f.join(f.pup) }}
		h := &domain.Handler{Store: store}

		_, err := h.Execute(ctx, f.joinCmd(f.pup), f.meta(""), domain.AnyVersion)
		require.ErrorIs(t, err, domain.ErrAlreadyMember)
		assert.Equal(t, 1, store.attempts)
	})

	for _, tt := range []struct {
		name     string
		retries  int
		attempts int
	}{
		{name: "a command gives up after DefaultRetries retries by default", retries: 0, attempts: domain.DefaultRetries + 1},
		{name: "a command gives up after the configured retries", retries: 1, attempts: 2},
		{name: "a command with no retries configured as negative tries once", retries: -1, attempts: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newPZK(t)
			f.initiate("")
			store := &failingStore{memStore: f.store, appendErr: fmt.Errorf("store: %w", domain.ErrVersionConflict.With("", "changed"))}
			h := &domain.Handler{Store: store, Retries: tt.retries, MaxPause: -1}

			_, err := h.Execute(ctx, f.joinCmd(f.pup), f.meta(""), domain.AnyVersion)
			require.ErrorIs(t, err, domain.ErrVersionConflict)
			assert.Equal(t, tt.attempts, store.attempts)
		})
	}

	t.Run("the pause before a retry ends with the context", func(t *testing.T) {
		f := newPZK(t)
		f.initiate("")
		store := &failingStore{memStore: f.store, appendErr: fmt.Errorf("store: %w", domain.ErrVersionConflict.With("", "changed"))}
		h := &domain.Handler{Store: store, MaxPause: time.Hour}
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		start := time.Now()

		_, err := h.Execute(cctx, f.joinCmd(f.pup), f.meta(""), domain.AnyVersion)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Less(t, time.Since(start), 10*time.Second, "the pauses (up to 2 ms, 4 ms… doubling) did not outlast the context")
		assert.Less(t, store.attempts, domain.DefaultRetries+1)
	})

	t.Run("an append error other than a conflict is not retried and is wrapped", func(t *testing.T) {
		f := newPZK(t)
		f.initiate("")
		diskFull := errors.New("disk full")
		store := &failingStore{memStore: f.store, appendErr: diskFull}
		h := &domain.Handler{Store: store}

		_, err := h.Execute(ctx, f.joinCmd(f.pup), f.meta(""), domain.AnyVersion)
		require.ErrorIs(t, err, diskFull)
		assert.Nil(t, domain.IsKind(err), "a store failure is of no domain kind")
		assert.Equal(t, 1, store.attempts)
		assert.Contains(t, err.Error(), f.id)
	})

	t.Run("a load error is wrapped", func(t *testing.T) {
		f := newPZK(t)
		unreachable := errors.New("nats: no responders")
		h := &domain.Handler{Store: &failingStore{memStore: f.store, loadErr: unreachable}}

		_, err := h.Execute(ctx, domain.RegisterUser{UserID: domain.NewID(), Name: "Anna", Role: domain.RoleWorker}, f.meta(""), domain.AnyVersion)
		require.ErrorIs(t, err, unreachable)
		_, err = domain.Load(ctx, h.Store, domain.AggregateUser, domain.NewID())
		require.ErrorIs(t, err, unreachable)
	})

	t.Run("a failure to load the facts of a decision is wrapped", func(t *testing.T) {
		f := newPZK(t)
		f.initiate("")
		unreachable := errors.New("nats: no responders")
		h := &domain.Handler{Store: &failingStore{memStore: f.store, loadErr: unreachable, loadOnly: domain.AggregateInstitution}}
		total := f.store.total()

		_, err := h.Execute(ctx, f.joinCmd(f.pup), f.meta(""), domain.AnyVersion)
		require.ErrorIs(t, err, unreachable)
		assert.NotErrorIs(t, err, domain.ErrInstitutionNotFound, "an unreachable store is not a missing institution")
		assert.Equal(t, total, f.store.total())
	})

	t.Run("a cancelled context stops the command", func(t *testing.T) {
		f := newPZK(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		total := f.store.total()
		_, err := f.h.Execute(cctx, f.initiateCmd(""), f.meta(""), domain.AnyVersion)
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, total, f.store.total())
	})
}

// The handler is safe for concurrent use: commands on one aggregate race
// and are retried, commands on different aggregates do not interfere.
func TestHandlerConcurrentCommands(t *testing.T) {
	ctx := context.Background()
	f := newPZK(t)
	f.initiate("")
	h := &domain.Handler{Store: f.store, Retries: 1000}
	const n = 16

	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Go(func() {
			_, err := h.Execute(ctx, f.offerCmd(fmt.Sprint("usługa ", i), f.mops), f.meta(""), domain.AnyVersion)
			errs <- err
		})
		wg.Go(func() {
			_, err := h.Execute(ctx, domain.RegisterInstitution{InstitutionID: domain.IDFromKey(fmt.Sprint("ngo ", i)),
				Name: fmt.Sprint("Fundacja ", i), Sector: domain.SectorNGO, Municipality: "Kraków", County: "Kraków"},
				f.meta(""), domain.AnyVersion)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	p := f.state()
	assert.Len(t, p.Services, n)
	assert.Equal(t, int64(2+n), p.Version)
	for i := range n {
		s, err := domain.Load(ctx, f.store, domain.AggregateInstitution, domain.IDFromKey(fmt.Sprint("ngo ", i)))
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprint("Fundacja ", i), s.(*domain.Institution).Name)
	}
}

func TestHandlerValidatesBeforeLoading(t *testing.T) {
	id := domain.NewID()
	hash := strings.Repeat("ab", 32)
	tests := []struct {
		name  string
		cmd   domain.Command
		field string
	}{
		{"an initiation without a name", domain.InitiatePartnership{PartnershipID: id, Municipality: "Kraków", County: "Kraków",
			Date: initiatedOn, LeaderID: domain.NewID()}, "name"},
		{"a join of an institution id in braces", domain.JoinPartnership{PartnershipID: id, InstitutionID: "{" + id + "}", Date: initiatedOn}, "institution_id"},
		{"a join of a partnership id that is not an identifier", domain.JoinPartnership{PartnershipID: "pzk", InstitutionID: id, Date: initiatedOn}, "id"},
		{"a join of no partnership", domain.JoinPartnership{InstitutionID: id, Date: initiatedOn}, "id"},
		{"an institution of no sector", domain.RegisterInstitution{InstitutionID: id, Name: "MOPS", Municipality: "Kraków", County: "Kraków"}, "sector"},
		{"a worker without a name", domain.RegisterWorker{InstitutionID: id, WorkerID: domain.NewID(), Position: "kurator"}, "name"},
		{"a user in the system role", domain.RegisterUser{UserID: id, Name: "demo", Role: domain.RoleSystem}, "role"},
		{"a token with a short hash", domain.IssueToken{UserID: id, TokenID: domain.NewID(), Hash: "abcd"}, "hash"},
		{"a token of a user id in upper case", domain.IssueToken{UserID: strings.ToUpper(id), TokenID: domain.NewID(), Hash: hash}, "id"},
		{"a revocation of no token", domain.RevokeToken{UserID: id}, "token_id"},
		{"a meeting attended twice by one member", domain.RecordMeeting{PartnershipID: id, MeetingID: id, Kind: domain.MeetingRegular,
			Date: initiatedOn, Place: "MOPS", Attendees: []string{id, id}}, "attendees[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newMemStore()
			h := &domain.Handler{Store: store}

			_, err := h.Execute(context.Background(), tt.cmd, domain.Meta{}, domain.AnyVersion)

			require.ErrorIs(t, err, domain.ErrInvalid)
			var de *domain.Error
			require.ErrorAs(t, err, &de)
			assert.Equal(t, tt.field, de.Field)
			loads, appends := store.stats()
			assert.Zero(t, loads, "nothing is loaded for an invalid command")
			assert.Zero(t, appends)
			if tt.field != "id" { // the target id is the handler's to check
				assert.Equal(t, err, tt.cmd.Validate(), "Validate alone finds the same fault")
			}
		})
	}
}

func TestHandlerCompletesMeta(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2024, 3, 1, 9, 30, 0, 0, time.FixedZone("CET", 3600))

	t.Run("missing ids and time are filled in", func(t *testing.T) {
		store := newMemStore()
		h := &domain.Handler{Store: store, Now: func() time.Time { return now }}
		id := domain.NewID()
		_, err := h.Execute(ctx, domain.RegisterUser{UserID: id, Name: "Anna Nowak", Role: domain.RoleCoordinator},
			domain.Meta{Actor: domain.Actor{UserID: "admin", Role: domain.RoleAdmin}}, domain.AnyVersion)
		require.NoError(t, err)

		envs := store.envelopes(t, domain.AggregateUser, id)
		require.Len(t, envs, 1)
		env := envs[0]
		u, err := uuid.Parse(env.CommandID)
		require.NoError(t, err)
		assert.Equal(t, uuid.Version(7), u.Version())
		assert.Equal(t, env.CommandID, env.CorrelationID, "a command is its own correlation")
		assert.Empty(t, env.CausationID)
		assert.Equal(t, now.UTC(), env.OccurredAt)
		assert.Equal(t, time.UTC, env.OccurredAt.Location())
		assert.Equal(t, domain.Actor{UserID: "admin", Role: domain.RoleAdmin}, env.Actor)
	})

	t.Run("given ids, time and reason are kept", func(t *testing.T) {
		store := newMemStore()
		// The clock is read only to refuse a business time in the future.
		h := &domain.Handler{Store: store, Now: func() time.Time { return now.Add(time.Hour) }}
		id := domain.NewID()
		meta := domain.Meta{CommandID: domain.NewID(), CorrelationID: domain.NewID(), CausationID: domain.NewID(),
			OccurredAt: now, Reason: "nowa pracownica", Actor: domain.Actor{UserID: "admin", Role: domain.RoleAdmin}}
		_, err := h.Execute(ctx, domain.RegisterUser{UserID: id, Name: "Anna Nowak", Role: domain.RoleCoordinator}, meta, domain.AnyVersion)
		require.NoError(t, err)

		env := store.envelopes(t, domain.AggregateUser, id)[0]
		assert.Equal(t, meta.CommandID, env.CommandID)
		assert.Equal(t, meta.CorrelationID, env.CorrelationID)
		assert.Equal(t, meta.CausationID, env.CausationID)
		assert.Equal(t, "nowa pracownica", env.Reason)
		assert.True(t, now.Equal(env.OccurredAt))
	})

	t.Run("without a clock the time of handling is used", func(t *testing.T) {
		store := newMemStore()
		h := &domain.Handler{Store: store}
		id := domain.NewID()
		before := time.Now()
		_, err := h.Execute(ctx, domain.RegisterUser{UserID: id, Name: "Anna Nowak", Role: domain.RoleCoordinator}, domain.Meta{}, domain.AnyVersion)
		require.NoError(t, err)
		after := time.Now()

		at := store.envelopes(t, domain.AggregateUser, id)[0].OccurredAt
		assert.False(t, at.Before(before), "%v before %v", at, before)
		assert.False(t, at.After(after), "%v after %v", at, after)
	})
}

func TestIDs(t *testing.T) {
	t.Run("an id from a key is the same for the same key", func(t *testing.T) {
		assert.Equal(t, domain.IDFromKey("Idempotency-Key: 42"), domain.IDFromKey("Idempotency-Key: 42"))
		assert.NotEqual(t, domain.IDFromKey("Idempotency-Key: 42"), domain.IDFromKey("Idempotency-Key: 43"))
		assert.NotEqual(t, domain.IDFromKey("a"), domain.IDFromKey("A"))
	})

	t.Run("an id from a key does not change between versions of the engine", func(t *testing.T) {
		// A client retrying a create across an upgrade must address the
		// same aggregate: the namespace of IDFromKey is part of the
		// stored data.
		assert.Equal(t, "b8ee6dc3-5381-5533-8df8-d146bd27a3ce", domain.IDFromKey("Idempotency-Key: 42"))
		assert.Equal(t, "9549a1b3-6e5c-5705-8541-154c7092ac74", domain.IDFromKey(""))
	})

	t.Run("ids from keys and new ids are identifiers", func(t *testing.T) {
		for _, id := range []string{domain.IDFromKey("x"), domain.IDFromKey("zażółć gęślą jaźń"), domain.NewID()} {
			assert.NoError(t, domain.CheckID("id", id), id)
		}
		u, err := uuid.Parse(domain.IDFromKey("x"))
		require.NoError(t, err)
		assert.Equal(t, uuid.Version(5), u.Version())
	})

	t.Run("new ids are distinct and ordered by creation", func(t *testing.T) {
		prev := domain.NewID()
		seen := map[string]bool{prev: true}
		for range 1000 {
			id := domain.NewID()
			require.False(t, seen[id], "duplicate id %s", id)
			require.Less(t, prev, id)
			seen[id] = true
			prev = id
		}
	})

	id := domain.NewID()
	for _, tt := range []struct {
		name string
		id   string
		err  *domain.Error
	}{
		{"a canonical UUID", id, nil},
		{"an empty id", "", domain.ErrRequired},
		{"an id in upper case", strings.ToUpper(id), domain.ErrInvalidField},
		{"an id in braces", "{" + id + "}", domain.ErrInvalidField},
		{"an id as a URN", "urn:uuid:" + id, domain.ErrInvalidField},
		{"an id without hyphens", strings.ReplaceAll(id, "-", ""), domain.ErrInvalidField},
		{"an id with a space", id + " ", domain.ErrInvalidField},
		{"a number", "42", domain.ErrInvalidField},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := domain.CheckID("family_id", tt.id)
			if tt.err == nil {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.err)
			require.ErrorIs(t, err, domain.ErrInvalid)
			var de *domain.Error
			require.ErrorAs(t, err, &de)
			assert.Equal(t, "family_id", de.Field)
		})
	}
}

func TestInstitutionCommands(t *testing.T) {
	newInst := func(*pzk) domain.RegisterInstitution {
		return domain.RegisterInstitution{InstitutionID: domain.IDFromKey("institution/mgops"), Name: "MGOPS Skawina",
			Sector: domain.SectorSocialAssistance, Municipality: "Skawina", County: "krakowski", Address: "ul. Żwirki 3"}
	}
	worker := func(f *pzk) domain.RegisterWorker {
		return domain.RegisterWorker{InstitutionID: f.pup, WorkerID: domain.IDFromKey("worker/jan"), Name: "Jan Kowalski",
			Position: "doradca zawodowy"}
	}
	runCases(t, []cmdCase{
		{
			name: "an institution is registered",
			when: func(f *pzk) domain.Command { return newInst(f) },
			want: func(*pzk) []domain.Event {
				return []domain.Event{domain.InstitutionRegistered{Name: "MGOPS Skawina", Sector: domain.SectorSocialAssistance,
					Municipality: "Skawina", County: "krakowski", Address: "ul. Żwirki 3"}}
			},
		},
		{
			name: "an institution is registered twice",
			when: func(f *pzk) domain.Command {
				c := newInst(f)
				c.InstitutionID = f.mops
				return c
			},
			err: domain.ErrAlreadyExists, kind: domain.ErrConflict,
		},
		{
			name: "an institution of a sector that does not exist",
			when: func(f *pzk) domain.Command {
				c := newInst(f)
				c.Sector = "Social_Assistance"
				return c
			},
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "sector",
		},
		{
			name: "an institution of no sector",
			when: func(f *pzk) domain.Command {
				c := newInst(f)
				c.Sector = ""
				return c
			},
			err: domain.ErrRequired, kind: domain.ErrInvalid, field: "sector",
		},
		{
			name: "an institution without a county",
			when: func(f *pzk) domain.Command {
				c := newInst(f)
				c.County = ""
				return c
			},
			err: domain.ErrRequired, kind: domain.ErrInvalid, field: "county",
		},
		{
			name: "an institution with an address too long",
			when: func(f *pzk) domain.Command {
				c := newInst(f)
				c.Address = strings.Repeat("ż", 301)
				return c
			},
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "address",
		},
		{
			name: "an institution without an id",
			when: func(f *pzk) domain.Command {
				c := newInst(f)
				c.InstitutionID = ""
				return c
			},
			err: domain.ErrRequired, kind: domain.ErrInvalid, field: "id",
		},
		{
			name: "a worker is registered",
			when: func(f *pzk) domain.Command { return worker(f) },
			want: func(*pzk) []domain.Event {
				return []domain.Event{domain.WorkerRegistered{WorkerID: domain.IDFromKey("worker/jan"), Name: "Jan Kowalski",
					Position: "doradca zawodowy"}}
			},
		},
		{
			name:  "a worker is registered twice",
			given: func(f *pzk) { f.must(worker(f)) },
			when:  func(f *pzk) domain.Command { return worker(f) },
			err:   domain.ErrWorkerExists, kind: domain.ErrConflict,
		},
		{
			name: "a worker of an unknown institution is registered",
			when: func(f *pzk) domain.Command {
				c := worker(f)
				c.InstitutionID = f.ghost
				return c
			},
			err: domain.ErrInstitutionNotFound, kind: domain.ErrNotFound, field: "institution_id",
		},
		{
			name: "a worker without a position",
			when: func(f *pzk) domain.Command {
				c := worker(f)
				c.Position = ""
				return c
			},
			err: domain.ErrRequired, kind: domain.ErrInvalid, field: "position",
		},
		{
			name: "a command the institution does not know",
			when: func(f *pzk) domain.Command { return strayCommand{domain.AggregateInstitution, f.pup} },
			err:  domain.ErrInvalidField, kind: domain.ErrInvalid, field: "command",
		},
	})

	t.Run("an institution's state holds its workers", func(t *testing.T) {
		f := newPZK(t)
		f.must(worker(f))
		f.must(domain.RegisterWorker{InstitutionID: f.pup, WorkerID: domain.IDFromKey("worker/ewa"), Name: "Ewa", Position: "pośrednik pracy"})
		s, err := domain.Load(context.Background(), f.store, domain.AggregateInstitution, f.pup)
		require.NoError(t, err)
		inst := s.(*domain.Institution)
		assert.True(t, inst.Exists())
		assert.Equal(t, f.pup, inst.ID)
		assert.Equal(t, int64(3), inst.Version)
		assert.Equal(t, domain.SectorLabour, inst.Sector)
		assert.Equal(t, []domain.Worker{
			{ID: domain.IDFromKey("worker/jan"), Name: "Jan Kowalski", Position: "doradca zawodowy"},
			{ID: domain.IDFromKey("worker/ewa"), Name: "Ewa", Position: "pośrednik pracy"},
		}, inst.Workers)
	})
}

// strayCommand is a command no aggregate knows.
type strayCommand struct{ aggregate, id string }

func (c strayCommand) Target() (string, string) { return c.aggregate, c.id }
func (strayCommand) Validate() error            { return nil }

func TestUserCommands(t *testing.T) {
	user := domain.IDFromKey("user/anna")
	token := domain.IDFromKey("token/1")
	hash := strings.Repeat("0f", 32)
	expires := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	register := func(f *pzk) domain.RegisterUser {
		return domain.RegisterUser{UserID: user, Name: "Anna Nowak", Role: domain.RoleCoordinator, InstitutionID: f.mops}
	}
	issue := domain.IssueToken{UserID: user, TokenID: token, Hash: hash, ExpiresAt: &expires}
	revoke := domain.RevokeToken{UserID: user, TokenID: token}
	registered := func(f *pzk) { f.must(register(f)) }
	issued := func(f *pzk) { registered(f); f.must(issue) }

	runCases(t, []cmdCase{
		{
			name: "a user is registered",
			when: func(f *pzk) domain.Command { return register(f) },
			want: func(f *pzk) []domain.Event {
				return []domain.Event{domain.UserRegistered{Name: "Anna Nowak", Role: domain.RoleCoordinator, InstitutionID: f.mops}}
			},
		},
		{
			name:  "a user is registered twice",
			given: registered,
			when:  func(f *pzk) domain.Command { return register(f) },
			err:   domain.ErrAlreadyExists, kind: domain.ErrConflict,
		},
		{
			name: "a user is given the engine's own role",
			when: func(f *pzk) domain.Command {
				c := register(f)
				c.Role = domain.RoleSystem
				return c
			},
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "role",
		},
		{
			name: "a user is given no role",
			when: func(f *pzk) domain.Command {
				c := register(f)
				c.Role = ""
				return c
			},
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "role",
		},
		{
			name: "a user of an institution id that is not an identifier",
			when: func(f *pzk) domain.Command {
				c := register(f)
				c.InstitutionID = "MOPS"
				return c
			},
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "institution_id",
		},
		{
			name: "a user without a name",
			when: func(f *pzk) domain.Command {
				c := register(f)
				c.Name = ""
				return c
			},
			err: domain.ErrRequired, kind: domain.ErrInvalid, field: "name",
		},
		{
			name:  "a token is issued with a valid hash",
			given: registered,
			when:  func(*pzk) domain.Command { return issue },
			want: func(*pzk) []domain.Event {
				return []domain.Event{domain.TokenIssued{TokenID: token, Hash: hash, ExpiresAt: &expires}}
			},
		},
		{
			name:  "a token is issued without expiry",
			given: registered,
			when: func(*pzk) domain.Command {
				c := issue
				c.ExpiresAt = nil
				return c
			},
			want: func(*pzk) []domain.Event { return []domain.Event{domain.TokenIssued{TokenID: token, Hash: hash}} },
		},
		{
			name:  "a token is issued with a hash one byte short",
			given: registered,
			when: func(*pzk) domain.Command {
				c := issue
				c.Hash = hash[2:]
				return c
			},
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "hash",
		},
		{
			name:  "a token is issued with a hash that is not hex",
			given: registered,
			when: func(*pzk) domain.Command {
				c := issue
				c.Hash = "zz" + hash[2:]
				return c
			},
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "hash",
		},
		{
			name:  "a token is issued with the token itself instead of its hash",
			given: registered,
			when: func(*pzk) domain.Command {
				c := issue
				c.Hash = "kt_0123456789abcdefghijklmnopqrstuvwxyzABCDEF"
				return c
			},
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "hash",
		},
		{
			name:  "a token is issued without a hash",
			given: registered,
			when: func(*pzk) domain.Command {
				c := issue
				c.Hash = ""
				return c
			},
			err: domain.ErrInvalidField, kind: domain.ErrInvalid, field: "hash",
		},
		{
			name:  "a token is issued without a token id",
			given: registered,
			when: func(*pzk) domain.Command {
				c := issue
				c.TokenID = ""
				return c
			},
			err: domain.ErrRequired, kind: domain.ErrInvalid, field: "token_id",
		},
		{
			name: "a token is issued to an unknown user",
			when: func(*pzk) domain.Command { return issue },
			err:  domain.ErrUserNotFound, kind: domain.ErrNotFound,
		},
		{
			name:  "a token is revoked",
			given: issued,
			when:  func(*pzk) domain.Command { return revoke },
			want:  func(*pzk) []domain.Event { return []domain.Event{domain.TokenRevoked{TokenID: token}} },
		},
		{
			name:  "a token is revoked twice",
			given: func(f *pzk) { issued(f); f.must(revoke) },
			when:  func(*pzk) domain.Command { return revoke },
			err:   domain.ErrTokenNotFound, kind: domain.ErrNotFound, field: "token_id",
		},
		{
			name:  "a token that was never issued is revoked",
			given: issued,
			when: func(*pzk) domain.Command {
				return domain.RevokeToken{UserID: user, TokenID: domain.IDFromKey("token/2")}
			},
			err: domain.ErrTokenNotFound, kind: domain.ErrNotFound, field: "token_id",
		},
		{
			name: "a token of an unknown user is revoked",
			when: func(*pzk) domain.Command { return revoke },
			err:  domain.ErrTokenNotFound, kind: domain.ErrNotFound, field: "token_id",
		},
		{
			name:  "a command the user does not know",
			given: registered,
			when:  func(*pzk) domain.Command { return strayCommand{domain.AggregateUser, user} },
			err:   domain.ErrInvalidField, kind: domain.ErrInvalid, field: "command",
		},
		{
			name:  "a command the partnership does not know",
			given: func(f *pzk) { f.initiate("") },
			when:  func(f *pzk) domain.Command { return strayCommand{domain.AggregatePartnership, f.id} },
			err:   domain.ErrInvalidField, kind: domain.ErrInvalid, field: "command",
		},
		{
			name: "a command for an aggregate that does not exist",
			when: func(*pzk) domain.Command { return strayCommand{"galaxy", user} },
			err:  domain.ErrInvalidField, kind: domain.ErrInvalid, field: "aggregate",
		},
	})

	t.Run("a user's state holds their tokens", func(t *testing.T) {
		f := newPZK(t)
		issued(f)
		other := domain.IssueToken{UserID: user, TokenID: domain.IDFromKey("token/2"), Hash: strings.Repeat("a1", 32)}
		f.must(other)
		f.must(revoke)
		s, err := domain.Load(context.Background(), f.store, domain.AggregateUser, user)
		require.NoError(t, err)
		u := s.(*domain.User)
		assert.Equal(t, user, u.ID)
		assert.Equal(t, int64(4), u.Version)
		assert.Equal(t, domain.RoleCoordinator, u.Role)
		assert.Equal(t, f.mops, u.InstitutionID)
		assert.Equal(t, []domain.Token{
			{ID: token, Hash: hash, ExpiresAt: &expires, Revoked: true},
			{ID: other.TokenID, Hash: other.Hash},
		}, u.Tokens)
	})
}

func TestNewState(t *testing.T) {
	for _, aggregate := range []string{domain.AggregateInstitution, domain.AggregatePartnership, domain.AggregateUser} {
		s, err := domain.NewState(aggregate)
		require.NoError(t, err, aggregate)
		assert.NotNil(t, s)
	}
	_, err := domain.NewState("galaxy")
	require.ErrorIs(t, err, domain.ErrInvalidField)
	_, err = domain.Load(context.Background(), newMemStore(), "galaxy", domain.NewID())
	require.ErrorIs(t, err, domain.ErrInvalid)
}

// The API finds a token by the lower-case hex SHA-256 of what the client
// presents (api.HashToken, projections.Users.ByTokenHash compare strings),
// so a hash recorded in upper case can never authenticate.
func TestIssueTokenRefusesNonCanonicalHash(t *testing.T) {
	err := domain.IssueToken{UserID: domain.NewID(), TokenID: domain.NewID(), Hash: strings.Repeat("AB", 32)}.Validate()
	assert.ErrorIs(t, err, domain.ErrInvalidField)
}

// A reason is free text like a note wherever it is stated, required by the
// decision or not: it is checked before anything is loaded or written.
func TestHandlerChecksTheReason(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		reason  string
		message string // "": accepted
	}{
		{name: "a reason on several lines with a tab", reason: "1.\tzmiana dyrekcji\r\n2.\tprzeniesienie"},
		{name: "a reason holding a NUL", reason: "zmiana\x00dyrekcji", message: "control character (U+0000)"},
		{name: "a reason holding an escape", reason: "\x1b[2Jzmiana", message: "control character (U+001B)"},
		{name: "a reason that is not UTF-8", reason: "zmiana \xff", message: "UTF-8"},
		{name: "a reason of 4001 characters", reason: strings.Repeat("ż", 4001), message: "at most 4000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newPZK(t)
			f.initiate("")
			total := f.store.total()
			_, err := f.h.Execute(ctx, f.joinCmd(f.pup), f.meta(tt.reason), domain.AnyVersion)
			if tt.message == "" {
				require.NoError(t, err)
				assert.Equal(t, total+1, f.store.total())
				return
			}
			require.ErrorIs(t, err, domain.ErrInvalidField)
			var de *domain.Error
			require.ErrorAs(t, err, &de)
			assert.Equal(t, "reason", de.Field)
			assert.Contains(t, de.Message, tt.message)
			assert.Equal(t, total, f.store.total(), "nothing is written")
		})
	}
}

// blockingStore holds every append to one aggregate type until released.
type blockingStore struct {
	*memStore
	aggregate string
	entered   chan struct{} // receives when an append is held
	release   chan struct{}
}

func (s *blockingStore) Append(ctx context.Context, aggregate, id string, expected int64, meta domain.Meta, events ...domain.Event) (domain.Result, error) {
	if aggregate == s.aggregate {
		s.entered <- struct{}{}
		<-s.release
	}
	return s.memStore.Append(ctx, aggregate, id, expected, meta, events...)
}

// One Handler runs the commands of one aggregate one after the other:
// none of them conflicts with another, even without retries.
func TestHandlerQueuesCommandsOfOneAggregate(t *testing.T) {
	ctx := context.Background()

	t.Run("commands on one aggregate sent at once are all written without a retry", func(t *testing.T) {
		f := newPZK(t)
		f.initiate("")
		h := &domain.Handler{Store: f.store, Retries: -1}
		const n = 24
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				_, err := h.Execute(ctx, f.offerCmd(fmt.Sprint("usługa ", i), f.mops), f.meta(""), domain.AnyVersion)
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		assert.Len(t, f.state().Services, n)
	})

	t.Run("a command waiting for its aggregate ends with its context, and another aggregate's does not wait", func(t *testing.T) {
		f := newPZK(t)
		f.initiate("")
		store := &blockingStore{memStore: f.store, aggregate: domain.AggregatePartnership, entered: make(chan struct{}, 1), release: make(chan struct{})}
		h := &domain.Handler{Store: store}
		first := make(chan error, 1)
		go func() {
			_, err := h.Execute(ctx, f.offerCmd("pierwsza", f.mops), f.meta(""), domain.AnyVersion)
			first <- err
		}()
		<-store.entered // the first command holds its aggregate

		wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err := h.Execute(wctx, f.offerCmd("druga", f.mops), f.meta(""), domain.AnyVersion)
		require.ErrorIs(t, err, context.DeadlineExceeded)

		_, err = h.Execute(ctx, domain.RegisterInstitution{InstitutionID: domain.NewID(), Name: "Fundacja", Sector: domain.SectorNGO,
			Municipality: "Kraków", County: "Kraków"}, f.meta(""), domain.AnyVersion)
		require.NoError(t, err, "an institution is another aggregate")

		close(store.release)
		require.NoError(t, <-first)
		services := f.state().Services
		require.Len(t, services, 1, "the command that gave up wrote nothing")
	})
}

func TestSignInCommands(t *testing.T) {
	user := domain.IDFromKey("user/marta")
	expires := time.Date(2025, 1, 4, 0, 0, 0, 0, time.UTC)
	register := func(login string) domain.RegisterUser {
		return domain.RegisterUser{UserID: user, Login: login, Name: "Marta Testowa", Role: domain.RoleWorker}
	}
	withLogin := func(f *pzk) { f.must(register("marta.testowa")) }
	withPassword := func(f *pzk) { withLogin(f); f.must(domain.SetPassword{UserID: user}) }
	disabled := func(f *pzk) { withPassword(f); f.must(domain.DisableUser{UserID: user}) }

	runCases(t, []cmdCase{
		{
			name: "a user is registered with a login",
			when: func(*pzk) domain.Command { return register("marta.testowa") },
			want: func(*pzk) []domain.Event {
				return []domain.Event{domain.UserRegistered{Login: "marta.testowa", Name: "Marta Testowa", Role: domain.RoleWorker}}
			},
		},
		{
			name: "a login with a space is refused",
			when: func(*pzk) domain.Command { return register("marta testowa") },
			err:  domain.ErrInvalidField, kind: domain.ErrInvalid, field: "login",
		},
		{
			name: "a login in upper case is refused (the API lowers it first)",
			when: func(*pzk) domain.Command { return register("Marta") },
			err:  domain.ErrInvalidField, kind: domain.ErrInvalid, field: "login",
		},
		{
			name: "a login of two letters is refused",
			when: func(*pzk) domain.Command { return register("mt") },
			err:  domain.ErrInvalidField, kind: domain.ErrInvalid, field: "login",
		},
		{
			name: "a login beginning with a dot is refused",
			when: func(*pzk) domain.Command { return register(".marta") },
			err:  domain.ErrInvalidField, kind: domain.ErrInvalid, field: "login",
		},
		{
			name:  "a set-up link is issued to a user with a login",
			given: withLogin,
			when:  func(*pzk) domain.Command { return domain.IssueSetupLink{UserID: user, ExpiresAt: expires} },
			want:  func(*pzk) []domain.Event { return []domain.Event{domain.SetupLinkIssued{ExpiresAt: expires}} },
		},
		{
			name:  "a set-up link for a user registered without a login is refused",
			given: func(f *pzk) { f.must(register("")) },
			when:  func(*pzk) domain.Command { return domain.IssueSetupLink{UserID: user, ExpiresAt: expires} },
			err:   domain.ErrNoLogin, kind: domain.ErrConflict,
		},
		{
			name: "a set-up link without an expiry is refused",
			when: func(*pzk) domain.Command { return domain.IssueSetupLink{UserID: user} },
			err:  domain.ErrRequired, kind: domain.ErrInvalid, field: "expires_at",
		},
		{
			name: "a password is set for no user",
			when: func(*pzk) domain.Command { return domain.SetPassword{UserID: user} },
			err:  domain.ErrUserNotFound, kind: domain.ErrNotFound,
		},
		{
			name:  "a password is changed before one was set",
			given: withLogin,
			when:  func(*pzk) domain.Command { return domain.ChangePassword{UserID: user} },
			err:   domain.ErrNoPassword, kind: domain.ErrConflict,
		},
		{
			name:  "a password is changed",
			given: withPassword,
			when:  func(*pzk) domain.Command { return domain.ChangePassword{UserID: user} },
			want:  func(*pzk) []domain.Event { return []domain.Event{domain.PasswordChanged{}} },
		},
		{
			name:  "a disabled user changes no password",
			given: disabled,
			when:  func(*pzk) domain.Command { return domain.ChangePassword{UserID: user} },
			err:   domain.ErrUserDisabled, kind: domain.ErrConflict,
		},
		{
			name:  "a disabled user is disabled again",
			given: disabled,
			when:  func(*pzk) domain.Command { return domain.DisableUser{UserID: user} },
			err:   domain.ErrUserDisabled, kind: domain.ErrConflict,
		},
		{
			name:  "a disabled user is enabled",
			given: disabled,
			when:  func(*pzk) domain.Command { return domain.EnableUser{UserID: user} },
			want:  func(*pzk) []domain.Event { return []domain.Event{domain.UserEnabled{}} },
		},
		{
			name:  "an enabled user is enabled",
			given: withLogin,
			when:  func(*pzk) domain.Command { return domain.EnableUser{UserID: user} },
			err:   domain.ErrUserEnabled, kind: domain.ErrConflict,
		},
	})
}

func TestAUserRegisteredBeforeLoginsStillLoads(t *testing.T) {
	// The fixture of UserRegistered v1 has no login, as every event an
	// older engine stored.
	data, err := os.ReadFile(filepath.Join("testdata", "events", "UserRegistered.v1.json"))
	require.NoError(t, err)
	require.NotContains(t, string(data), "login")
	ev, err := domain.DecodeEvent("UserRegistered", 1, data)
	require.NoError(t, err)
	var u domain.User
	require.NoError(t, u.Evolve(domain.Envelope{AggregateID: domain.IDFromKey("user/old"), AggregateVersion: 1, Payload: ev}))
	assert.Empty(t, u.Login)
	assert.Equal(t, "Anna Nowak", u.Name)
	_, err = u.Decide(domain.IssueSetupLink{UserID: u.ID, ExpiresAt: time.Now().Add(time.Hour)}, domain.Meta{}, nil)
	assert.ErrorIs(t, err, domain.ErrNoLogin, "no login: tokens only")
}

func TestAssignLogin(t *testing.T) {
	user := domain.IDFromKey("user/old")
	registered := func(f *pzk) { f.must(domain.RegisterUser{UserID: user, Name: "Jan Dawny", Role: domain.RoleAuditor}) }
	runCases(t, []cmdCase{
		{
			name:  "a user registered without a login is given one",
			given: registered,
			when:  func(*pzk) domain.Command { return domain.AssignLogin{UserID: user, Login: "jan.dawny"} },
			want:  func(*pzk) []domain.Event { return []domain.Event{domain.LoginAssigned{Login: "jan.dawny"}} },
		},
		{
			name: "a user with a login is given no second one",
			given: func(f *pzk) {
				registered(f)
				f.must(domain.AssignLogin{UserID: user, Login: "jan.dawny"})
			},
			when: func(*pzk) domain.Command { return domain.AssignLogin{UserID: user, Login: "jan.inny"} },
			err:  domain.ErrLoginAssigned, kind: domain.ErrConflict, field: "login",
		},
		{
			name: "a login is given to no user",
			when: func(*pzk) domain.Command { return domain.AssignLogin{UserID: user, Login: "jan.dawny"} },
			err:  domain.ErrUserNotFound, kind: domain.ErrNotFound,
		},
		{
			name:  "an empty login is refused",
			given: registered,
			when:  func(*pzk) domain.Command { return domain.AssignLogin{UserID: user} },
			err:   domain.ErrRequired, kind: domain.ErrInvalid, field: "login",
		},
	})
}

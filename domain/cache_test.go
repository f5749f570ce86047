package domain_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
)

// assertCachedAsLoaded checks that the state a cache holds for the
// aggregate of loaded, if it holds one at the same version, is the state
// loaded from the store: what a cache folds in after its own appends must
// be what the store recorded.
func assertCachedAsLoaded(tb testing.TB, c *domain.Cache, loaded domain.State) {
	tb.Helper()
	if c == nil {
		return
	}
	var aggregate, id string
	var version int64
	switch s := loaded.(type) {
	case *domain.Family:
		aggregate, id, version = domain.AggregateFamily, s.ID, s.Version
	case *domain.Partnership:
		aggregate, id, version = domain.AggregatePartnership, s.ID, s.Version
	case *domain.Institution:
		aggregate, id, version = domain.AggregateInstitution, s.ID, s.Version
	case *domain.User:
		aggregate, id, version = domain.AggregateUser, s.ID, s.Version
	}
	cached, ok := c.CachedState(aggregate, id)
	if !ok {
		return
	}
	v, _ := c.Cached(aggregate, id)
	if v != version {
		return
	}
	assert.Equal(tb, loaded, cached, "the cached %s %s differs from the loaded one", aggregate, id)
}

// countingStore counts the appends a memStore refused with a version
// conflict.
type countingStore struct {
	*memStore
	mu        sync.Mutex
	conflicts int
}

func (s *countingStore) Append(ctx context.Context, aggregate, id string, expected int64, meta domain.Meta, events ...domain.Event) (domain.Result, error) {
	res, err := s.memStore.Append(ctx, aggregate, id, expected, meta, events...)
	if errors.Is(err, domain.ErrVersionConflict) {
		s.mu.Lock()
		s.conflicts++
		s.mu.Unlock()
	}
	return res, err
}

func (s *countingStore) conflictCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conflicts
}

// engines are two engines on one store, as two `serve` instances on one
// stream: A is the family fixture's handler, B another handler with a cache
// of its own. A's store counts the conflicts its appends meet.
func engines(t *testing.T) (f *famFix, a, b *domain.Handler, counted *countingStore) {
	t.Helper()
	f = newFamFix(t)
	counted = &countingStore{memStore: f.store}
	a = &domain.Handler{Store: counted, Now: f.store.now, Cache: domain.NewCache(0)}
	b = &domain.Handler{Store: f.store, Now: f.store.now, Cache: domain.NewCache(0)}
	f.h = a
	return f, a, b, counted
}

func run(t *testing.T, h *domain.Handler, f *famFix, cmd domain.Command) (domain.Result, error) {
	t.Helper()
	return h.Execute(context.Background(), cmd, f.meta("uzasadnienie"), domain.AnyVersion)
}

func TestCacheHitsAndMisses(t *testing.T) {
	f, a, _, _ := engines(t)
	f.consents()

	t.Run("an unknown aggregate and its facts are loaded whole", func(t *testing.T) {
		cold := &domain.Handler{Store: f.store, Now: f.store.now, Cache: domain.NewCache(0)}
		loads, _ := f.store.stats()
		_, err := run(t, cold, f, f.inputCmd(f.pedagogue))
		require.NoError(t, err)
		after, _ := f.store.stats()
		assert.Equal(t, loads+3, after, "the family, its partnership, the school")
		st := cold.Cache.Stats()
		assert.Equal(t, domain.CacheStats{Entries: 3, Misses: 3}, st)
	})

	t.Run("a known aggregate is not loaded again, its facts are checked for news", func(t *testing.T) {
		_, err := run(t, a, f, f.inputCmd(f.pedagogue)) // warm
		require.NoError(t, err)
		before := a.Cache.Stats()
		loads, appends := f.store.stats()
		tails := f.store.tails
		const n = 5
		for range n {
			_, err := run(t, a, f, f.inputCmd(f.pedagogue))
			require.NoError(t, err)
		}
		after := a.Cache.Stats()
		loadsAfter, appendsAfter := f.store.stats()
		assert.Equal(t, loads, loadsAfter, "no history loaded")
		assert.Equal(t, appends+n, appendsAfter)
		assert.Equal(t, tails+2*n, f.store.tails, "one tail read per fact and command")
		assert.Equal(t, before.Hits+3*n, after.Hits, "the family trusted, two facts fresh, each time")
		assert.Equal(t, before.Misses, after.Misses)
		assert.Equal(t, before.Refreshes, after.Refreshes)
		version, ok := a.Cache.Cached(domain.AggregateFamily, f.family)
		require.True(t, ok)
		assert.Equal(t, f.state().Version, version, "the cache follows its own appends")
	})

	for _, later := range []int{0, 1500} {
		// 1,500 commands are more than the cache's filter of command ids
		// has bits for: a false positive walks the list, a miss must never
		// happen.
		t.Run(fmt.Sprintf("a retried command is recognised from the cache, reading nothing, %d commands later", later), func(t *testing.T) {
			m := f.meta("powtórzone")
			first, err := a.Execute(context.Background(), f.inputCmd(f.coordinator), m, domain.AnyVersion)
			require.NoError(t, err)
			metas := []domain.Meta{m}
			for i := range later {
				mi := f.meta(fmt.Sprintf("kolejne %d", i))
				_, err := a.Execute(context.Background(), f.inputCmd(f.coordinator), mi, domain.AnyVersion)
				require.NoError(t, err)
				metas = append(metas, mi)
			}
			loads, appends := f.store.stats()
			tails := f.store.tails
			for i, mi := range metas {
				again, err := a.Execute(context.Background(), f.inputCmd(f.coordinator), mi, domain.AnyVersion)
				require.NoError(t, err)
				require.True(t, again.Duplicate, "command %s", mi.CommandID)
				if i == 0 {
					again.Duplicate = false
					assert.Equal(t, first, again)
				}
			}
			loadsAfter, appendsAfter := f.store.stats()
			assert.Equal(t, [3]int{loads, appends, tails}, [3]int{loadsAfter, appendsAfter, f.store.tails}, "nothing read, nothing appended")
		})
	}

	t.Run("an aggregate that does not exist is not cached", func(t *testing.T) {
		before := a.Cache.Stats().Entries
		_, err := run(t, a, f, domain.RecordDiagnosisInput{FamilyID: domain.IDFromKey("no such family"), Area: domain.AreaEmployment,
			Severity: domain.SeverityHigh, Needs: "x", WorkerID: f.pedagogue, InstitutionID: f.school, Date: famDay(time.February, 10)})
		require.ErrorIs(t, err, domain.ErrFamilyNotFound)
		assert.Equal(t, before, a.Cache.Stats().Entries)
	})
}

// Two engines on one store: whatever one engine's cache holds, a command
// via engine B and then one via engine A is decided on fresh state, either
// because A's append conflicts and A decides again, or because A's
// refusal or fact is checked against the store first.
func TestCacheAcrossEngines(t *testing.T) {
	tests := []struct {
		name          string
		b             func(f *famFix) domain.Command // the command via engine B
		a             func(f *famFix) domain.Command // then the command via engine A
		wantErr       error
		wantConflicts int
	}{
		{
			name:          "a change of the family via B makes A's append conflict, and A decides again",
			b:             func(f *famFix) domain.Command { return f.inputCmd(f.coordinator) },
			a:             func(f *famFix) domain.Command { return f.inputCmd(f.pedagogue) },
			wantConflicts: 1,
		},
		{
			name: "a consent given via B is seen when A's stale state would refuse",
			b:    func(f *famFix) domain.Command { return f.consentCmd(f.pup) },
			a:    func(f *famFix) domain.Command { return f.inputCmd(f.pupWorker) },
		},
		{
			name: "a service withdrawn via B is refused by A at once",
			b: func(f *famFix) domain.Command {
				return domain.WithdrawService{PartnershipID: f.pzk, ServiceID: f.tutoring}
			},
			a:       func(f *famFix) domain.Command { return f.referralCmd(f.tutoring) },
			wantErr: domain.ErrServiceNotFound,
		},
		{
			name: "an institution leaving via B is no member for A",
			b: func(f *famFix) domain.Command {
				return domain.LeavePartnership{PartnershipID: f.pzk, InstitutionID: f.school, Date: famDay(time.February, 9)}
			},
			a:       func(f *famFix) domain.Command { return f.inputCmd(f.pedagogue) },
			wantErr: domain.ErrNotMember,
		},
		{
			name: "a worker registered via B is known to A",
			b: func(f *famFix) domain.Command {
				return domain.RegisterWorker{InstitutionID: f.school, WorkerID: domain.IDFromKey("new pedagogue"), Name: "Ola Nowa", Position: "pedagog"}
			},
			a: func(f *famFix) domain.Command {
				c := f.inputCmd(f.pedagogue)
				c.WorkerID = domain.IDFromKey("new pedagogue")
				return c
			},
		},
		{
			name: "a family erased via B is erased for A, which drops it",
			b: func(f *famFix) domain.Command {
				return domain.EraseFamily{FamilyID: f.family, LegalBasis: "art. 17 RODO", Date: famDay(time.March, 1)}
			},
			a:             func(f *famFix) domain.Command { return f.inputCmd(f.pedagogue) },
			wantErr:       domain.ErrFamilyErased,
			wantConflicts: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, a, b, counted := engines(t)
			for _, inst := range []string{f.pcpr, f.school} {
				_, err := run(t, a, f, f.consentCmd(inst))
				require.NoError(t, err)
			}
			// Both engines know the family and its facts, A up to date.
			for _, h := range []*domain.Handler{b, a} {
				_, err := run(t, h, f, f.inputCmd(f.pedagogue))
				require.NoError(t, err)
				_, err = run(t, h, f, f.inputCmd(f.pcprWorker))
				require.NoError(t, err)
			}
			conflicts := counted.conflictCount()

			_, err := run(t, b, f, tt.b(f))
			require.NoError(t, err, "via B")
			_, err = run(t, a, f, tt.a(f))
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.wantConflicts, counted.conflictCount()-conflicts, "conflicts of A's appends")
			if tt.wantErr == domain.ErrFamilyErased {
				_, cached := a.Cache.Cached(domain.AggregateFamily, f.family)
				assert.False(t, cached, "A keeps no state of the erased family")
				return
			}
			loaded := f.state()
			if tt.wantErr == nil {
				version, _ := a.Cache.Cached(domain.AggregateFamily, f.family)
				assert.Equal(t, loaded.Version, version, "A's cache holds the family after its command")
			}
		})
	}

	t.Run("an If-Match newer than A's cached version is checked, not refused", func(t *testing.T) {
		f, a, b, _ := engines(t)
		_, err := run(t, a, f, f.inputCmd(f.coordinator))
		require.NoError(t, err)
		res, err := run(t, b, f, f.consentCmd(f.school))
		require.NoError(t, err)
		_, err = a.Execute(context.Background(), f.inputCmd(f.pedagogue), f.meta(""), res.Version)
		require.NoError(t, err)
		assert.Equal(t, uint64(1), a.Cache.Stats().Refreshes)
	})

	t.Run("an If-Match A's stale cache matches but the store does not is a conflict", func(t *testing.T) {
		f, a, b, counted := engines(t)
		res, err := run(t, a, f, f.inputCmd(f.coordinator))
		require.NoError(t, err)
		_, err = run(t, b, f, f.inputCmd(f.coordinator))
		require.NoError(t, err)
		_, err = a.Execute(context.Background(), f.inputCmd(f.coordinator), f.meta(""), res.Version)
		require.ErrorIs(t, err, domain.ErrVersionConflict)
		assert.Equal(t, 1, counted.conflictCount(), "the store is the arbiter")
	})
}

func TestCacheErasure(t *testing.T) {
	erase := func(f *famFix) domain.EraseFamily {
		return domain.EraseFamily{FamilyID: f.family, LegalBasis: "art. 17 RODO", Date: famDay(time.March, 1)}
	}
	// plaintext reports whether any state the cache holds still has the
	// name of a household member.
	plaintext := func(c *domain.Cache, f *famFix) bool {
		st, ok := c.CachedState(domain.AggregateFamily, f.family)
		return ok && strings.Contains(fmt.Sprintf("%+v", st), "Kowalski")
	}

	t.Run("an erasure through the handler drops the family", func(t *testing.T) {
		f, a, _, _ := engines(t)
		_, err := run(t, a, f, f.consentCmd(f.school))
		require.NoError(t, err)
		require.True(t, plaintext(a.Cache, f), "the cached family holds its household's names")
		_, err = run(t, a, f, erase(f))
		require.NoError(t, err)
		assert.False(t, plaintext(a.Cache, f))
		_, cached := a.Cache.Cached(domain.AggregateFamily, f.family)
		assert.False(t, cached)
		assert.Equal(t, uint64(1), a.Cache.Stats().Erasures)

		// Later commands are refused and cache nothing again.
		_, err = run(t, a, f, f.inputCmd(f.coordinator))
		require.ErrorIs(t, err, domain.ErrFamilyErased)
		_, cached = a.Cache.Cached(domain.AggregateFamily, f.family)
		assert.False(t, cached)
	})

	t.Run("an erasure seen in the stream drops the family at once", func(t *testing.T) {
		f, a, b, _ := engines(t)
		_, err := run(t, a, f, f.consentCmd(f.school))
		require.NoError(t, err)
		_, err = run(t, b, f, erase(f))
		require.NoError(t, err)
		require.True(t, plaintext(a.Cache, f), "A has not been told yet")
		envs := f.store.envelopes(t, domain.AggregateFamily, f.family)
		a.Cache.Observe(envs[len(envs)-1:])
		assert.False(t, plaintext(a.Cache, f))
		assert.Equal(t, uint64(1), a.Cache.Stats().Erasures)
	})

	t.Run("a family loaded after its erasure is not cached", func(t *testing.T) {
		f, _, b, _ := engines(t)
		_, err := run(t, b, f, erase(f))
		require.NoError(t, err)
		cold := &domain.Handler{Store: f.store, Now: f.store.now, Cache: domain.NewCache(0)}
		_, err = run(t, cold, f, f.inputCmd(f.coordinator))
		require.ErrorIs(t, err, domain.ErrFamilyErased)
		_, cached := cold.Cache.Cached(domain.AggregateFamily, f.family)
		assert.False(t, cached)
	})

	t.Run("a command that raced with the erasure does not put the family back", func(t *testing.T) {
		f, a, _, _ := engines(t)
		_, err := run(t, a, f, f.consentCmd(f.school))
		require.NoError(t, err)
		envs := f.store.envelopes(t, domain.AggregateFamily, f.family)
		a.Cache.Observe([]domain.Envelope{{AggregateType: domain.AggregateFamily, AggregateID: f.family, Payload: domain.FamilyErased{}}})
		// A command decided before the erasure was observed finishes now.
		_, err = a.Execute(context.Background(), f.inputCmd(f.coordinator), f.meta(""), envs[len(envs)-1].AggregateVersion)
		require.NoError(t, err, "the memStore knows no erasure: only the cache was told")
		_, cached := a.Cache.Cached(domain.AggregateFamily, f.family)
		assert.False(t, cached)
	})
}

func TestCacheBound(t *testing.T) {
	f := newPZK(t)
	h := &domain.Handler{Store: f.store, Now: f.store.now, Cache: domain.NewCache(2)}
	ids := []string{f.mops, f.pcpr, f.pup}
	for _, id := range ids {
		_, err := h.Execute(context.Background(), domain.SetRetention{InstitutionID: id, Days: 30}, f.meta(""), domain.AnyVersion)
		require.NoError(t, err)
	}
	st := h.Cache.Stats()
	assert.Equal(t, 2, st.Entries)
	assert.Equal(t, uint64(1), st.Evictions)
	_, mops := h.Cache.Cached(domain.AggregateInstitution, f.mops)
	assert.False(t, mops, "the least recently used goes first")
	_, pup := h.Cache.Cached(domain.AggregateInstitution, f.pup)
	assert.True(t, pup)
}

func TestCacheSharesNothingWithCallers(t *testing.T) {
	t.Run("a cached state does not change when a newer one is cached", func(t *testing.T) {
		f, a, _, _ := engines(t)
		f.consents()
		_, err := run(t, a, f, f.inputCmd(f.coordinator))
		require.NoError(t, err)
		old, ok := a.Cache.CachedState(domain.AggregateFamily, f.family)
		require.True(t, ok)
		before := fmt.Sprintf("%+v", *old.(*domain.Family))
		for _, cmd := range []domain.Command{f.inputCmd(f.pedagogue), f.completeCmd(), f.formTeamCmd(f.pedagogue), f.draftCmd(), f.signCmd()} {
			_, err := run(t, a, f, cmd)
			require.NoError(t, err, "%T", cmd)
		}
		assert.Equal(t, before, fmt.Sprintf("%+v", *old.(*domain.Family)), "copy on write")
		f.state() // and the newest cached state is the loaded one
	})

	t.Run("changing a command after it ran does not change the cached state", func(t *testing.T) {
		f, a, _, _ := engines(t)
		cmd := f.openCmd()
		cmd.FamilyID = domain.IDFromKey("another family")
		cmd.Household = slices.Clone(f.household)
		_, err := run(t, a, f, cmd)
		require.NoError(t, err)
		cmd.Household[0].Name = "changed by the caller"
		st, ok := a.Cache.CachedState(domain.AggregateFamily, cmd.FamilyID)
		require.True(t, ok)
		assert.Equal(t, f.household[0].Name, st.(*domain.Family).Household[0].Name)
	})
}

// Concurrent commands on one aggregate and on many, through two engines
// with caches of their own: run with -race.
func TestCacheConcurrentCommands(t *testing.T) {
	f, a, b, _ := engines(t)
	a.Retries, b.Retries = 1000, 1000
	f.consents()
	ctx := context.Background()
	const n = 12
	institutions := make([]string, n)
	for i := range institutions {
		institutions[i] = domain.IDFromKey(fmt.Sprint("cache ngo ", i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4*n)
	for i := range n {
		h := []*domain.Handler{a, b}[i%2]
		wg.Go(func() { // one family, both engines
			_, err := h.Execute(ctx, f.inputCmd(f.pedagogue), f.meta(""), domain.AnyVersion)
			errs <- err
		})
		wg.Go(func() { // one partnership, read as a fact by the above
			_, err := h.Execute(ctx, domain.RecordMeeting{PartnershipID: f.pzk, MeetingID: domain.IDFromKey(fmt.Sprint("m", i)),
				Kind: domain.MeetingRegular, Date: famDay(time.February, 1), Place: "MOPS", Attendees: []string{f.mops, f.school}}, f.meta(""), domain.AnyVersion)
			errs <- err
		})
		wg.Go(func() { // many aggregates
			_, err := h.Execute(ctx, domain.RegisterInstitution{InstitutionID: institutions[i], Name: fmt.Sprint("Fundacja ", i),
				Sector: domain.SectorNGO, Municipality: "Kraków", County: "Kraków"}, f.meta(""), domain.AnyVersion)
			errs <- err
			_, err = h.Execute(ctx, domain.SetRetention{InstitutionID: institutions[i], Days: 10 + i}, f.meta(""), domain.AnyVersion)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	fam := f.state()
	assert.Equal(t, n, fam.Inputs)
	p, err := domain.Load(ctx, f.store, domain.AggregatePartnership, f.pzk)
	require.NoError(t, err)
	assert.Equal(t, n, p.(*domain.Partnership).Meetings)
	for _, h := range []*domain.Handler{a, b} {
		assertCachedAsLoaded(t, h.Cache, p)
		for i, id := range institutions {
			inst, err := domain.Load(ctx, f.store, domain.AggregateInstitution, id)
			require.NoError(t, err)
			assert.Equal(t, 10+i, inst.(*domain.Institution).Retention)
			assertCachedAsLoaded(t, h.Cache, inst)
		}
		assertCachedAsLoaded(t, h.Cache, fam)
	}
}

// slowTail answers LoadAfter as the store stood when it was asked, but
// the first time only once released: a read in progress while others
// write.
type slowTail struct {
	*memStore
	started, release chan struct{}
	mu               sync.Mutex
	calls            int
}

func (s *slowTail) LoadAfter(ctx context.Context, aggregate, id string, sequence uint64) ([]domain.Envelope, error) {
	envs, err := s.memStore.LoadAfter(ctx, aggregate, id, sequence)
	s.mu.Lock()
	s.calls++
	first := s.calls == 1
	s.mu.Unlock()
	if first {
		close(s.started)
		<-s.release
	}
	return envs, err
}

func (s *slowTail) callCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func TestCacheSharesOnlyReadsIssuedAfterTheAsking(t *testing.T) {
	f := newPZK(t)
	f.initiate("")
	ctx := context.Background()
	store := &slowTail{memStore: f.store, started: make(chan struct{}), release: make(chan struct{})}
	c := domain.NewCache(0)
	_, err := c.Fresh(ctx, store, domain.AggregatePartnership, f.id) // cached
	require.NoError(t, err)

	// A read starts, and is slow to answer.
	early := make(chan domain.State, 1)
	go func() {
		st, err := c.Fresh(ctx, store, domain.AggregatePartnership, f.id)
		assert.NoError(t, err)
		early <- st
	}()
	<-store.started

	// Meanwhile a service is offered, and then many commands ask.
	f.offer("asystent rodziny", f.mops)
	const n = 8
	late := make(chan domain.State, n)
	for range n {
		go func() {
			st, err := c.Fresh(ctx, store, domain.AggregatePartnership, f.id)
			assert.NoError(t, err)
			late <- st
		}()
	}
	require.Eventually(t, func() bool { return c.Stats().Shared == n-1 }, 5*time.Second, time.Millisecond,
		"one asker waits to issue the next read, the others join it")
	close(store.release)

	assert.Empty(t, (<-early).(*domain.Partnership).Services, "the read in progress did not see the offer")
	for range n {
		assert.Len(t, (<-late).(*domain.Partnership).Services, 1, "every later asker sees it")
	}
	assert.Equal(t, 2, store.callCount(), "two reads for nine askers")
}

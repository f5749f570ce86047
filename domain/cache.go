package domain

import (
	"container/list"
	"context"
	"fmt"
	"hash/maphash"
	"reflect"
	"sync"
	"sync/atomic"
)

// DefaultCacheEntries bounds a Cache made with NewCache(0): enough for the
// families, partnerships and institutions a municipality works on at once,
// small enough that the opened personal data it holds stays modest.
const DefaultCacheEntries = 10_000

// Tailer is a Store that can read what an aggregate recorded after a given
// stream sequence. A Cache uses it to check a cached state for news in one
// cheap read and to apply only the new events; eventstore.Store implements
// it. With a Store that does not, a Cache reloads the whole aggregate
// instead.
type Tailer interface {
	// LoadAfter returns the events of one aggregate stored at a stream
	// sequence above sequence, in version order (none: nothing new).
	LoadAfter(ctx context.Context, aggregate, id string, sequence uint64) ([]Envelope, error)
}

// Cache keeps the evolved states of aggregates between commands, so that a
// command on a known aggregate does not load and decode its history again
// (docs/decisions/0009-aggregate-cache.md). It is safe for concurrent use
// and bounded by a number of entries, the least recently used going first.
//
// A cached state is never changed: newer versions are evolved on a copy
// (copy on write), so callers share it read-only, as Decide's contract
// already requires. A Handler trusts its cached target aggregate without a
// read (the append's optimistic concurrency check catches a stale one, and
// the command is decided again on fresh state) but checks a cached fact for
// newer events before every command. A family's entry is dropped as soon as
// the family is erased, so that its opened personal data does not outlive
// the erasure in memory.
type Cache struct {
	max int

	mu      sync.Mutex
	entries map[cacheKey]*list.Element // of *snapshot
	lru     list.List                  // front: most recently used
	// erased remembers the families erased since the cache was made: an
	// erasure is final, and a command that raced with it must not put the
	// family's older state back.
	erased map[cacheKey]struct{}
	// flights are the reads in progress, by aggregate.
	flights map[cacheKey]*flights

	hits, shared, misses, refreshes, evictions, erasures atomic.Uint64
}

// CacheStats counts what a Cache did.
type CacheStats struct {
	Entries int // states cached now
	// Hits counts cached states used as they were: a target trusted
	// without a read, or a fact found to have nothing new.
	Hits uint64
	// Shared counts states a command took from a read another command
	// issued after it asked (concurrent commands needing one fact).
	Shared uint64
	// Refreshes counts cached states found behind the store and brought up
	// to date with only the newer events.
	Refreshes uint64
	// Misses counts aggregates not cached, loaded whole.
	Misses uint64
	// Evictions counts states dropped to keep the bound.
	Evictions uint64
	// Erasures counts the families erased since the cache was made (their
	// states dropped, never cached again).
	Erasures uint64
}

type cacheKey struct{ aggregate, id string }

// snapshot is one aggregate's state at one version. It never changes once
// built; a newer version is a new snapshot.
type snapshot struct {
	key      cacheKey
	state    State
	version  int64
	sequence uint64        // stream sequence of the last event folded in (0: none)
	commands *commandNode  // the aggregate's commands, newest first
	seen     commandFilter // which command ids may be among commands
	erased   bool          // a family whose personal data was erased: never cached
}

// commandNode lists the commands recorded on an aggregate, newest first,
// so that a retried command is recognised without its history. Nodes are
// immutable and shared by the snapshots of one aggregate.
type commandNode struct {
	id       string
	hash     uint64 // of id: a long list is scanned comparing hashes, not ids
	version  int64  // the aggregate's version after the command
	sequence uint64 // the command's stream sequence
	next     *commandNode
}

// commandFilter is a Bloom filter of an aggregate's command ids (two bits
// of 4,096 each, 512 bytes): a new command, the usual case, is known not
// to be a retry without walking the list of every command of a
// long-lived aggregate (one in a hundred walks it at 400 commands, one in
// ten at 1,000). A value, copied with its snapshot.
type commandFilter [64]uint64

func (f *commandFilter) add(h uint64) {
	a, b := h&4095, (h>>12)&4095
	f[a/64] |= 1 << (a % 64)
	f[b/64] |= 1 << (b % 64)
}

func (f *commandFilter) mayHave(h uint64) bool {
	a, b := h&4095, (h>>12)&4095
	return f[a/64]&(1<<(a%64)) != 0 && f[b/64]&(1<<(b%64)) != 0
}

// find returns the snapshot's node of a command, if the aggregate has it.
func (s *snapshot) find(commandID string) (*commandNode, bool) {
	if !s.seen.mayHave(maphash.String(commandSeed, commandID)) {
		return nil, false
	}
	return s.commands.find(commandID)
}

// commandSeed seeds the hashes of command ids (this process's only).
var commandSeed = maphash.MakeSeed()

func newCommandNode(id string, next *commandNode) *commandNode {
	return &commandNode{id: id, hash: maphash.String(commandSeed, id), next: next}
}

func (n *commandNode) find(commandID string) (*commandNode, bool) {
	h := maphash.String(commandSeed, commandID)
	for ; n != nil; n = n.next {
		if n.hash == h && n.id == commandID {
			return n, true
		}
	}
	return nil, false
}

// NewCache returns a cache of at most maxEntries aggregate states
// (DefaultCacheEntries when maxEntries ≤ 0).
func NewCache(maxEntries int) *Cache {
	if maxEntries <= 0 {
		maxEntries = DefaultCacheEntries
	}
	return &Cache{max: maxEntries, entries: map[cacheKey]*list.Element{}, erased: map[cacheKey]struct{}{}, flights: map[cacheKey]*flights{}}
}

// Stats returns the cache's counters.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	n := len(c.entries)
	c.mu.Unlock()
	return CacheStats{Entries: n, Hits: c.hits.Load(), Shared: c.shared.Load(), Refreshes: c.refreshes.Load(), Misses: c.misses.Load(),
		Evictions: c.evictions.Load(), Erasures: c.erasures.Load()}
}

// Observe takes note of events recorded by any engine: the entry of a
// family that was erased is dropped, and the family is never cached again.
// Other events change nothing: cached states are checked against the store
// when used.
func (c *Cache) Observe(envs []Envelope) {
	for _, env := range envs {
		if _, ok := env.Payload.(FamilyErased); ok {
			c.erase(cacheKey{env.AggregateType, env.AggregateID})
		}
	}
}

// erase drops an erased family's entry for good.
func (c *Cache) erase(k cacheKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.erased[k]; ok {
		return
	}
	if len(c.erased) >= maxErased {
		// A bound, not a policy: a state put back after this is found
		// erased by the next command that uses it, and dropped then.
		clear(c.erased)
	}
	c.erased[k] = struct{}{}
	if el, ok := c.entries[k]; ok {
		c.lru.Remove(el)
		delete(c.entries, k)
	}
	c.erasures.Add(1)
}

// maxErased bounds the erased families a Cache remembers.
const maxErased = 100_000

// Cached reports whether a state of the aggregate is cached, and at which
// version. For tests and diagnostics.
func (c *Cache) Cached(aggregate, id string) (version int64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[cacheKey{aggregate, id}]
	if !ok {
		return 0, false
	}
	return el.Value.(*snapshot).version, true
}

func (c *Cache) get(k cacheKey) (*snapshot, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[k]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(el)
	return el.Value.(*snapshot), true
}

// put caches s unless a newer version of the aggregate is cached already.
// An erased family's state is dropped instead, and so is an aggregate that
// does not exist yet (nothing to spare, and ids from bad requests would
// fill the cache).
func (c *Cache) put(s *snapshot) {
	if s.erased {
		c.erase(s.key)
		return
	}
	if s.version == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.erased[s.key]; ok {
		return
	}
	if el, ok := c.entries[s.key]; ok {
		if el.Value.(*snapshot).version < s.version {
			el.Value = s
		}
		c.lru.MoveToFront(el)
		return
	}
	c.entries[s.key] = c.lru.PushFront(s)
	for len(c.entries) > c.max {
		last := c.lru.Back()
		c.lru.Remove(last)
		delete(c.entries, last.Value.(*snapshot).key)
		c.evictions.Add(1)
	}
}

func (c *Cache) drop(k cacheKey) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[k]
	if ok {
		c.lru.Remove(el)
		delete(c.entries, k)
	}
	return ok
}

// load returns the current state of an aggregate: the cached one if the
// store holds nothing newer (one read of the aggregate's tail), else the
// cached one brought up to date, else the whole history loaded and cached.
// With trust, a cached state is returned without a read: for the target of
// a command, whose append checks the version anyway. checked reports
// whether the state was read or checked against the store.
func (c *Cache) load(ctx context.Context, store Store, aggregate, id string, trust bool) (s *snapshot, checked bool, err error) {
	k := cacheKey{aggregate, id}
	if trust {
		if s, ok := c.get(k); ok {
			c.hits.Add(1)
			return s, false, nil
		}
	}
	s, err = c.fresh(ctx, store, k)
	return s, true, err
}

// flight is one read of an aggregate for the callers that share it.
type flight struct {
	done chan struct{}
	snap *snapshot
	err  error
}

// flights are an aggregate's read in progress and the one to follow it.
type flights struct{ running, next *flight }

// fresh returns the aggregate's state as the store holds it now: cached
// and checked for newer events, or loaded whole. Concurrent callers share
// reads (a hot partnership is a fact of many commands at once), but a
// caller only ever shares a read issued after it asked, never one already
// in progress, which may have missed a write the caller has seen: it joins
// the next read, which starts when the one in progress ends.
func (c *Cache) fresh(ctx context.Context, store Store, k cacheKey) (*snapshot, error) {
	c.mu.Lock()
	fs := c.flights[k]
	if fs == nil {
		fs = &flights{}
		c.flights[k] = fs
	}
	if f := fs.next; f != nil {
		c.mu.Unlock()
		c.shared.Add(1)
		select {
		case <-f.done:
			return f.snap, f.err
		case <-ctx.Done():
			return nil, fmt.Errorf("load %s %s: %w", k.aggregate, k.id, ctx.Err())
		}
	}
	f := &flight{done: make(chan struct{})}
	if prev := fs.running; prev != nil {
		fs.next = f
		c.mu.Unlock()
		<-prev.done // bounded: a read ends with its own timeout
		c.mu.Lock()
		fs.next = nil
	}
	fs.running = f
	c.mu.Unlock()

	// The read serves callers other than this one: it must not end with
	// this caller's context, only with the store's own timeouts.
	rctx := context.WithoutCancel(ctx)
	if s, ok := c.get(k); ok {
		f.snap, f.err = c.refresh(rctx, store, s)
	} else {
		c.misses.Add(1)
		f.snap, f.err = c.loadWhole(rctx, store, k)
	}

	c.mu.Lock()
	fs.running = nil
	if fs.next == nil {
		delete(c.flights, k)
	}
	c.mu.Unlock()
	close(f.done)
	return f.snap, f.err
}

// refresh brings a cached snapshot up to date with the events stored after
// it.
func (c *Cache) refresh(ctx context.Context, store Store, s *snapshot) (*snapshot, error) {
	var (
		envs []Envelope
		err  error
	)
	if t, ok := store.(Tailer); ok {
		envs, err = t.LoadAfter(ctx, s.key.aggregate, s.key.id, s.sequence)
	} else {
		envs, err = store.Load(ctx, s.key.aggregate, s.key.id)
		envs = after(envs, s.sequence)
	}
	if err != nil {
		return nil, fmt.Errorf("load %s %s after sequence %d: %w", s.key.aggregate, s.key.id, s.sequence, err)
	}
	if len(envs) == 0 {
		c.hits.Add(1)
		return s, nil
	}
	if envs[0].AggregateVersion != s.version+1 {
		// Not the continuation of the cached version: never expected, but
		// the whole history is the safe answer.
		c.misses.Add(1)
		return c.loadWhole(ctx, store, s.key)
	}
	next, err := s.evolve(envs)
	if err != nil {
		return nil, err
	}
	c.refreshes.Add(1)
	c.put(next)
	return next, nil
}

func after(envs []Envelope, sequence uint64) []Envelope {
	for i, env := range envs {
		if env.Sequence > sequence {
			return envs[i:]
		}
	}
	return nil
}

func (c *Cache) loadWhole(ctx context.Context, store Store, k cacheKey) (*snapshot, error) {
	state, err := NewState(k.aggregate)
	if err != nil {
		return nil, err
	}
	envs, err := store.Load(ctx, k.aggregate, k.id)
	if err != nil {
		return nil, fmt.Errorf("load %s %s: %w", k.aggregate, k.id, err)
	}
	s := &snapshot{key: k, state: state}
	if err := s.fold(envs); err != nil {
		return nil, err
	}
	c.put(s)
	return s, nil
}

// evolve returns a new snapshot: a deep copy of s's state with envs folded
// in. s itself does not change.
func (s *snapshot) evolve(envs []Envelope) (*snapshot, error) {
	next := *s
	next.state = cloneState(s.state)
	if err := next.fold(envs); err != nil {
		return nil, err
	}
	return &next, nil
}

// fold evolves s's own state with envs: only for a snapshot not yet shared.
// The command nodes it adds are its own; those it starts from may be
// shared and are never changed.
func (s *snapshot) fold(envs []Envelope) error {
	var own *commandNode
	for _, env := range envs {
		if err := s.state.Evolve(env); err != nil {
			return fmt.Errorf("load %s %s: %w", s.key.aggregate, s.key.id, err)
		}
		if own == nil || own.id != env.CommandID {
			own = newCommandNode(env.CommandID, s.commands)
			s.commands = own
			s.seen.add(own.hash)
		}
		own.version, own.sequence = env.AggregateVersion, env.Sequence
		s.version, s.sequence = env.AggregateVersion, env.Sequence
		if _, ok := env.Payload.(FamilyErased); ok {
			s.erased = true
		}
	}
	return nil
}

// cloneState returns a deep copy of an aggregate's state: every pointer,
// map and slice reachable through exported fields is copied, so that
// evolving the copy never touches the original. Unexported fields are
// copied as values (Date's time.Time, immutable).
func cloneState(st State) State {
	src := reflect.ValueOf(st)
	dst := reflect.New(src.Type()).Elem()
	deepCopy(dst, src)
	return dst.Interface().(State)
}

func deepCopy(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		n := reflect.New(src.Type().Elem())
		deepCopy(n.Elem(), src.Elem())
		dst.Set(n)
	case reflect.Struct:
		dst.Set(src)
		t := src.Type()
		for i := range t.NumField() {
			if t.Field(i).IsExported() && hasRefs(t.Field(i).Type) {
				deepCopy(dst.Field(i), src.Field(i))
			}
		}
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		n := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		if hasRefs(src.Type().Elem()) {
			for i := range src.Len() {
				deepCopy(n.Index(i), src.Index(i))
			}
		} else {
			reflect.Copy(n, src)
		}
		dst.Set(n)
	case reflect.Map:
		if src.IsNil() {
			return
		}
		n := reflect.MakeMapWithSize(src.Type(), src.Len())
		refs := hasRefs(src.Type().Elem())
		for it := src.MapRange(); it.Next(); {
			v := it.Value()
			if refs {
				nv := reflect.New(v.Type()).Elem()
				deepCopy(nv, v)
				v = nv
			}
			n.SetMapIndex(it.Key(), v)
		}
		dst.Set(n)
	case reflect.Interface:
		if src.IsNil() {
			return
		}
		nv := reflect.New(src.Elem().Type()).Elem()
		deepCopy(nv, src.Elem())
		dst.Set(nv)
	case reflect.Array:
		for i := range src.Len() {
			deepCopy(dst.Index(i), src.Index(i))
		}
	default:
		dst.Set(src)
	}
}

var refsOf sync.Map // reflect.Type → bool

// hasRefs reports whether values of t can reach shared memory through
// exported fields: a pointer, map, slice or interface.
func hasRefs(t reflect.Type) bool {
	if v, ok := refsOf.Load(t); ok {
		return v.(bool)
	}
	var r bool
	switch t.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
		r = true
	case reflect.Array:
		r = hasRefs(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if t.Field(i).IsExported() && hasRefs(t.Field(i).Type) {
				r = true
				break
			}
		}
	}
	refsOf.Store(t, r)
	return r
}

// executeCached is execute with a Cache. With trust, a cached target is
// decided on without a read; if the decision fails on it (a refusal, an
// If-Match that does not match), the target is checked for newer events
// and, if there were any, decided again. After a successful append the
// new events are folded into a copy of the state, which replaces the
// cached one.
func (h *Handler) executeCached(ctx context.Context, aggregate, id string, cmd Command, meta Meta, field string, expected int64, trust bool) (Result, error) {
	snap, checked, err := h.Cache.load(ctx, h.Store, aggregate, id, trust)
	if err != nil {
		return Result{}, err
	}
	for {
		var events []Event
		if n, ok := snap.find(meta.CommandID); ok {
			return Result{AggregateType: aggregate, AggregateID: id, Version: n.version, Sequence: n.sequence, Duplicate: true}, nil
		}
		if expected >= 0 && expected != snap.version {
			err = ErrVersionConflict.With("If-Match", "expected version %d, the %s is at version %d", expected, aggregate, snap.version)
		} else {
			events, err = decide(snap.state, cmd, meta, field, &storeFacts{ctx: ctx, store: h.Store, shared: h.Cache})
		}
		if err != nil {
			if checked {
				return Result{}, err
			}
			fresh, rerr := h.Cache.refresh(ctx, h.Store, snap)
			if rerr != nil {
				return Result{}, rerr
			}
			if fresh == snap { // nothing newer: the refusal stands
				return Result{}, err
			}
			snap, checked = fresh, true
			continue
		}
		res, err := h.Store.Append(ctx, aggregate, id, snap.version, meta, events...)
		if err != nil {
			return Result{}, fmt.Errorf("append %s %s: %w", aggregate, id, err)
		}
		h.Cache.recorded(snap, meta, events, res)
		return res, nil
	}
}

// recorded caches the state after a command appended events to the
// snapshot's aggregate. The events are copied, so that the cached state
// shares nothing with the caller's command.
func (c *Cache) recorded(s *snapshot, meta Meta, events []Event, res Result) {
	if res.Duplicate || res.Version != s.version+int64(len(events)) {
		// Recorded before, by a command this cache did not see: the cached
		// state is behind, and the next command on it learns so.
		return
	}
	envs := make([]Envelope, len(events))
	for i, e := range events {
		envs[i] = Envelope{
			Type:             e.EventType(),
			SchemaVersion:    SchemaVersion(e.EventType()),
			AggregateType:    s.key.aggregate,
			AggregateID:      s.key.id,
			AggregateVersion: s.version + int64(i) + 1,
			OccurredAt:       meta.OccurredAt.UTC(),
			Actor:            meta.Actor,
			CommandID:        meta.CommandID,
			CorrelationID:    meta.CorrelationID,
			CausationID:      meta.CausationID,
			Reason:           meta.Reason,
			Payload:          cloneEvent(e),
			Sequence:         res.Sequence,
		}
	}
	next, err := s.evolve(envs)
	if err != nil {
		// The store took events this state cannot fold: let the next
		// command load the aggregate whole.
		c.drop(s.key)
		return
	}
	c.put(next)
}

func cloneEvent(e Event) Event {
	src := reflect.ValueOf(&e).Elem()
	dst := reflect.New(src.Type()).Elem()
	deepCopy(dst, src)
	return dst.Interface().(Event)
}

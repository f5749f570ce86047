package domain

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Command is one intention of a user, named as an imperative
// (JoinPartnership). Target names the aggregate instance it addresses.
type Command interface {
	Target() (aggregate, id string)
	// Validate checks the command on its own, without state, and returns an
	// ErrInvalid *Error naming the field at fault.
	Validate() error
}

// State is an aggregate's state: Evolve folds one recorded event into it;
// Decide answers a command with the events to record, or a typed *Error,
// consulting facts for other aggregates' current state where the decision
// needs it. Decide must not change the state.
type State interface {
	Evolve(Envelope) error
	Decide(cmd Command, meta Meta, facts Facts) ([]Event, error)
}

// Facts gives a decision the current state of other aggregates: the sector
// of an institution that joins, the members of a family's partnership. A
// missing aggregate is an error wrapping ErrInstitutionNotFound or
// ErrPartnershipNotFound.
type Facts interface {
	Institution(id string) (*Institution, error)
	Partnership(id string) (*Partnership, error)
}

// NewState returns the empty state of an aggregate type.
func NewState(aggregate string) (State, error) {
	switch aggregate {
	case AggregateInstitution:
		return &Institution{}, nil
	case AggregatePartnership:
		return &Partnership{}, nil
	case AggregateUser:
		return &User{}, nil
	case AggregateFamily:
		return &Family{}, nil
	}
	return nil, Invalid("aggregate", "unknown aggregate type %q", aggregate)
}

// Store is what the domain needs of an event store. eventstore.Store
// implements it on JetStream; tests of this package use an in-memory fake.
type Store interface {
	// Load returns the events of one aggregate in version order.
	Load(ctx context.Context, aggregate, id string) ([]Envelope, error)
	// Append records the events of one command atomically, if and only if
	// the aggregate is still at expectedVersion (0: it has no events yet).
	// A stale version returns an error wrapping ErrVersionConflict (and so
	// ErrConflict) and writes nothing. A command whose id was already appended returns the first
	// result with Duplicate set and writes nothing.
	Append(ctx context.Context, aggregate, id string, expectedVersion int64, meta Meta, events ...Event) (Result, error)
}

// Result is what a handled command wrote.
type Result struct {
	AggregateType string `json:"aggregate_type"`
	AggregateID   string `json:"aggregate_id"`
	Version       int64  `json:"version"`   // the aggregate's version after the command
	Sequence      uint64 `json:"sequence"`  // stream sequence of the command's events
	Duplicate     bool   `json:"duplicate"` // the command had been handled before; nothing new was written
}

// AnyVersion tells Handler.Execute that the caller has no expected version:
// the handler decides on the current state and retries on a concurrent
// change.
const AnyVersion int64 = -1

// DefaultRetries and DefaultMaxPause are a Handler's retries after a
// concurrent change and the longest pause before one: enough for forty
// commands sent to one family at once to be written one after the other
// (about a second at worst), never an endless loop.
const (
	DefaultRetries  = 16
	DefaultMaxPause = 100 * time.Millisecond
)

// Handler runs commands: load the aggregate, decide, append. It is safe for
// concurrent use; commands on one aggregate run one after the other,
// commands on different aggregates never wait for each other. A Handler
// must not be copied after first use.
type Handler struct {
	Store Store
	Now   func() time.Time // defaults to time.Now
	// Retries is how often a command without an expected version is decided
	// again after a concurrent change (0: DefaultRetries; negative: never).
	Retries int
	// MaxPause bounds the pause before a retry (0: DefaultMaxPause;
	// negative: no pause). The pause is drawn at random up to a bound that
	// doubles from 2 ms with every attempt, so that commands that conflicted
	// once do not all try again at the same moment.
	MaxPause time.Duration
	// Cache, if set, keeps aggregates' evolved states between commands (see
	// Cache); nil loads every aggregate a command needs from the store.
	// Give every Handler its own, or share one among Handlers of one Store.
	Cache *Cache

	// lanes queues the commands of one aggregate: of two decided on one
	// state only one could be written, so the second waits for the first
	// instead of conflicting and retrying.
	lanes lanes
}

// lanes lets one command of an aggregate run at a time; commands on
// different aggregates never wait for each other. A lane exists while a
// command holds or waits for it.
type lanes struct {
	mu sync.Mutex
	m  map[string]*lane
}

type lane struct {
	turn    chan struct{} // holds a token while a command runs
	waiting int           // commands holding or waiting for the lane
}

// enter waits for the lane of key, or until ctx ends; leave gives it up.
func (l *lanes) enter(ctx context.Context, key string) (leave func(), err error) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*lane{}
	}
	ln := l.m[key]
	if ln == nil {
		ln = &lane{turn: make(chan struct{}, 1)}
		l.m[key] = ln
	}
	ln.waiting++
	l.mu.Unlock()
	release := func() {
		l.mu.Lock()
		if ln.waiting--; ln.waiting == 0 {
			delete(l.m, key)
		}
		l.mu.Unlock()
	}
	select {
	case ln.turn <- struct{}{}:
		return func() { <-ln.turn; release() }, nil
	case <-ctx.Done():
		release()
		return nil, fmt.Errorf("wait for the aggregate's other commands: %w", ctx.Err())
	}
}

// Execute handles cmd. With expected ≥ 0 the aggregate must be at that
// version (an HTTP If-Match), else ErrVersionConflict. A command id already
// recorded on the aggregate returns its first result with Duplicate set.
func (h *Handler) Execute(ctx context.Context, cmd Command, meta Meta, expected int64) (Result, error) {
	if err := ValidateCommand(cmd, meta); err != nil {
		return Result{}, err
	}
	aggregate, id := cmd.Target()
	if err := checkID("id", id); err != nil {
		return Result{}, err
	}
	meta, field, err := h.complete(cmd, meta)
	if err != nil {
		return Result{}, err
	}
	leave, err := h.lanes.enter(ctx, aggregate+"/"+id)
	if err != nil {
		return Result{}, err
	}
	defer leave()
	retries := h.Retries
	if retries == 0 {
		retries = DefaultRetries
	}
	for attempt := 0; ; attempt++ {
		var res Result
		var err error
		if h.Cache != nil {
			// A retry after a conflict decides on a state checked against the store.
			res, err = h.executeCached(ctx, aggregate, id, cmd, meta, field, expected, attempt == 0)
		} else {
			res, err = h.execute(ctx, aggregate, id, cmd, meta, field, expected)
		}
		retry := expected == AnyVersion && errors.Is(err, ErrVersionConflict) && attempt < retries
		if !retry {
			var de *Error
			if expected != AnyVersion && errors.As(err, &de) && de.Code == ErrVersionConflict.Code && de.Field == "" {
				// Whether the handler or the store saw the change first, the
				// caller's expected version (If-Match) is what was stale.
				return res, de.With("If-Match", "expected version %d: %s", expected, de.Message)
			}
			return res, err
		}
		if err := h.pause(ctx, attempt); err != nil {
			return Result{}, err
		}
	}
}

// pause waits before retry attempt+1: a random time up to 2 ms << attempt,
// at most MaxPause, or until ctx ends.
func (h *Handler) pause(ctx context.Context, attempt int) error {
	bound := h.MaxPause
	if bound == 0 {
		bound = DefaultMaxPause
	}
	if bound < 0 {
		return ctx.Err()
	}
	if attempt < 16 {
		bound = min(bound, 2*time.Millisecond<<attempt)
	}
	t := time.NewTimer(rand.N(bound) + 1)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("retry after a concurrent change: %w", ctx.Err())
	}
}

// ValidateCommand checks a command and the reason stated for it on their
// own, without state, as Handler.Execute does first: an ErrInvalid *Error
// naming the field at fault. A reason is free text like a note (at most
// 4000 characters, no control characters other than line breaks and
// tabs); the commands that are never decided without one (reasonRequired)
// are refused here without it, before anything is loaded or any
// permission weighed. Where a reason depends on the state (declining a
// referral, amending a contract in force) the decision says so.
func ValidateCommand(cmd Command, meta Meta) error {
	if err := cmd.Validate(); err != nil {
		return err
	}
	return checkText("reason", meta.Reason, reasonRequired(cmd), maxText)
}

// reasonRequired reports whether cmd is never decided without a stated
// reason, whatever the state it meets.
func reasonRequired(cmd Command) bool {
	switch cmd.(type) {
	case EraseFamily, ReopenCase, RecordLegalBasis, RemoveTeamMember, LeavePartnership,
		CorrectDiagnosisInput, WithdrawDiagnosisInput, WithdrawAction:
		return true
	}
	return false
}

// storeFacts answers Facts from the store, loading each aggregate once per
// command.
type storeFacts struct {
	ctx   context.Context
	store Store
	// shared, if set, answers with cached states checked for newer events.
	shared *Cache
	cache  map[string]State
}

func (f *storeFacts) load(aggregate, id string) (State, error) {
	key := aggregate + "/" + id
	if st, ok := f.cache[key]; ok {
		return st, nil
	}
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	var st State
	if f.shared != nil {
		snap, _, err := f.shared.load(f.ctx, f.store, aggregate, id, false)
		if err != nil {
			return nil, err
		}
		st = snap.state
	} else {
		var err error
		if st, err = Load(f.ctx, f.store, aggregate, id); err != nil {
			return nil, err
		}
	}
	if f.cache == nil {
		f.cache = map[string]State{}
	}
	f.cache[key] = st
	return st, nil
}

// Institution implements Facts.
func (f *storeFacts) Institution(id string) (*Institution, error) {
	st, err := f.load(AggregateInstitution, id)
	if err != nil {
		return nil, err
	}
	inst := st.(*Institution)
	if !inst.Exists() {
		return nil, ErrInstitutionNotFound.With("", "institution %s does not exist", id)
	}
	return inst, nil
}

// Partnership implements Facts.
func (f *storeFacts) Partnership(id string) (*Partnership, error) {
	st, err := f.load(AggregatePartnership, id)
	if err != nil {
		return nil, err
	}
	p := st.(*Partnership)
	if !p.Exists() {
		return nil, ErrPartnershipNotFound.With("", "partnership %s does not exist", id)
	}
	return p, nil
}

// Load folds the events of one aggregate into its state.
func Load(ctx context.Context, store Store, aggregate, id string) (State, error) {
	state, err := NewState(aggregate)
	if err != nil {
		return nil, err
	}
	envs, err := store.Load(ctx, aggregate, id)
	if err != nil {
		return nil, fmt.Errorf("load %s %s: %w", aggregate, id, err)
	}
	for _, env := range envs {
		if err := state.Evolve(env); err != nil {
			return nil, fmt.Errorf("load %s %s: %w", aggregate, id, err)
		}
	}
	return state, nil
}

func (h *Handler) execute(ctx context.Context, aggregate, id string, cmd Command, meta Meta, field string, expected int64) (Result, error) {
	envs, err := h.Store.Load(ctx, aggregate, id)
	if err != nil {
		return Result{}, fmt.Errorf("load %s %s: %w", aggregate, id, err)
	}
	state, err := NewState(aggregate)
	if err != nil {
		return Result{}, err
	}
	var version int64
	for _, env := range envs {
		if env.CommandID == meta.CommandID {
			return Result{AggregateType: aggregate, AggregateID: id, Version: lastVersionOf(envs, meta.CommandID), Sequence: env.Sequence, Duplicate: true}, nil
		}
		if err := state.Evolve(env); err != nil {
			return Result{}, fmt.Errorf("load %s %s: %w", aggregate, id, err)
		}
		version = env.AggregateVersion
	}
	if expected >= 0 && expected != version {
		return Result{}, ErrVersionConflict.With("If-Match", "expected version %d, the %s is at version %d", expected, aggregate, version)
	}
	events, err := decide(state, cmd, meta, field, &storeFacts{ctx: ctx, store: h.Store})
	if err != nil {
		return Result{}, err
	}
	res, err := h.Store.Append(ctx, aggregate, id, version, meta, events...)
	if err != nil {
		return Result{}, fmt.Errorf("append %s %s: %w", aggregate, id, err)
	}
	return res, nil
}

func lastVersionOf(envs []Envelope, commandID string) int64 {
	var v int64
	for _, e := range envs {
		if e.CommandID == commandID {
			v = e.AggregateVersion
		}
	}
	return v
}

// complete fills in the ids and the business time of a command's meta
// (see businessTime) and returns the field that holds the business time.
func (h *Handler) complete(cmd Command, m Meta) (Meta, string, error) {
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	if m.CommandID == "" {
		m.CommandID = NewID()
	}
	if m.CorrelationID == "" {
		m.CorrelationID = m.CommandID
	}
	return businessTime(cmd, m, now())
}

// NewID returns a new identifier: a UUIDv7, ordered by creation time.
func NewID() string {
	return uuid.Must(uuid.NewV7()).String()
}

// IDFromKey returns the identifier derived from a client's idempotency key,
// so that a retried create addresses the same new aggregate.
func IDFromKey(key string) string {
	return uuid.NewSHA1(idNamespace, []byte(key)).String()
}

var idNamespace = uuid.MustParse("6f2b6e0c-3a55-4d7e-9c1e-4b6f6b0a3d11")

// checkID validates an identifier: a UUID in canonical form.
func checkID(field, id string) error {
	if id == "" {
		return ErrRequired.With(field, "is required")
	}
	u, err := uuid.Parse(id)
	if err != nil || u.String() != id {
		return Invalid(field, "%q is not an identifier (a UUID in lowercase canonical form)", id)
	}
	return nil
}

// CheckID validates an identifier given in a request; field names it.
func CheckID(field, id string) error { return checkID(field, id) }

func unexpected(env Envelope) error {
	if u, ok := env.Payload.(Unknown); ok {
		return ErrUnknownEventType.With("type", "event %s at version %d has type %q, unknown to this engine: upgrade it", env.EventID, env.AggregateVersion, u.Type)
	}
	return Invalid("type", "event %s of type %s does not belong to a %s", env.EventID, env.Type, env.AggregateType)
}

func unexpectedCommand(cmd Command) error {
	a, _ := cmd.Target()
	return Invalid("command", "%T is not a command of a %s", cmd, a)
}

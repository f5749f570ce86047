// Package projections turns events into read models. A Projection is a Go
// type that names the event types it wants and how each changes its state.
// The same projection code runs in three modes: live (Runner, fed by a
// durable JetStream consumer, checkpointed so a restart does not replay
// everything), full rebuild (Rebuild) and as-of replay (Replay, up to a
// stream sequence, a recorded time or a business time).
package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/kooperacje/kooperacje/domain"
)

// Projection is a read model built from events. Apply is called once per
// event, in stream order, from one goroutine; readers may call the
// projection's query methods concurrently, so a projection guards its own
// state. Snapshot and Restore save and load the whole state for
// checkpoints; Snapshot must be deterministic (equal states, equal bytes).
type Projection interface {
	Name() string
	// Handles reports whether the projection wants events of this type.
	Handles(eventType string) bool
	Apply(domain.Envelope) error
	Snapshot() ([]byte, error)
	Restore([]byte) error
}

// CommitFunc receives the events of one stored command. err is set when
// the stored message did not decode.
type CommitFunc = func(seq uint64, events []domain.Envelope, err error) error

// Source is what the projections need of the event store;
// eventstore.Store implements it.
type Source interface {
	// Read feeds fn the commands stored from sequence from to sequence to
	// (0: the newest now), in order.
	Read(ctx context.Context, from, to uint64, fn CommitFunc) error
	// Subscribe feeds fn every command from sequence from on, live, through
	// a durable consumer called name.
	Subscribe(ctx context.Context, name string, from uint64, fn CommitFunc) (interface{ Stop() }, error)
	LastSequence(ctx context.Context) (uint64, error)
	SaveCheckpoint(ctx context.Context, name string, data []byte) error
	LoadCheckpoint(ctx context.Context, name string) ([]byte, error)
}

// ErrFailed marks a runner that stopped applying events because one could
// not be applied; its read models are frozen at Position until the cause is
// fixed and the engine restarted.
var ErrFailed = errors.New("projections: runner failed")

// Runner keeps a set of projections up to date with the stream.
type Runner struct {
	src   Source
	name  string
	ps    []Projection
	log   *slog.Logger
	every time.Duration // the shortest time between two checkpoints

	mu        sync.Mutex
	applied   uint64        // last stream sequence applied
	saved     uint64        // last sequence checkpointed
	changed   chan struct{} // closed and replaced after each applied command
	failed    error
	skipped   int64       // events of unknown types
	unapplied []Unapplied // events a projection could not apply
	sub       interface{ Stop() }
	stopTick  chan struct{}
	tickDone  chan struct{}
	onApplied []func(seq uint64, envs []domain.Envelope)
}

// NewRunner returns a runner called name (the durable consumer's and the
// checkpoint's name: one per engine instance) for the projections.
func NewRunner(src Source, name string, log *slog.Logger, ps ...Projection) *Runner {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{src: src, name: name, ps: ps, log: log, every: 2 * time.Second, changed: make(chan struct{})}
}

// checkpoint is the saved state of all projections of a runner at one
// sequence.
type checkpoint struct {
	Format      int                        `json:"format"`
	Sequence    uint64                     `json:"sequence"`
	SavedAt     time.Time                  `json:"saved_at"`
	Projections map[string]json.RawMessage `json:"projections"`
}

const checkpointFormat = 1

// OnApplied registers fn to be told of every command the runner applies
// from the stream, after its projections, in stream order (for the
// handler's cache, which drops erased families). fn must not block. Call
// it before Start.
func (r *Runner) OnApplied(fn func(seq uint64, envs []domain.Envelope)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.onApplied = append(r.onApplied, fn)
}

// Start restores the last checkpoint (if it covers every projection and
// the stream still reaches it) and follows the stream from there.
func (r *Runner) Start(ctx context.Context) error {
	from, err := r.restore(ctx)
	if err != nil {
		return err
	}
	sub, err := r.src.Subscribe(ctx, r.name, from+1, r.handle)
	if err != nil {
		return fmt.Errorf("start projections: %w", err)
	}
	r.mu.Lock()
	r.sub = sub
	r.stopTick, r.tickDone = make(chan struct{}), make(chan struct{})
	go r.checkpointLoop(r.stopTick, r.tickDone)
	r.mu.Unlock()
	return nil
}

func (r *Runner) restore(ctx context.Context) (uint64, error) {
	// What the projections hold before anything is restored: empty, and
	// what they go back to when a snapshot of one of them cannot be read.
	empty := make([][]byte, len(r.ps))
	for i, p := range r.ps {
		b, err := p.Snapshot()
		if err != nil {
			return 0, fmt.Errorf("snapshot %s: %w", p.Name(), err)
		}
		empty[i] = b
	}
	raw, err := r.src.LoadCheckpoint(ctx, r.name)
	if err != nil {
		// A checkpoint is only a shortcut: the stream has everything.
		r.log.Warn("checkpoint unreadable: rebuilding projections from the start", "name", r.name, "err", err)
		return 0, nil
	}
	if raw == nil {
		return 0, nil
	}
	var cp checkpoint
	if err := json.Unmarshal(raw, &cp); err != nil || cp.Format != checkpointFormat {
		r.log.Warn("checkpoint unreadable: rebuilding projections from the start", "name", r.name, "err", err)
		return 0, nil
	}
	last, err := r.src.LastSequence(ctx)
	if err != nil {
		return 0, err
	}
	if cp.Sequence > last {
		r.log.Warn("checkpoint is ahead of the stream: rebuilding projections from the start", "checkpoint", cp.Sequence, "stream", last)
		return 0, nil
	}
	for _, p := range r.ps {
		if _, ok := cp.Projections[p.Name()]; !ok {
			r.log.Info("checkpoint lacks a projection: rebuilding all from the start", "projection", p.Name())
			return 0, nil
		}
	}
	for _, p := range r.ps {
		if err := p.Restore(cp.Projections[p.Name()]); err != nil {
			// A checkpoint is only a shortcut (docs/decisions/0011): one
			// that this engine cannot read (a value an older engine let
			// in) is dropped and the stream replayed.
			r.log.Warn("checkpoint of a projection unreadable: rebuilding projections from the start", "projection", p.Name(), "err", err)
			for i, q := range r.ps {
				if err := q.Restore(empty[i]); err != nil {
					return 0, fmt.Errorf("reset projection %s: %w", q.Name(), err)
				}
			}
			return 0, nil
		}
	}
	r.mu.Lock()
	r.applied, r.saved = cp.Sequence, cp.Sequence
	r.mu.Unlock()
	r.log.Info("projections resumed from checkpoint", "sequence", cp.Sequence)
	return cp.Sequence, nil
}

// handle applies one delivered command, filling any gap first, and
// ignoring what was applied already.
func (r *Runner) handle(seq uint64, envs []domain.Envelope, derr error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failed != nil || seq <= r.applied {
		return nil
	}
	// The durable consumer skipped ahead (a lost pull after a reconnect):
	// read what is missing in order first. A read that fails without a
	// projection failing (a timeout while a cluster elects a leader, say)
	// is tried again, the lock released in between, for a while.
	pause := gapRetryPause
	for attempt := 1; seq > r.applied+1; attempt++ {
		from := r.applied + 1
		err := r.src.Read(context.Background(), from, seq-1, r.applyLocked)
		if r.failed != nil {
			return nil
		}
		if err == nil {
			break
		}
		if attempt == gapRetries {
			r.fail(fmt.Errorf("fill gap %d–%d: %w", from, seq-1, err))
			return nil
		}
		r.log.Warn("fill gap: read failed, trying again", "from", from, "to", seq-1, "attempt", attempt, "err", err)
		r.mu.Unlock()
		time.Sleep(pause)
		r.mu.Lock()
		pause = min(2*pause, 2*time.Second)
		if r.failed != nil || seq <= r.applied {
			return nil
		}
	}
	_ = r.applyLocked(seq, envs, derr)
	return nil
}

// How often and how patiently the runner reads a gap again.
const (
	gapRetries    = 30
	gapRetryPause = 100 * time.Millisecond
)

// applyLocked applies one command's events to every projection that
// wants them. r.mu is held.
func (r *Runner) applyLocked(seq uint64, envs []domain.Envelope, derr error) error {
	if r.failed != nil || seq <= r.applied {
		return r.failed
	}
	if derr != nil {
		r.fail(fmt.Errorf("sequence %d: %w", seq, derr))
		return r.failed
	}
	applyAll(r.ps, envs, &r.skipped, &r.unapplied, r.log)
	r.applied = seq
	for _, fn := range r.onApplied {
		fn(seq, envs)
	}
	close(r.changed)
	r.changed = make(chan struct{})
	return nil
}

// Unapplied is an event a projection could not apply: it returned an
// error or panicked. The event is left out of that projection's read
// model, the others go on (docs/decisions/0011).
type Unapplied struct {
	Sequence   uint64 `json:"sequence"`
	EventID    string `json:"event_id"`
	Type       string `json:"type"`
	Projection string `json:"projection"`
	Problem    string `json:"problem"`
}

// maxUnapplied bounds the list kept of unapplied events; the count goes on.
const maxUnapplied = 1000

// applyAll applies events to the projections that handle them. An event a
// projection cannot apply is logged and listed in unapplied, never fatal:
// no stored event may stop the read models.
func applyAll(ps []Projection, envs []domain.Envelope, skipped *int64, unapplied *[]Unapplied, log *slog.Logger) {
	for _, env := range envs {
		if _, unknown := env.Payload.(domain.Unknown); unknown {
			*skipped++
			log.Warn("skipping event of unknown type", "type", env.Type, "event_id", env.EventID, "sequence", env.Sequence)
			continue
		}
		for _, p := range ps {
			if !p.Handles(env.Type) {
				continue
			}
			if err := applySafely(p, env); err != nil {
				log.Error("projection could not apply an event; left out", "projection", p.Name(), "event_id", env.EventID,
					"type", env.Type, "sequence", env.Sequence, "err", err)
				if len(*unapplied) < maxUnapplied {
					*unapplied = append(*unapplied, Unapplied{Sequence: env.Sequence, EventID: env.EventID, Type: env.Type,
						Projection: p.Name(), Problem: err.Error()})
				}
			}
		}
	}
}

// applySafely applies one event, turning a panic into an error.
func applySafely(p Projection, env domain.Envelope) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	return p.Apply(env)
}

func (r *Runner) fail(err error) {
	r.failed = fmt.Errorf("%w: %w", ErrFailed, err)
	r.log.Error("projections stopped", "err", err, "position", r.applied)
	close(r.changed)
	r.changed = make(chan struct{})
}

// Position returns the last stream sequence applied.
func (r *Runner) Position() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.applied
}

// Err returns why the runner stopped applying events, or nil.
func (r *Runner) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

// Unapplied returns the events a projection could not apply (at most
// maxUnapplied of them).
func (r *Runner) Unapplied() []Unapplied {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.unapplied)
}

// Skipped returns how many events of unknown types were skipped.
func (r *Runner) Skipped() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.skipped
}

// Changed returns a channel closed at the next applied command: a way to
// wait for news without polling.
func (r *Runner) Changed() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.changed
}

// WaitFor waits until the runner has applied sequence seq (read your
// writes), the context ends, or the runner fails.
func (r *Runner) WaitFor(ctx context.Context, seq uint64) error {
	for {
		r.mu.Lock()
		applied, failed, ch := r.applied, r.failed, r.changed
		r.mu.Unlock()
		if applied >= seq {
			return nil
		}
		if failed != nil {
			return failed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("wait for sequence %d (at %d): %w", seq, applied, ctx.Err())
		}
	}
}

// checkpointShare bounds the part of the runner's time its periodic
// checkpoints take: the next waits at least checkpointShare times as long
// as the last took. While the read models are snapshotted the runner
// applies nothing (a few milliseconds for a municipality's models, seconds
// for hundreds of thousands of families), so a fixed interval would keep
// large models' runner stalled most of the time.
const checkpointShare = 100

// nextCheckpoint is how long the checkpoint loop waits after a checkpoint
// that took took.
func (r *Runner) nextCheckpoint(took time.Duration) time.Duration {
	return max(r.every, checkpointShare*took)
}

// Checkpoint saves the state of every projection at the current position,
// if it moved since the last save.
func (r *Runner) Checkpoint(ctx context.Context) error {
	r.mu.Lock()
	if r.applied == r.saved {
		r.mu.Unlock()
		return nil
	}
	cp := checkpoint{Format: checkpointFormat, Sequence: r.applied, SavedAt: time.Now().UTC(), Projections: map[string]json.RawMessage{}}
	for _, p := range r.ps {
		b, err := p.Snapshot()
		if err != nil {
			r.mu.Unlock()
			return fmt.Errorf("snapshot %s: %w", p.Name(), err)
		}
		cp.Projections[p.Name()] = b
	}
	r.mu.Unlock()
	raw, err := json.Marshal(cp)
	if err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	if err := r.src.SaveCheckpoint(ctx, r.name, raw); err != nil {
		return err
	}
	r.mu.Lock()
	if cp.Sequence > r.saved {
		r.saved = cp.Sequence
	}
	r.mu.Unlock()
	return nil
}

func (r *Runner) checkpointLoop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTimer(r.every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if err := r.Checkpoint(ctx); err != nil {
				r.log.Warn("checkpoint failed", "err", err)
			}
			cancel()
			took := time.Since(start)
			next := r.nextCheckpoint(took)
			if next > r.every {
				r.log.Debug("checkpoint was slow: the next waits longer", "took", took, "next", next)
			}
			t.Reset(next)
		}
	}
}

// Stop ends the live feed and saves a last checkpoint.
func (r *Runner) Stop(ctx context.Context) error {
	r.mu.Lock()
	sub, stopTick, tickDone := r.sub, r.stopTick, r.tickDone
	r.sub, r.stopTick = nil, nil
	r.mu.Unlock()
	if sub == nil {
		return nil
	}
	sub.Stop()
	close(stopTick)
	<-tickDone
	return r.Checkpoint(ctx)
}

package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/kooperacje/kooperacje/domain"
)

// Until is the cut-off of an as-of replay. Zero fields do not limit; with
// several set, an event must pass all of them.
type Until struct {
	// Sequence: apply commands stored at or before this stream sequence.
	Sequence uint64
	// RecordedAt: apply events the engine recorded at or before this time.
	RecordedAt time.Time
	// OccurredAt: apply events whose business time is at or before this
	// time, whenever they were recorded (a meeting entered a week late
	// still counts as of its date).
	OccurredAt time.Time
}

// Stats tells what a replay read.
type Stats struct {
	Commits int64 // messages read
	Events  int64 // events applied (or offered) to the projections: not those of messages no projection wanted
	Skipped int64 // events of unknown types, skipped
	// Unapplied lists the events a projection could not apply.
	Unapplied []Unapplied
	Position  uint64 // last stream sequence read
}

// errDone ends a read early without being an error.
var errDone = errors.New("done")

// SelectiveSource is a Source that can leave out of a read what its
// reader does not need: eventstore.Store implements it. With wants set,
// messages none of whose event types wants accepts reach fn undecoded,
// with no events (messages of types the store does not know are decoded
// all the same); with personal false, personal data stays sealed: no
// plaintext reaches fn.
type SelectiveSource interface {
	ReadSelected(ctx context.Context, from, to uint64, wants func(eventType string) bool, personal bool, fn CommitFunc) error
}

// PersonalData is implemented by a projection that can tell whether it
// needs the personal data of events in clear (names, addresses, notes).
// One that does not implement it is taken to need it. A projection that
// says false gets personal texts in their sealed form and personal dates
// unset, so it must neither show nor count them.
type PersonalData interface {
	NeedsPersonal() bool
}

// needsPersonal reports whether any of the projections needs personal
// data in clear.
func needsPersonal(ps []Projection) bool {
	for _, p := range ps {
		if pd, ok := p.(PersonalData); !ok || pd.NeedsPersonal() {
			return true
		}
	}
	return false
}

// ReplayGCPercent is the garbage collector's target (GOGC) for a process
// whose work is one replay into small read models, such as kooperacje
// evaluate: decoding produces garbage at the rate of the read, and with
// Go's default of 100 the collector marks the replayed models again every
// few thousand events. At 400 it runs a quarter as often (the evaluation's
// replay about a tenth faster), for a peak heap of five times the live models
// instead of twice (docs/evaluation.md). A process that keeps large read
// models, such as serve, keeps the default.
const ReplayGCPercent = 400

// Replay runs fresh projections over the stream from the start up to the
// cut-off, in memory, and returns what it read. The projections must be
// empty. A message that does not decode stops the replay with an error.
//
// From a SelectiveSource, Replay decodes only the messages holding an
// event some projection handles (all of them with a RecordedAt cut-off,
// which needs each message's recorded time), and opens personal data only
// if some projection needs it (PersonalData).
func Replay(ctx context.Context, src Source, until Until, log *slog.Logger, ps ...Projection) (Stats, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	read := src.Read
	if sel, ok := src.(SelectiveSource); ok {
		var wants func(string) bool
		if until.RecordedAt.IsZero() {
			handled := map[string]bool{}
			for _, t := range domain.EventTypes() {
				for _, p := range ps {
					if p.Handles(t) {
						handled[t] = true
					}
				}
			}
			wants = func(t string) bool { return handled[t] }
		}
		personal := needsPersonal(ps)
		read = func(ctx context.Context, from, to uint64, fn CommitFunc) error {
			return sel.ReadSelected(ctx, from, to, wants, personal, fn)
		}
	}
	var st Stats
	err := read(ctx, 1, until.Sequence, func(seq uint64, envs []domain.Envelope, derr error) error {
		if derr != nil {
			return fmt.Errorf("sequence %d: %w", seq, derr)
		}
		if !until.RecordedAt.IsZero() && len(envs) > 0 && envs[0].RecordedAt.After(until.RecordedAt) {
			return errDone // recorded times only grow along the stream
		}
		st.Commits++
		st.Position = seq
		if !until.OccurredAt.IsZero() {
			kept := envs[:0:0]
			for _, e := range envs {
				if !e.OccurredAt.After(until.OccurredAt) {
					kept = append(kept, e)
				}
			}
			envs = kept
		}
		st.Events += int64(len(envs))
		applyAll(ps, envs, &st.Skipped, &st.Unapplied, log)
		return nil
	})
	if err != nil && !errors.Is(err, errDone) {
		return st, fmt.Errorf("replay: %w", err)
	}
	st.Events -= st.Skipped
	return st, nil
}

// Rebuild runs fresh projections over the whole stream up to sequence to
// (0: the newest), the state a live runner must also reach.
func Rebuild(ctx context.Context, src Source, to uint64, ps ...Projection) (Stats, error) {
	return Replay(ctx, src, Until{Sequence: to}, nil, ps...)
}

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
	Commits  int64  // messages read
	Events   int64  // events applied (or offered) to the projections
	Skipped  int64  // events of unknown types, skipped
	Position uint64 // last stream sequence read
}

// errDone ends a read early without being an error.
var errDone = errors.New("done")

// Replay runs fresh projections over the stream from the start up to the
// cut-off, in memory, and returns what it read. The projections must be
// empty. A message that does not decode stops the replay with an error.
func Replay(ctx context.Context, src Source, until Until, log *slog.Logger, ps ...Projection) (Stats, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var st Stats
	err := src.Read(ctx, 1, until.Sequence, func(seq uint64, envs []domain.Envelope, derr error) error {
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
		return applyAll(ps, envs, &st.Skipped, log)
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

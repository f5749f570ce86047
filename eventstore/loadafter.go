package eventstore

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/kooperacje/kooperacje/domain"
)

// LoadAfter returns the events of one aggregate stored above stream
// sequence after, in version order: what a cached state of the aggregate
// at that sequence lacks (domain.Tailer). It costs one batched direct get
// when nothing is newer (and on a replicated stream one message get from
// the leader, which holds everything acknowledged), and decodes only the
// newer messages.
func (s *Store) LoadAfter(ctx context.Context, aggregate, id string, after uint64) ([]domain.Envelope, error) {
	subject, err := Subject(aggregate, id)
	if err != nil {
		return nil, err
	}
	var out []domain.Envelope
	err = s.eachMsgAfter(ctx, subject, after, func(msg *jetstream.RawStreamMsg) error {
		envs, err := s.Decode(ctx, msg.Subject, msg.Sequence, msg.Data)
		if err != nil {
			return err
		}
		if len(out) > 0 {
			if want := out[len(out)-1].AggregateVersion + 1; envs[0].AggregateVersion != want {
				return fmt.Errorf("%w: sequence %d holds version %d where version %d belongs", ErrCorrupt, msg.Sequence, envs[0].AggregateVersion, want)
			}
		}
		out = append(out, envs...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load %s after sequence %d: %w", subject, after, err)
	}
	if len(out) > 0 {
		last := out[len(out)-1]
		s.remember(subject, position{version: last.AggregateVersion, sequence: last.Sequence, hash: last.Hash})
	}
	return out, nil
}

var _ domain.Tailer = (*Store)(nil)

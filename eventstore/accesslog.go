package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/kooperacje/kooperacje/domain"
)

// AccessStream keeps the log of reads of families' personal data, apart
// from the decisions so that it has its own retention.
const AccessStream = "KOOPERACJE_ACCESS"

const accessPrefix = "koopaccess"

// AccessLog records and queries reads of personal data.
type AccessLog struct {
	js      jetstream.JetStream
	name    string
	noBatch atomic.Bool // the server refuses atomic batches: publish one by one
}

// OpenAccessLog creates or updates the access stream; maxAge bounds how
// long entries are kept (0: for ever).
func (s *Store) OpenAccessLog(ctx context.Context, maxAge time.Duration) (*AccessLog, error) {
	_, err := s.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        AccessStream,
		Description: "Kooperacje: who read which family's personal data",
		Subjects:    []string{accessPrefix + ".>"},
		Storage:     jetstream.FileStorage,
		Replicas:    s.stream.CachedInfo().Config.Replicas,
		MaxAge:      maxAge,
		DenyDelete:  true,
		DenyPurge:   true,
		AllowDirect: true,
		// A request that reads many families logs them in atomic
		// batches: one fsync for all instead of one each.
		AllowAtomicPublish: true,
	})
	if err != nil {
		return nil, fmt.Errorf("open access log: %w", err)
	}
	if err := s.StageBatches(AccessStream); err != nil {
		return nil, fmt.Errorf("open access log: %w", err)
	}
	return &AccessLog{js: s.js, name: AccessStream}, nil
}

func accessSubject(family, user string) string {
	return accessPrefix + ".family." + family + ".user." + user
}

// recordChunk is how many entries Record has in flight at once when it
// publishes them one by one: a list of thousands of families is one
// request, and the connection's pending asynchronous publishes are shared
// by every request.
const recordChunk = 256

// accessBatch is the most entries one atomic batch of the access log
// carries (the server's default limit is 1,000).
const accessBatch = 1000

// Record stores reads, all before returning: a read is not answered
// before it is logged. Entries are checked before any is written.
func (l *AccessLog) Record(ctx context.Context, entries ...domain.Access) error {
	msgs := make([]*nats.Msg, 0, len(entries))
	for _, a := range entries {
		if _, err := Subject("family", a.FamilyID); err != nil {
			return err
		}
		if _, err := Subject("user", a.UserID); err != nil {
			return err
		}
		b, err := json.Marshal(a)
		if err != nil {
			return err
		}
		msgs = append(msgs, &nats.Msg{Subject: accessSubject(a.FamilyID, a.UserID), Data: b})
	}
	for len(msgs) > 0 {
		if len(msgs) >= MinBatch && !l.noBatch.Load() {
			n := min(len(msgs), accessBatch)
			stored, err := l.recordBatch(ctx, msgs[:n])
			if err != nil {
				return err
			}
			if stored {
				msgs = msgs[n:]
				continue
			}
		}
		n := min(len(msgs), recordChunk)
		futures := make([]jetstream.PubAckFuture, 0, n)
		for _, m := range msgs[:n] {
			f, err := l.js.PublishMsgAsync(m)
			if err != nil {
				return fmt.Errorf("record access: %w", err)
			}
			futures = append(futures, f)
		}
		for _, f := range futures {
			select {
			case <-f.Ok():
			case err := <-f.Err():
				return fmt.Errorf("record access: %w", err)
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		msgs = msgs[n:]
	}
	return nil
}

// recordBatch stores msgs as one atomic batch: one fsync for all. It
// reports false when the server refused the batch whole (nothing of it is
// stored: too many batches in flight, or atomic batches not allowed), for
// Record to publish the entries one by one; any other error, a timeout
// say, leaves the outcome unknown and is returned.
func (l *AccessLog) recordBatch(ctx context.Context, msgs []*nats.Msg) (bool, error) {
	batch := make([]*nats.Msg, len(msgs))
	for i, m := range msgs {
		// Copies: the batch headers must not follow an entry into a plain
		// publish if the batch is refused.
		batch[i] = &nats.Msg{Subject: m.Subject, Data: m.Data, Header: nats.Header{}}
	}
	_, err := jetstreamext.PublishMsgBatch(ctx, l.js, batch, jetstreamext.BatchFlowControl{AckFirst: false})
	var apiErr *jetstream.APIError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &apiErr):
		if apiErr.ErrorCode == jetstreamext.JSErrCodeBatchPublishNotEnabled {
			l.noBatch.Store(true)
		}
		return false, nil
	default:
		return false, fmt.Errorf("record access: %w", err)
	}
}

// Query returns up to limit reads of a family (family set), or of a user
// (user set), oldest first, from sequence from on.
func (l *AccessLog) Query(ctx context.Context, family, user string, from uint64, limit int) ([]domain.Access, error) {
	if family == "" {
		family = "*"
	}
	if user == "" {
		user = "*"
	}
	if from == 0 {
		from = 1
	}
	msgs, err := jetstreamext.GetBatch(ctx, l.js, l.name, limit, jetstreamext.GetBatchSeq(from), jetstreamext.GetBatchSubject(accessSubject(family, user)))
	if err != nil {
		return nil, fmt.Errorf("query access log: %w", err)
	}
	out := []domain.Access{}
	for msg, err := range msgs {
		if errors.Is(err, jetstreamext.ErrNoMessages) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("query access log: %w", err)
		}
		var a domain.Access
		if err := json.Unmarshal(msg.Data, &a); err != nil {
			return nil, fmt.Errorf("%w: access log sequence %d", ErrCorrupt, msg.Sequence)
		}
		a.Sequence = msg.Sequence
		out = append(out, a)
	}
	return out, nil
}

package eventstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/kooperacje/kooperacje/domain"
)

// loadBatch is how many messages one direct-get request returns.
const loadBatch = 256

// Append records the events of one command on the aggregate's subject as a
// single message, so they are stored all together or not at all.
//
// expectedVersion is the aggregate's version the command was decided on (0
// for a new aggregate). If another command was appended since, Append
// returns an error wrapping domain.ErrVersionConflict (and so
// domain.ErrConflict) and writes nothing. A command whose meta.CommandID was
// stored before, within the stream's duplicate window, writes nothing and
// returns the first result with Duplicate set.
//
// Concurrent appends share the group commit (see the package doc). If ctx
// ends while the message still waits for the committer, nothing is written
// and the context's error is returned; once the message is being published,
// Append returns the server's answer.
func (s *Store) Append(ctx context.Context, aggregate, id string, expectedVersion int64, meta domain.Meta, events ...domain.Event) (domain.Result, error) {
	subject, err := Subject(aggregate, id)
	if err != nil {
		return domain.Result{}, err
	}
	// Tell the committer a message is on its way until it is queued (or
	// this append fails before), so that a forming batch can wait for it.
	prep := s.preparing()
	defer prep.done()
	if len(events) == 0 {
		return domain.Result{}, domain.Invalid("events", "a command must record at least one event")
	}
	if meta.CommandID == "" {
		return domain.Result{}, domain.ErrRequired.With("command_id", "every append needs a command id")
	}
	if expectedVersion < 0 {
		return domain.Result{}, domain.Invalid("expected_version", "must be 0 or more, not %d", expectedVersion)
	}
	expectedSeq, prevHash, err := s.sequenceOf(ctx, subject, expectedVersion)
	if errors.Is(err, domain.ErrVersionConflict) {
		// The aggregate moved on, perhaps by this very command: a retry after
		// a try whose answer was lost (a timeout in a leader failover).
		if res, _, found, ferr := s.findCommand(ctx, subject, meta.CommandID); ferr != nil || found {
			return res, ferr
		}
	}
	if err != nil {
		return domain.Result{}, err
	}
	now := s.now().UTC()
	envs := make([]domain.Envelope, len(events))
	for i, e := range events {
		if e == nil {
			return domain.Result{}, domain.Invalid("events", "event %d is nil", i)
		}
		v := domain.SchemaVersion(e.EventType())
		if v == 0 {
			return domain.Result{}, domain.ErrUnknownEventType.With("type", "event type %q is not registered", e.EventType())
		}
		envs[i] = domain.Envelope{
			EventID:          domain.NewID(),
			Type:             e.EventType(),
			SchemaVersion:    v,
			AggregateType:    aggregate,
			AggregateID:      id,
			AggregateVersion: expectedVersion + int64(i) + 1,
			OccurredAt:       meta.OccurredAt.UTC(),
			RecordedAt:       now,
			Actor:            meta.Actor,
			CommandID:        meta.CommandID,
			CorrelationID:    meta.CorrelationID,
			CausationID:      meta.CausationID,
			Reason:           meta.Reason,
			Payload:          e,
		}
	}
	msg, lastHash, err := s.encode(ctx, subject, prevHash, envs)
	if err != nil {
		return domain.Result{}, err
	}
	seq, duplicate, err := s.publish(ctx, msg, expectedSeq, prep)
	if err != nil {
		s.forget(subject)
		if isWrongLastSequence(err) {
			// JetStream checks the expected sequence before its duplicate
			// window: a retry of a command that was stored lands here.
			if res, hash, found, ferr := s.findCommand(ctx, subject, meta.CommandID); ferr != nil || found {
				return s.own(subject, res, hash, lastHash), ferr
			}
			return domain.Result{}, domain.ErrVersionConflict.With("", "the %s has changed since version %d", aggregate, expectedVersion)
		}
		return domain.Result{}, fmt.Errorf("publish to %s: %w", subject, err)
	}
	if duplicate {
		res, hash, err := s.resultAt(ctx, seq)
		return s.own(subject, res, hash, lastHash), err
	}
	version := expectedVersion + int64(len(events))
	s.remember(subject, position{version: version, sequence: seq, hash: lastHash})
	return domain.Result{AggregateType: aggregate, AggregateID: id, Version: version, Sequence: seq}, nil
}

// own turns the stored result of a command found already stored into this
// append's own first result when the stored message is the one this
// append encoded (its last event's hash, which covers the fresh event ids
// and recording time): a group commit stored it and its answer was lost
// (a stream leader gone), and publishing the message on its own then met
// it. Any other stored message of the command is a duplicate.
func (s *Store) own(subject string, res domain.Result, storedHash, lastHash string) domain.Result {
	if res.Duplicate && storedHash != "" && storedHash == lastHash {
		res.Duplicate = false
		s.remember(subject, position{version: res.Version, sequence: res.Sequence, hash: lastHash})
	}
	return res
}

// isWrongLastSequence reports JetStream's answer to a stale expected
// subject sequence, by error code (10071; 10164 on replicated streams).
func isWrongLastSequence(err error) bool {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	return apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant
}

// sequenceOf maps an aggregate version to the stream sequence of the
// message that brought the aggregate to it (the value of the
// Nats-Expected-Last-Subject-Sequence header) and the hash of its last
// event, which the next event chains to.
func (s *Store) sequenceOf(ctx context.Context, subject string, version int64) (uint64, string, error) {
	if version == 0 {
		return 0, "", nil
	}
	s.mu.Lock()
	p, ok := s.last[subject]
	s.mu.Unlock()
	if ok && p.version == version {
		return p.sequence, p.hash, nil
	}
	msg, err := s.lastMsg(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, "", domain.ErrVersionConflict.With("", "expected version %d, but %s has no events", version, subject)
	}
	if err != nil {
		return 0, "", fmt.Errorf("last message of %s: %w", subject, err)
	}
	got, err := strconv.ParseInt(msg.Header.Get(HeaderVersion), 10, 64)
	if err != nil {
		return 0, "", fmt.Errorf("%w: sequence %d has no valid %s header", ErrCorrupt, msg.Sequence, HeaderVersion)
	}
	p = position{version: got, sequence: msg.Sequence, hash: msg.Header.Get(HeaderHash)}
	s.remember(subject, p)
	if got != version {
		return 0, "", domain.ErrVersionConflict.With("", "expected version %d, the aggregate is at version %d", version, got)
	}
	return p.sequence, p.hash, nil
}

func (s *Store) remember(subject string, p position) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.last) > 100_000 { // a bound, not a cache policy: misses only cost a direct get
		clear(s.last)
	}
	if old, ok := s.last[subject]; !ok || old.sequence < p.sequence {
		s.last[subject] = p
	}
}

func (s *Store) forget(subject string) {
	s.mu.Lock()
	delete(s.last, subject)
	s.mu.Unlock()
}

// resultAt returns the result of the command stored at seq, for a retried
// command that JetStream recognised as a duplicate.
func (s *Store) resultAt(ctx context.Context, seq uint64) (domain.Result, string, error) {
	msg, err := s.stream.GetMsg(ctx, seq)
	if err != nil {
		return domain.Result{}, "", fmt.Errorf("load first result at sequence %d: %w", seq, err)
	}
	v, err := strconv.ParseInt(msg.Header.Get(HeaderVersion), 10, 64)
	if err != nil {
		return domain.Result{}, "", fmt.Errorf("%w: sequence %d has no valid %s header", ErrCorrupt, seq, HeaderVersion)
	}
	return domain.Result{
		AggregateType: msg.Header.Get(HeaderAggregateType),
		AggregateID:   msg.Header.Get(HeaderAggregateID),
		Version:       v,
		Sequence:      seq,
		Duplicate:     true,
	}, msg.Header.Get(HeaderHash), nil
}

// findCommand looks for the message of a command on a subject, reading
// headers only, and returns its result and its last event's hash.
func (s *Store) findCommand(ctx context.Context, subject, commandID string) (domain.Result, string, bool, error) {
	var found uint64
	err := s.eachMsg(ctx, subject, func(msg *jetstream.RawStreamMsg) error {
		if msg.Header.Get(HeaderCommandID) == commandID {
			found = msg.Sequence
		}
		return nil
	})
	if err != nil || found == 0 {
		return domain.Result{}, "", false, err
	}
	res, hash, err := s.resultAt(ctx, found)
	return res, hash, err == nil, err
}

// eachMsg feeds fn every message of one subject in order, with batched
// direct gets, then (on a replicated stream) from the leader whatever the
// answering replica did not hold yet.
func (s *Store) eachMsg(ctx context.Context, subject string, fn func(*jetstream.RawStreamMsg) error) error {
	return s.eachMsgAfter(ctx, subject, 0, fn)
}

// eachMsgAfter is eachMsg for the messages above stream sequence after.
func (s *Store) eachMsgAfter(ctx context.Context, subject string, after uint64, fn func(*jetstream.RawStreamMsg) error) error {
	// A command reads its aggregate and the facts it needs just before it
	// appends: a batch forming meanwhile waits for it as for an append
	// being prepared (bounded by gatherWait).
	prep := s.preparing()
	defer prep.done()
	next := after + 1
	for {
		more, err := s.gets.batch(ctx, subject, next, loadBatch, func(msg *jetstream.RawStreamMsg) error {
			next = msg.Sequence + 1
			return fn(msg)
		})
		if err != nil {
			return fmt.Errorf("read %s: %w", subject, err)
		}
		if !more {
			// A replicated stream's follower may lag: the leader has
			// the rest.
			return s.readTail(ctx, subject, next-1, fn)
		}
	}
}

// Load returns the events of one aggregate in version order. It reads only
// that aggregate's subject with batched direct gets, never scanning the
// stream.
func (s *Store) Load(ctx context.Context, aggregate, id string) ([]domain.Envelope, error) {
	subject, err := Subject(aggregate, id)
	if err != nil {
		return nil, err
	}
	var out []domain.Envelope
	err = s.eachMsg(ctx, subject, func(msg *jetstream.RawStreamMsg) error {
		envs, err := s.Decode(ctx, msg.Subject, msg.Sequence, msg.Data)
		if err != nil {
			return err
		}
		if want := int64(len(out)) + 1; envs[0].AggregateVersion != want {
			return fmt.Errorf("%w: sequence %d holds version %d where version %d belongs", ErrCorrupt, msg.Sequence, envs[0].AggregateVersion, want)
		}
		out = append(out, envs...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", subject, err)
	}
	if len(out) > 0 {
		last := out[len(out)-1]
		s.remember(subject, position{version: last.AggregateVersion, sequence: last.Sequence, hash: last.Hash})
	}
	return out, nil
}

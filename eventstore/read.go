package eventstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/kooperacje/kooperacje/domain"
)

// CommitFunc receives the events of one stored command, with the stream
// sequence of their message. A message that does not decode arrives with a
// nil slice and an error wrapping ErrCorrupt.
type CommitFunc = func(seq uint64, events []domain.Envelope, err error) error

// Read feeds fn every command stored from sequence from up to and
// including sequence to (0: the newest message at the time of the call),
// in stream order, through an ordered consumer: the fastest way to replay.
// It stops at the first error fn returns.
func (s *Store) Read(ctx context.Context, from, to uint64, fn CommitFunc) error {
	return s.ReadSelected(ctx, from, to, nil, true, fn)
}

// ReadSelected is Read for a reader that needs less than everything.
// With wants set, a message none of whose event types (its
// Koop-Event-Types header) wants accepts is not decoded: it reaches fn
// with no events and no error, read all the same. A message with a type
// this engine does not know is decoded anyway, so that the reader sees
// the unknown event (and can count it). With personal false, personal
// data is not opened: sealed texts keep their sealed form (never their
// plaintext) and sealed dates read as unset, for readers that count and
// do not show people, such as the evaluation's.
func (s *Store) ReadSelected(ctx context.Context, from, to uint64, wants func(eventType string) bool, personal bool, fn CommitFunc) error {
	if from == 0 {
		from = 1
	}
	if to == 0 {
		last, err := s.LastSequence(ctx)
		if err != nil {
			return err
		}
		to = last
	}
	if from > to {
		return nil
	}
	mode := personalOpen
	if !personal {
		mode = personalSealed
	}
	return s.readDecoded(ctx, from, to, wants, mode, fn)
}

// wanted reports whether a message with the Koop-Event-Types header types
// must be decoded for a reader that wants the types wants accepts.
func wanted(types string, wants func(string) bool) bool {
	if wants == nil || types == "" {
		return true
	}
	for types != "" {
		var t string
		t, types, _ = strings.Cut(types, ",")
		if wants(t) || domain.SchemaVersion(t) == 0 {
			return true
		}
	}
	return false
}

// readBatch is how many messages travel together from the reader through
// a decoder to the caller: one hand-over per batch, not per message.
const readBatch = 64

// batch is messages on their way from the reader through a decoder to
// the caller, who takes them in stream order.
type batch struct {
	msgs []decoded
	done chan struct{}
}

// decoded is one message of a batch.
type decoded struct {
	seq     uint64
	subject string
	data    []byte
	events  int  // how many events its header lists
	skip    bool // not wanted: not decoded
	envs    []domain.Envelope
	err     error
}

// readDecoded reads from..to with one goroutine, decodes on every core
// (decoding, not reading, is what replay spends its time on), and hands
// the commands to fn one at a time, in stream order.
func (s *Store) readDecoded(ctx context.Context, from, to uint64, wants func(string) bool, mode personalMode, fn CommitFunc) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	const window = 8 // batches on their way
	ordered := make(chan *batch, window)
	work := make(chan *batch, window)
	var readErr error
	go func() {
		defer close(ordered)
		defer close(work)
		b := &batch{msgs: make([]decoded, 0, readBatch), done: make(chan struct{})}
		send := func() error {
			for _, ch := range []chan *batch{work, ordered} {
				select {
				case ch <- b:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			b = &batch{msgs: make([]decoded, 0, readBatch), done: make(chan struct{})}
			return nil
		}
		readErr = s.consumeMsgs(ctx, from, to, func(seq uint64, msg jetstream.Msg) error {
			types := header(msg.Headers(), HeaderEventTypes)
			b.msgs = append(b.msgs, decoded{seq: seq, subject: msg.Subject(), data: msg.Data(),
				events: 1 + strings.Count(types, ","), skip: !wanted(types, wants)})
			if len(b.msgs) == readBatch || seq == to {
				return send()
			}
			return nil
		})
		if readErr == nil && len(b.msgs) > 0 {
			readErr = send()
		}
	}()
	open := s.opener(ctx)
	for range max(1, runtime.GOMAXPROCS(0)) {
		go func() {
			var c wireCommit
			for b := range work {
				// One array holds the envelopes of the whole batch; each
				// message gets its part of it.
				n := 0
				for _, d := range b.msgs {
					if !d.skip {
						n += d.events
					}
				}
				envs := make([]domain.Envelope, 0, n)
				for i := range b.msgs {
					d := &b.msgs[i]
					if d.skip {
						continue
					}
					start := len(envs)
					envs, d.err = decodeAppend(&c, envs, d.subject, d.seq, d.data, open, mode)
					if d.err == nil {
						d.envs = envs[start:len(envs):len(envs)]
					}
				}
				close(b.done)
			}
		}()
	}
	for b := range ordered {
		<-b.done
		for _, d := range b.msgs {
			if err := fn(d.seq, d.envs, d.err); err != nil {
				cancel()
				for range ordered { // let the reader stop
				}
				return err
			}
		}
	}
	if readErr != nil && !errors.Is(readErr, context.Canceled) {
		return readErr
	}
	return ctx.Err()
}

// Subscription is a live feed of the stream; Stop ends it.
type Subscription = interface {
	Stop()
}

// Subscribe feeds fn every command stored from sequence from on, as it
// arrives, through the durable consumer called name (created afresh at
// from, so the consumer's position always follows the caller's own
// checkpoint). fn is called from one goroutine at a time, in stream
// order; a caller must still ignore sequences it has applied and fill gaps
// with Read, as a durable consumer can redeliver after a reconnect.
func (s *Store) Subscribe(ctx context.Context, name string, from uint64, fn CommitFunc) (Subscription, error) {
	if err := s.js.DeleteConsumer(ctx, s.name, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, fmt.Errorf("reset consumer %s: %w", name, err)
	}
	cfg := jetstream.ConsumerConfig{
		Durable:           name,
		Description:       "Kooperacje projections",
		FilterSubject:     subjectPrefix + ".>",
		DeliverPolicy:     jetstream.DeliverAllPolicy,
		AckPolicy:         jetstream.AckExplicitPolicy,
		AckWait:           time.Minute,
		MaxAckPending:     10_000,
		InactiveThreshold: 7 * 24 * time.Hour,
	}
	if from > 1 {
		cfg.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		cfg.OptStartSeq = from
	}
	cons, err := s.js.CreateOrUpdateConsumer(ctx, s.name, cfg)
	if err != nil {
		return nil, fmt.Errorf("create consumer %s: %w", name, err)
	}
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		seq, err := streamSequence(msg)
		if err != nil {
			_ = msg.Term()
			return
		}
		envs, derr := s.Decode(context.Background(), msg.Subject(), seq, msg.Data())
		if err := fn(seq, envs, derr); err != nil {
			_ = msg.Nak()
			return
		}
		_ = msg.Ack()
	})
	if err != nil {
		return nil, fmt.Errorf("consume %s: %w", name, err)
	}
	return cc, nil
}

// Checkpoints keep the saved state of read models beside the stream, in a
// JetStream object store, so that a restart resumes without a full replay.
const checkpointBucket = "KOOP_PROJECTIONS"

func (s *Store) checkpoints(ctx context.Context) (jetstream.ObjectStore, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.obs != nil {
		return s.obs, nil
	}
	obs, err := s.js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      checkpointBucket,
		Description: "Kooperacje projection checkpoints",
		Storage:     jetstream.FileStorage,
		Replicas:    s.stream.CachedInfo().Config.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("checkpoint bucket: %w", err)
	}
	s.obs = obs
	return obs, nil
}

// BlobSealer seals whole blobs (the checkpoints of read models, which hold
// personal data) with a key of the engine; vault.Keyring implements it.
type BlobSealer interface {
	SealBlob(ctx context.Context, name string, data []byte) ([]byte, error)
	OpenBlob(ctx context.Context, name string, sealed []byte) ([]byte, error)
}

// SaveCheckpoint stores data under name, replacing what was there. With a
// protector that seals blobs, the stored checkpoint is sealed.
func (s *Store) SaveCheckpoint(ctx context.Context, name string, data []byte) error {
	obs, err := s.checkpoints(ctx)
	if err != nil {
		return err
	}
	if bs, ok := s.protector.(BlobSealer); ok {
		if data, err = bs.SealBlob(ctx, "checkpoint/"+name, data); err != nil {
			return fmt.Errorf("seal checkpoint %s: %w", name, err)
		}
	}
	if _, err := obs.PutBytes(ctx, name, data); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", name, err)
	}
	return nil
}

// LoadCheckpoint returns what SaveCheckpoint stored under name, or nil
// when nothing was.
func (s *Store) LoadCheckpoint(ctx context.Context, name string) ([]byte, error) {
	obs, err := s.checkpoints(ctx)
	if err != nil {
		return nil, err
	}
	r, err := obs.Get(ctx, name)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load checkpoint %s: %w", name, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("load checkpoint %s: %w", name, err)
	}
	if bs, ok := s.protector.(BlobSealer); ok {
		if b, err = bs.OpenBlob(ctx, "checkpoint/"+name, b); err != nil {
			return nil, fmt.Errorf("open checkpoint %s: %w", name, err)
		}
	}
	return b, nil
}

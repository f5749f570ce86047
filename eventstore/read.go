package eventstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
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
	return s.readDecoded(ctx, from, to, fn)
}

// decoded is a message on its way from the reader through a decoder to
// the caller, who takes them in stream order.
type decoded struct {
	seq     uint64
	subject string
	data    []byte
	envs    []domain.Envelope
	err     error
	done    chan struct{}
}

// readDecoded reads from..to with one goroutine, decodes on every core
// (decoding, not reading, is what replay spends its time on), and hands
// the commands to fn one at a time, in stream order.
func (s *Store) readDecoded(ctx context.Context, from, to uint64, fn CommitFunc) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	const window = 512
	ordered := make(chan *decoded, window)
	work := make(chan *decoded, window)
	var readErr error
	go func() {
		defer close(ordered)
		defer close(work)
		readErr = s.readRaw(ctx, from, to, func(seq uint64, subject string, data []byte) error {
			d := &decoded{seq: seq, subject: subject, data: data, done: make(chan struct{})}
			select {
			case work <- d:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case ordered <- d:
			case <-ctx.Done():
				return ctx.Err()
			}
			return nil
		})
	}()
	for range max(1, runtime.GOMAXPROCS(0)) {
		go func() {
			for d := range work {
				d.envs, d.err = s.Decode(ctx, d.subject, d.seq, d.data)
				close(d.done)
			}
		}()
	}
	for d := range ordered {
		<-d.done
		if err := fn(d.seq, d.envs, d.err); err != nil {
			cancel()
			for range ordered { // let the reader stop
			}
			return err
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
		md, err := msg.Metadata()
		if err != nil {
			_ = msg.Term()
			return
		}
		envs, derr := s.Decode(context.Background(), msg.Subject(), md.Sequence.Stream, msg.Data())
		if err := fn(md.Sequence.Stream, envs, derr); err != nil {
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

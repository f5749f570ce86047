package eventstore

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// AuditBucket keeps the stream-wide checkpoints: a running digest over
// every message, so that verify also notices messages removed or altered
// below the aggregates' own chains (a whole aggregate, the tail of one).
const AuditBucket = "KOOP_AUDIT"

// StreamCheckpoint is the digest of the stream's messages 1..Sequence.
type StreamCheckpoint struct {
	Sequence uint64    `json:"sequence"`
	Digest   string    `json:"digest"`
	At       time.Time `json:"at"`
}

// streamDigest folds one message into the running digest.
func streamDigest(key, prev []byte, seq uint64, subject string, data []byte) []byte {
	sum := sha256.Sum256(data)
	var m interface {
		Write([]byte) (int, error)
		Sum([]byte) []byte
	}
	if key != nil {
		m = hmac.New(sha256.New, key)
	} else {
		m = sha256.New()
	}
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], seq)
	m.Write(prev)
	m.Write(n[:])
	m.Write([]byte(subject))
	m.Write(sum[:])
	return m.Sum(nil)
}

func (s *Store) auditBucket(ctx context.Context) (jetstream.KeyValue, error) {
	kv, err := s.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      AuditBucket,
		Description: "Kooperacje stream-wide checkpoints (tamper evidence)",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    s.stream.CachedInfo().Config.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("audit bucket: %w", err)
	}
	return kv, nil
}

// Checkpoints returns the stored stream checkpoints, oldest first.
func (s *Store) Checkpoints(ctx context.Context) ([]StreamCheckpoint, error) {
	kv, err := s.auditBucket(ctx)
	if err != nil {
		return nil, err
	}
	lister, err := kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list checkpoints: %w", err)
	}
	var out []StreamCheckpoint
	for k := range lister.Keys() {
		if !strings.HasPrefix(k, "stream.") {
			continue
		}
		e, err := kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read checkpoint %s: %w", k, err)
		}
		var c StreamCheckpoint
		if err := json.Unmarshal(e.Value(), &c); err != nil {
			return nil, fmt.Errorf("%w: checkpoint %s", ErrCorrupt, k)
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Sequence < out[j].Sequence })
	return out, nil
}

// WriteCheckpoint records the digest of the whole stream as it is now,
// continuing from the newest checkpoint. It returns the checkpoint, or
// the newest one when nothing was stored since.
func (s *Store) WriteCheckpoint(ctx context.Context) (StreamCheckpoint, error) {
	key, err := s.chainKey(ctx)
	if err != nil {
		return StreamCheckpoint{}, err
	}
	cps, err := s.Checkpoints(ctx)
	if err != nil {
		return StreamCheckpoint{}, err
	}
	var from uint64 = 1
	var digest []byte
	var newest StreamCheckpoint
	if len(cps) > 0 {
		newest = cps[len(cps)-1]
		if digest, err = hex.DecodeString(newest.Digest); err != nil {
			return StreamCheckpoint{}, fmt.Errorf("%w: checkpoint %d", ErrCorrupt, newest.Sequence)
		}
		from = newest.Sequence + 1
	}
	last, err := s.LastSequence(ctx)
	if err != nil {
		return StreamCheckpoint{}, err
	}
	if last < from {
		return newest, nil
	}
	err = s.readRaw(ctx, from, last, func(seq uint64, subject string, data []byte) error {
		digest = streamDigest(key, digest, seq, subject, data)
		return nil
	})
	if err != nil {
		return StreamCheckpoint{}, err
	}
	cp := StreamCheckpoint{Sequence: last, Digest: hex.EncodeToString(digest), At: s.now().UTC()}
	kv, err := s.auditBucket(ctx)
	if err != nil {
		return StreamCheckpoint{}, err
	}
	b, _ := json.Marshal(cp)
	if _, err := kv.Put(ctx, "stream."+fmt.Sprintf("%020d", last), b); err != nil {
		return StreamCheckpoint{}, fmt.Errorf("write checkpoint: %w", err)
	}
	return cp, nil
}

// readRaw feeds fn the stored messages from..to (to ≥ from) as they are,
// without decoding, through an ordered consumer.
func (s *Store) readRaw(ctx context.Context, from, to uint64, fn func(seq uint64, subject string, data []byte) error) error {
	return s.readMsgs(ctx, from, to, func(seq uint64, msg jetstream.Msg) error {
		return fn(seq, msg.Subject(), msg.Data())
	})
}

// readInactive is how long the server keeps a one-off read's ordered
// consumer after its last pull: long enough for any pause of the reader,
// short enough that repeated replays (the evaluation page, say) do not
// pile consumers up on the server for the default five minutes.
const readInactive = 30 * time.Second

// readMsgs feeds fn the stored messages from..to (to ≥ from), headers
// and all, through an ordered consumer.
func (s *Store) readMsgs(ctx context.Context, from, to uint64, fn func(seq uint64, msg jetstream.Msg) error) error {
	cons, err := s.js.OrderedConsumer(ctx, s.name, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{subjectPrefix + ".>"}, DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: from,
		InactiveThreshold: readInactive,
	})
	if err != nil {
		return fmt.Errorf("read from %d: %w", from, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(1024))
	if err != nil {
		return fmt.Errorf("read from %d: %w", from, err)
	}
	defer it.Stop()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("read: %w", err)
		}
		seq, err := streamSequence(msg)
		if err != nil {
			return err
		}
		if seq > to {
			return nil
		}
		if err := fn(seq, msg); err != nil {
			return err
		}
		if seq == to {
			return nil
		}
	}
}

// consumeMsgs is readMsgs through a callback consumer: the NATS client
// hands each message to fn on its own goroutine, which costs less CPU a
// message than the iterator (no timer reset and channel hop per message),
// the difference replay feels. fn is called from one goroutine at a time,
// in stream order, and never after consumeMsgs returns.
func (s *Store) consumeMsgs(ctx context.Context, from, to uint64, fn func(seq uint64, msg jetstream.Msg) error) error {
	cons, err := s.js.OrderedConsumer(ctx, s.name, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{subjectPrefix + ".>"}, DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: from,
		InactiveThreshold: readInactive,
	})
	if err != nil {
		return fmt.Errorf("read from %d: %w", from, err)
	}
	var (
		mu       sync.Mutex // held while fn runs, so that finish waits for it
		finished bool
		result   error
		done     = make(chan struct{})
	)
	finishLocked := func(err error) {
		if !finished {
			finished, result = true, err
			close(done)
		}
	}
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		mu.Lock()
		defer mu.Unlock()
		if finished {
			return
		}
		seq, err := streamSequence(msg)
		switch {
		case err != nil:
			finishLocked(err)
		case seq > to:
			finishLocked(nil)
		default:
			if err := fn(seq, msg); err != nil {
				finishLocked(err)
			} else if seq == to {
				finishLocked(nil)
			}
		}
	}, jetstream.PullMaxMessages(1024), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		if errors.Is(err, jetstream.ErrConnectionClosed) {
			mu.Lock()
			finishLocked(fmt.Errorf("read: %w", err))
			mu.Unlock()
		}
	}))
	if err != nil {
		return fmt.Errorf("read from %d: %w", from, err)
	}
	closed := cc.Closed()
	select {
	case <-done:
	case <-closed:
	case <-ctx.Done():
	}
	cc.Stop()
	<-closed // no more calls of fn
	mu.Lock()
	defer mu.Unlock()
	switch {
	case finished:
		return result
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return fmt.Errorf("read from %d: the consumer stopped at an unknown point before %d", from, to)
}

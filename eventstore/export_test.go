package eventstore

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Hooks for the group-commit tests (compiled into tests only).

// HoldCommits keeps the committer from taking messages until release is
// called, so that the test can line up the contents of the next batch.
func HoldCommits(s *Store) (release func()) {
	s.gc.gate.Lock()
	return s.gc.gate.Unlock
}

// Queued returns how many messages wait for the committer.
func Queued(s *Store) int {
	s.gc.mu.Lock()
	defer s.gc.mu.Unlock()
	n := 0
	for _, p := range s.gc.queue {
		if !p.cancelled {
			n++
		}
	}
	return n
}

// SetMinBatch changes the fewest messages sent as a batch. Call it before
// the first Append.
func SetMinBatch(s *Store, n int) { s.gc.minBatch = n }

// SetLoadMaxBytes bounds the bytes of one direct-get batch of Load, so
// that the server ends batches early.
func SetLoadMaxBytes(s *Store, n int) { s.gets.maxBytes = n }

// PublishThroughCommitter sends msgs through a committer of its own on js,
// as concurrent appends do, taken together in one publish, and reports for
// each whether the committer gave it back to be published alone, and the
// error it answered with.
func PublishThroughCommitter(ctx context.Context, js jetstream.JetStream, msgs ...*nats.Msg) (alone []bool, errs []error) {
	c := newCommitter(js, "TEST", MinBatch, MaxBatch, true)
	defer c.close()
	c.gate.Lock() // let them all queue before the committer takes any
	alone, errs = make([]bool, len(msgs)), make([]error, len(msgs))
	var wg sync.WaitGroup
	for i, m := range msgs {
		wg.Go(func() {
			o, err := c.submit(ctx, m, 0, &preparation{once: true})
			alone[i], errs[i] = o.alone, err
			if err == nil {
				errs[i] = o.err
			}
		})
	}
	for {
		c.mu.Lock()
		n := len(c.queue)
		c.mu.Unlock()
		if n == len(msgs) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	c.gate.Unlock()
	wg.Wait()
	return alone, errs
}

// SetMemoryFS makes stores opened from now on stage batches in dir as if
// it were a memory file system ("": none), until restore is called.
func SetMemoryFS(dir string) (restore func()) {
	old := memoryFS
	memoryFS = func() string { return dir }
	return func() { memoryFS = old }
}

// Crash stops s as a killed process stops: connections dropped, the
// embedded server shut down, nothing tidied (the batches' staging stays).
func Crash(s *Store) {
	s.gc.close()
	s.wnc.Close()
	s.nc.Close()
	s.emb.srv.Shutdown()
	s.emb.srv.WaitForShutdown()
}

// LoseBatchAnswers makes the answers of the next n stored batches count as
// lost, as when the stream leader goes right after storing them.
func LoseBatchAnswers(n int) (restore func()) {
	var left atomic.Int64
	left.Store(int64(n))
	testHookLoseBatchAnswer = func() bool { return left.Add(-1) >= 0 }
	return func() { testHookLoseBatchAnswer = nil }
}

// SendsAhead reports whether the store's committer sends forming batches
// to the server ahead of their commit.
func SendsAhead(s *Store) bool { return s.gc.streams }

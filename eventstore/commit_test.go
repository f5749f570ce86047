package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
)

// The group-commit tests line up concurrent appends behind a held
// committer (eventstore.HoldCommits) so that a batch's contents are known,
// then check each append's answer, the stored messages and the hash chains.

// appendCall is one Append to run concurrently.
type appendCall struct {
	id       string
	expected int64
	meta     domain.Meta
}

type appendAnswer struct {
	res domain.Result
	err error
}

// appendHeld queues calls behind a held committer, waits until all are
// queued, then lets the committer take them and returns their answers.
func appendHeld(t *testing.T, s *eventstore.Store, calls []appendCall) []appendAnswer {
	t.Helper()
	ctx := context.Background()
	release := eventstore.HoldCommits(s)
	out := make([]appendAnswer, len(calls))
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Go(func() {
			res, err := s.Append(ctx, domain.AggregateInstitution, c.id, c.expected, c.meta, worker("w"))
			out[i] = appendAnswer{res, err}
		})
	}
	require.Eventually(t, func() bool { return eventstore.Queued(s) == len(calls) }, 10*time.Second, time.Millisecond)
	release()
	wg.Wait()
	return out
}

// newAggregates creates n institutions, one command each, and returns
// their ids.
func newAggregates(t *testing.T, s *eventstore.Store, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = domain.NewID()
		_, err := s.Append(context.Background(), domain.AggregateInstitution, ids[i], 0, meta(), institution("I"))
		require.NoError(t, err)
	}
	return ids
}

// secondCommands are the appends of a second command on each aggregate
// (expected version 1), each with a command id of its own.
func secondCommands(ids []string) []appendCall {
	calls := make([]appendCall, len(ids))
	for i, id := range ids {
		calls[i] = appendCall{id: id, expected: 1, meta: meta()}
	}
	return calls
}

// requireStoredAt checks that the message at each result's sequence is
// that command's, on that aggregate, at that version.
func requireStoredAt(t *testing.T, s *eventstore.Store, res domain.Result, commandID string) {
	t.Helper()
	stream, err := s.JetStream().Stream(context.Background(), s.StreamName())
	require.NoError(t, err)
	msg, err := stream.GetMsg(context.Background(), res.Sequence)
	require.NoError(t, err)
	assert.Equal(t, commandID, msg.Header.Get(eventstore.HeaderCommandID), "sequence %d", res.Sequence)
	assert.Equal(t, res.AggregateID, msg.Header.Get(eventstore.HeaderAggregateID), "sequence %d", res.Sequence)
	assert.Equal(t, strconv.FormatInt(res.Version, 10), msg.Header.Get(eventstore.HeaderVersion), "sequence %d", res.Sequence)
}

func requireChainsVerify(t *testing.T, s *eventstore.Store, messages uint64) {
	t.Helper()
	rep, err := s.Verify(context.Background(), nil)
	require.NoError(t, err)
	require.Nil(t, rep.Broken, "%+v", rep.Broken)
	assert.Equal(t, messages, rep.Messages)
}

func TestALoneAppendIsAPlainPublish(t *testing.T) {
	s := open(t, "")
	_, err := s.Append(context.Background(), domain.AggregateInstitution, domain.NewID(), 0, meta(), institution("A"))
	require.NoError(t, err)
	st := s.CommitStats()
	assert.Equal(t, uint64(1), st.Single)
	assert.Zero(t, st.Batches)
}

func TestWaitingAppendsShareOneBatch(t *testing.T) {
	s := open(t, "")
	ids := newAggregates(t, s, 20)
	calls := secondCommands(ids)
	before := s.CommitStats()
	answers := appendHeld(t, s, calls)
	seqs := map[uint64]bool{}
	for i, a := range answers {
		require.NoError(t, a.err)
		assert.Equal(t, int64(2), a.res.Version)
		assert.False(t, a.res.Duplicate)
		requireStoredAt(t, s, a.res, calls[i].meta.CommandID)
		seqs[a.res.Sequence] = true
	}
	assert.Len(t, seqs, len(calls), "every command has its own sequence")
	st := s.CommitStats()
	assert.Equal(t, before.Batches+1, st.Batches, "one batch")
	assert.Equal(t, before.Batched+uint64(len(calls)), st.Batched)
	// The cached positions of a batch are right: the next appends chain on.
	for _, id := range ids {
		_, err := s.Append(context.Background(), domain.AggregateInstitution, id, 2, meta(), worker("next"))
		require.NoError(t, err)
	}
	requireChainsVerify(t, s, 60)
}

// TestBatchIsStoredConsecutively checks the assumption the committer
// derives its sequences from: the messages of an atomic batch are stored
// one after the other, the last at the acknowledged sequence, even while
// other clients publish plain messages.
func TestBatchIsStoredConsecutively(t *testing.T) {
	ctx := context.Background()
	s := open(t, "")
	js := s.JetStream()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_, err := js.Publish(ctx, fmt.Sprintf("koop.noise.%d", w), []byte("x"))
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	stream, err := js.Stream(ctx, s.StreamName())
	require.NoError(t, err)
	for b := range 20 {
		msgs := make([]*nats.Msg, 10)
		for i := range msgs {
			msgs[i] = nats.NewMsg(fmt.Sprintf("koop.batch.%d", i))
			msgs[i].Data = []byte(strings.Repeat("y", 100))
			msgs[i].Header.Set("Test-Index", fmt.Sprintf("%d/%d", b, i))
		}
		ack, err := jetstreamext.PublishMsgBatch(ctx, js, msgs)
		require.NoError(t, err)
		require.Equal(t, uint64(len(msgs)), ack.BatchSize)
		for i := range msgs {
			got, err := stream.GetMsg(ctx, ack.Sequence-uint64(len(msgs)-1-i))
			require.NoError(t, err)
			require.Equal(t, fmt.Sprintf("%d/%d", b, i), got.Header.Get("Test-Index"))
		}
	}
	close(stop)
	wg.Wait()
	last, err := s.LastSequence(ctx)
	require.NoError(t, err)
	assert.Greater(t, last, uint64(200), "the noise publishers interleaved with the batches")
}

// A second store on the same server writes behind the first store's back,
// so that the first one's cached position (and so its expected sequence)
// is stale when its message goes into a batch.
func openSecond(t *testing.T, s *eventstore.Store) *eventstore.Store {
	t.Helper()
	s2, err := eventstore.Open(context.Background(), eventstore.Options{URL: s.ClientURL(), NKeyFile: s.NKeyPath(), Replicas: 1, Name: "second"})
	require.NoError(t, err)
	t.Cleanup(s2.Close)
	return s2
}

func TestABatchWithAStaleExpectationFallsBackOneByOne(t *testing.T) {
	tests := []struct {
		name     string
		minBatch int
	}{
		{"in an atomic batch", 2},
		{"in a run of plain publishes", 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s, err := eventstore.Open(ctx, eventstore.Options{DataDir: t.TempDir(), Listen: "127.0.0.1:0"})
			require.NoError(t, err)
			t.Cleanup(s.Close)
			eventstore.SetMinBatch(s, tt.minBatch)
			ids := newAggregates(t, s, 6)
			// The first store caches ids[0] at version 1; the second moves it to 2.
			_, err = openSecond(t, s).Append(ctx, domain.AggregateInstitution, ids[0], 1, meta(), worker("elsewhere"))
			require.NoError(t, err)

			calls := secondCommands(ids)
			before := s.CommitStats()
			answers := appendHeld(t, s, calls)
			require.ErrorIs(t, answers[0].err, domain.ErrVersionConflict, "the stale command gets its own conflict")
			for i, a := range answers[1:] {
				require.NoError(t, a.err, "command %d", i+1)
				assert.Equal(t, int64(2), a.res.Version)
				requireStoredAt(t, s, a.res, calls[i+1].meta.CommandID)
			}
			st := s.CommitStats()
			if tt.minBatch <= len(calls) {
				assert.Equal(t, before.Refused+1, st.Refused, "the batch was refused whole")
				assert.Equal(t, before.Retried+uint64(len(calls)), st.Retried, "and its messages published one by one")
				assert.Equal(t, before.Batches, st.Batches)
			} else {
				assert.Equal(t, before.Single+uint64(len(calls)), st.Single)
				assert.Equal(t, before.Refused, st.Refused)
			}
			requireChainsVerify(t, s, 6+1+5)
		})
	}
}

func TestDuplicatesInsideAndAcrossBatches(t *testing.T) {
	ctx := context.Background()
	s := open(t, "")
	eventstore.SetMinBatch(s, 2)
	ids := newAggregates(t, s, 8)

	// Inside: the same command twice in the queue (a client retrying while
	// its first try waits). Only one can go into the batch; the other
	// answers with the first result.
	retried := meta()
	calls := []appendCall{{ids[0], 1, retried}, {ids[0], 1, retried}}
	for _, id := range ids[1:4] {
		calls = append(calls, appendCall{id, 1, meta()})
	}
	answers := appendHeld(t, s, calls)
	for i, a := range answers {
		require.NoError(t, a.err, "call %d", i)
	}
	assert.Equal(t, answers[0].res.Sequence, answers[1].res.Sequence, "both tries answer the one stored message")
	assert.Equal(t, int64(2), answers[1].res.Version)
	assert.True(t, answers[0].res.Duplicate != answers[1].res.Duplicate, "exactly one is the duplicate")
	requireStoredAt(t, s, answers[0].res, retried.CommandID)
	last, err := s.LastSequence(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(8+4), last, "the retry wrote nothing")

	// Across: a command stored by an earlier batch comes again with
	// others. JetStream refuses the batch for the known message id; each
	// message is then published alone: the retry answers the first result,
	// the others are stored.
	first := answers[2]
	calls = []appendCall{{ids[1], 2, calls[2].meta}}
	for _, id := range ids[4:8] {
		calls = append(calls, appendCall{id, 1, meta()})
	}
	before := s.CommitStats()
	answers = appendHeld(t, s, calls)
	for i, a := range answers {
		require.NoError(t, a.err, "call %d", i)
	}
	assert.True(t, answers[0].res.Duplicate)
	assert.Equal(t, first.res.Sequence, answers[0].res.Sequence)
	assert.Equal(t, first.res.Version, answers[0].res.Version)
	for i, a := range answers[1:] {
		assert.False(t, a.res.Duplicate)
		requireStoredAt(t, s, a.res, calls[i+1].meta.CommandID)
	}
	st := s.CommitStats()
	assert.Equal(t, before.Refused+1, st.Refused, "the batch was refused for the known message id")
	requireChainsVerify(t, s, 8+4+4)
}

func TestACancelledWaitingAppendWritesNothing(t *testing.T) {
	s := open(t, "")
	ids := newAggregates(t, s, 3)
	release := eventstore.HoldCommits(s)
	// One append queued behind the held committer keeps it from taking.
	var wg sync.WaitGroup
	var other error
	wg.Go(func() {
		_, other = s.Append(context.Background(), domain.AggregateInstitution, ids[0], 1, meta(), worker("w"))
	})
	require.Eventually(t, func() bool { return eventstore.Queued(s) == 1 }, 10*time.Second, time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := s.Append(ctx, domain.AggregateInstitution, ids[1], 1, meta(), worker("w"))
		done <- err
	}()
	require.Eventually(t, func() bool { return eventstore.Queued(s) == 2 }, 10*time.Second, time.Millisecond)
	cancel()
	err := <-done
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, eventstore.Queued(s), "the cancelled append left the queue")
	release()
	wg.Wait()
	require.NoError(t, other)
	envs, err := s.Load(context.Background(), domain.AggregateInstitution, ids[1])
	require.NoError(t, err)
	assert.Len(t, envs, 1, "nothing of the cancelled command was stored")
	// The aggregate is still at version 1: the command can be sent again.
	_, err = s.Append(context.Background(), domain.AggregateInstitution, ids[1], 1, meta(), worker("w"))
	require.NoError(t, err)
}

// TestConcurrentAppendsOnDistinctAggregates: many clients, each on its own
// aggregate, through the group commit; every command is stored once, at
// the sequence it was told, and every chain verifies.
func TestConcurrentAppendsOnDistinctAggregates(t *testing.T) {
	s := open(t, "")
	eventstore.SetMinBatch(s, 2)
	const clients, each = 32, 15
	type done struct {
		res domain.Result
		cmd string
	}
	results := make([][]done, clients)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			id := domain.NewID()
			for v := range int64(each) {
				m := meta()
				res, err := s.Append(context.Background(), domain.AggregateInstitution, id, v, m, worker("w"))
				if err != nil {
					t.Error(err)
					return
				}
				results[c] = append(results[c], done{res, m.CommandID})
			}
		})
	}
	wg.Wait()
	seqs := map[uint64]bool{}
	for _, rs := range results {
		require.Len(t, rs, each)
		for i, r := range rs {
			assert.Equal(t, int64(i+1), r.res.Version)
			requireStoredAt(t, s, r.res, r.cmd)
			seqs[r.res.Sequence] = true
		}
	}
	assert.Len(t, seqs, clients*each)
	assert.Positive(t, s.CommitStats().Batches, "some appends shared a batch")
	requireChainsVerify(t, s, clients*each)
}

// TestConcurrentAppendsOnSharedAggregates: clients race on a few
// aggregates, reloading and retrying on conflicts. Every append gets
// exactly one answer; the stored commands are exactly the successful ones,
// each once; the chains verify.
func TestConcurrentAppendsOnSharedAggregates(t *testing.T) {
	ctx := context.Background()
	s := open(t, "")
	eventstore.SetMinBatch(s, 2)
	ids := newAggregates(t, s, 4)
	const clients, each = 16, 6
	var mu sync.Mutex
	stored := map[string]domain.Result{} // command id → result
	conflicts := 0
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			id := ids[c%len(ids)]
			for range each {
				m := meta()
				for {
					envs, err := s.Load(ctx, domain.AggregateInstitution, id)
					if err != nil {
						t.Error(err)
						return
					}
					res, err := s.Append(ctx, domain.AggregateInstitution, id, int64(len(envs)), m, worker("w"))
					if errors.Is(err, domain.ErrVersionConflict) {
						mu.Lock()
						conflicts++
						mu.Unlock()
						continue // a new decision on the new version, same command
					}
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					if prev, ok := stored[m.CommandID]; ok && prev.Sequence != res.Sequence {
						t.Errorf("command %s stored at %d and %d", m.CommandID, prev.Sequence, res.Sequence)
					}
					stored[m.CommandID] = res
					mu.Unlock()
					break
				}
			}
		})
	}
	wg.Wait()
	require.Len(t, stored, clients*each, "every command stored")
	t.Logf("%d conflicts, %+v", conflicts, s.CommitStats())
	seen := map[string]bool{}
	total := 0
	for _, id := range ids {
		envs, err := s.Load(ctx, domain.AggregateInstitution, id)
		require.NoError(t, err)
		for _, e := range envs[1:] {
			require.False(t, seen[e.CommandID], "command %s stored twice", e.CommandID)
			seen[e.CommandID] = true
			res, ok := stored[e.CommandID]
			require.True(t, ok, "a stored command nobody was told about: %s", e.CommandID)
			assert.Equal(t, e.Sequence, res.Sequence)
			assert.Equal(t, e.AggregateVersion, res.Version)
		}
		total += len(envs)
	}
	assert.Equal(t, len(ids)+clients*each, total)
	requireChainsVerify(t, s, uint64(total))
}

func TestStreamAllowsAtomicBatches(t *testing.T) {
	s := open(t, "")
	stream, err := s.JetStream().Stream(context.Background(), s.StreamName())
	require.NoError(t, err)
	assert.True(t, stream.CachedInfo().Config.AllowAtomicPublish)
	var _ jetstream.StreamConfig = eventstore.StreamConfig("X", 1, time.Minute)
}

// TestAStreamWithoutAtomicPublish: if the stream refuses atomic batches
// (an older stream, or one changed by hand), the refused batch is answered
// one by one and the committer stops batching; opening the store again
// re-enables atomic publish on the existing stream.
func TestAStreamWithoutAtomicPublish(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	eventstore.SetMinBatch(s, 2)
	cfg := eventstore.StreamConfig(s.StreamName(), 1, eventstore.DefaultDuplicates)
	cfg.AllowAtomicPublish = false
	_, err := s.JetStream().UpdateStream(ctx, cfg)
	require.NoError(t, err)

	ids := newAggregates(t, s, 4)
	calls := secondCommands(ids)
	for i, a := range appendHeld(t, s, calls) {
		require.NoError(t, a.err)
		requireStoredAt(t, s, a.res, calls[i].meta.CommandID)
	}
	st := s.CommitStats()
	assert.Equal(t, uint64(1), st.Refused, "the one batch tried was refused")
	assert.Zero(t, st.Batches)
	for i := range calls {
		calls[i].expected, calls[i].meta = 2, meta()
	}
	for _, a := range appendHeld(t, s, calls) {
		require.NoError(t, a.err)
	}
	assert.Equal(t, uint64(1), s.CommitStats().Refused, "no batch is tried again")
	s.Close()

	s2 := open(t, dir)
	stream, err := s2.JetStream().Stream(ctx, s2.StreamName())
	require.NoError(t, err)
	assert.True(t, stream.CachedInfo().Config.AllowAtomicPublish, "Open updates the existing stream")
}

// A publish in flight when the committer's connection drops gets no
// answer: the committer gives it up at once (not at its timeout) and hands
// the messages back to their appends, which publish them again; alone, and
// as a handful published back to back.
func TestCommitterGivesUpAPublishOnALostConnection(t *testing.T) {
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	require.NoError(t, err)
	go srv.Start()
	require.True(t, srv.ReadyForConnections(5*time.Second))
	t.Cleanup(srv.Shutdown)

	// A plain subscriber takes the publishes and never answers, as a
	// server that dies before its acknowledgement.
	listener, err := nats.Connect(srv.ClientURL())
	require.NoError(t, err)
	t.Cleanup(listener.Close)
	received := make(chan struct{}, 100)
	_, err = listener.Subscribe("koop.family.>", func(*nats.Msg) { received <- struct{}{} })
	require.NoError(t, err)
	require.NoError(t, listener.Flush())

	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprintf("messages=%d", n), func(t *testing.T) {
			nc, err := nats.Connect(srv.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
			require.NoError(t, err)
			t.Cleanup(nc.Close)
			js, err := jetstream.New(nc)
			require.NoError(t, err)
			msgs := make([]*nats.Msg, n)
			for i := range msgs {
				msgs[i] = nats.NewMsg(fmt.Sprintf("koop.family.lost%d-%d", n, i))
				msgs[i].Data = []byte(`{}`)
				msgs[i].Header.Set(nats.MsgIdHdr, fmt.Sprintf("lost-%d-%d", n, i))
			}
			type result struct {
				alone []bool
				errs  []error
				took  time.Duration
			}
			done := make(chan result, 1)
			go func() {
				start := time.Now()
				alone, errs := eventstore.PublishThroughCommitter(context.Background(), js, msgs...)
				done <- result{alone, errs, time.Since(start)}
			}()
			for range n {
				select {
				case <-received:
				case <-time.After(5 * time.Second):
					t.Fatal("a publish never reached the server")
				}
			}
			id, err := nc.GetClientID()
			require.NoError(t, err)
			require.NoError(t, srv.DisconnectClientByID(id))
			select {
			case r := <-done:
				for i := range n {
					require.NoError(t, r.errs[i], "message %d", i)
					assert.True(t, r.alone[i], "message %d goes back to its append to be published again", i)
				}
				assert.Less(t, r.took, 1500*time.Millisecond, "given up before the committer's timeout")
			case <-time.After(8 * time.Second):
				t.Fatal("the publish on the lost connection was not given up")
			}
		})
	}
}

// A group commit that stored its batch but whose answer was lost (a
// stream leader gone right after storing it) sends its messages back to
// their appends; each meets its own stored message and answers it as a
// first write, not as a duplicate, and nothing is stored twice. A retry
// of the command afterwards is the duplicate.
func TestALostBatchAnswerIsAFirstWrite(t *testing.T) {
	s := open(t, "")
	ids := newAggregates(t, s, 10)
	calls := secondCommands(ids)
	before := s.CommitStats()
	defer eventstore.LoseBatchAnswers(1)()
	answers := appendHeld(t, s, calls)
	for i, a := range answers {
		require.NoError(t, a.err)
		assert.False(t, a.res.Duplicate, "append %d wrote its command", i)
		assert.Equal(t, int64(2), a.res.Version)
		requireStoredAt(t, s, a.res, calls[i].meta.CommandID)
		envs, err := s.Load(context.Background(), domain.AggregateInstitution, ids[i])
		require.NoError(t, err)
		require.Len(t, envs, 2, "stored once")
	}
	st := s.CommitStats()
	assert.Equal(t, before.GivenUp+uint64(len(ids)), st.GivenUp, "the stored batch's answer counted as lost")

	again, err := s.Append(context.Background(), domain.AggregateInstitution, ids[0], 1, calls[0].meta, worker("w"))
	require.NoError(t, err)
	assert.True(t, again.Duplicate, "a retry of the command is the duplicate")
	assert.Equal(t, answers[0].res.Sequence, again.Sequence)
}

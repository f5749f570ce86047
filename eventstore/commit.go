package eventstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"
)

// Bounds of one group commit (see docs/decisions/0007-group-commit.md).
const (
	// MaxBatch is the most messages one atomic batch carries. The server
	// accepts up to 1,000; past 100 a larger batch gains little and a
	// refused batch costs more to fall back from.
	MaxBatch = 100
	// MinBatch is the fewest messages sent as an atomic batch. On a single
	// server with file storage JetStream stages each batch in a file store
	// of its own, which costs about as much as ten plain publishes on disk
	// (measured: ~2.3–3.5 ms against ~0.24 ms) and three in memory (~0.7 ms,
	// decision 0010); fewer messages go out as plain publishes, one after
	// the other without waiting in between.
	MinBatch = 8
	// maxBatchBytes bounds the bodies of one batch, which the server
	// stages until the commit.
	maxBatchBytes = 8 << 20
	// commitDepth is how many publishes (batches or lone messages) may be
	// in flight at once: the next batch forms while one is being stored.
	commitDepth = 1
	// commitTimeout bounds one publish of the committer, which does not
	// run under any caller's context. A publish without an answer by then
	// (sent to a stream leader that has just gone, say) is given up and its
	// messages go back to their appends, which publish them again under
	// their callers' contexts: their message ids and expected sequences
	// keep one that was stored after all from being stored twice.
	commitTimeout = 2 * time.Second
	// gatherWait bounds how long the committer waits for appends being
	// prepared before it sends a batch.
	gatherWait = 2 * time.Millisecond
	// gatherQuiet ends the wait early when no append is being prepared
	// and none has been queued for this long: the demand has dropped.
	gatherQuiet = 300 * time.Microsecond
)

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("eventstore: store closed")

// CommitStats counts how the store's appends reached JetStream since Open.
type CommitStats struct {
	// Single is the number of messages published on their own, because no
	// other was waiting (or group commit is off).
	Single uint64 `json:"single"`
	// Batches is the number of atomic batches stored, Batched the number of
	// messages in them.
	Batches uint64 `json:"batches"`
	Batched uint64 `json:"batched"`
	// Refused is the number of batches the server refused whole (a stale
	// expected sequence, an already stored message id, or any other error);
	// Retried is the number of messages then published one by one to get
	// each its own answer.
	Refused uint64 `json:"refused"`
	Retried uint64 `json:"retried"`
	// Stale is the number of messages the committer kept out of a batch
	// because a message it had just stored on the same subject made their
	// expected sequence certainly stale; each is published on its own.
	Stale uint64 `json:"stale"`
	// GivenUp is the number of messages whose publish lost the
	// committer's connection or had no answer within its timeout (a stream
	// leader gone, a stalled disk); each went back to its append, which
	// published it again.
	GivenUp uint64 `json:"given_up"`
}

// committer is the group commit of Append: concurrent appends queue their
// prepared message, and one goroutine sends whatever is waiting as a single
// JetStream atomic batch (one fsync for all), or a lone message as a plain
// publish.
type committer struct {
	js   jetstream.JetStream
	name string

	// gate is held by the committer while it takes a batch; tests hold it
	// to let messages gather.
	gate sync.Mutex

	mu        sync.Mutex
	queue     []*pending
	inflight  map[string]bool   // subjects of the publishes in flight
	committed map[string]uint64 // subject → sequence the committer last stored on it
	closed    bool

	wake    chan struct{} // a message was queued or a publish finished
	slots   chan struct{} // one token per publish in flight
	stop    chan struct{}
	done    chan struct{}
	wg      sync.WaitGroup // publishes in flight
	noBatch atomic.Bool    // the server refuses atomic batches: publish one by one
	// preparing counts the appends between their start and their message's
	// queueing, so the committer knows more are coming.
	preparing atomic.Int64
	single    atomic.Uint64
	batches   atomic.Uint64
	batched   atomic.Uint64
	refused   atomic.Uint64
	retried   atomic.Uint64
	stale     atomic.Uint64
	givenUp   atomic.Uint64
	maxBatch  int
	minBatch  int
	// streams says whether a forming batch is sent ahead (stream): not
	// where the server stages batches on disk, which makes a round that
	// ends small cost several fsyncs (decision 0010).
	streams bool
	// demand is how many messages took part in the last round: the last
	// publish and those left queued behind it (guarded by mu).
	demand int

	// lost is closed when the committer's connection drops, and replaced:
	// a publish in flight on a dropped connection gets no answer, so it
	// is given up at once rather than at commitTimeout, and its messages
	// go back to their appends, which publish them again (their message
	// ids keep a stored one from being stored twice).
	lostMu sync.Mutex
	lost   chan struct{}
	status chan nats.Status
}

// pending is one Append waiting for the committer.
type pending struct {
	msg      *nats.Msg // carries Nats-Msg-Id and the expected subject sequence
	subject  string
	msgID    string
	expected uint64
	size     int
	out      chan outcome // buffered: the committer never waits for the caller

	// guarded by committer.mu
	taken, cancelled bool
}

// outcome is the committer's answer to one pending message.
type outcome struct {
	seq       uint64
	duplicate bool
	err       error // from a plain publish, for Append to interpret
	// alone says the message was not stored by the committer (its batch
	// was refused, or its expectation is known to be stale): the caller
	// publishes it on its own to get its exact answer.
	alone bool
}

func newCommitter(js jetstream.JetStream, name string, minBatch, maxBatch int, streams bool) *committer {
	c := &committer{
		js:        js,
		name:      name,
		inflight:  map[string]bool{},
		committed: map[string]uint64{},
		wake:      make(chan struct{}, 1),
		slots:     make(chan struct{}, commitDepth),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
		maxBatch:  maxBatch,
		minBatch:  minBatch,
		streams:   streams,
		lost:      make(chan struct{}),
	}
	if nc := js.Conn(); nc != nil {
		c.status = nc.StatusChanged(nats.DISCONNECTED, nats.RECONNECTING, nats.CLOSED)
		go c.watch()
	}
	go c.run()
	return c
}

// watch closes lost whenever the connection drops.
func (c *committer) watch() {
	for range c.status {
		c.lostMu.Lock()
		close(c.lost)
		c.lost = make(chan struct{})
		c.lostMu.Unlock()
	}
}

// publishContext bounds one publish by commitTimeout and ends it when the
// connection drops; gone reports whether it did.
func (c *committer) publishContext() (ctx context.Context, cancel context.CancelFunc, gone func() bool) {
	c.lostMu.Lock()
	lost := c.lost
	c.lostMu.Unlock()
	ctx, cancel = context.WithTimeout(context.Background(), commitTimeout)
	go func() {
		select {
		case <-lost:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel, func() bool {
		select {
		case <-lost:
			return true
		default:
			return false
		}
	}
}

// submit queues msg and waits for its outcome. If ctx ends while the
// message is still queued, it is withdrawn and nothing is written; once
// the committer has taken it, submit waits for the server's answer (bounded
// by commitTimeout), so the caller learns what was stored.
func (c *committer) submit(ctx context.Context, msg *nats.Msg, expected uint64, prep *preparation) (outcome, error) {
	p := &pending{
		msg:      msg,
		subject:  msg.Subject,
		msgID:    msg.Header.Get(nats.MsgIdHdr),
		expected: expected,
		size:     len(msg.Data),
		out:      make(chan outcome, 1),
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return outcome{}, ErrClosed
	}
	if c.idle(p) {
		// Nothing waits and nothing is in flight: publish from this
		// goroutine, sparing a lone client two hand-offs. The slot taken
		// makes later appends queue for the next batch meanwhile.
		c.inflight[p.subject] = true
		c.wg.Add(1) // under mu, so that close waits for it
		prep.done()
		c.mu.Unlock()
		defer c.wg.Done()
		c.publish([]*pending{p})
		c.release([]*pending{p})
		return <-p.out, nil
	}
	c.queue = append(c.queue, p)
	prep.done()
	c.mu.Unlock()
	c.signal()
	select {
	case o := <-p.out:
		return o, nil
	case <-ctx.Done():
		c.mu.Lock()
		if !p.taken {
			p.cancelled = true
			c.mu.Unlock()
			return outcome{}, fmt.Errorf("wait to publish to %s: %w", p.subject, ctx.Err())
		}
		c.mu.Unlock()
		return <-p.out, nil
	}
}

func (c *committer) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *committer) run() {
	defer close(c.done)
	for {
		select {
		case <-c.wake:
		case <-c.stop:
			return
		}
		for {
			select {
			case c.slots <- struct{}{}:
			case <-c.stop:
				return
			}
			c.mu.Lock()
			streaming := c.streams && c.demand >= c.minBatch
			c.mu.Unlock()
			if streaming && !c.noBatch.Load() {
				if c.stream() {
					continue
				}
				break // nothing came: wait for the next message
			}
			c.gather()
			c.gate.Lock()
			var f forming
			_, alone, _ := c.take(&f)
			batch := f.batch
			c.endRound(len(batch))
			c.gate.Unlock()
			for _, p := range alone {
				p.out <- outcome{alone: true}
			}
			if len(batch) == 0 {
				<-c.slots
				break
			}
			c.wg.Add(1)
			go func() {
				defer c.wg.Done()
				c.publish(batch)
				c.release(batch)
			}()
		}
	}
}

// idle reports whether p can be published at once by its own goroutine:
// no message waits, no publish is in flight (it then takes the slot), its
// expectation is not known to be stale, and no test holds the committer.
// c.mu is held.
func (c *committer) idle(p *pending) bool {
	if len(c.queue) > 0 || c.inflight[p.subject] || p.expected < c.committed[p.subject] || !c.gate.TryLock() {
		return false
	}
	defer c.gate.Unlock()
	select {
	case c.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// release ends a publish: its subjects and its slot are free again.
func (c *committer) release(batch []*pending) {
	c.mu.Lock()
	for _, p := range batch {
		delete(c.inflight, p.subject)
	}
	c.mu.Unlock()
	<-c.slots
	c.signal()
}

// gather waits, briefly, for the appends being prepared when a batch is
// forming anyway (two or more messages waiting): under load the commands
// released by the last batch come back within a fraction of its time, and
// one larger batch costs less than two (each atomic batch has a fixed
// cost of several fsyncs on the server). It waits until as many messages
// wait as took part in the last round (the last publish and those left
// queued behind it) and none is being prepared; or, with none being
// prepared, none has been queued for gatherQuiet; or gatherWait has
// passed. A lone message never waits.
func (c *committer) gather() {
	start := time.Now()
	last, lastN := start, -1
	for {
		c.mu.Lock()
		n, demand := len(c.queue), c.demand
		c.mu.Unlock()
		now := time.Now()
		if n != lastN {
			last, lastN = now, n
		}
		if n < 2 || c.gathered(n, demand, start, last) || c.pause() {
			return
		}
	}
}

// gathered reports whether a round of n messages should go now: full,
// its demand in with nothing more being prepared, or waited for long
// enough (gatherWait since start, gatherQuiet since the last change of
// the queue at last with nothing being prepared).
func (c *committer) gathered(n, demand int, start, last time.Time) bool {
	now, preparing := time.Now(), c.preparing.Load()
	return n >= c.maxBatch || n >= demand && preparing == 0 ||
		now.Sub(start) >= gatherWait || now.Sub(last) >= gatherQuiet && preparing == 0
}

// pause waits for a queued message, briefly, and reports whether the
// committer is stopping.
func (c *committer) pause() (stopping bool) {
	t := time.NewTimer(50 * time.Microsecond)
	defer t.Stop()
	select {
	case <-c.wake:
	case <-t.C:
	case <-c.stop:
		return true
	}
	return false
}

// forming is a batch being taken from the queue: its messages in the
// order they are sent, and what take needs to keep one per subject and
// message id within the bounds.
type forming struct {
	batch         []*pending
	subjects, ids map[string]bool
	bytes         int
}

// take moves from the queue into f the messages that may join it: in
// queue order, at most one per subject and per message id, none on a
// subject already in flight, within the batch bounds; it returns those it
// added. Messages whose expectation is older than what the committer
// itself stored on their subject cannot succeed; they are returned as
// alone, to be answered one by one. left is how many stay queued.
func (c *committer) take(f *forming) (added, alone []*pending, left int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	limit := c.maxBatch
	if c.noBatch.Load() {
		limit = 1
	}
	keep := c.queue[:0]
	for _, p := range c.queue {
		switch {
		case p.cancelled:
			continue
		case p.expected < c.committed[p.subject]:
			p.taken = true
			alone = append(alone, p)
			c.stale.Add(1)
			continue
		case len(f.batch) >= limit, len(f.batch) > 0 && f.bytes+p.size > maxBatchBytes,
			c.inflight[p.subject], f.subjects[p.subject], p.msgID != "" && f.ids[p.msgID]:
			keep = append(keep, p)
			continue
		}
		if f.subjects == nil {
			f.subjects, f.ids = map[string]bool{}, map[string]bool{}
		}
		p.taken = true
		f.batch = append(f.batch, p)
		added = append(added, p)
		f.subjects[p.subject], f.ids[p.msgID] = true, true
		f.bytes += p.size
		c.inflight[p.subject] = true
	}
	clear(c.queue[len(keep):])
	c.queue = keep
	return added, alone, len(keep)
}

// endRound records a round's demand: the messages it took and those
// queued behind them.
func (c *committer) endRound(taken int) {
	c.mu.Lock()
	c.demand = taken + len(c.queue)
	c.mu.Unlock()
}

// stream forms the next batch while its appends are still being
// prepared, sending each message to the server as it is taken (the server
// stages it meanwhile) and the last with the commit, once the round's
// demand is in or the gathering times out as in gather. A round of fewer
// than two messages sends nothing ahead and goes out as publish would send
// it. The committer holds a slot; stream passes it on to the publish, and
// reports whether there was one (false: nothing came, the slot is free).
func (c *committer) stream() bool {
	ctx, cancel, gone := c.publishContext()
	var (
		f       forming
		bp      jetstreamext.BatchPublisher
		sendErr error
		held    *pending // the newest message, sent with the commit
	)
	c.mu.Lock()
	demand := c.demand
	c.mu.Unlock()
	start := time.Now()
	last, lastN := start, -1
	left := 0
	for {
		c.gate.Lock()
		var added, alone []*pending
		added, alone, left = c.take(&f)
		c.gate.Unlock()
		for _, p := range alone {
			p.out <- outcome{alone: true}
		}
		for _, p := range added {
			if held != nil && sendErr == nil {
				if bp == nil {
					bp, sendErr = jetstreamext.NewBatchPublisher(c.js, jetstreamext.BatchFlowControl{AckFirst: false})
				}
				if sendErr == nil {
					sendErr = bp.AddMsg(batchCopy(held.msg))
				}
			}
			held = p
		}
		n := len(f.batch)
		if n+left != lastN {
			last, lastN = time.Now(), n+left
		}
		if sendErr != nil || c.noBatch.Load() || c.gathered(n, demand, start, last) {
			break
		}
		if c.pause() {
			break // close answers the queued; what was taken is committed
		}
	}
	c.endRound(len(f.batch))
	batch := f.batch
	if len(batch) == 0 {
		cancel()
		<-c.slots
		return false
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer cancel()
		if bp == nil { // one message: nothing was sent ahead
			c.publish(batch)
		} else {
			var ack *jetstreamext.BatchAck
			err := sendErr
			if err == nil {
				ack, err = bp.CommitMsg(ctx, batchCopy(held.msg))
			} else {
				_ = bp.Discard()
			}
			c.settleBatch(batch, ack, err, gone() || ctx.Err() != nil)
		}
		c.release(batch)
	}()
	return true
}

// testHookLoseBatchAnswer, when set and true, makes a stored batch's
// answer count as lost (a stream leader gone after storing it).
var testHookLoseBatchAnswer func() bool

// batchCopy returns a copy of msg whose headers the batch may change: the
// batch headers must not follow the message into a plain publish if the
// batch is refused.
func batchCopy(msg *nats.Msg) *nats.Msg {
	m := *msg
	m.Header = make(nats.Header, len(msg.Header)+3)
	for k, v := range msg.Header {
		m.Header[k] = v
	}
	return &m
}

// publish stores a lone message with a plain publish, or several as one
// atomic batch; a refused batch sends each message back to be published
// alone.
func (c *committer) publish(batch []*pending) {
	ctx, cancel, gone := c.publishContext()
	defer cancel()
	switch {
	case len(batch) == 1:
		c.single.Add(1)
		p := batch[0]
		ack, err := c.js.PublishMsg(ctx, p.msg)
		c.settle(ctx, p, ack, err, gone)
		return
	case len(batch) < c.minBatch || c.noBatch.Load():
		// Too few to pay for a batch: publish them one after the other
		// without waiting in between, each with its own answer.
		c.single.Add(uint64(len(batch)))
		futures := make([]jetstream.PubAckFuture, len(batch))
		for i, p := range batch {
			m := *p.msg // the async publish sets the reply subject
			f, err := c.js.PublishMsgAsync(&m)
			if err != nil {
				// Refused before sending (a connection being lost, too
				// many publishes pending): nothing went out, and a lost
				// connection sends the message back to its append.
				c.settle(ctx, p, nil, err, gone)
				continue
			}
			futures[i] = f
		}
		for i, f := range futures {
			if f == nil {
				continue
			}
			var ack *jetstream.PubAck
			var err error
			select {
			case ack = <-f.Ok():
			case err = <-f.Err():
			case <-ctx.Done():
				select { // an answer that came meanwhile stands
				case ack = <-f.Ok():
				case err = <-f.Err():
				default:
					err = ctx.Err()
				}
			}
			c.settle(ctx, batch[i], ack, err, gone)
		}
		return
	}
	msgs := make([]*nats.Msg, len(batch))
	for i, p := range batch {
		msgs[i] = batchCopy(p.msg)
	}
	ack, err := jetstreamext.PublishMsgBatch(ctx, c.js, msgs, jetstreamext.BatchFlowControl{AckFirst: false})
	c.settleBatch(batch, ack, err, gone() || ctx.Err() != nil)
}

// settleBatch answers the messages of an atomic batch from its
// acknowledgement, or sends them all back to be published alone when the
// batch was refused or its answer lost (lost).
func (c *committer) settleBatch(batch []*pending, ack *jetstreamext.BatchAck, err error, lost bool) {
	if err == nil && testHookLoseBatchAnswer != nil && testHookLoseBatchAnswer() {
		err, lost = errors.New("test: answer lost"), true
	}
	if err == nil && (ack.Stream != c.name || ack.BatchSize != uint64(len(batch)) || ack.Sequence < uint64(len(batch))) {
		err = fmt.Errorf("batch of %d acknowledged as %d ending at %d on %q", len(batch), ack.BatchSize, ack.Sequence, ack.Stream)
	}
	if err != nil {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstreamext.JSErrCodeBatchPublishNotEnabled {
			c.noBatch.Store(true)
		}
		if lost {
			c.givenUp.Add(uint64(len(batch)))
		} else {
			c.refused.Add(1)
			c.retried.Add(uint64(len(batch)))
		}
		for _, p := range batch {
			p.out <- outcome{alone: true}
		}
		return
	}
	c.batches.Add(1)
	c.batched.Add(uint64(len(batch)))
	// The messages of a batch are stored consecutively, the last at the
	// acknowledged sequence (TestBatchIsStoredConsecutively).
	first := ack.Sequence - uint64(len(batch)) + 1
	for i, p := range batch {
		c.stored(p.subject, first+uint64(i))
		p.out <- outcome{seq: first + uint64(i)}
	}
}

// settle answers a plainly published message with its acknowledgement or
// error; one whose publish lost its connection or had no answer within
// commitTimeout goes back to its append instead, which publishes it again
// (its message id and expected sequence keep it from being stored twice).
func (c *committer) settle(ctx context.Context, p *pending, ack *jetstream.PubAck, err error, gone func() bool) {
	if err != nil && (gone() || ctx.Err() != nil || errors.Is(err, nats.ErrDisconnected) || errors.Is(err, nats.ErrConnectionReconnecting)) {
		c.givenUp.Add(1)
		p.out <- outcome{alone: true}
		return
	}
	c.answer(p, ack, err)
}

// answer gives a plainly published message its acknowledgement or error.
func (c *committer) answer(p *pending, ack *jetstream.PubAck, err error) {
	if err != nil {
		p.out <- outcome{err: err}
		return
	}
	c.stored(p.subject, ack.Sequence)
	p.out <- outcome{seq: ack.Sequence, duplicate: ack.Duplicate}
}

// stored records the sequence the committer stored on a subject, to keep
// certainly stale messages out of later batches.
func (c *committer) stored(subject string, seq uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.committed) > 100_000 { // a bound: forgetting only costs a refused batch
		clear(c.committed)
	}
	if seq > c.committed[subject] {
		c.committed[subject] = seq
	}
}

// close stops taking messages, answers the queued ones with ErrClosed and
// waits for the publishes in flight.
func (c *committer) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	queued := c.queue
	c.queue = nil
	for _, p := range queued {
		p.taken = true
	}
	c.mu.Unlock()
	close(c.stop)
	<-c.done
	for _, p := range queued {
		p.out <- outcome{err: ErrClosed}
	}
	c.wg.Wait()
	if c.status != nil {
		c.js.Conn().RemoveStatusListener(c.status)
	}
}

func (c *committer) stats() CommitStats {
	return CommitStats{
		Single:  c.single.Load(),
		Batches: c.batches.Load(),
		Batched: c.batched.Load(),
		Refused: c.refused.Load(),
		Retried: c.retried.Load(),
		Stale:   c.stale.Load(),
		GivenUp: c.givenUp.Load(),
	}
}

// publish stores one prepared message: through the committer, or alone
// when group commit is off or the committer sends it back. The result is
// the message's sequence and whether JetStream saw it as a duplicate, or
// the publish error for Append to interpret.
func (s *Store) publish(ctx context.Context, msg *nats.Msg, expected uint64, prep *preparation) (uint64, bool, error) {
	msg.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(expected, 10))
	if s.gc != nil {
		o, err := s.gc.submit(ctx, msg, expected, prep)
		if err != nil {
			return 0, false, err
		}
		if !o.alone {
			return o.seq, o.duplicate, o.err
		}
	} else {
		s.single.Add(1)
	}
	ack, err := s.js.PublishMsg(ctx, msg)
	if err != nil {
		return 0, false, err
	}
	return ack.Sequence, ack.Duplicate, nil
}

// preparation is an append counted in committer.preparing until done.
type preparation struct {
	c    *committer
	once bool
}

func (s *Store) preparing() *preparation {
	if s.gc == nil {
		return &preparation{once: true}
	}
	s.gc.preparing.Add(1)
	return &preparation{c: s.gc}
}

// done stops counting the append; only the first call counts. Callers
// serialise their calls (the append's goroutine, or under committer.mu
// while that goroutine waits).
func (p *preparation) done() {
	if !p.once {
		p.once = true
		p.c.preparing.Add(-1)
	}
}

// CommitStats returns how the store's appends reached JetStream since
// Open: alone, in atomic batches, or one by one after a refused batch.
func (s *Store) CommitStats() CommitStats {
	if s.gc == nil {
		return CommitStats{Single: s.single.Load()}
	}
	return s.gc.stats()
}

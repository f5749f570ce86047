package eventstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// directGetter serves the store's batched direct gets (every Load) over
// one reply subscription, as nats.go's request mux does for single
// replies. jetstreamext.GetBatch subscribes and unsubscribes a reply
// inbox for every request, which made a load of a few messages cost about
// three single direct gets.
type directGetter struct {
	nc      *nats.Conn
	subject string // $JS.API.DIRECT.GET.<stream>
	prefix  string // the reply inbox, ending with "."
	sub     *nats.Subscription
	next    atomic.Uint64
	// maxBytes bounds the bytes of one batch's replies (0: the server's
	// max_pending, 64 MiB by default). Tests lower it.
	maxBytes int

	mu      sync.Mutex
	waiting map[string]chan *nats.Msg // reply token → the request's replies
}

// directGetRequest is the body of a batched direct get.
type directGetRequest struct {
	Seq        uint64 `json:"seq,omitempty"`
	NextBySubj string `json:"next_by_subj,omitempty"`
	Batch      int    `json:"batch,omitempty"`
	MaxBytes   int    `json:"max_bytes,omitempty"`
}

func newDirectGetter(js jetstream.JetStream, stream string) (*directGetter, error) {
	prefix := js.Options().APIPrefix
	if prefix == "" {
		prefix = "$JS.API."
	}
	if !strings.HasSuffix(prefix, ".") {
		prefix += "."
	}
	g := &directGetter{nc: js.Conn(), subject: prefix + "DIRECT.GET." + stream, prefix: js.Conn().NewInbox() + ".", waiting: map[string]chan *nats.Msg{}}
	sub, err := g.nc.Subscribe(g.prefix+"*", g.dispatch)
	if err != nil {
		return nil, fmt.Errorf("subscribe to direct-get replies: %w", err)
	}
	g.sub = sub
	return g, nil
}

func (g *directGetter) dispatch(m *nats.Msg) {
	g.mu.Lock()
	ch := g.waiting[strings.TrimPrefix(m.Subject, g.prefix)]
	g.mu.Unlock()
	if ch == nil {
		return // the request gave up
	}
	select {
	case ch <- m:
	default: // more replies than asked for: never from a conforming server
	}
}

// batch asks for up to n messages of subject from sequence seq on, in
// order, and feeds them to fn. It reports whether more messages of the
// subject follow the last one fed: the server may end a batch early (at
// its max_pending bytes), so the count alone does not tell.
func (g *directGetter) batch(ctx context.Context, subject string, seq uint64, n int, fn func(*jetstream.RawStreamMsg) error) (more bool, err error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	body, err := json.Marshal(directGetRequest{Seq: seq, NextBySubj: subject, Batch: n, MaxBytes: g.maxBytes})
	if err != nil {
		return false, fmt.Errorf("direct get %s: %w", subject, err)
	}
	token := strconv.FormatUint(g.next.Add(1), 36)
	ch := make(chan *nats.Msg, n+1) // n messages and the end-of-batch marker
	g.mu.Lock()
	g.waiting[token] = ch
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		delete(g.waiting, token)
		g.mu.Unlock()
	}()
	if err := g.nc.PublishMsg(&nats.Msg{Subject: g.subject, Reply: g.prefix + token, Data: body}); err != nil {
		return false, fmt.Errorf("direct get %s: %w", subject, err)
	}
	for {
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("direct get %s from %d: %w", subject, seq, ctx.Err())
		case m := <-ch:
			if status := m.Header.Get("Status"); status != "" && len(m.Data) == 0 {
				switch status {
				case "204", "404": // end of batch; no (more) messages
					return more, nil
				default:
					return false, fmt.Errorf("direct get %s from %d: status %s %s", subject, seq, status, m.Header.Get("Description"))
				}
			}
			raw, err := rawMsg(m)
			if err != nil {
				return false, fmt.Errorf("direct get %s from %d: %w", subject, seq, err)
			}
			// The number of the subject's messages after this one.
			pending, err := strconv.ParseUint(m.Header.Get(numPendingHeader), 10, 64)
			if err != nil {
				return false, fmt.Errorf("direct get %s from %d: reply without a valid %s header", subject, seq, numPendingHeader)
			}
			more = pending > 0
			if err := fn(raw); err != nil {
				return false, err
			}
		}
	}
}

// rawMsg reads a direct-get reply: the stored message, with its subject
// and sequence in headers.
func rawMsg(m *nats.Msg) (*jetstream.RawStreamMsg, error) {
	seq, err := strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("reply without a valid %s header: %w", jetstream.SequenceHeader, err)
	}
	subject := m.Header.Get(jetstream.SubjectHeader)
	if subject == "" {
		return nil, fmt.Errorf("reply without a %s header", jetstream.SubjectHeader)
	}
	tm, _ := time.Parse(time.RFC3339Nano, m.Header.Get(jetstream.TimeStampHeaer))
	return &jetstream.RawStreamMsg{Subject: subject, Sequence: seq, Header: m.Header, Data: m.Data, Time: tm}, nil
}

// numPendingHeader tells, on a batched direct-get reply, how many of the
// requested subject's messages follow this one.
const numPendingHeader = "Nats-Num-Pending"

package eventstore

import (
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// streamSequence returns the stream sequence of a message a consumer
// delivered, read from its reply subject alone:
//
//	$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>
//	$JS.ACK.<domain>.<account hash>.<stream>.<consumer>.<delivered>.<stream seq>.… (newer servers)
//
// A replay reads every message of the stream and needs nothing else of
// the metadata the client would parse (msg.Metadata), which it answers
// for a subject of any other form.
func streamSequence(msg jetstream.Msg) (uint64, error) {
	if seq, ok := ackSequence(msg.Reply()); ok {
		return seq, nil
	}
	md, err := msg.Metadata()
	if err != nil {
		return 0, err
	}
	return md.Sequence.Stream, nil
}

// ackSequence reads the stream sequence of a JetStream ack subject.
func ackSequence(reply string) (uint64, bool) {
	rest, ok := strings.CutPrefix(reply, "$JS.ACK.")
	if !ok {
		return 0, false
	}
	var skip int
	switch n := strings.Count(rest, ".") + 1; {
	case n == 7:
		skip = 3
	case n >= 9:
		skip = 5
	default:
		return 0, false
	}
	for range skip {
		_, rest, _ = strings.Cut(rest, ".")
	}
	tok, _, _ := strings.Cut(rest, ".")
	seq, err := strconv.ParseUint(tok, 10, 64)
	return seq, err == nil
}

// header returns the first value of a header the store wrote, looked up
// by its canonical name without canonicalising it again (nats.Header.Get
// does, for every message of a replay).
func header(h nats.Header, canonical string) string {
	if v := h[canonical]; len(v) > 0 {
		return v[0]
	}
	return ""
}

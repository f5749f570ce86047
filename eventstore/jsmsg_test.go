package eventstore

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
)

func TestAckSequence(t *testing.T) {
	for _, tc := range []struct {
		reply string
		seq   uint64
		ok    bool
	}{
		{"$JS.ACK.KOOPERACJE.c1.1.42.7.1733356800000000000.0", 42, true},
		{"$JS.ACK._.ACCHASH.KOOPERACJE.c1.1.43.7.1733356800000000000.0.rnd", 43, true},
		{"$JS.ACK.hub.ACCHASH.KOOPERACJE.c1.2.44.7.1733356800000000000.5", 44, true},
		{"$JS.ACK.KOOPERACJE.c1.1.x.7.1.0", 0, false},
		{"$JS.ACK.KOOPERACJE.c1.1.42", 0, false},
		{"$JS.ACK.a.b.c.d.e.f.g.h", 0, false}, // 8 tokens: neither form
		{"_INBOX.abc", 0, false},
		{"", 0, false},
	} {
		seq, ok := ackSequence(tc.reply)
		assert.Equal(t, tc.ok, ok, tc.reply)
		assert.Equal(t, tc.seq, seq, tc.reply)
	}
}

// The sequence read from the reply subject is the one the client's
// metadata gives, for the messages the server really delivers.
func TestStreamSequenceAgreesWithTheClientsMetadata(t *testing.T) {
	s, err := Open(context.Background(), Options{DataDir: t.TempDir(), Listen: ListenOff})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	m := domain.Meta{CommandID: domain.NewID(), Actor: domain.Actor{UserID: "u", Role: domain.RoleAdmin}}
	for range 5 {
		m.CommandID = domain.NewID()
		_, err := s.Append(context.Background(), domain.AggregateInstitution, domain.NewID(), 0, m,
			domain.InstitutionRegistered{Name: "SP", Sector: domain.SectorEducation, Municipality: "Sieradz", County: "sieradzki"})
		require.NoError(t, err)
	}
	cons, err := s.js.OrderedConsumer(context.Background(), s.name, jetstream.OrderedConsumerConfig{})
	require.NoError(t, err)
	for want := uint64(1); want <= 5; want++ {
		msg, err := cons.Next()
		require.NoError(t, err)
		md, err := msg.Metadata()
		require.NoError(t, err)
		seq, err := streamSequence(msg)
		require.NoError(t, err)
		assert.Equal(t, md.Sequence.Stream, seq)
		assert.Equal(t, want, seq)
		assert.Equal(t, msg.Headers().Get(HeaderEventTypes), header(msg.Headers(), HeaderEventTypes))
	}
}

// Opening the stream on a cluster retries what a cluster that is still
// forming answers, and nothing else.
func TestTransientStreamErrors(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&jetstream.APIError{Code: 503, ErrorCode: 10005, Description: "no suitable peers for placement"}, true},
		{fmt.Errorf("create: %w", &jetstream.APIError{Code: 503, ErrorCode: 10005}), true},
		{jetstream.ErrNoStreamResponse, true},
		{context.DeadlineExceeded, true},
		{&jetstream.APIError{Code: 400, ErrorCode: jetstream.JSErrCodeBadRequest, Description: "bad request"}, false},
		{errors.New("stream name already in use with a different configuration"), false},
	} {
		assert.Equal(t, tc.want, isTransient(tc.err), "%v", tc.err)
	}
}

package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Reads from the stream's leader.
//
// Every replica of a replicated stream answers direct gets, and a follower
// may not hold yet a command its leader has acknowledged: a load served by
// it misses the newest commands, so a caller who has just written (or whose
// other engine has) reads an older version and gets a conflict it does not
// deserve. The JetStream API's message get is answered by the leader alone:
// the store asks it for whatever follows what the direct gets returned,
// which costs one round trip per load on a replicated stream and none on
// one replica.

// leaderGetTimeout bounds a leader get when the caller's context has no
// deadline: during a leader election nobody answers.
const leaderGetTimeout = 5 * time.Second

// leaderGetRequest is the JetStream API's message get request (the server's
// JSApiMsgGetRequest): one of Seq, LastFor, or NextFor from Seq on.
type leaderGetRequest struct {
	Seq     uint64 `json:"seq,omitempty"`
	LastFor string `json:"last_by_subj,omitempty"`
	NextFor string `json:"next_by_subj,omitempty"`
}

// replicated reports whether the stream has followers that may lag.
func (s *Store) replicated() bool { return s.Replicas() > 1 }

// leaderGet asks the stream's leader for one message. A missing message is
// jetstream.ErrMsgNotFound.
func (s *Store) leaderGet(ctx context.Context, req leaderGetRequest) (*jetstream.RawStreamMsg, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode message get: %w", err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, leaderGetTimeout)
		defer cancel()
	}
	// The store's JetStream context uses the default API prefix.
	answer, err := s.nc.RequestWithContext(ctx, "$JS.API.STREAM.MSG.GET."+s.name, body)
	if err != nil {
		return nil, fmt.Errorf("message get from the leader of %s: %w", s.name, err)
	}
	var resp struct {
		Error   *jetstream.APIError `json:"error,omitempty"`
		Message *struct {
			Subject  string    `json:"subject"`
			Sequence uint64    `json:"seq"`
			Header   []byte    `json:"hdrs,omitempty"`
			Data     []byte    `json:"data,omitempty"`
			Time     time.Time `json:"time"`
		} `json:"message,omitempty"`
	}
	if err := json.Unmarshal(answer.Data, &resp); err != nil {
		return nil, fmt.Errorf("message get from the leader of %s: %w", s.name, err)
	}
	if resp.Error != nil {
		if resp.Error.ErrorCode == jetstream.JSErrCodeMessageNotFound {
			return nil, jetstream.ErrMsgNotFound
		}
		return nil, fmt.Errorf("message get from the leader of %s: %w", s.name, resp.Error)
	}
	if resp.Message == nil {
		return nil, fmt.Errorf("message get from the leader of %s: %w", s.name, jetstream.ErrInvalidJetStreamResponse)
	}
	m := resp.Message
	var hdr nats.Header
	if len(m.Header) > 0 {
		if hdr, err = nats.DecodeHeadersMsg(m.Header); err != nil {
			return nil, fmt.Errorf("headers of sequence %d: %w", m.Sequence, err)
		}
	}
	return &jetstream.RawStreamMsg{Subject: m.Subject, Sequence: m.Sequence, Header: hdr, Data: m.Data, Time: m.Time}, nil
}

// lastMsg returns the newest message of subject, from the leader when the
// stream is replicated.
func (s *Store) lastMsg(ctx context.Context, subject string) (*jetstream.RawStreamMsg, error) {
	if !s.replicated() {
		return s.stream.GetLastMsgForSubject(ctx, subject)
	}
	return s.leaderGet(ctx, leaderGetRequest{LastFor: subject})
}

// readTail feeds fn the messages of subject after sequence after that the
// leader holds, when the stream is replicated: those a lagging follower
// did not return.
func (s *Store) readTail(ctx context.Context, subject string, after uint64, fn func(*jetstream.RawStreamMsg) error) error {
	if !s.replicated() {
		return nil
	}
	for {
		msg, err := s.leaderGet(ctx, leaderGetRequest{Seq: after + 1, NextFor: subject})
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s after sequence %d: %w", subject, after, err)
		}
		if err := fn(msg); err != nil {
			return err
		}
		after = msg.Sequence
	}
}

package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/kooperacje/kooperacje/domain"
)

// Headers of every event message. The body holds the full envelopes; the
// headers repeat what an operator or a filter needs without parsing it.
const (
	HeaderAggregateType = "Koop-Aggregate-Type"
	HeaderAggregateID   = "Koop-Aggregate-Id"
	HeaderVersion       = "Koop-Version"       // the aggregate's version after this command
	HeaderFirstVersion  = "Koop-First-Version" // the version of the message's first event
	HeaderEventTypes    = "Koop-Event-Types"   // comma-separated, in order
	HeaderCommandID     = "Koop-Command-Id"
	HeaderActor         = "Koop-Actor" // user/role/institution
	HeaderOccurredAt    = "Koop-Occurred-At"
	HeaderHash          = "Koop-Hash" // the hash of the message's last event
)

// wireEvent is an envelope as stored in a message body.
type wireEvent struct {
	domain.Envelope
	Payload json.RawMessage `json:"payload"`
}

// wireCommit is the body of one message: the events of one command.
type wireCommit struct {
	Events []wireEvent `json:"events"`
}

// ErrCorrupt marks a stored message that does not decode as the events of
// the subject it is stored on.
var ErrCorrupt = errors.New("eventstore: corrupt message")

// encode builds the message of one command's envelopes (all of one
// aggregate, versions consecutive), sealing their personal data and
// chaining each event to the one before (prev, the hash of the aggregate's
// last stored event). It returns the hash of the last event.
func (s *Store) encode(ctx context.Context, subject, prev string, envs []domain.Envelope) (*nats.Msg, string, error) {
	types := make([]string, len(envs))
	key, err := s.chainKey(ctx)
	if err != nil {
		return nil, "", err
	}
	// The body is what json.Marshal gives for a wireCommit, built from
	// each event's JSON as the hash chain marshaled it.
	body := append(make([]byte, 0, 1024*len(envs)), `{"events":[`...)
	for i, env := range envs {
		payload, err := domain.EncodeEvent(env.Payload)
		if err != nil {
			return nil, "", err
		}
		w := wireEvent{Envelope: env, Payload: payload}
		if err := s.sealEvent(ctx, &w); err != nil {
			return nil, "", err
		}
		var b []byte
		if prev, b, err = chain(key, prev, &w); err != nil {
			return nil, "", err
		}
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, b...)
		types[i] = env.Type
	}
	body = append(body, "]}"...)
	if len(body) > MaxCommitBytes {
		return nil, "", domain.Invalid("", "the command's events take %d bytes; at most %d are allowed", len(body), MaxCommitBytes)
	}
	first, last := envs[0], envs[len(envs)-1]
	msg := nats.NewMsg(subject)
	msg.Data = body
	msg.Header.Set(HeaderAggregateType, first.AggregateType)
	msg.Header.Set(HeaderAggregateID, first.AggregateID)
	msg.Header.Set(HeaderVersion, strconv.FormatInt(last.AggregateVersion, 10))
	msg.Header.Set(HeaderFirstVersion, strconv.FormatInt(first.AggregateVersion, 10))
	msg.Header.Set(HeaderEventTypes, strings.Join(types, ","))
	msg.Header.Set(HeaderCommandID, first.CommandID)
	msg.Header.Set(HeaderActor, first.Actor.UserID+"/"+string(first.Actor.Role)+"/"+first.Actor.InstitutionID)
	msg.Header.Set(HeaderOccurredAt, first.OccurredAt.Format("2006-01-02T15:04:05.000000000Z07:00"))
	msg.Header.Set(nats.MsgIdHdr, first.CommandID)
	msg.Header.Set(HeaderHash, prev)
	return msg, prev, nil
}

// Decode turns a stored message body into its envelopes. Events of a type
// this engine does not know come back with a domain.Unknown payload and no
// error; anything else that does not decode, or does not belong to the
// subject, is an error wrapping ErrCorrupt. Decode has no keys: sealed
// personal data reads as erased (Store.Decode opens it).
func Decode(subject string, seq uint64, data []byte) ([]domain.Envelope, error) {
	return decode(subject, seq, data, nil, personalOpen)
}

// Decode is the package's Decode with the store's keys: personal data is
// opened, and reads as erased once its family was erased.
func (s *Store) Decode(ctx context.Context, subject string, seq uint64, data []byte) ([]domain.Envelope, error) {
	return decode(subject, seq, data, s.opener(ctx), personalOpen)
}

// onSubject reports whether subject is koop.<aggregateType>.<id>.
func onSubject(subject, aggregateType, id string) bool {
	return len(subject) == len(subjectPrefix)+len(aggregateType)+len(id)+2 &&
		strings.HasPrefix(subject, subjectPrefix) && subject[len(subjectPrefix)] == '.' &&
		strings.HasPrefix(subject[len(subjectPrefix)+1:], aggregateType) && subject[len(subjectPrefix)+1+len(aggregateType)] == '.' &&
		strings.HasSuffix(subject, id)
}

func decode(subject string, seq uint64, data []byte, open openFunc, mode personalMode) ([]domain.Envelope, error) {
	var c wireCommit
	return decodeAppend(&c, nil, subject, seq, data, open, mode)
}

// decodeAppend decodes a message as decode does and appends its envelopes
// to dst; c is scratch space a caller may reuse from one message to the
// next.
func decodeAppend(c *wireCommit, dst []domain.Envelope, subject string, seq uint64, data []byte, open openFunc, mode personalMode) ([]domain.Envelope, error) {
	c.Events = c.Events[:0]
	if err := unmarshalCommit(data, c); err != nil {
		return dst, fmt.Errorf("%w: sequence %d on %s: %v", ErrCorrupt, seq, subject, err)
	}
	if len(c.Events) == 0 {
		return dst, fmt.Errorf("%w: sequence %d on %s holds no events", ErrCorrupt, seq, subject)
	}
	start := len(dst)
	for i := range c.Events {
		w := &c.Events[i]
		if !onSubject(subject, w.AggregateType, w.AggregateID) {
			want := subjectPrefix + "." + w.AggregateType + "." + w.AggregateID
			return dst[:start], fmt.Errorf("%w: sequence %d: event %s belongs to %s but is stored on %s", ErrCorrupt, seq, w.EventID, want, subject)
		}
		if i > 0 && w.AggregateVersion != c.Events[i-1].AggregateVersion+1 {
			return dst[:start], fmt.Errorf("%w: sequence %d: versions %d and %d are not consecutive", ErrCorrupt, seq, c.Events[i-1].AggregateVersion, w.AggregateVersion)
		}
		if domain.SchemaVersion(w.Type) == 0 && !json.Valid(w.Payload) {
			// Known types are checked as they decode; the payload of an
			// unknown one is kept as it is, so it must be JSON.
			return dst[:start], fmt.Errorf("%w: sequence %d: event %s: the payload is not JSON", ErrCorrupt, seq, w.EventID)
		}
		texts, err := openEvent(w, open, mode)
		if err != nil {
			if errors.Is(err, ErrCorrupt) || !errors.Is(err, errOpen) {
				return dst[:start], fmt.Errorf("%w: sequence %d: event %s: %w", ErrCorrupt, seq, w.EventID, err)
			}
			// A value that fails authentication or a key that cannot be
			// unwrapped is not a corrupt message: say what failed, keep it
			// apart from ErrCorrupt.
			return dst[:start], fmt.Errorf("sequence %d: %w", seq, err)
		}
		p, err := domain.DecodeEventOpening(w.Type, w.SchemaVersion, w.Payload, texts)
		if err != nil && texts != nil && len(personalDates()[w.Type]) > 0 && !errors.Is(err, errOpen) {
			if err := openDates(w, texts); err != nil {
				return dst[:start], fmt.Errorf("%w: sequence %d: event %s: %w", ErrCorrupt, seq, w.EventID, err)
			}
			p, err = domain.DecodeEventOpening(w.Type, w.SchemaVersion, w.Payload, texts)
		}
		switch {
		case errors.Is(err, errOpen):
			return dst[:start], fmt.Errorf("sequence %d: %w", seq, err)
		case err != nil && !errors.Is(err, domain.ErrUnknownEventType):
			return dst[:start], fmt.Errorf("%w: sequence %d: event %s: %w", ErrCorrupt, seq, w.EventID, err)
		}
		dst = append(dst, w.Envelope)
		dst[len(dst)-1].Payload = p
		dst[len(dst)-1].Sequence = seq
	}
	return dst, nil
}

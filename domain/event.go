package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Event is one recorded fact: the payload of an envelope. Its EventType is
// the name under which it is stored ("MemberJoined"); one type per fact,
// named in the past tense.
type Event interface {
	EventType() string
}

// Aggregate types: the first token after "koop." in an event's subject.
const (
	AggregateInstitution = "institution"
	AggregatePartnership = "partnership"
	AggregateUser        = "user"
)

// Envelope is an event as recorded: the payload with everything needed to
// audit it (DESIGN.md §3). The store fills in RecordedAt, Sequence and the
// aggregate version; everything else comes from the command.
type Envelope struct {
	EventID          string    `json:"event_id"`               // UUIDv7, ordered by time
	Type             string    `json:"type"`                   // the event type, e.g. MemberJoined
	SchemaVersion    int       `json:"schema_version"`         // the payload's schema version
	AggregateType    string    `json:"aggregate_type"`         // institution, partnership, user, family
	AggregateID      string    `json:"aggregate_id"`           // the aggregate instance (a UUID)
	AggregateVersion int64     `json:"aggregate_version"`      // 1 for the aggregate's first event
	OccurredAt       time.Time `json:"occurred_at"`            // business time, from the command
	RecordedAt       time.Time `json:"recorded_at"`            // when the engine stored it
	Actor            Actor     `json:"actor"`                  // who decided: user, role, institution
	CommandID        string    `json:"command_id"`             // the command that recorded it (idempotency key)
	CorrelationID    string    `json:"correlation_id"`         // the request or process it belongs to
	CausationID      string    `json:"causation_id,omitempty"` // the event or command that caused it
	Reason           string    `json:"reason,omitempty"`       // the stated reason for the decision
	Payload          Event     `json:"-"`                      // stored as "payload", the event's own fields
	PrevHash         string    `json:"prev_hash,omitempty"`    // the Hash of the aggregate's previous event
	Hash             string    `json:"hash,omitempty"`         // chains this event to PrevHash (tamper evidence)

	// Sequence is the stream sequence of the message that holds the event;
	// all events of one command share it. Not part of the stored JSON.
	Sequence uint64 `json:"-"`
}

// Meta is what a command carries besides its intent: who issued it, when it
// happened in the world, why, and the ids that make it idempotent and
// traceable.
type Meta struct {
	CommandID     string    // idempotency: a retried command has the same id
	CorrelationID string    // the user request or process this command belongs to
	CausationID   string    // the event or command that caused this one, if any
	Actor         Actor     // who decided
	OccurredAt    time.Time // business time; defaults to the time of handling
	Reason        string    // the stated reason for the decision
}

// Unknown is the payload of an event whose type this version of the engine
// does not know (written by a newer version). Projections skip it; an
// aggregate refuses to load with it.
type Unknown struct {
	Type string
	Data json.RawMessage
}

// EventType implements Event.
func (u Unknown) EventType() string { return u.Type }

type eventInfo struct {
	aggregate string
	version   int
	// decode reads the payload, handing its personal data to open (if
	// not nil). An error of open comes back as openErr, apart from the
	// payload's own errors.
	decode func(data []byte, open Opener) (ev Event, openErr, err error)
}

var registry = map[string]eventInfo{}

// strictV2 are the options of the fast decoding of payloads: unknown
// members refused, as DisallowUnknownFields refuses unknown fields.
var strictV2 = jsonv2.RejectUnknownMembers(true)

// errTrailing: a payload followed by more than white space.
var errTrailing = errors.New("trailing data after the payload")

// register records an event type of an aggregate with its current schema
// version. An event whose payload changes incompatibly gets a new version
// and an upcaster from the old one in DecodeEvent; the old version's
// fixture under testdata/events stays and must keep decoding.
func register[T Event](aggregate string, version int) {
	var zero T
	texts := planTexts(reflect.TypeFor[T](), false)
	var dates [][]string
	for _, f := range collectPersonal(reflect.TypeFor[T](), nil, false) {
		if f.Date {
			dates = append(dates, f.Path)
		}
	}
	registry[zero.EventType()] = eventInfo{aggregate: aggregate, version: version,
		decode: func(data []byte, open Opener) (Event, error, error) {
			var v T
			if open != nil && dates != nil {
				if openErr, err := decodeOpeningDates(data, &v, dates, open); openErr != nil || err != nil {
					return nil, openErr, err
				}
			} else if err := decodeStrict(data, &v); err != nil {
				return nil, nil, err
			}
			if open != nil && texts != nil {
				if err := texts.open(reflect.ValueOf(&v).Elem(), open); err != nil {
					return nil, err, nil
				}
			}
			return v, nil, nil
		}}
}

// decodeStrict decodes one JSON value into v (a pointer to a zero value),
// refusing unknown fields and trailing data. What encoding/json accepts
// is the rule; encoding/json/v2 (as github.com/go-json-experiment/json,
// its mirror until Go 1.27) reads the same payloads several times faster
// with a few allocations, and is stricter (names in their exact case,
// no repeated names, valid UTF-8): a payload it refuses is read again by
// encoding/json, which gives the verdict and the error.
// FuzzDecodeStrictAgreesWithEncodingJSON holds the two to that.
func decodeStrict[T any](data []byte, v *T) error {
	if jsonv2.Unmarshal(data, v, strictV2) == nil {
		return nil
	}
	var zero T
	*v = zero
	return decodeV1(data, v)
}

// decodeOpeningDates is decodeStrict for a payload whose personal dates
// (at the JSON paths dates) may be sealed: each such non-empty string is
// handed to open, and what open returns is the date ("": unset). A
// payload the fast decoder refuses goes to encoding/json as it is, for
// which a sealed date is no date: a caller who wants encoding/json's
// verdict on such a payload opens its dates first (see
// DecodeEventOpening).
func decodeOpeningDates[T any](data []byte, v *T, dates [][]string, open Opener) (openErr, err error) {
	hook := jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, d *Date) error {
		if dec.PeekKind() != '"' || !atPath(dec.StackPointer(), dates) {
			return errors.ErrUnsupported // not a personal date: decode it as usual
		}
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		s := tok.String()
		if s == "" {
			return d.UnmarshalJSON([]byte(`""`)) // not a date, as ever
		}
		pt, err := open(s, true)
		if err != nil {
			openErr = err
			return err
		}
		if pt == "" {
			*d = Date{}
			return nil
		}
		p, err := ParseDate(pt)
		if err != nil {
			return err
		}
		*d = p
		return nil
	})
	if jsonv2.Unmarshal(data, v, strictV2, jsonv2.WithUnmarshalers(hook)) == nil {
		return nil, nil
	}
	if openErr != nil {
		return openErr, nil
	}
	var zero T
	*v = zero
	return nil, decodeV1(data, v)
}

// atPath reports whether the JSON pointer p names a value at one of the
// paths ("*": any element of a list). Member names here need no escapes.
func atPath(p jsontext.Pointer, paths [][]string) bool {
	if !strings.HasPrefix(string(p), "/") {
		return false
	}
	tokens := strings.Split(string(p)[1:], "/")
	for _, path := range paths {
		if len(path) == len(tokens) && slices.EqualFunc(path, tokens, func(name, tok string) bool { return name == "*" || name == tok }) {
			return true
		}
	}
	return false
}

// decodeV1 is decodeStrict with encoding/json alone.
func decodeV1(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errTrailing
	}
	return nil
}

// EventTypes lists every known event type, sorted.
func EventTypes() []string {
	out := make([]string, 0, len(registry))
	for k := range registry {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// EventAggregate returns the aggregate type an event type belongs to, or
// "" when the type is unknown.
func EventAggregate(eventType string) string { return registry[eventType].aggregate }

// SchemaVersion returns the current schema version of an event type, or 0
// when the type is unknown.
func SchemaVersion(eventType string) int { return registry[eventType].version }

// DecodeEvent turns a stored payload into its event. Unknown types decode to
// an Unknown together with an error wrapping ErrUnknownEventType, so callers
// choose whether to skip or refuse. A payload with a schema version newer
// than this engine knows, unknown fields or wrong types is refused with an
// error naming the type, version and problem.
func DecodeEvent(eventType string, schemaVersion int, data []byte) (Event, error) {
	return DecodeEventOpening(eventType, schemaVersion, data, nil)
}

// Opener turns a stored personal value back into what readers see: the
// plaintext of a sealed one, or what stands for it once its person was
// erased. date tells that the value is a date, for which "" means unset.
type Opener func(value string, date bool) (string, error)

// DecodeEventOpening is DecodeEvent for a payload whose personal data
// may be sealed, in one pass over the typed event: each non-empty
// personal value in it (a field PersonalFields lists) is replaced by what
// open returns for it. With a nil open it is DecodeEvent. An error of open
// comes back as it is, not as ErrInvalid, with a nil event.
//
// A payload that the fast decoder refuses goes to encoding/json, which
// cannot take sealed dates: the store opens such a payload's dates on its
// JSON and decodes it again, for encoding/json's verdict.
func DecodeEventOpening(eventType string, schemaVersion int, data []byte, open Opener) (Event, error) {
	info, ok := registry[eventType]
	if !ok {
		return Unknown{Type: eventType, Data: append(json.RawMessage(nil), data...)},
			ErrUnknownEventType.With("type", "unknown event type %q (written by a newer version?)", eventType)
	}
	if schemaVersion < 1 || schemaVersion > info.version {
		return nil, Invalid("schema_version", "%s schema version %d is not supported (this engine knows 1–%d)", eventType, schemaVersion, info.version)
	}
	if t := bytes.TrimSpace(data); len(t) == 0 || t[0] != '{' {
		return nil, Invalid("payload", "decode %s v%d: the payload must be a JSON object", eventType, schemaVersion)
	}
	v, openErr, err := info.decode(data, open)
	if err != nil {
		return nil, Invalid("payload", "decode %s v%d: %v", eventType, schemaVersion, err)
	}
	if openErr != nil {
		return nil, openErr
	}
	return v, nil
}

// EncodeEvent returns the JSON payload of e.
func EncodeEvent(e Event) ([]byte, error) {
	if e == nil {
		return nil, errors.New("encode event: nil event")
	}
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", e.EventType(), err)
	}
	return b, nil
}

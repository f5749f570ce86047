package eventstore

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/kooperacje/kooperacje/domain"
)

// unmarshalCommit reads a message body into c. The store writes its
// bodies in one form (encode: json.Marshal of a wireCommit), and replay
// reads every one of them, so that form is read by a scanner made for it
// (parseCommit), several times faster than encoding/json. Anything else —
// escapes in the envelope's strings, other or repeated members, numbers
// not written as plain integers, a body that is not JSON — goes through
// encoding/json as before, so the result, and each error, is the one
// json.Unmarshal gives.
func unmarshalCommit(data []byte, c *wireCommit) error {
	if parseCommit(data, c) {
		return nil
	}
	*c = wireCommit{}
	return json.Unmarshal(data, c)
}

// parseCommit reads a body in the form the store writes. It reports false,
// with c in any state, for anything it is not sure to read exactly as
// json.Unmarshal does. The payloads are not checked here: they are
// decoded strictly afterwards, or, for unknown types, checked apart
// (decode).
func parseCommit(data []byte, c *wireCommit) bool {
	r := wireReader{b: data}
	if !r.byte('{') || !r.key("events") || !r.byte('[') {
		return false
	}
	if r.peek() == ']' {
		r.i++
	} else {
		for {
			c.Events = append(c.Events, wireEvent{})
			if !r.event(&c.Events[len(c.Events)-1]) {
				return false
			}
			if r.peek() == ',' {
				r.i++
				continue
			}
			if !r.byte(']') {
				return false
			}
			break
		}
	}
	if !r.byte('}') {
		return false
	}
	r.space()
	return r.i == len(r.b)
}

// The members of a stored event, one bit each, to refuse repeats.
const (
	memberEventID = 1 << iota
	memberType
	memberSchemaVersion
	memberAggregateType
	memberAggregateID
	memberAggregateVersion
	memberOccurredAt
	memberRecordedAt
	memberActor
	memberCommandID
	memberCorrelationID
	memberCausationID
	memberReason
	memberPrevHash
	memberHash
	memberPayload
)

// event reads one stored event: its envelope's members in any order, each
// at most once, and the payload, which it must have.
func (r *wireReader) event(w *wireEvent) bool {
	if !r.byte('{') {
		return false
	}
	var seen int
	for first := true; ; first = false {
		if r.peek() == '}' && first {
			return false // no payload
		}
		name, ok := r.rawString()
		if !ok || !r.byte(':') {
			return false
		}
		var bit int
		switch string(name) {
		case "event_id":
			bit = memberEventID
			w.EventID, ok = r.string()
		case "type":
			bit = memberType
			w.Type, ok = r.internedString()
		case "schema_version":
			bit = memberSchemaVersion
			var n int64
			n, ok = r.int()
			w.SchemaVersion = int(n)
			ok = ok && int64(w.SchemaVersion) == n
		case "aggregate_type":
			bit = memberAggregateType
			w.AggregateType, ok = r.internedString()
		case "aggregate_id":
			bit = memberAggregateID
			w.AggregateID, ok = r.string()
		case "aggregate_version":
			bit = memberAggregateVersion
			w.AggregateVersion, ok = r.int()
		case "occurred_at":
			bit = memberOccurredAt
			ok = r.time(&w.OccurredAt)
		case "recorded_at":
			bit = memberRecordedAt
			ok = r.time(&w.RecordedAt)
		case "actor":
			bit = memberActor
			ok = r.actor(&w.Actor)
		case "command_id":
			bit = memberCommandID
			w.CommandID, ok = r.string()
		case "correlation_id":
			bit = memberCorrelationID
			w.CorrelationID, ok = r.string()
		case "causation_id":
			bit = memberCausationID
			w.CausationID, ok = r.string()
		case "reason":
			bit = memberReason
			w.Reason, ok = r.string()
		case "prev_hash":
			bit = memberPrevHash
			w.PrevHash, ok = r.string()
		case "hash":
			bit = memberHash
			w.Hash, ok = r.string()
		case "payload":
			bit = memberPayload
			w.Payload, ok = r.object()
		default:
			return false
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		switch r.peek() {
		case ',':
			r.i++
		case '}':
			r.i++
			return seen&memberPayload != 0
		default:
			return false
		}
	}
}

// actor reads {"user_id":…,"role":…,"institution_id":…}, each member at
// most once.
func (r *wireReader) actor(a *domain.Actor) bool {
	if !r.byte('{') {
		return false
	}
	if r.peek() == '}' {
		r.i++
		return true
	}
	var seen int
	for {
		name, ok := r.rawString()
		if !ok || !r.byte(':') {
			return false
		}
		var bit int
		switch string(name) {
		case "user_id":
			bit = 1
			a.UserID, ok = r.string()
		case "role":
			bit = 2
			var s string
			s, ok = r.internedString()
			a.Role = domain.Role(s)
		case "institution_id":
			bit = 4
			a.InstitutionID, ok = r.string()
		default:
			return false
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		switch r.peek() {
		case ',':
			r.i++
		case '}':
			r.i++
			return true
		default:
			return false
		}
	}
}

// wireReader scans a body; i is the offset of the next byte to read.
type wireReader struct {
	b []byte
	i int
}

func (r *wireReader) space() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, or 0 at the end.
func (r *wireReader) peek() byte {
	r.space()
	if r.i == len(r.b) {
		return 0
	}
	return r.b[r.i]
}

// byte reads c, after white space.
func (r *wireReader) byte(c byte) bool {
	if r.peek() != c {
		return false
	}
	r.i++
	return true
}

// key reads the member name name and its colon.
func (r *wireReader) key(name string) bool {
	s, ok := r.rawString()
	return ok && string(s) == name && r.byte(':')
}

// rawString reads a string without escapes or control characters, in
// valid UTF-8, and returns the bytes between its quotes.
func (r *wireReader) rawString() ([]byte, bool) {
	if !r.byte('"') {
		return nil, false
	}
	end := bytes.IndexByte(r.b[r.i:], '"')
	if end < 0 {
		return nil, false
	}
	s := r.b[r.i : r.i+end]
	r.i += end + 1
	var ascii byte
	for _, c := range s {
		if c < 0x20 || c == '\\' {
			return nil, false
		}
		ascii |= c
	}
	return s, ascii < utf8.RuneSelf || utf8.Valid(s)
}

func (r *wireReader) string() (string, bool) {
	s, ok := r.rawString()
	return string(s), ok
}

// internedString reads a string that is one of few (event and aggregate
// types, roles), sharing one copy of it.
func (r *wireReader) internedString() (string, bool) {
	s, ok := r.rawString()
	if !ok {
		return "", false
	}
	if v, ok := interned[string(s)]; ok {
		return v, true
	}
	return string(s), true
}

var interned = func() map[string]string {
	m := map[string]string{}
	for _, s := range append(domain.EventTypes(), domain.AggregateFamily, domain.AggregateInstitution, domain.AggregatePartnership, domain.AggregateUser) {
		m[s] = s
	}
	for _, role := range []domain.Role{domain.RoleAdmin, domain.RoleAnimator, domain.RoleCoordinator, domain.RoleWorker, domain.RoleEvaluator, domain.RoleAuditor, domain.RoleSystem} {
		m[string(role)] = string(role)
	}
	return m
}()

// int reads an integer written as json.Marshal writes one: an optional
// minus and digits, without a leading zero.
func (r *wireReader) int() (int64, bool) {
	r.space()
	start := r.i
	if r.i < len(r.b) && r.b[r.i] == '-' {
		r.i++
	}
	digits := r.i
	for r.i < len(r.b) && r.b[r.i] >= '0' && r.b[r.i] <= '9' {
		r.i++
	}
	switch {
	case r.i == digits, r.b[digits] == '0' && r.i > digits+1:
		return 0, false
	case r.i < len(r.b) && (r.b[r.i] == '.' || r.b[r.i] == 'e' || r.b[r.i] == 'E'):
		return 0, false
	}
	n, err := strconv.ParseInt(string(r.b[start:r.i]), 10, 64)
	return n, err == nil
}

// time reads a time as time.Time's UnmarshalJSON does.
func (r *wireReader) time(t *time.Time) bool {
	r.space()
	start := r.i
	if _, ok := r.rawString(); !ok {
		return false
	}
	return t.UnmarshalJSON(r.b[start:r.i]) == nil
}

// object returns the bytes of a JSON object, from its brace to the
// matching one, strings and nesting respected. It does not check what is
// inside: the payload's strict decoding does.
func (r *wireReader) object() (json.RawMessage, bool) {
	if r.peek() != '{' {
		return nil, false
	}
	start, depth := r.i, 0
	for ; r.i < len(r.b); r.i++ {
		switch r.b[r.i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				r.i++
				return r.b[start:r.i], true
			}
		case '"':
			// To the closing quote: one not escaped, that is not after
			// an odd run of backslashes.
			for {
				end := bytes.IndexByte(r.b[r.i+1:], '"')
				if end < 0 {
					return nil, false
				}
				r.i += 1 + end
				n := 0
				for n < r.i && r.b[r.i-1-n] == '\\' {
					n++
				}
				if n%2 == 0 {
					break
				}
			}
		}
	}
	return nil, false
}

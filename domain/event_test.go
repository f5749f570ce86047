package domain_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
)

// sampleEvents returns hand-written events of the institution, partnership
// and user aggregates with every field set, keyed by type.
func sampleEvents() map[string]domain.Event {
	id := func(key string) string { return domain.IDFromKey("sample/" + key) }
	expires := time.Date(2025, 6, 30, 23, 59, 59, 123456789, time.UTC)
	events := []domain.Event{
		domain.InstitutionRegistered{Name: "MOPS Kraków", Sector: domain.SectorSocialAssistance, Municipality: "Kraków",
			County: "Kraków", Address: "ul. Józefińska 14"},
		domain.WorkerRegistered{WorkerID: id("worker"), Name: "Anna Nowak", Position: "pracownik socjalny"},
		domain.PartnershipInitiated{Name: "PZK Kraków", Municipality: "Kraków", County: "Kraków", Date: initiatedOn,
			Place: "MOPS", LeaderID: id("mops"), CoLeaderID: id("pcpr")},
		domain.MemberJoined{InstitutionID: id("pup"), Name: "PUP Kraków", Sector: domain.SectorLabour, Date: day(time.April, 1),
			Signatory: "Dyrektor", Powers: "kierowanie na szkolenia", Resources: "doradca zawodowy"},
		domain.ServiceOffered{ServiceID: id("service"), InstitutionID: id("pup"), Name: "Doradztwo zawodowe", Sector: domain.SectorLabour,
			Description: "indywidualne\nporady", TargetGroups: []string{"bezrobotni", "NEET"}, Capacity: 12, Access: "skierowanie <MOPS> & PUP", Area: domain.AreaEmployment},
		domain.ServiceWithdrawn{ServiceID: id("service")},
		domain.MeetingRecorded{MeetingID: id("meeting"), Kind: domain.MeetingConsultation, Date: day(time.May, 1), Place: "PUP",
			Attendees: []string{id("mops"), id("pup")}, Guests: []string{"radna"}, Decisions: []string{"powołać ZZK", "spotkanie za miesiąc"}},
		domain.PartnershipFormalized{Date: day(time.June, 1), Place: "Urząd Miasta"},
		domain.MemberLeft{InstitutionID: id("pup"), Date: day(time.July, 1)},
		domain.UserRegistered{Login: "anna.nowak", Name: "Anna Nowak", Role: domain.RoleCoordinator, InstitutionID: id("mops"), WorkerID: id("worker")},
		domain.LoginAssigned{Login: "anna.nowak"},
		domain.SetupLinkIssued{ExpiresAt: expires},
		domain.TokenIssued{TokenID: id("token"), Hash: strings.Repeat("0f", 32), ExpiresAt: &expires},
		domain.TokenRevoked{TokenID: id("token")},
	}
	out := map[string]domain.Event{}
	for _, e := range events {
		out[e.EventType()] = e
	}
	return out
}

// sample returns an event of a registered type with every field set: the
// hand-written one where there is one, else one filled in by reflection,
// so that a newly registered type is covered without a test change.
func sample(tb testing.TB, typ string) domain.Event {
	tb.Helper()
	if e, ok := sampleEvents()[typ]; ok {
		return e
	}
	zero, err := domain.DecodeEvent(typ, domain.SchemaVersion(typ), []byte(`{}`))
	require.NoError(tb, err, "the zero value of %s", typ)
	v := reflect.New(reflect.TypeOf(zero)).Elem()
	fill(v, 0)
	return v.Interface().(domain.Event)
}

// fill sets every field of v that JSON carries to a value other than its
// zero value.
func fill(v reflect.Value, depth int) {
	switch v.Type() {
	case reflect.TypeFor[domain.Date]():
		v.Set(reflect.ValueOf(day(time.September, 17)))
		return
	case reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(time.Date(2024, 9, 17, 10, 30, 0, 500, time.UTC)))
		return
	}
	if depth > 8 {
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("wartość " + v.Type().Name())
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(7)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		fill(s.Index(0), depth+1)
		fill(s.Index(1), depth+1)
		v.Set(s)
	case reflect.Array:
		for i := range v.Len() {
			fill(v.Index(i), depth+1)
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, depth+1)
		fill(e, depth+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() && f.Tag.Get("json") != "-" {
				fill(v.Field(i), depth+1)
			}
		}
	}
}

func TestEventTypes(t *testing.T) {
	types := domain.EventTypes()
	assert.True(t, slices.IsSorted(types))
	assert.Len(t, slices.Compact(slices.Clone(types)), len(types), "no type is listed twice")
	for typ, e := range sampleEvents() {
		assert.Contains(t, types, typ, "%T is registered", e)
	}
	for _, typ := range types {
		assert.Equal(t, 1, domain.SchemaVersion(typ), typ)
		assert.NotContains(t, typ, ".", "a type is one token of a subject")
		assert.Equal(t, typ, sample(t, typ).EventType(), "a type is registered under its own name")
	}
	assert.Zero(t, domain.SchemaVersion("FamilyTeleported"))
	assert.Zero(t, domain.SchemaVersion(""))
}

func TestEventRoundTrip(t *testing.T) {
	for _, typ := range domain.EventTypes() {
		t.Run(typ, func(t *testing.T) {
			sample := sample(t, typ)

			// The sample sets every field, so the round trip covers them all.
			v := reflect.ValueOf(sample)
			for i := range v.NumField() {
				if f := v.Type().Field(i); f.IsExported() && f.Tag.Get("json") != "-" {
					assert.False(t, v.Field(i).IsZero(), "%s.%s is not set in the sample", typ, f.Name)
				}
			}

			b, err := domain.EncodeEvent(sample)
			require.NoError(t, err)
			got, err := domain.DecodeEvent(typ, domain.SchemaVersion(typ), b)
			require.NoError(t, err, "%s", b)
			assert.Equal(t, sample, got)

			// The zero value of the type round-trips as well.
			zero, err := domain.DecodeEvent(typ, 1, []byte(`{}`))
			require.NoError(t, err)
			b, err = domain.EncodeEvent(zero)
			require.NoError(t, err)
			again, err := domain.DecodeEvent(typ, 1, b)
			require.NoError(t, err, "%s", b)
			assert.Equal(t, zero, again)
		})
	}
}

func TestDecodeEventOfUnknownType(t *testing.T) {
	data := []byte(`{"family_id":"x","kind":"teleport"}`)
	ev, err := domain.DecodeEvent("FamilyTeleported", 1, data)

	require.ErrorIs(t, err, domain.ErrUnknownEventType)
	require.ErrorIs(t, err, domain.ErrInvalid)
	var de *domain.Error
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "type", de.Field)
	assert.Contains(t, de.Message, "FamilyTeleported")

	u, ok := ev.(domain.Unknown)
	require.True(t, ok, "an unknown type decodes to Unknown, not %T", ev)
	assert.Equal(t, "FamilyTeleported", u.EventType())
	assert.JSONEq(t, string(data), string(u.Data))
	data[2] = 'X'
	assert.Equal(t, byte('f'), u.Data[2], "Unknown keeps its own copy of the payload")
}

func TestDecodeEventRefuses(t *testing.T) {
	tests := []struct {
		name    string
		typ     string
		version int
		data    string
		field   string
		message []string // parts of the message
	}{
		{name: "a newer schema version", typ: "MemberLeft", version: 2, data: `{}`,
			field: "schema_version", message: []string{"MemberLeft", "schema version 2", "1–1"}},
		{name: "schema version 0", typ: "MemberLeft", version: 0, data: `{}`, field: "schema_version"},
		{name: "a negative schema version", typ: "MemberLeft", version: -1, data: `{}`, field: "schema_version"},
		{name: "an unknown field", typ: "MemberLeft", version: 1,
			data: `{"institution_id":"x","date":"2024-07-01","colour":"red"}`, field: "payload", message: []string{`"colour"`, "MemberLeft v1"}},
		{name: "a field of the wrong type", typ: "ServiceOffered", version: 1, data: `{"capacity":"ten"}`,
			field: "payload", message: []string{"capacity"}},
		{name: "a fractional capacity", typ: "ServiceOffered", version: 1, data: `{"capacity":1.5}`, field: "payload"},
		{name: "an impossible date", typ: "MemberLeft", version: 1, data: `{"date":"2019-02-30"}`,
			field: "payload", message: []string{"2019-02-30"}},
		{name: "a second payload after the first", typ: "TokenRevoked", version: 1, data: `{"token_id":"a"} {"token_id":"b"}`,
			field: "payload", message: []string{"trailing data"}},
		{name: "garbage after the payload", typ: "TokenRevoked", version: 1, data: `{"token_id":"a"}x`,
			field: "payload", message: []string{"trailing data"}},
		{name: "an array after the payload", typ: "TokenRevoked", version: 1, data: `{"token_id":"a"}[]`,
			field: "payload", message: []string{"trailing data"}},
		{name: "an empty payload", typ: "TokenRevoked", version: 1, data: ``, field: "payload"},
		{name: "a truncated payload", typ: "TokenRevoked", version: 1, data: `{"token_id":"a"`, field: "payload"},
		{name: "an array for a payload", typ: "TokenRevoked", version: 1, data: `["a"]`, field: "payload"},
		{name: "a string for a payload", typ: "TokenRevoked", version: 1, data: `"a"`, field: "payload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := domain.DecodeEvent(tt.typ, tt.version, []byte(tt.data))
			assert.Nil(t, ev)
			require.ErrorIs(t, err, domain.ErrInvalidField)
			require.ErrorIs(t, err, domain.ErrInvalid)
			assert.NotErrorIs(t, err, domain.ErrUnknownEventType)
			var de *domain.Error
			require.ErrorAs(t, err, &de)
			assert.Equal(t, tt.field, de.Field)
			for _, m := range tt.message {
				assert.Contains(t, de.Message, m)
			}
		})
	}
}

func TestDecodeEventAcceptsTrailingWhitespace(t *testing.T) {
	ev, err := domain.DecodeEvent("TokenRevoked", 1, []byte(" \n{\"token_id\":\"a\"}\r\n\t "))
	require.NoError(t, err)
	assert.Equal(t, domain.TokenRevoked{TokenID: "a"}, ev)
}

// DecodeEvent checks for trailing data with json.Decoder.More, which
// reports false before a closing bracket: a payload followed by "]" or "}"
// is not one JSON value, yet it is accepted.
func TestDecodeEventRefusesTrailingClosers(t *testing.T) {
	for _, data := range []string{`{"token_id":"a"}]`, `{"token_id":"a"}}`, `{"token_id":"a"} ] anything`} {
		_, err := domain.DecodeEvent("TokenRevoked", 1, []byte(data))
		assert.ErrorIs(t, err, domain.ErrInvalid, data)
	}
}

func TestEncodeEvent(t *testing.T) {
	_, err := domain.EncodeEvent(nil)
	assert.Error(t, err)

	b, err := domain.EncodeEvent(domain.PartnershipInitiated{Name: "PZK", Date: initiatedOn, LeaderID: "l"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"PZK","municipality":"","county":"","date":"2024-03-01","place":"","leader_id":"l"}`, string(b),
		"the stored field names are part of the event catalogue")
}

func TestEnvelopeJSON(t *testing.T) {
	env := domain.Envelope{
		EventID: "e", Type: "MemberLeft", SchemaVersion: 1, AggregateType: domain.AggregatePartnership, AggregateID: "p",
		AggregateVersion: 7, OccurredAt: time.Date(2024, 7, 1, 12, 0, 0, 0, time.UTC), RecordedAt: time.Date(2024, 7, 2, 8, 0, 0, 0, time.UTC),
		Actor: domain.Actor{UserID: "u", Role: domain.RoleAnimator, InstitutionID: "i"}, CommandID: "c", CorrelationID: "r",
		Reason: "koniec projektu", Payload: domain.MemberLeft{InstitutionID: "i"}, Sequence: 42,
	}
	b, err := json.Marshal(env)
	require.NoError(t, err)
	assert.JSONEq(t, `{"event_id":"e","type":"MemberLeft","schema_version":1,"aggregate_type":"partnership","aggregate_id":"p",
		"aggregate_version":7,"occurred_at":"2024-07-01T12:00:00Z","recorded_at":"2024-07-02T08:00:00Z",
		"actor":{"user_id":"u","role":"animator","institution_id":"i"},"command_id":"c","correlation_id":"r",
		"reason":"koniec projektu"}`, string(b), "the payload and the sequence are stored apart from the envelope")
}

// trailingCloser reports whether data is one JSON value followed by a
// closing bracket, the input TestDecodeEventRefusesTrailingClosers is about.
func trailingCloser(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	var v json.RawMessage
	if dec.Decode(&v) != nil {
		return false
	}
	rest := bytes.TrimLeft(data[dec.InputOffset():], " \t\r\n")
	return len(rest) > 0 && (rest[0] == ']' || rest[0] == '}')
}

// FuzzDecodeEvent checks that DecodeEvent never panics, refuses with an
// ErrInvalid error, accepts only one JSON value, and that what it accepts
// is stable: encoding and decoding again yields the same encoding and an
// equal event.
//
// The decoded event itself is compared by its encoding, not with
// reflect.DeepEqual: decoding legitimately normalises, e.g. "guests":[]
// becomes a nil slice once omitempty has dropped it, and "+00:00" becomes
// "Z".
func FuzzDecodeEvent(f *testing.F) {
	for _, typ := range domain.EventTypes() {
		b, err := domain.EncodeEvent(sample(f, typ))
		require.NoError(f, err)
		f.Add(typ, 1, b)
		f.Add(typ, 2, b)
		f.Add(typ, 1, []byte(`{}`))
	}
	for _, seed := range []struct {
		typ  string
		v    int
		data string
	}{
		{"FamilyTeleported", 1, `{"x":1}`},
		{"MeetingRecorded", 1, `{"attendees":[],"guests":[],"decisions":null}`},
		{"TokenIssued", 1, `{"expires_at":"2024-01-01T00:00:00+01:00","hash":"\u00e9\ud800"}`},
		{"TokenIssued", 1, `{"expires_at":"0000-01-01T00:00:00+01:00"}`},
		{"TokenRevoked", 1, `{"token_id":"a"} x`},
		{"TokenRevoked", 1, `{"token_id":"a"}]`},
		{"TokenRevoked", 1, `{"TOKEN_ID":"a"}`},
		{"MemberLeft", 1, `{"date":"0001-01-01"}`},
		{"MemberLeft", 1, `{"date":"2019-02-30"}`},
		{"ServiceOffered", 1, "{\"capacity\":1e3,\"sector\":\"\xff\"}"},
		{"MemberJoined", 1, `null`},
		{"MemberJoined", 1, ``},
	} {
		f.Add(seed.typ, seed.v, []byte(seed.data))
	}
	f.Fuzz(func(t *testing.T, typ string, version int, data []byte) {
		ev, err := domain.DecodeEvent(typ, version, data)
		if err != nil {
			require.ErrorIs(t, err, domain.ErrInvalid)
			if errors.Is(err, domain.ErrUnknownEventType) {
				require.Zero(t, domain.SchemaVersion(typ))
				u, ok := ev.(domain.Unknown)
				require.True(t, ok, "%T", ev)
				require.Equal(t, typ, u.Type)
				require.True(t, bytes.Equal(data, u.Data))
			} else {
				require.Nil(t, ev)
			}
			return
		}
		require.Equal(t, typ, ev.EventType())
		require.GreaterOrEqual(t, version, 1)
		require.LessOrEqual(t, version, domain.SchemaVersion(typ))
		require.True(t, json.Valid(data), "accepted %q, which is not one JSON value", data)

		b1, err := domain.EncodeEvent(ev)
		require.NoError(t, err)
		ev2, err := domain.DecodeEvent(typ, version, b1)
		require.NoError(t, err, "%s", b1)
		b2, err := domain.EncodeEvent(ev2)
		require.NoError(t, err)
		require.Equal(t, string(b1), string(b2))
		ev3, err := domain.DecodeEvent(typ, version, b2)
		require.NoError(t, err)
		require.Equal(t, ev2, ev3)
	})
}

// FuzzDecodeStrictAgreesWithEncodingJSON: whatever payload the fast
// decoder (encoding/json/v2) accepts, encoding/json with
// DisallowUnknownFields accepts too, with an equal event; what it refuses
// goes to encoding/json, so DecodeEvent accepts exactly what encoding/json
// does.
func FuzzDecodeStrictAgreesWithEncodingJSON(f *testing.F) {
	for _, typ := range domain.EventTypes() {
		b, err := domain.EncodeEvent(sample(f, typ))
		require.NoError(f, err)
		f.Add(typ, b)
		f.Add(typ, []byte(`{}`))
		f.Add(typ, bytes.ToUpper(b))
		f.Add(typ, append(b[:len(b):len(b)], ` x`...))
	}
	for _, seed := range []struct{ typ, data string }{
		{"MeetingRecorded", `{"attendees":[],"guests":null,"decisions":[null,"a"],"date":null}`},
		{"TokenIssued", `{"expires_at":"2024-01-01T00:00:00+01:00","hash":"\u00e9\ud800"}`},
		{"TokenIssued", `{"expires_at":"0000-01-01T00:00:00+01:00"}`},
		{"TokenIssued", `{"expires_at":"2024-01-01t00:00:00z"}`},
		{"TokenIssued", `{"expires_at":null,"token_id":"a","token_id":"b"}`},
		{"TokenRevoked", `{"TOKEN_ID":"a"}`},
		{"TokenRevoked", `{"token_\u0069d":"a"}`},
		{"ServiceOffered", `{"capacity":1e3}`},
		{"ServiceOffered", `{"capacity":-0,"sector":"\u0000"}`},
		{"ServiceOffered", "{\"capacity\":10,\"sector\":\"\xff\"}"},
		{"MemberLeft", `{"date":"2019-02-30"}`},
		{"FamilyCaseOpened", `{"household":[{"birth_date":"1985-03-01","relation":"child"}],"referral":{},"coordinator":null}`},
	} {
		f.Add(seed.typ, []byte(seed.data))
	}
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		if domain.SchemaVersion(typ) == 0 {
			return
		}
		zero, err := domain.DecodeEvent(typ, 1, []byte(`{}`))
		require.NoError(t, err)
		fast, slow := reflect.New(reflect.TypeOf(zero)), reflect.New(reflect.TypeOf(zero))
		if domain.DecodeV2(data, fast.Interface()) != nil {
			return
		}
		require.NoError(t, domain.DecodeV1(data, slow.Interface()), "%s %q: accepted by v2 only", typ, data)
		require.Equal(t, slow.Interface(), fast.Interface(), "%s %q", typ, data)
	})
}

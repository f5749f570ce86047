package eventstore

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
)

// canonicalBody is a body as encode writes it: two events, every member
// of the envelope set, a reason in Polish.
func canonicalBody(tb testing.TB) []byte {
	tb.Helper()
	env := func(v int64, typ, payload string) wireEvent {
		return wireEvent{Envelope: domain.Envelope{EventID: "e" + typ, Type: typ, SchemaVersion: 1, AggregateType: domain.AggregateFamily,
			AggregateID: "f1", AggregateVersion: v, OccurredAt: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC),
			RecordedAt: time.Date(2024, 3, 2, 8, 1, 2, 345678901, time.UTC),
			Actor:      domain.Actor{UserID: "u", Role: domain.RoleCoordinator, InstitutionID: "i"}, CommandID: "c", CorrelationID: "r",
			CausationID: "k", Reason: "zamknięcie — „koniec”", PrevHash: "p", Hash: "h"}, Payload: json.RawMessage(payload)}
	}
	b, err := json.Marshal(wireCommit{Events: []wireEvent{
		env(3, "CaseClosed", `{"date":"2024-03-01","outcome":"achieved"}`),
		env(4, "TeamDissolved", `{"date":"2024-03-01","nested":{"a":["}",{"b":"\"]"}]}}`),
	}})
	require.NoError(tb, err)
	return b
}

func TestParseCommitReadsWhatTheStoreWrites(t *testing.T) {
	body := canonicalBody(t)
	var fast, slow wireCommit
	require.True(t, parseCommit(body, &fast), "the store's own form takes the fast path")
	require.NoError(t, json.Unmarshal(body, &slow))
	assert.Equal(t, slow, fast)
}

func TestParseCommitLeavesTheRestToEncodingJSON(t *testing.T) {
	for _, body := range []string{
		`{"events":[{"Type":"CaseClosed","payload":{}}]}`,                        // a name in other case
		`{"events":[{"type":"Case\u0043losed","payload":{}}]}`,                   // an escape
		`{"events":[{"type":"CaseClosed","type":"TeamDissolved","payload":{}}]}`, // a member twice
		`{"events":[{"type":"CaseClosed","colour":1,"payload":{}}]}`,             // another member
		`{"events":[{"type":"CaseClosed","aggregate_version":1.0,"payload":{}}]}`,
		`{"events":[{"type":"CaseClosed","aggregate_version":01,"payload":{}}]}`,
		`{"events":[{"type":"CaseClosed","payload":null}]}`,
		`{"events":[{"type":"CaseClosed"}]}`,
		`{"events":[{"type":"CaseClosed","payload":{}}],"more":1}`,
		`{"events":[{"type":"CaseClosed","payload":{}}]} x`,
		"{\"events\":[{\"type\":\"Case\xffClosed\",\"payload\":{}}]}",
		`{"events":null}`,
	} {
		var c wireCommit
		assert.False(t, parseCommit([]byte(body), &c), body)
	}
}

// FuzzParseCommit: whatever the fast path reads, with payloads that are
// JSON (decode checks them), encoding/json reads the same.
func FuzzParseCommit(f *testing.F) {
	f.Add(canonicalBody(f))
	f.Add([]byte(` { "events" : [ { "type" : "CaseClosed" , "payload" : { } } ] } `))
	f.Add([]byte(`{"events":[]}`))
	f.Add([]byte(`{"events":[{"actor":{},"payload":{"a":"\\"}}]}`))
	f.Add([]byte(`{"events":[{"aggregate_version":-0,"schema_version":9223372036854775807,"payload":{}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var fast wireCommit
		if !parseCommit(body, &fast) {
			return
		}
		for _, e := range fast.Events {
			if !json.Valid(e.Payload) {
				return
			}
		}
		var slow wireCommit
		require.NoError(t, json.Unmarshal(body, &slow), "%q", body)
		if len(slow.Events) == 0 && len(fast.Events) == 0 {
			return
		}
		require.Equal(t, slow, fast, "%q", body)
	})
}

func BenchmarkParseCommit(b *testing.B) {
	body := canonicalBody(b)
	b.Run("fast", func(b *testing.B) {
		var c wireCommit
		for b.Loop() {
			c.Events = c.Events[:0]
			if !parseCommit(body, &c) {
				b.Fatal("not read")
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			var c wireCommit
			if err := json.Unmarshal(body, &c); err != nil {
				b.Fatal(err)
			}
		}
	})
}

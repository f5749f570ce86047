package eventstore_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
)

const fuzzID = "0193f3a2-8c1e-7d2a-9b4f-1c2d3e4f5a6b"

func TestDecodeRefusesWhatDoesNotBelong(t *testing.T) {
	subject := "koop.institution." + fuzzID
	good := `{"events":[{"event_id":"e1","type":"InstitutionRegistered","schema_version":1,"aggregate_type":"institution","aggregate_id":"` + fuzzID + `","aggregate_version":1,"payload":{"name":"A","sector":"health","municipality":"M","county":"C"}}]}`
	envs, err := eventstore.Decode(subject, 7, []byte(good))
	require.NoError(t, err)
	require.Len(t, envs, 1)
	assert.Equal(t, uint64(7), envs[0].Sequence)

	tests := []struct {
		name, subject, body string
	}{
		{"a body that is not JSON", subject, `{"events":`},
		{"a message without events", subject, `{"events":[]}`},
		{"an event of another aggregate", "koop.institution.other", good},
		{"versions that skip", subject, `{"events":[{"type":"WorkerRegistered","schema_version":1,"aggregate_type":"institution","aggregate_id":"` + fuzzID + `","aggregate_version":1,"payload":{"worker_id":"w","name":"n","position":"p"}},{"type":"WorkerRegistered","schema_version":1,"aggregate_type":"institution","aggregate_id":"` + fuzzID + `","aggregate_version":3,"payload":{"worker_id":"w","name":"n","position":"p"}}]}`},
		{"a payload with an unknown field", subject, `{"events":[{"type":"WorkerRegistered","schema_version":1,"aggregate_type":"institution","aggregate_id":"` + fuzzID + `","aggregate_version":1,"payload":{"worker_id":"w","nick":"n"}}]}`},
		{"a schema version from the future", subject, `{"events":[{"type":"WorkerRegistered","schema_version":9,"aggregate_type":"institution","aggregate_id":"` + fuzzID + `","aggregate_version":1,"payload":{}}]}`},
		{"a payload of the wrong type", subject, `{"events":[{"type":"WorkerRegistered","schema_version":1,"aggregate_type":"institution","aggregate_id":"` + fuzzID + `","aggregate_version":1,"payload":{"name":5}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := eventstore.Decode(tt.subject, 1, []byte(tt.body))
			require.ErrorIs(t, err, eventstore.ErrCorrupt)
		})
	}

	// An unknown type is not corrupt: it decodes to domain.Unknown.
	future := `{"events":[{"type":"FamilyOpened","schema_version":1,"aggregate_type":"institution","aggregate_id":"` + fuzzID + `","aggregate_version":1,"payload":{"x":1}}]}`
	envs, err = eventstore.Decode(subject, 1, []byte(future))
	require.NoError(t, err)
	u, ok := envs[0].Payload.(domain.Unknown)
	require.True(t, ok)
	assert.Equal(t, "FamilyOpened", u.Type)
}

func FuzzDecode(f *testing.F) {
	subject := "koop.institution." + fuzzID
	f.Add([]byte(`{"events":[{"type":"InstitutionRegistered","schema_version":1,"aggregate_type":"institution","aggregate_id":"` + fuzzID + `","aggregate_version":1,"payload":{"name":"A","sector":"health","municipality":"M","county":"C"}}]}`))
	f.Add([]byte(`{"events":[{"type":"X","schema_version":1,"aggregate_type":"institution","aggregate_id":"` + fuzzID + `","aggregate_version":1,"payload":null}]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		envs, err := eventstore.Decode(subject, 1, body)
		if err != nil {
			if !errors.Is(err, eventstore.ErrCorrupt) {
				t.Fatalf("an error that is not ErrCorrupt: %v", err)
			}
			return
		}
		if len(envs) == 0 {
			t.Fatal("decoded no events without an error")
		}
		for i, e := range envs {
			if e.AggregateType != "institution" || e.AggregateID != fuzzID {
				t.Fatalf("event %d belongs to %s.%s", i, e.AggregateType, e.AggregateID)
			}
			if e.Payload == nil {
				t.Fatalf("event %d has no payload", i)
			}
		}
	})
}

// A payload that only encoding/json reads (here a member name in another
// case), with sealed personal dates, decodes as before: its dates are
// opened on its JSON first. Without keys, sealed data reads as erased.
func TestDecodeOpensSealedDatesOfPayloadsOnlyEncodingJSONReads(t *testing.T) {
	subject := "koop.family." + fuzzID
	for _, name := range []string{"address", "Address"} {
		t.Run(name, func(t *testing.T) {
			body := `{"events":[{"event_id":"e1","type":"FamilyCaseOpened","schema_version":1,"aggregate_type":"family","aggregate_id":"` + fuzzID +
				`","aggregate_version":1,"payload":{"partnership_id":"p","household":[{"person_id":"a","name":"enc:v1:AAAA","birth_date":"enc:v1:BBBB","relation":"applicant"},` +
				`{"person_id":"b","name":"Jan","birth_date":"2012-05-05","relation":"child"}],"` + name + `":"enc:v1:CCCC","referral":{"institution_id":"i","reason":"r"},` +
				`"coordinator":{"worker_id":"w","institution_id":"i","name":"n","institution":"MOPS","sector":"social_assistance"},"opened_on":"2020-01-05"}}]}`
			envs, err := eventstore.Decode(subject, 1, []byte(body))
			require.NoError(t, err)
			got := envs[0].Payload.(domain.FamilyCaseOpened)
			assert.Equal(t, domain.ErasedText, got.Household[0].Name)
			assert.True(t, got.Household[0].BirthDate.IsZero())
			assert.Equal(t, "Jan", got.Household[1].Name)
			assert.Equal(t, domain.NewDate(2012, 5, 5), got.Household[1].BirthDate)
			assert.Equal(t, domain.ErasedText, got.Address)
			assert.Equal(t, domain.NewDate(2020, 1, 5), got.OpenedOn)
		})
	}
}

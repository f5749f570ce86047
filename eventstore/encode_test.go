package eventstore

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
)

// FuzzEncodeIsWhatJSONMarshalGives holds encode, which builds a message's
// body from the JSON the hash chain marshaled, to what json.Marshal gives
// for the same events, and every event's hash to its digest, whatever the
// strings of the envelope and the payload hold.
func FuzzEncodeIsWhatJSONMarshalGives(f *testing.F) {
	f.Add("powód", "Szkoła", "pedagog", 2)
	f.Add(`a ,"payload": b`, `"payload":{"x":1}`, `<script>&\u2028`, 1)
	f.Add("\xff\xfe", "", `\"`, 3)
	f.Fuzz(func(t *testing.T, reason, name, position string, n int) {
		n = 1 + (n%3+3)%3
		s := &Store{}
		id := domain.NewID()
		envs := make([]domain.Envelope, n)
		for i := range envs {
			envs[i] = domain.Envelope{EventID: domain.NewID(), Type: "WorkerRegistered", SchemaVersion: 1,
				AggregateType: domain.AggregateInstitution, AggregateID: id, AggregateVersion: int64(i + 1),
				OccurredAt: time.Date(2019, 10, 23, 10, 0, 0, 0, time.UTC), RecordedAt: time.Now().UTC(),
				Actor: domain.Actor{UserID: name, Role: domain.RoleAdmin}, CommandID: domain.NewID(), CorrelationID: reason,
				Reason: reason, Payload: domain.WorkerRegistered{WorkerID: domain.NewID(), Name: name, Position: position}}
		}
		msg, last, err := s.encode(context.Background(), "koop.institution."+id, "", envs)
		require.NoError(t, err)
		// What json.Marshal gives for the same events, chained.
		want := wireCommit{Events: make([]wireEvent, n)}
		prev := ""
		for i, env := range envs {
			payload, err := domain.EncodeEvent(env.Payload)
			require.NoError(t, err)
			w := wireEvent{Envelope: env, Payload: payload}
			w.PrevHash = prev
			prev, err = digest(nil, &w)
			require.NoError(t, err)
			w.Hash = prev
			want.Events[i] = w
		}
		b, err := json.Marshal(want)
		require.NoError(t, err)
		require.Equal(t, string(b), string(msg.Data))
		require.Equal(t, prev, last)
	})
}

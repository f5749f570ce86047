package eventstore_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
	"github.com/kooperacje/kooperacje/vault"
)

func TestVerifyCatchesAForgedMessage(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := eventstore.Open(ctx, eventstore.Options{DataDir: dir, Listen: "127.0.0.1:0"})
	require.NoError(t, err)
	defer s.Close()
	master, _ := vault.NewMasterKey()
	keys, err := vault.OpenKeyring(ctx, s.JetStream(), master, 1)
	require.NoError(t, err)
	defer keys.Close()
	s.Protect(keys)

	id := domain.NewID()
	_, err = s.Append(ctx, domain.AggregateInstitution, id, 0, meta(), institution("A"), worker("a"))
	require.NoError(t, err)
	_, err = s.Append(ctx, domain.AggregateInstitution, id, 2, meta(), worker("b"))
	require.NoError(t, err)
	_, err = s.Append(ctx, domain.AggregateInstitution, domain.NewID(), 0, meta(), institution("B"))
	require.NoError(t, err)

	rep, err := s.Verify(ctx, nil)
	require.NoError(t, err)
	assert.Nil(t, rep.Broken)
	assert.Equal(t, uint64(3), rep.Messages)
	assert.Equal(t, uint64(4), rep.Events)
	assert.Equal(t, 2, rep.Aggregates)

	// A forger with the NATS credentials but not the master key copies the
	// last event, changes it, and publishes it with a plain client.
	envs, err := s.Load(ctx, domain.AggregateInstitution, id)
	require.NoError(t, err)
	stream, err := s.JetStream().Stream(ctx, s.StreamName())
	require.NoError(t, err)
	last, err := stream.GetMsg(ctx, envs[len(envs)-1].Sequence)
	require.NoError(t, err)
	var body map[string][]map[string]any
	require.NoError(t, json.Unmarshal(last.Data, &body))
	forged := body["events"][0]
	forged["event_id"] = domain.NewID()
	forged["aggregate_version"] = 4
	forged["prev_hash"] = forged["hash"]
	forged["payload"] = map[string]any{"worker_id": domain.NewID(), "name": "Podstawiony", "position": "dyrektor"}
	raw, err := json.Marshal(map[string]any{"events": []any{forged}})
	require.NoError(t, err)

	auth, err := nats.NkeyOptionFromSeed(s.NKeyPath())
	require.NoError(t, err)
	nc, err := nats.Connect(s.ClientURL(), auth)
	require.NoError(t, err)
	defer nc.Close()
	ack, err := nc.Request("koop.institution."+id, raw, 5e9)
	require.NoError(t, err)
	require.Contains(t, string(ack.Data), `"seq":4`, "the forged message is in the stream")

	rep, err = s.Verify(ctx, nil)
	require.NoError(t, err)
	require.NotNil(t, rep.Broken, "verify must catch the forgery")
	assert.Equal(t, uint64(4), rep.Broken.Sequence)
	assert.Equal(t, "koop.institution."+id, rep.Broken.Subject)
	assert.Equal(t, forged["event_id"], rep.Broken.EventID)
	assert.Contains(t, rep.Broken.Problem, "altered or forged")
}

func TestStreamCheckpointsCatchWhatChainsCannot(t *testing.T) {
	ctx := context.Background()
	s := open(t, "")
	ids := []string{domain.NewID(), domain.NewID()}
	for _, id := range ids {
		_, err := s.Append(ctx, domain.AggregateInstitution, id, 0, meta(), institution("A"))
		require.NoError(t, err)
	}
	cp, err := s.WriteCheckpoint(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), cp.Sequence)
	again, err := s.WriteCheckpoint(ctx)
	require.NoError(t, err)
	assert.Equal(t, cp, again, "nothing new: the same checkpoint")
	_, err = s.Append(ctx, domain.AggregateInstitution, ids[0], 1, meta(), worker("w"))
	require.NoError(t, err)
	next, err := s.WriteCheckpoint(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(3), next.Sequence)
	rep, err := s.Verify(ctx, nil)
	require.NoError(t, err)
	assert.Nil(t, rep.Broken)

	// A checkpoint that does not match what is stored (as after an edit of
	// the files) is reported at its sequence.
	kv, err := s.JetStream().KeyValue(ctx, eventstore.AuditBucket)
	require.NoError(t, err)
	forged := next
	forged.Digest = strings.Repeat("0", 64)
	b, _ := json.Marshal(forged)
	_, err = kv.Put(ctx, "stream.00000000000000000003", b)
	require.NoError(t, err)
	rep, err = s.Verify(ctx, nil)
	require.NoError(t, err)
	require.NotNil(t, rep.Broken)
	assert.Equal(t, uint64(3), rep.Broken.Sequence)
	assert.Contains(t, rep.Broken.Problem, "differs from the checkpoint")

	// A checkpoint beyond the stream's end: messages were removed.
	beyond := eventstore.StreamCheckpoint{Sequence: 9, Digest: next.Digest, At: next.At}
	b, _ = json.Marshal(beyond)
	_, err = kv.Put(ctx, "stream.00000000000000000009", b)
	require.NoError(t, err)
	rep, err = s.Verify(ctx, nil)
	require.NoError(t, err)
	require.NotNil(t, rep.Broken)
	assert.Contains(t, rep.Broken.Problem, "were removed")
}

package projections_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
	"github.com/kooperacje/kooperacje/projections"
)

var _ projections.SelectiveSource = (*eventstore.Store)(nil)

// spy records, as JSON, every event it is given of the types it handles.
type spy struct {
	types    func(string) bool
	personal *bool // nil: does not say
	mu       sync.Mutex
	seen     strings.Builder
	applied  int
}

func (*spy) Name() string              { return "spy" }
func (s *spy) Handles(t string) bool   { return s.types(t) }
func (*spy) Snapshot() ([]byte, error) { return nil, nil }
func (*spy) Restore([]byte) error      { return nil }
func (s *spy) Apply(env domain.Envelope) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := json.Marshal(struct {
		domain.Envelope
		Payload domain.Event `json:"payload"`
	}{env, env.Payload})
	s.seen.Write(b)
	s.applied++
	return err
}

// spyNeeding is a spy that tells whether it needs personal data.
type spyNeeding struct {
	*spy
	needs bool
}

func (s spyNeeding) NeedsPersonal() bool { return s.needs }

func familyTypes(t string) bool { return domain.EventAggregate(t) == domain.AggregateFamily }

// What the bench stream's families hold in clear: names, an address, the
// referral's reason, a birth date, meeting decisions and next steps, the
// contract's goals and duties, the reason for closing a case.
var plaintexts = []string{"Przykładow", "absencja", "1985-03-01", "2012-05-05", "kontynuacja zajęć", "spotkanie z rodzicem",
	"stabilizacja sytuacji", "regularna nauka", "udział w spotkaniach", "ewaluacja"}

func TestReplayLeavesPersonalDataSealedWhenNoProjectionNeedsIt(t *testing.T) {
	s := openBenchStore(t)
	buildBenchStream(t, s, 1, 3, 0)
	ctx := context.Background()

	blind := spyNeeding{&spy{types: familyTypes}, false}
	_, err := projections.Replay(ctx, s, projections.Until{}, nil, blind, projections.NewIndicators(nil), projections.NewPartnerships())
	require.NoError(t, err)
	got := blind.seen.String()
	require.Equal(t, 3*25, blind.applied)
	for _, p := range plaintexts {
		assert.NotContains(t, got, p, "plaintext reached a projection that needs none")
	}
	assert.Contains(t, got, `"name":"enc:`, "personal texts keep their sealed form")
	assert.Contains(t, got, `"birth_date":null`, "sealed dates read as unset")
	assert.Contains(t, got, `"reason":"enc:`)
	assert.Contains(t, got, `"relation":"applicant"`, "what is not personal reads as ever")

	// With one projection that needs it (or does not say), everyone sees
	// the plaintext.
	for _, needing := range []projections.Projection{spyNeeding{&spy{types: familyTypes}, true}, &spy{types: familyTypes}} {
		blind := spyNeeding{&spy{types: familyTypes}, false}
		_, err := projections.Replay(ctx, s, projections.Until{}, nil, blind, needing)
		require.NoError(t, err)
		for _, p := range plaintexts {
			assert.Contains(t, blind.seen.String(), p)
		}
	}
}

// plainSource hides the store's ReadSelected: a replay through it reads
// and opens everything.
type plainSource struct{ projections.Source }

func TestSelectiveReplayBuildsTheSameEvaluation(t *testing.T) {
	s := openBenchStore(t)
	buildBenchStream(t, s, 2, 8, 2)
	ctx := context.Background()
	for _, until := range []projections.Until{{}, {Sequence: 100}, {OccurredAt: domain.NewDate(2019, 6, 1).Time()}} {
		ind, par := projections.NewIndicators(nil), projections.NewPartnerships()
		sel, err := projections.Replay(ctx, s, until, nil, ind, par)
		require.NoError(t, err)
		ind2, par2 := projections.NewIndicators(nil), projections.NewPartnerships()
		all, err := projections.Replay(ctx, plainSource{s}, until, nil, ind2, par2)
		require.NoError(t, err)

		assert.Equal(t, all.Commits, sel.Commits, "every message is read")
		assert.Equal(t, all.Position, sel.Position)
		assert.Less(t, sel.Events, all.Events, "the institutions' events are not decoded")
		for _, pair := range [][2]projections.Projection{{ind, ind2}, {par, par2}} {
			a, err := pair[0].Snapshot()
			require.NoError(t, err)
			b, err := pair[1].Snapshot()
			require.NoError(t, err)
			assert.JSONEq(t, string(b), string(a), pair[0].Name())
		}
	}
}

// A message no projection wants is not decoded (here one that would not
// decode); one of a type the engine does not know is, and is counted.
func TestReplayDecodesOnlyWhatItsProjectionsWant(t *testing.T) {
	s := openBenchStore(t)
	buildBenchStream(t, s, 1, 2, 0)
	ctx := context.Background()
	publish := func(subject, types, body string) {
		msg := nats.NewMsg(subject)
		msg.Header.Set(eventstore.HeaderEventTypes, types)
		msg.Data = []byte(body)
		_, err := s.JetStream().PublishMsg(ctx, msg)
		require.NoError(t, err)
	}
	fid := domain.NewID()
	publish("koop.family."+fid, "TeamDissolved", `{"events":[{"type":"TeamDissolved","payload":`)
	publish("koop.family."+fid, "FamilyTeleported", `{"events":[{"event_id":"x","type":"FamilyTeleported","schema_version":1,"aggregate_type":"family","aggregate_id":"`+fid+`","aggregate_version":1,"payload":{"to":"Mars"}}]}`)
	last, err := s.LastSequence(ctx)
	require.NoError(t, err)

	closed := &spy{types: func(t string) bool { return t == "CaseClosed" }}
	st, err := projections.Replay(ctx, s, projections.Until{}, nil, closed)
	require.NoError(t, err)
	assert.Equal(t, 2, closed.applied)
	assert.Equal(t, int64(last), st.Commits, "every message counts as read")
	assert.Equal(t, last, st.Position)
	assert.Equal(t, int64(1), st.Skipped, "the unknown type was decoded and skipped")

	_, err = projections.Replay(ctx, plainSource{s}, projections.Until{}, nil, &spy{types: familyTypes})
	require.ErrorIs(t, err, eventstore.ErrCorrupt, "read whole, the broken message stops the replay")
}

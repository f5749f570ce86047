package projections_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
	"github.com/kooperacje/kooperacje/projections"
)

func openStore(tb testing.TB, dir string) *eventstore.Store {
	tb.Helper()
	s, err := eventstore.Open(context.Background(), eventstore.Options{DataDir: dir, Listen: eventstore.ListenOff})
	require.NoError(tb, err)
	tb.Cleanup(s.Close)
	return s
}

func readModels() (*projections.Institutions, *projections.Partnerships, *projections.Users) {
	return projections.NewInstitutions(), projections.NewPartnerships(), projections.NewUsers()
}

// history writes a small partnership story and returns the last sequence.
func history(t *testing.T, s *eventstore.Store, at time.Time) (partnershipID string, last uint64) {
	t.Helper()
	ctx := context.Background()
	h := &domain.Handler{Store: s}
	m := func(day int) domain.Meta {
		return domain.Meta{Actor: domain.Actor{UserID: "admin", Role: domain.RoleAdmin}, OccurredAt: at.AddDate(0, 0, day), Reason: "test"}
	}
	run := func(cmd domain.Command, meta domain.Meta) domain.Result {
		res, err := h.Execute(ctx, cmd, meta, domain.AnyVersion)
		require.NoError(t, err)
		return res
	}
	mops, school, pup := domain.NewID(), domain.NewID(), domain.NewID()
	// Each step is dated on the day of its business time.
	on := func(day int) domain.Date { return domain.DayOf(at.AddDate(0, 0, day)) }
	run(domain.RegisterInstitution{InstitutionID: mops, Name: "MOPS Sieradz", Sector: domain.SectorSocialAssistance, Municipality: "Sieradz", County: "sieradzki"}, m(0))
	run(domain.RegisterInstitution{InstitutionID: school, Name: "Szkoła Podstawowa nr 1", Sector: domain.SectorEducation, Municipality: "Sieradz", County: "sieradzki"}, m(0))
	run(domain.RegisterInstitution{InstitutionID: pup, Name: "Powiatowy Urząd Pracy", Sector: domain.SectorLabour, Municipality: "Sieradz", County: "sieradzki"}, m(0))
	run(domain.RegisterWorker{InstitutionID: mops, WorkerID: domain.NewID(), Name: "Anna Nowak", Position: "pracownik socjalny"}, m(0))
	pid := domain.NewID()
	run(domain.InitiatePartnership{PartnershipID: pid, Name: "PZK Sieradz", Municipality: "Sieradz", County: "sieradzki", Date: on(1), LeaderID: mops}, m(1))
	run(domain.JoinPartnership{PartnershipID: pid, InstitutionID: school, Date: on(2)}, m(2))
	run(domain.JoinPartnership{PartnershipID: pid, InstitutionID: pup, Date: on(3)}, m(3))
	run(domain.OfferService{PartnershipID: pid, ServiceID: domain.NewID(), InstitutionID: pup, Name: "Doradztwo zawodowe"}, m(4))
	run(domain.RecordMeeting{PartnershipID: pid, MeetingID: domain.NewID(), Kind: domain.MeetingRegular, Date: on(5), Place: "MOPS", Attendees: []string{mops, school}}, m(5))
	run(domain.FormalizePartnership{PartnershipID: pid, Date: on(6)}, m(6))
	meta := m(7)
	meta.Reason = "reorganizacja"
	res := run(domain.LeavePartnership{PartnershipID: pid, InstitutionID: pup, Date: on(7)}, meta)
	return pid, res.Sequence
}

func TestLiveRunnerAppliesAndRebuildEqualsLive(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	inst, part, users := readModels()
	r := projections.NewRunner(s, "test", nil, inst, part, users)
	require.NoError(t, r.Start(ctx))
	defer r.Stop(ctx)

	pid, last := history(t, s, time.Date(2019, 9, 1, 9, 0, 0, 0, time.UTC))
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, r.WaitFor(wctx, last))

	p, ok := part.Get(pid)
	require.True(t, ok)
	assert.Equal(t, projections.StageFormalized, p.Stage)
	assert.Len(t, p.Members, 3)
	assert.True(t, p.Members[2].Left)
	assert.Equal(t, "reorganizacja", p.Members[2].LeaveReason)
	require.Len(t, p.Services, 1)
	assert.True(t, p.Services[0].Withdrawn, "a leaving member's services leave the basket")
	assert.Equal(t, []domain.Sector{domain.SectorSocialAssistance, domain.SectorEducation}, p.Sectors)
	assert.Len(t, inst.List(projections.InstitutionFilter{}), 3)
	assert.Len(t, inst.List(projections.InstitutionFilter{Sector: domain.SectorLabour}), 1)

	i2, p2, u2 := readModels()
	st, err := projections.Rebuild(ctx, s, last, i2, p2, u2)
	require.NoError(t, err)
	assert.Equal(t, last, st.Position)
	for _, pair := range [][2]projections.Projection{{inst, i2}, {part, p2}, {users, u2}} {
		live, err := pair[0].Snapshot()
		require.NoError(t, err)
		rebuilt, err := pair[1].Snapshot()
		require.NoError(t, err)
		assert.JSONEq(t, string(live), string(rebuilt), pair[0].Name())
		assert.Equal(t, live, rebuilt, "snapshots are deterministic")
	}
}

func TestRestartResumesFromCheckpoint(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t, dir)
	inst, part, users := readModels()
	r := projections.NewRunner(s, "test", nil, inst, part, users)
	require.NoError(t, r.Start(ctx))
	pid, last := history(t, s, time.Date(2019, 9, 1, 9, 0, 0, 0, time.UTC))
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, r.WaitFor(wctx, last))
	require.NoError(t, r.Stop(ctx))
	before, err := part.Snapshot()
	require.NoError(t, err)
	s.Close()

	s2 := openStore(t, dir)
	i2, p2, u2 := readModels()
	r2 := projections.NewRunner(s2, "test", nil, i2, p2, u2)
	require.NoError(t, r2.Start(ctx))
	defer r2.Stop(ctx)
	// Resumed at once from the checkpoint, without replaying the stream.
	assert.Equal(t, last, r2.Position())
	after, err := p2.Snapshot()
	require.NoError(t, err)
	assert.Equal(t, before, after)

	// And it follows new events.
	h := &domain.Handler{Store: s2}
	res, err := h.Execute(ctx, domain.RecordMeeting{PartnershipID: pid, MeetingID: domain.NewID(), Kind: domain.MeetingConsultation,
		Date: domain.NewDate(2020, 2, 1), Place: "Urząd Miasta", Attendees: []string{part.List()[0].ID}}, domain.Meta{}, domain.AnyVersion)
	// The attendee id above is a partnership id, not a member: refused.
	require.ErrorIs(t, err, domain.ErrNotMember)
	view, _ := p2.Get(pid)
	res, err = h.Execute(ctx, domain.RecordMeeting{PartnershipID: pid, MeetingID: domain.NewID(), Kind: domain.MeetingConsultation,
		Date: domain.NewDate(2020, 2, 1), Place: "Urząd Miasta", Attendees: []string{view.LeaderID}}, domain.Meta{}, domain.AnyVersion)
	require.NoError(t, err)
	require.NoError(t, r2.WaitFor(wctx, res.Sequence))
	view, _ = p2.Get(pid)
	assert.Len(t, view.Meetings, 2)
}

func TestApplyingAnEventTwiceChangesNothing(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	_, last := history(t, s, time.Date(2019, 9, 1, 9, 0, 0, 0, time.UTC))
	_, part, _ := readModels()
	var all []domain.Envelope
	require.NoError(t, s.Read(ctx, 1, last, func(_ uint64, envs []domain.Envelope, err error) error {
		all = append(all, envs...)
		return err
	}))
	for _, e := range all {
		if part.Handles(e.Type) {
			require.NoError(t, part.Apply(e))
		}
	}
	once, err := part.Snapshot()
	require.NoError(t, err)
	for _, e := range all {
		if part.Handles(e.Type) {
			require.NoError(t, part.Apply(e))
		}
	}
	twice, err := part.Snapshot()
	require.NoError(t, err)
	assert.Equal(t, once, twice)
}

func TestReplayAsOf(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	start := time.Date(2019, 9, 1, 9, 0, 0, 0, time.UTC)
	pid, last := history(t, s, start)
	tests := []struct {
		name    string
		until   projections.Until
		stage   string
		members int
	}{
		{"before the second member joined, by sequence", projections.Until{Sequence: 5}, projections.StageInitiated, 1},
		{"by business time, before formalisation", projections.Until{OccurredAt: start.AddDate(0, 0, 5)}, projections.StageInitiated, 3},
		{"by business time, after formalisation", projections.Until{OccurredAt: start.AddDate(0, 0, 6)}, projections.StageFormalized, 3},
		{"everything", projections.Until{Sequence: last}, projections.StageFormalized, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, part, _ := readModels()
			_, err := projections.Replay(ctx, s, tt.until, nil, part)
			require.NoError(t, err)
			p, ok := part.Get(pid)
			require.True(t, ok)
			assert.Equal(t, tt.stage, p.Stage)
			assert.Len(t, p.Members, tt.members)
		})
	}
	_, part, _ := readModels()
	st, err := projections.Replay(ctx, s, projections.Until{RecordedAt: time.Now().Add(-time.Hour)}, nil, part)
	require.NoError(t, err)
	assert.Zero(t, st.Commits, "nothing was recorded an hour ago")
}

// publishRaw stores a message straight into the stream, bypassing the engine.
func publishRaw(t *testing.T, s *eventstore.Store, subject string, body []byte) {
	t.Helper()
	msg := nats.NewMsg(subject)
	msg.Data = body
	_, err := s.JetStream().PublishMsg(context.Background(), msg)
	require.NoError(t, err)
}

func TestUnknownEventTypesAreSkippedAndCorruptMessagesStopTheRunner(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	inst, part, users := readModels()
	r := projections.NewRunner(s, "test", nil, inst, part, users)
	require.NoError(t, r.Start(ctx))
	defer r.Stop(ctx)

	id := domain.NewID()
	future, err := json.Marshal(map[string]any{"events": []map[string]any{{
		"event_id": domain.NewID(), "type": "FamilyTeleported", "schema_version": 1,
		"aggregate_type": "family", "aggregate_id": id, "aggregate_version": 1,
		"payload": map[string]any{"to": "Mars"},
	}}})
	require.NoError(t, err)
	publishRaw(t, s, "koop.family."+id, future)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, r.WaitFor(wctx, 1))
	assert.Equal(t, int64(1), r.Skipped())
	require.NoError(t, r.Err())

	publishRaw(t, s, "koop.family."+id, []byte(`{"events": "not a list"}`))
	err = r.WaitFor(wctx, 2)
	require.ErrorIs(t, err, projections.ErrFailed)
	require.ErrorIs(t, err, eventstore.ErrCorrupt)
	assert.Equal(t, uint64(1), r.Position(), "a corrupt message is not counted as applied")
}

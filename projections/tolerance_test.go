package projections_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/projections"
)

// picky is a projection that cannot apply some events: it returns an error
// on partnership meetings and panics on formalisations.
type picky struct{ applied int }

func (*picky) Name() string              { return "picky" }
func (*picky) Handles(t string) bool     { return domain.EventAggregate(t) == domain.AggregatePartnership }
func (*picky) Snapshot() ([]byte, error) { return []byte(`{}`), nil }
func (*picky) Restore([]byte) error      { return nil }
func (p *picky) Apply(env domain.Envelope) error {
	switch env.Payload.(type) {
	case domain.MeetingRecorded:
		return errors.New("cannot count this meeting")
	case domain.PartnershipFormalized:
		panic("formalised beyond belief")
	}
	p.applied++
	return nil
}

func TestAnEventAProjectionCannotApplyIsReportedNotFatal(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	_, part, _ := readModels()
	pk := &picky{}
	r := projections.NewRunner(s, "test", nil, pk, part)
	require.NoError(t, r.Start(ctx))
	defer r.Stop(ctx)

	pid, last := history(t, s, time.Date(2019, 9, 1, 9, 0, 0, 0, time.UTC))
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, r.WaitFor(wctx, last), "the runner goes on past events it cannot apply")
	require.NoError(t, r.Err())

	un := r.Unapplied()
	require.Len(t, un, 2)
	assert.Equal(t, "MeetingRecorded", un[0].Type)
	assert.Equal(t, "picky", un[0].Projection)
	assert.Contains(t, un[0].Problem, "cannot count this meeting")
	assert.Equal(t, "PartnershipFormalized", un[1].Type)
	assert.Contains(t, un[1].Problem, "panic: formalised beyond belief")
	assert.NotZero(t, un[1].Sequence)
	p, ok := part.Get(pid)
	require.True(t, ok)
	assert.Equal(t, projections.StageFormalized, p.Stage, "the other projections applied every event")

	st, err := projections.Rebuild(ctx, s, last, &picky{})
	require.NoError(t, err, "a rebuild lists them too")
	assert.Len(t, st.Unapplied, 2)
}

func TestACheckpointThatCannotBeReadIsRebuilt(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t, dir)
	_, part, _ := readModels()
	ind := projections.NewIndicators(nil)
	r := projections.NewRunner(s, "test", nil, part, ind)
	require.NoError(t, r.Start(ctx))
	_, last := history(t, s, time.Date(2019, 9, 1, 9, 0, 0, 0, time.UTC))
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, r.WaitFor(wctx, last))
	require.NoError(t, r.Stop(ctx))
	want, err := ind.Snapshot()
	require.NoError(t, err)

	// An older engine saved a day this one's Date cannot read.
	raw, err := s.LoadCheckpoint(ctx, "test")
	require.NoError(t, err)
	var cp map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &cp))
	var snaps map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(cp["projections"], &snaps))
	snaps["indicators"] = json.RawMessage(`{"last_day":"9999-12-31"}`)
	cp["projections"], _ = json.Marshal(snaps)
	raw, _ = json.Marshal(cp)
	require.NoError(t, s.SaveCheckpoint(ctx, "test", raw))

	_, p2, _ := readModels()
	i2 := projections.NewIndicators(nil)
	r2 := projections.NewRunner(s, "test", nil, p2, i2)
	require.NoError(t, r2.Start(ctx), "an unreadable checkpoint never stops a start")
	defer r2.Stop(ctx)
	require.NoError(t, r2.WaitFor(wctx, last))
	got, err := i2.Snapshot()
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(got), "rebuilt from the stream")
}

func TestABusinessTimeInTheFarFutureCountsAsWhenItWasRecorded(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t, dir)
	pid, _ := history(t, s, time.Date(2019, 9, 1, 9, 0, 0, 0, time.UTC))
	// Written past the handler, as an older engine let it in.
	var members []string
	part := projections.NewPartnerships()
	_, err := projections.Rebuild(ctx, s, 0, part)
	require.NoError(t, err)
	p, _ := part.Get(pid)
	for _, m := range p.Members {
		if !m.Left {
			members = append(members, m.InstitutionID)
		}
	}
	envs, err := s.Load(ctx, domain.AggregatePartnership, pid)
	require.NoError(t, err)
	res, err := s.Append(ctx, domain.AggregatePartnership, pid, envs[len(envs)-1].AggregateVersion,
		domain.Meta{CommandID: domain.NewID(), OccurredAt: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), Actor: domain.Actor{UserID: "u", Role: domain.RoleAdmin}},
		domain.MeetingRecorded{MeetingID: domain.NewID(), Kind: domain.MeetingRegular, Date: domain.NewDate(2019, 12, 31), Place: "MOPS", Attendees: members})
	require.NoError(t, err)

	ind := projections.NewIndicators(nil)
	r := projections.NewRunner(s, "ind", nil, ind)
	require.NoError(t, r.Start(ctx))
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, r.WaitFor(wctx, res.Sequence))
	assert.Equal(t, projections.Today(time.Now()), ind.LastDay(), "the last business day is the day it was recorded, not 9999-12-31")
	require.NoError(t, r.Stop(ctx))

	// And the checkpoint it saved restores.
	i2 := projections.NewIndicators(nil)
	r2 := projections.NewRunner(s, "ind", nil, i2)
	require.NoError(t, r2.Start(ctx))
	defer r2.Stop(ctx)
	assert.Equal(t, res.Sequence, r2.Position(), "resumed from the checkpoint")
	assert.Equal(t, ind.LastDay(), i2.LastDay())
}

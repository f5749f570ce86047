package main

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/eventstore"
	"github.com/kooperacje/kooperacje/projections"
)

// TestRebuiltProjectionsEqualTheLiveOnesAfterTheDemo runs the engine with
// the demo data, then rebuilds every read model from zero and compares.
func TestRebuiltProjectionsEqualTheLiveOnesAfterTheDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := serveConfig{storeConfig: storeConfig{data: t.TempDir(), natsListen: eventstore.ListenOff, stream: eventstore.DefaultStream, instance: "test", demo: true}}
	require.NoError(t, c.validate())
	log := slog.New(slog.DiscardHandler)
	e, err := startEngine(ctx, c, log)
	require.NoError(t, err)
	defer e.close(context.Background(), log)
	require.NoError(t, loadDemo(ctx, e.handler, c.data))
	require.NoError(t, e.catchUp(ctx))
	last, err := e.store.LastSequence(ctx)
	require.NoError(t, err)

	inst, part, users, fam := projections.NewInstitutions(), projections.NewPartnerships(), projections.NewUsers(), projections.NewFamilies()
	st, err := projections.Rebuild(ctx, e.store, last, inst, part, users, fam)
	require.NoError(t, err)
	assert.Equal(t, last, st.Position)
	assert.Zero(t, st.Skipped)
	for _, pair := range [][2]projections.Projection{{e.institutions, inst}, {e.partnerships, part}, {e.users, users}, {e.families, fam}} {
		live, err := pair[0].Snapshot()
		require.NoError(t, err)
		rebuilt, err := pair[1].Snapshot()
		require.NoError(t, err)
		assert.Equal(t, string(live), string(rebuilt), "%s: a rebuild must produce exactly the live state", pair[0].Name())
	}
	assert.NotEmpty(t, fam.List(projections.FamilyFilter{}, projections.Today(time.Now())), "the demo has families")
}

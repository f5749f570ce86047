package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/projections"
	"github.com/kooperacje/kooperacje/vault"
)

func TestErasureSurvivesARebuildAndKeepsTheCounts(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	master, _ := vault.NewMasterKey()
	keys, err := vault.OpenKeyring(ctx, s.JetStream(), master, 1)
	require.NoError(t, err)
	t.Cleanup(keys.Close)
	s.Protect(keys)

	inst, part, users := readModels()
	fam := projections.NewFamilies()
	r := projections.NewRunner(s, "test", nil, inst, part, users, fam)
	require.NoError(t, r.Start(ctx))
	defer r.Stop(ctx)

	w := newFamilyWorldOn(t, s)
	w.run(domain.RecordDiagnosisInput{FamilyID: w.fid, Area: domain.AreaHousing, Severity: domain.SeverityHigh, Needs: "eksmisja",
		WorkerID: w.coordinator, InstitutionID: w.mops, Date: domain.NewDate(2020, 2, 3)}, "")
	w.run(domain.CompleteDiagnosis{FamilyID: w.fid, Date: domain.NewDate(2020, 2, 4), Summary: "pilna pomoc"}, "")
	w.run(domain.EraseFamily{FamilyID: w.fid, LegalBasis: "art. 17 RODO", Date: domain.NewDate(2020, 3, 1)}, "żądanie osoby")
	_, err = keys.Erase(ctx, w.fid)
	require.NoError(t, err)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, r.WaitFor(wctx, w.last))

	today := domain.NewDate(2020, 6, 1)
	live, ok := fam.Plan(w.fid, today)
	require.True(t, ok)
	assert.True(t, live.Erased)
	assert.Equal(t, domain.ErasedText, live.Household[0].Name)
	assert.Equal(t, domain.ErasedText, live.Address)
	assert.Equal(t, domain.ErasedText, live.Diagnosis.Summary)
	assert.Equal(t, domain.ErasedText, live.Diagnosis.Areas[0].Inputs[0].Needs)
	assert.Equal(t, projections.StageDiagnosed, live.Stage, "the structure stays")

	// Every projection rebuilt from zero: still erased, the same counts,
	// the same state as the live one.
	i2, p2, u2 := readModels()
	f2 := projections.NewFamilies()
	_, err = projections.Rebuild(ctx, s, w.last, i2, p2, u2, f2)
	require.NoError(t, err)
	rebuilt, ok := f2.Plan(w.fid, today)
	require.True(t, ok)
	assert.Equal(t, live, rebuilt)
	assert.Equal(t, fam.StagesByPartnership(w.pid), f2.StagesByPartnership(w.pid))
	for _, pair := range [][2]projections.Projection{{inst, i2}, {part, p2}, {users, u2}, {fam, f2}} {
		a, err := pair[0].Snapshot()
		require.NoError(t, err)
		b, err := pair[1].Snapshot()
		require.NoError(t, err)
		assert.JSONEq(t, string(a), string(b), pair[0].Name())
	}

	// Nothing more is recorded for the family.
	_, err = w.h.Execute(ctx, domain.CloseCase{FamilyID: w.fid, Date: domain.NewDate(2020, 3, 2), Outcome: domain.OutcomeOther}, domain.Meta{}, domain.AnyVersion)
	require.ErrorIs(t, err, domain.ErrFamilyErased)

	// Rotating the master key keeps every other family readable.
	other := newFamilyWorldOn(t, s)
	next, _ := vault.NewMasterKey()
	_, err = keys.Rotate(ctx, master, next)
	require.NoError(t, err)
	k2, err := vault.OpenKeyring(ctx, s.JetStream(), next, 1)
	require.NoError(t, err)
	defer k2.Close()
	s.Protect(k2)
	f3 := projections.NewFamilies()
	_, err = projections.Rebuild(ctx, s, 0, f3)
	require.NoError(t, err)
	p3, ok := f3.Plan(other.fid, today)
	require.True(t, ok)
	assert.Equal(t, "Anna Przykładowa", p3.Household[0].Name)
	e3, _ := f3.Plan(w.fid, today)
	assert.True(t, e3.Erased)
}

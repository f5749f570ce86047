package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
	"github.com/kooperacje/kooperacje/projections"
)

// benchRun runs kooperacje with args and returns its exit code and output.
func benchRun(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	code = run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

// benchGenerateInto generates into dir (with the demo master key) and
// fails the test unless it succeeds.
func benchGenerateInto(t *testing.T, dir string, args ...string) benchGenerated {
	t.Helper()
	code, out, errs := benchRun(t, append([]string{"bench", "generate", "--data", dir, "--demo", "--quiet"}, args...)...)
	require.Equal(t, 0, code, "bench generate %v: %s%s", args, out, errs)
	b, err := os.ReadFile(filepath.Join(dir, BenchGenerateFile))
	require.NoError(t, err)
	var rec benchGenerated
	require.NoError(t, json.Unmarshal(b, &rec))
	return rec
}

// benchEvent is what must be the same in two generations with the same
// seed: everything but the engine's own ids, times and the sealed bytes.
type benchEvent struct {
	Type       string
	Version    int64
	CommandID  string
	OccurredAt time.Time
	Reason     string
	Actor      domain.Actor
	Payload    string // JSON, personal fields opened
}

// benchRead opens a generated data directory with its keys and returns
// every aggregate's events and the rebuilt families' read model.
func benchRead(t *testing.T, dir string) (map[string][]benchEvent, *projections.Families, uint64) {
	t.Helper()
	ctx := context.Background()
	c := storeConfig{data: dir, natsListen: eventstore.ListenOff, stream: eventstore.DefaultStream, replicas: 1, instance: "test", demo: true}
	master, err := c.loadMasterKey()
	require.NoError(t, err)
	store, keys, err := c.open(ctx, master, nil)
	require.NoError(t, err)
	defer func() { keys.Close(); store.Close() }()
	out := map[string][]benchEvent{}
	err = store.Read(ctx, 0, 0, func(_ uint64, envs []domain.Envelope, err error) error {
		if err != nil {
			return err
		}
		for _, e := range envs {
			p, err := json.Marshal(e.Payload)
			if err != nil {
				return err
			}
			k := e.AggregateType + "/" + e.AggregateID
			out[k] = append(out[k], benchEvent{e.Type, e.AggregateVersion, e.CommandID, e.OccurredAt, e.Reason, e.Actor, string(p)})
		}
		return nil
	})
	require.NoError(t, err)
	last, err := store.LastSequence(ctx)
	require.NoError(t, err)
	fam := projections.NewFamilies()
	st, err := projections.Rebuild(ctx, store, last, fam)
	require.NoError(t, err)
	require.Zero(t, st.Skipped)
	return out, fam, last
}

func TestBenchGenerateIsDeterministic(t *testing.T) {
	a, b, other := t.TempDir(), t.TempDir(), t.TempDir()
	// The same seed written by one goroutine and by 32: families interleave
	// differently in the stream, and nothing else may differ.
	ra := benchGenerateInto(t, a, "--families", "60", "--partnerships", "3", "--meetings", "1", "--seed", "7", "--concurrency", "1")
	rb := benchGenerateInto(t, b, "--families", "60", "--partnerships", "3", "--meetings", "1", "--seed", "7", "--concurrency", "32")
	benchGenerateInto(t, other, "--families", "60", "--partnerships", "3", "--meetings", "1", "--seed", "8")
	assert.Equal(t, ra.Events, rb.Events)
	assert.Equal(t, ra.Commands, rb.Commands)

	ha, fa, _ := benchRead(t, a)
	hb, fb, _ := benchRead(t, b)
	ho, fo, _ := benchRead(t, other)
	assert.Equal(t, len(ha), len(hb))
	for k, evs := range ha {
		assert.Equal(t, evs, hb[k], "aggregate %s differs between two generations with the same seed", k)
	}
	sa, err := fa.Snapshot()
	require.NoError(t, err)
	sb, err := fb.Snapshot()
	require.NoError(t, err)
	so, err := fo.Snapshot()
	require.NoError(t, err)
	assert.Equal(t, string(sa), string(sb), "the same seed rebuilds the same families' read model")
	assert.NotEqual(t, string(sa), string(so), "another seed generates other families")
	for k := range ho {
		if _, ok := ha[k]; ok && k[:len(domain.AggregateFamily)] == domain.AggregateFamily {
			t.Errorf("family %s exists under two seeds", k)
		}
	}

	// --meetings 1 adds a task-team meeting to every family with a team, and
	// a review to every family whose contract was signed, beyond the
	// demo's own.
	teams := 0
	for k, evs := range ha {
		types := map[string]int{}
		for _, e := range evs {
			types[e.Type]++
		}
		if types["TeamFormed"] == 0 {
			continue
		}
		teams++
		assert.GreaterOrEqual(t, types["TeamMeetingRecorded"], 2, "%s: the first meeting and an extra one", k)
		if types["ContractSigned"] > 0 {
			assert.GreaterOrEqual(t, types["ContractReviewed"], 1, "%s: an extra review", k)
		}
	}
	assert.Greater(t, teams, 20)
}

func TestBenchGeneratedFamiliesReachEveryStage(t *testing.T) {
	dir := t.TempDir()
	rec := benchGenerateInto(t, dir, "--families", "150", "--seed", "3", "--concurrency", "16")
	hist, fam, last := benchRead(t, dir)
	assert.Equal(t, uint64(rec.Commands), last, "one message per command")
	stages := map[int]int{}
	endings := map[string]bool{}
	support := 0
	families := 0
	for k, evs := range hist {
		f := &demoFamily{types: map[string]int{}}
		for _, e := range evs {
			f.types[e.Type]++
			if e.Type == "ContractEnded" {
				var p domain.ContractEnded
				require.NoError(t, json.Unmarshal([]byte(e.Payload), &p))
				endings[string(p.Ending)] = true
			}
			if e.Type == "StaffSupportRecorded" {
				support++
			}
		}
		if k[:len(domain.AggregateFamily)+1] == domain.AggregateFamily+"/" {
			families++
			stages[f.stage()]++
		}
	}
	assert.Equal(t, 150, families)
	for s := 1; s <= 11; s++ {
		assert.Positive(t, stages[s], "no family reached stage %d (%s): %v", s, demoStages[s], stages)
	}
	for _, e := range []domain.Ending{domain.EndingGoalsMet, domain.EndingClientBroke, domain.EndingClientWithdrew, domain.EndingMovedAway, domain.EndingOther} {
		assert.True(t, endings[string(e)], "no contract ended with %s", e)
	}
	assert.Positive(t, support, "staff support is recorded")
	byStage := map[string]int{}
	for _, s := range fam.List(projections.FamilyFilter{}, projections.Today(time.Now())) {
		byStage[s.Stage]++
	}
	for _, s := range []string{projections.StageOpened, projections.StageDiagnosisInProgress, projections.StageDiagnosed, projections.StageContractDrafted,
		projections.StageContractInForce, projections.StageContractEnded, projections.StageClosed} {
		assert.Positive(t, byStage[s], "the read model has no family at stage %s: %v", s, byStage)
	}
}

func TestBenchBadFlagsAreUsageErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", []string{"bench"}, "generate or scale"},
		{"an unknown subcommand", []string{"bench", "load"}, `"load"`},
		{"no families", []string{"bench", "generate", "--data", dir, "--demo", "--families", "0"}, "--families 0"},
		{"families that are not a number", []string{"bench", "generate", "--data", dir, "--demo", "--families", "many"}, "-families"},
		{"no partnerships", []string{"bench", "generate", "--data", dir, "--demo", "--partnerships", "0"}, "--partnerships 0"},
		{"no concurrency", []string{"bench", "generate", "--data", dir, "--demo", "--concurrency", "0"}, "--concurrency 0"},
		{"negative meetings", []string{"bench", "generate", "--data", dir, "--demo", "--meetings", "-1"}, "--meetings -1"},
		{"a negative seed", []string{"bench", "generate", "--data", dir, "--demo", "--seed", "-3"}, "-seed"},
		{"a stray argument", []string{"bench", "generate", "--data", dir, "--demo", "extra"}, "no arguments"},
		{"no queries", []string{"bench", "scale", "--data", dir, "--demo", "--queries", "0"}, "--queries 0"},
		{"scale of a missing directory", []string{"bench", "scale", "--data", filepath.Join(dir, "nothing"), "--demo"}, "--data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := benchRun(t, tt.args...)
			assert.Equal(t, 2, code, stderr)
			assert.Contains(t, stderr, tt.want)
		})
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "a usage error writes nothing")
}

func TestBenchGenerateRefusesANonEmptyStreamWithoutAppend(t *testing.T) {
	dir := t.TempDir()
	first := benchGenerateInto(t, dir, "--families", "20", "--seed", "5")
	record, err := os.ReadFile(filepath.Join(dir, BenchGenerateFile))
	require.NoError(t, err)

	code, _, stderr := benchRun(t, "bench", "generate", "--data", dir, "--demo", "--quiet", "--families", "20", "--seed", "6")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "--append")
	_, _, last := benchRead(t, dir)
	assert.Equal(t, first.LastSeq, last, "a refused generation writes nothing")
	again, err := os.ReadFile(filepath.Join(dir, BenchGenerateFile))
	require.NoError(t, err)
	assert.Equal(t, string(record), string(again))

	// --append with the same seed completes a generation cut short: the
	// first twenty families are found complete, ten more are written.
	more := benchGenerateInto(t, dir, "--families", "30", "--seed", "5", "--append")
	assert.True(t, more.Appended)
	assert.Equal(t, 20, more.Skipped)
	assert.Positive(t, more.Commands)
	assert.Greater(t, more.LastSeq, first.LastSeq)
	// And once complete, it writes nothing.
	done := benchGenerateInto(t, dir, "--families", "30", "--seed", "5", "--append", "--concurrency", "3")
	assert.Equal(t, 30, done.Skipped)
	assert.Zero(t, done.Commands)
	assert.Equal(t, more.LastSeq, done.LastSeq)
	hist, _, _ := benchRead(t, dir)
	families := 0
	for k := range hist {
		if k[:len(domain.AggregateFamily)+1] == domain.AggregateFamily+"/" {
			families++
		}
	}
	assert.Equal(t, 30, families)
}

func TestBenchScaleReportsSaneNumbers(t *testing.T) {
	dir := t.TempDir()
	gen := benchGenerateInto(t, dir, "--families", "50", "--partnerships", "2", "--seed", "11")
	code, out, stderr := benchRun(t, "bench", "scale", "--data", dir, "--demo", "--queries", "40", "--json")
	require.Equal(t, 0, code, stderr)
	var rep scaleReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	require.NotNil(t, rep.Generated)
	assert.Equal(t, gen.Events, rep.RebuildEvents, "the rebuild applies every generated event")
	assert.Equal(t, gen.LastSeq, rep.Messages)
	assert.Equal(t, int64(rep.Messages), rep.RebuildCommits)
	assert.Zero(t, rep.RebuildSkipped)
	assert.Equal(t, 50, rep.Families)
	assert.Equal(t, 2, rep.Partnerships)
	assert.Positive(t, rep.RebuildSeconds)
	assert.InDelta(t, float64(rep.RebuildEvents)/rep.RebuildSeconds, rep.RebuildEventsSec, 1)
	assert.Positive(t, rep.DiskBytes)
	assert.Positive(t, rep.ApparentSize)
	assert.Positive(t, rep.PeakRSSBytes)
	assert.GreaterOrEqual(t, uint64(rep.PeakRSSBytes), rep.HeapAfterBytes)
	assert.Positive(t, rep.HeapAfterBytes)
	assert.Positive(t, rep.HeapDroppedBytes)
	assert.Positive(t, rep.ReadModelBytes, "fifty families' read models take some memory")
	assert.InDelta(t, float64(rep.ReadModelBytes)/50, rep.BytesPerFamily, 1)
	assert.Equal(t, 40, rep.Queries)
	assert.Positive(t, rep.PlanP50us)
	assert.GreaterOrEqual(t, rep.PlanP99us, rep.PlanP50us)
	assert.Positive(t, rep.LoadP50us)
	assert.GreaterOrEqual(t, rep.LoadP99us, rep.LoadP50us)
	assert.InDelta(t, float64(gen.Events)/50, rep.LoadEvents, float64(gen.Events)/50, "a family has events")
	assert.Positive(t, rep.LoadEvents)

	file := filepath.Join(t.TempDir(), "scale.json")
	code, out, stderr = benchRun(t, "bench", "scale", "--data", dir, "--demo", "--queries", "5", "--json-file", file)
	require.Equal(t, 0, code, stderr)
	var again scaleReport
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &again))
	assert.Equal(t, rep.RebuildEvents, again.RebuildEvents)
	assert.Equal(t, 5, again.Queries)
	for _, row := range []string{"rebuild: events/s", "peak RSS", "on disk", "plan of a random family p50 / p99", "Store.Load of a random family"} {
		assert.Contains(t, out, row)
	}
}

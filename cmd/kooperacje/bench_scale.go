package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/projections"
)

// scaleReport is what bench scale measures on a data directory.
type scaleReport struct {
	Generated *benchGenerated `json:"generated,omitempty"` // the data directory's bench-generate.json, if any

	DiskBytes    int64  `json:"disk_bytes"`    // blocks allocated under the data directory
	ApparentSize int64  `json:"apparent_size"` // sum of the files' sizes
	Messages     uint64 `json:"messages"`      // the stream's last sequence

	RebuildSeconds   float64 `json:"rebuild_seconds"`
	RebuildCommits   int64   `json:"rebuild_commits"`
	RebuildEvents    int64   `json:"rebuild_events"`
	RebuildSkipped   int64   `json:"rebuild_skipped"`
	RebuildEventsSec float64 `json:"rebuild_events_per_second"`

	Families     int `json:"families"`     // families in the rebuilt read model
	Partnerships int `json:"partnerships"` // partnerships in the rebuilt read model

	HeapBeforeBytes    uint64  `json:"heap_before_bytes"`     // live heap after GC with the store open, before the rebuild
	HeapAfterBytes     uint64  `json:"heap_after_bytes"`      // live heap after GC with the rebuilt read models
	HeapDroppedBytes   uint64  `json:"heap_dropped_bytes"`    // live heap after GC once the read models are dropped again
	ReadModelBytes     int64   `json:"read_model_bytes"`      // heap_after - heap_dropped: what the read models hold
	BytesPerFamily     float64 `json:"bytes_per_family"`      // read_model_bytes / families
	BytesPerEvent      float64 `json:"bytes_per_event"`       // read_model_bytes / rebuild_events
	PeakRSSBytes       int64   `json:"peak_rss_bytes"`        // getrusage maxrss of the whole process (engine and embedded server)
	PeakHeapInUseBytes uint64  `json:"peak_heap_inuse_bytes"` // the largest heap in use sampled during the rebuild

	Queries    int     `json:"queries"`
	PlanP50us  float64 `json:"plan_p50_us"` // Families.Plan of a random family
	PlanP99us  float64 `json:"plan_p99_us"`
	LoadP50us  float64 `json:"load_p50_us"` // Store.Load of a random family (direct gets, decoding, opening sealed fields)
	LoadP99us  float64 `json:"load_p99_us"`
	LoadEvents float64 `json:"load_events_mean"` // events per loaded family
}

// benchScale is kooperacje bench scale: on a data directory (made by bench
// generate), the rebuild of every read model, the memory it takes, the
// size on disk, and the latency of a random family's plan and load.
func benchScale(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c storeConfig
	var queries int
	var seed uint64
	var asJSON bool
	var jsonFile string
	fs := oneOffFlags("bench scale", &c, stderr, "use the master key bench generate --demo (or serve --demo) generated in the data directory")
	fs.IntVar(&queries, "queries", 1000, "plans and loads of random families to time")
	fs.Uint64Var(&seed, "seed", 1, "seed of the choice of random families")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON instead of a table")
	fs.StringVar(&jsonFile, "json-file", "", "also write the report as JSON to this file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if queries < 1 || queries > 1_000_000 {
		return usagef("--queries %d: want 1 to 1000000", queries)
	}
	if st, err := os.Stat(c.data); err != nil || !st.IsDir() {
		return usagef("--data %q: not a data directory (make one with kooperacje bench generate)", c.data)
	}
	var rep scaleReport
	if b, err := os.ReadFile(filepath.Join(c.data, BenchGenerateFile)); err == nil {
		var g benchGenerated
		if err := json.Unmarshal(b, &g); err != nil {
			return fmt.Errorf("bench scale: read %s: %w", BenchGenerateFile, err)
		}
		rep.Generated = &g
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("bench scale: %w", err)
	}
	var err error
	if rep.DiskBytes, rep.ApparentSize, err = diskUsage(c.data); err != nil {
		return fmt.Errorf("bench scale: size of %s: %w", c.data, err)
	}
	store, keys, done, err := openForCLI(ctx, &c)
	if err != nil {
		return err
	}
	defer done()
	if rep.Messages, err = store.LastSequence(ctx); err != nil {
		return fmt.Errorf("bench scale: %w", err)
	}
	if rep.Messages == 0 {
		return fmt.Errorf("bench scale: the stream %s in %s is empty: generate data first (kooperacje bench generate)", c.stream, c.data)
	}
	pseudonyms, err := keys.Pseudonyms(ctx)
	if err != nil {
		return fmt.Errorf("bench scale: evaluation key: %w", err)
	}

	// The engine's read models, as serve builds them.
	inst, part, users, fam := projections.NewInstitutions(), projections.NewPartnerships(), projections.NewUsers(), projections.NewFamilies()
	ind := projections.NewIndicators(pseudonyms)
	rep.HeapBeforeBytes = liveHeap()
	stop := sampleHeap(&rep.PeakHeapInUseBytes)
	start := time.Now()
	st, err := projections.Rebuild(ctx, store, rep.Messages, inst, part, users, fam, ind)
	elapsed := time.Since(start)
	stop()
	if err != nil {
		return fmt.Errorf("bench scale: %w", err)
	}
	rep.RebuildSeconds, rep.RebuildCommits, rep.RebuildEvents, rep.RebuildSkipped = elapsed.Seconds(), st.Commits, st.Events, st.Skipped
	rep.RebuildEventsSec = float64(st.Events) / elapsed.Seconds()
	rep.HeapAfterBytes = liveHeap()
	rep.PeakRSSBytes = maxRSS()

	today := projections.Today(time.Now())
	list := fam.List(projections.FamilyFilter{}, today)
	rep.Families, rep.Partnerships = len(list), len(part.List())

	// The families to query, drawn before the read models are dropped
	// (copies of their ids, which would otherwise keep the model's strings).
	r := rand.New(rand.NewPCG(seed, 0x5ca1e))
	var planIDs, loadIDs []string
	if rep.Families > 0 {
		rep.Queries = queries
		for range queries {
			planIDs = append(planIDs, strings.Clone(list[r.IntN(len(list))].ID))
			loadIDs = append(loadIDs, strings.Clone(list[r.IntN(len(list))].ID))
		}
	}
	list = nil
	plans := make([]time.Duration, len(planIDs))
	for i, id := range planIDs {
		t0 := time.Now()
		if _, ok := fam.Plan(id, today); !ok {
			return fmt.Errorf("bench scale: family %s listed but has no plan", id)
		}
		plans[i] = time.Since(t0)
	}
	// What the read models hold: the heap with them less the heap once
	// they are dropped; the embedded server's state, and whatever the
	// rebuild left in its caches, count in neither. (Loads come after:
	// they fill caches of their own.)
	runtime.KeepAlive([]projections.Projection{inst, part, users, fam, ind})
	rep.HeapDroppedBytes = liveHeap()
	rep.ReadModelBytes = int64(rep.HeapAfterBytes) - int64(rep.HeapDroppedBytes)
	if rep.Families > 0 {
		rep.BytesPerFamily = float64(rep.ReadModelBytes) / float64(rep.Families)
	}
	if rep.RebuildEvents > 0 {
		rep.BytesPerEvent = float64(rep.ReadModelBytes) / float64(rep.RebuildEvents)
	}
	loads := make([]time.Duration, len(loadIDs))
	var loaded int
	for i, id := range loadIDs {
		t0 := time.Now()
		envs, err := store.Load(ctx, domain.AggregateFamily, id)
		loads[i] = time.Since(t0)
		if err != nil {
			return fmt.Errorf("bench scale: %w", err)
		}
		loaded += len(envs)
	}
	if len(plans) > 0 {
		rep.PlanP50us, rep.PlanP99us = quantileMicros(plans, 0.50), quantileMicros(plans, 0.99)
		rep.LoadP50us, rep.LoadP99us = quantileMicros(loads, 0.50), quantileMicros(loads, 0.99)
		rep.LoadEvents = float64(loaded) / float64(len(loads))
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if jsonFile != "" {
		if err := os.WriteFile(jsonFile, b, 0o644); err != nil {
			return fmt.Errorf("bench scale: %w", err)
		}
	}
	if asJSON {
		_, err := stdout.Write(b)
		return err
	}
	return rep.table(stdout)
}

func (rep scaleReport) table(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	row := func(what, value string) { fmt.Fprintf(tw, "%s\t%s\t\n", what, value) }
	if g := rep.Generated; g != nil {
		row("generated: families / partnerships / extra meetings / seed", fmt.Sprintf("%d / %d / %d / %d", g.Families, g.Partnerships, g.Meetings, g.Seed))
		row("generated: events, at events/s", fmt.Sprintf("%d at %.0f", g.Events, float64(g.Events)/g.Seconds))
	}
	row("stream messages", fmt.Sprint(rep.Messages))
	row("on disk (data directory)", mib(rep.DiskBytes))
	row("rebuild: events", fmt.Sprint(rep.RebuildEvents))
	row("rebuild: time", fmt.Sprintf("%.1f s", rep.RebuildSeconds))
	row("rebuild: events/s", fmt.Sprintf("%.0f", rep.RebuildEventsSec))
	row("families / partnerships in the read models", fmt.Sprintf("%d / %d", rep.Families, rep.Partnerships))
	row("peak RSS (maxrss, with the embedded server)", mib(rep.PeakRSSBytes))
	row("peak heap in use during the rebuild", mib(int64(rep.PeakHeapInUseBytes)))
	row("live heap after GC: before / after the rebuild / models dropped", mib(int64(rep.HeapBeforeBytes))+" / "+mib(int64(rep.HeapAfterBytes))+" / "+mib(int64(rep.HeapDroppedBytes)))
	row("read models in memory", mib(rep.ReadModelBytes))
	row("read models: bytes per family / per event", fmt.Sprintf("%.0f / %.0f", rep.BytesPerFamily, rep.BytesPerEvent))
	row(fmt.Sprintf("plan of a random family p50 / p99 (%d)", rep.Queries), fmt.Sprintf("%.1f / %.1f µs", rep.PlanP50us, rep.PlanP99us))
	row(fmt.Sprintf("Store.Load of a random family p50 / p99 (%.1f events)", rep.LoadEvents), fmt.Sprintf("%.2f / %.2f ms", rep.LoadP50us/1000, rep.LoadP99us/1000))
	return tw.Flush()
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// liveHeap returns the heap's live bytes after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// sampleHeap records the largest heap in use every 100 ms until stopped.
func sampleHeap(peak *uint64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			*peak = max(*peak, m.HeapInuse)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

// maxRSS returns the process's peak resident set size.
func maxRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024 // kilobytes on Linux
}

// diskUsage returns the blocks allocated under dir and the files' sizes.
func diskUsage(dir string) (disk, apparent int64, err error) {
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while walking (the server compacts)
			}
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			disk += st.Blocks * 512
		}
		if info.Mode().IsRegular() {
			apparent += info.Size()
		}
		return nil
	})
	return disk, apparent, err
}

// quantileMicros returns the q-quantile of ds in microseconds (nearest
// rank).
func quantileMicros(ds []time.Duration, q float64) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	i = min(max(i, 0), len(s)-1)
	return float64(s[i].Nanoseconds()) / 1000
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
)

// bench generate writes a synthetic but realistic installation: P
// partnerships cloned from the demo's four (each with institutions and
// workers of its own) and N families taken through the demo's lifecycle
// (demo_families.go) to the demo's mix of stages, through the real domain
// handler and event store, personal data sealed per family.
//
// What is deterministic: for the same --seed, --families, --partnerships
// and --meetings, every command is the same (its type, its fields, its
// command id, the ids of every aggregate, person, meeting and referral, its
// business time occurred_at and its reason), and so is every event's
// payload once its sealed fields are opened. Each family draws from a
// random source of its own, seeded with the seed and the family's number,
// so neither --concurrency nor the order in which goroutines run changes
// anything. What is not: the engine's own event ids (UUIDv7) and recorded
// times, the stream sequences (families are interleaved as the goroutines
// run), and the sealed bytes (a fresh data key per family and a fresh nonce
// per field).

// BenchGenerateFile is where bench generate records what it generated, in
// the data directory; bench scale reads it.
const BenchGenerateFile = "bench-generate.json"

// benchParams are the parameters that fix what bench generate writes.
type benchParams struct {
	Seed         uint64 `json:"seed"`
	Families     int    `json:"families"`
	Partnerships int    `json:"partnerships"`
	Meetings     int    `json:"meetings"` // extra task-team meetings and contract reviews per family
}

// benchGenerated is the record bench generate leaves in the data directory.
type benchGenerated struct {
	benchParams
	Concurrency int     `json:"concurrency"`
	NoSync      bool    `json:"no_sync"`
	Commands    int64   `json:"commands"`   // commands written by this run (duplicates excluded)
	Events      int64   `json:"events"`     // events written by this run
	Seconds     float64 `json:"seconds"`    // wall time of this run's writing
	LastSeq     uint64  `json:"last_seq"`   // the stream's last sequence afterwards
	Finished    string  `json:"finished"`   // RFC 3339
	Appended    bool    `json:"appended"`   // the stream held events before this run
	Skipped     int     `json:"skipped"`    // families found complete already (--append)
	CommitBatch float64 `json:"batch_mean"` // messages per group commit
}

// benchGenerate is kooperacje bench generate.
func benchGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c storeConfig
	var p benchParams
	var concurrency int
	var quiet, appendTo bool
	fs := oneOffFlags("bench generate", &c, stderr, "generate (or reuse) a demo master key in the data directory instead of --master-key-file")
	fs.IntVar(&p.Families, "families", 1000, "number of families to generate")
	fs.Uint64Var(&p.Seed, "seed", 1, "seed of the generator: the same seed and counts give the same commands")
	fs.IntVar(&p.Partnerships, "partnerships", 4, "number of partnerships (PZK), clones of the demo's four with institutions and workers of their own")
	fs.IntVar(&p.Meetings, "meetings", 0, "extra task-team (ZZK) meetings per family with a team, and as many extra reviews per family with a signed contract")
	fs.IntVar(&concurrency, "concurrency", 256, "families written at once (their appends share the group commit)")
	fs.BoolVar(&quiet, "quiet", false, "no progress bar")
	fs.BoolVar(&appendTo, "append", false, "write into a stream that holds events already (the same --seed completes an interrupted generation)")
	fs.BoolVar(&c.noSync, "no-sync", false, "UNSAFE for real data: the server acknowledges writes before fsyncing them (JetStream's 2-minute sync), for generating big test data fast; same as --unsafe-no-fsync (embedded server only)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case p.Families < 1 || p.Families > 100_000_000:
		return usagef("--families %d: want 1 to 100000000", p.Families)
	case p.Partnerships < 1 || p.Partnerships > 10_000:
		return usagef("--partnerships %d: want 1 to 10000", p.Partnerships)
	case concurrency < 1 || concurrency > 4096:
		return usagef("--concurrency %d: want 1 to 4096", concurrency)
	case p.Meetings < 0 || p.Meetings > 200:
		return usagef("--meetings %d: want 0 to 200", p.Meetings)
	}
	store, _, done, err := openForCLI(ctx, &c)
	if err != nil {
		return err
	}
	defer done()
	last, err := store.LastSequence(ctx)
	if err != nil {
		return fmt.Errorf("bench generate: %w", err)
	}
	if last > 0 && !appendTo {
		return usagef("bench generate: the stream %s in %s holds %d messages already; refusing to write into it without --append (with the same --seed, --append completes an interrupted generation)",
			c.stream, c.data, last)
	}
	if c.noSync {
		fmt.Fprintln(stderr, "bench generate: --no-sync: writes are acknowledged before they are on disk; never use this for real data")
	}
	gen := newBenchGen(p)
	total := gen.countCommands()
	bar := benchBar(stderr, total, quiet)
	w := &benchWriter{cache: newWriteThrough(store, last == 0), bar: bar}
	w.h = &domain.Handler{Store: w.cache}
	start := time.Now()
	skipped, err := gen.write(ctx, w, concurrency)
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	end, err := store.LastSequence(ctx)
	if err != nil {
		return fmt.Errorf("bench generate: %w", err)
	}
	rec := benchGenerated{benchParams: p, Concurrency: concurrency, NoSync: c.noSync, Commands: w.commands.Load(), Events: w.cache.events.Load(),
		Seconds: elapsed.Seconds(), LastSeq: end, Finished: time.Now().UTC().Format(time.RFC3339), Appended: last > 0, Skipped: skipped,
		CommitBatch: meanBatch(store.CommitStats())}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(c.data, BenchGenerateFile), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("bench generate: record: %w", err)
	}
	fmt.Fprintf(stdout, "bench generate: %d families in %d partnerships (seed %d, %d extra meetings): %d commands, %d events in %s (%.0f events/s, %d concurrent, fsync %s); the stream holds %d messages\n",
		p.Families, p.Partnerships, p.Seed, p.Meetings, rec.Commands, rec.Events, elapsed.Round(time.Millisecond), float64(rec.Events)/elapsed.Seconds(),
		concurrency, map[bool]string{true: "off (--no-sync)", false: "always"}[c.noSync], end)
	return nil
}

// meanBatch is the mean number of messages per commit (a lone message
// counts as a commit of one).
func meanBatch(st eventstore.CommitStats) float64 {
	commits := st.Single + st.Batches
	if commits == 0 {
		return 0
	}
	return float64(st.Single+st.Batched) / float64(commits)
}

// benchBar is a progress bar over the commands to write, on stderr when it
// is a terminal, showing commands (one stored message each) per second and
// the time left.
func benchBar(stderr io.Writer, total int64, quiet bool) *progressbar.ProgressBar {
	f, ok := stderr.(*os.File)
	if quiet || !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return progressbar.NewOptions64(total, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("generate"),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("cmd"),
		progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(200e6), progressbar.OptionFullWidth(), progressbar.OptionClearOnFinish())
}

// benchGen derives every command of a generation from its parameters.
type benchGen struct {
	benchParams
	parts  []benchPartnership
	stages []int // the demo's mix of stages, one entry per demo family
}

// benchPartnership is one partnership of a generation: a clone of a demo
// partnership whose institutions, services and workers are its own.
type benchPartnership struct {
	p        demoPartnership
	pool     demoPool
	byslug   map[string]demoInstitution
	insts    []demoInstitution // in registration order
	workers  []struct{ inst, name, position string }
	profiles []demoProfile   // the family profiles its workers can serve
	names    map[string]bool // its workers' names, kept out of households
}

func newBenchGen(p benchParams) *benchGen {
	g := &benchGen{benchParams: p}
	for _, fp := range demoFamilyPlan {
		g.stages = append(g.stages, fp.stages...)
	}
	all := append(append([]demoInstitution{}, sieradzMembers...), otherInstitutions...)
	byslug := map[string]demoInstitution{}
	for _, in := range all {
		byslug[in.slug] = in
	}
	for j := range p.Partnerships {
		g.parts = append(g.parts, g.clone(j, byslug))
	}
	return g
}

// clone makes partnership j from demo partnership j mod 4: every slug gets
// the suffix of the seed and j, so that ids never collide.
func (g *benchGen) clone(j int, demo map[string]demoInstitution) benchPartnership {
	t := demoPartnerships[j%len(demoPartnerships)]
	tag := fmt.Sprintf("@bench-%d-%d", g.Seed, j)
	sl := func(s string) string {
		if s == "" {
			return ""
		}
		return s + tag
	}
	slot := func(s demoSlot) demoSlot { return demoSlot{inst: sl(s.inst), worker: s.worker, service: s.service} }
	src := demoPools[t.slug]
	bp := benchPartnership{byslug: map[string]demoInstitution{}, names: map[string]bool{}}
	bp.p = demoPartnership{slug: sl(t.slug), name: fmt.Sprintf("%s #%d", t.name, j+1), municipality: t.municipality, county: t.county,
		date: t.date, place: t.place, leader: sl(t.leader), coLeader: sl(t.coLeader), meeting: t.meeting, formalised: t.formalised}
	for _, m := range t.members {
		bp.p.members = append(bp.p.members, sl(m))
	}
	bp.pool = demoPool{roles: map[string][]demoSlot{}}
	for _, s := range src.coordinators {
		bp.pool.coordinators = append(bp.pool.coordinators, slot(s))
	}
	if src.assistant != nil {
		a := slot(*src.assistant)
		bp.pool.assistant = &a
	}
	// The institutions: the leaders, the members, then any other the pool
	// names, each once.
	order := append([]string{t.leader, t.coLeader}, t.members...)
	for _, s := range src.coordinators {
		order = append(order, s.inst)
	}
	for _, role := range demoRoleOrder {
		for _, s := range src.roles[role] {
			bp.pool.roles[role] = append(bp.pool.roles[role], slot(s))
			order = append(order, s.inst)
			bp.names[s.worker] = true
		}
	}
	for _, s := range src.coordinators {
		bp.names[s.worker] = true
	}
	for _, slug := range order {
		if slug == "" {
			continue
		}
		if _, ok := bp.byslug[sl(slug)]; ok {
			continue
		}
		in := demo[slug]
		in.slug, in.name = sl(slug), fmt.Sprintf("%s #%d", in.name, j+1)
		bp.byslug[in.slug] = in
		bp.insts = append(bp.insts, in)
	}
	for _, w := range demoWorkers {
		if _, ok := bp.byslug[sl(w.inst)]; ok {
			bp.workers = append(bp.workers, struct{ inst, name, position string }{sl(w.inst), w.name, w.position})
		}
	}
	for _, prof := range demoProfiles {
		if len(demoAvailable(prof, bp.pool)) >= 2 {
			bp.profiles = append(bp.profiles, prof)
		}
	}
	return bp
}

// familyKey is the stable key of family i, from which its ids derive.
func (g *benchGen) familyKey(i int) string { return fmt.Sprintf("bench-%d/family-%d", g.Seed, i) }

// family returns the commands of family i, in the order of their business
// dates, and the partnership it belongs to.
func (g *benchGen) family(i int) (*benchPartnership, []demoStep, error) {
	bp := &g.parts[i%len(g.parts)]
	r := rand.New(rand.NewPCG(g.Seed, uint64(i)))
	stage := g.stages[r.IntN(len(g.stages))]
	prof := bp.profiles[r.IntN(len(bp.profiles))]
	// The counters that take endings, referral outcomes, amendments,
	// withdrawn consents and family assistants in turn start from the
	// family's number, so that each occurs across families.
	dg := &demoGen{r: r, names: maps.Clone(bp.names), endings: map[int]int{9: i, 10: i, 11: i},
		referral: i, amend: i, withdraw: i, assist: i, shown: 3}
	key := g.familyKey(i)
	steps, err := dg.familyIn(bp.p, bp.pool, key, prof, stage)
	if err != nil {
		return nil, nil, err
	}
	if g.Meetings > 0 {
		steps = g.extras(dg, key, steps)
	}
	return bp, steps, nil
}

// extras adds g.Meetings task-team meetings while the family has a team
// and its case is open, and as many contract reviews while its contract is
// in force, on days drawn between those bounds.
func (g *benchGen) extras(dg *demoGen, key string, steps []demoStep) []demoStep {
	var (
		fid, coordinator          string
		team                      []string
		met, signed               domain.Date
		teamUntil, contractUntil  = demoToday, demoToday
		teamStopped, contractDone bool
	)
	for _, s := range steps {
		switch c := s.cmd.(type) {
		case domain.OpenFamilyCase:
			fid, coordinator = c.FamilyID, c.Coordinator.WorkerID
		case domain.FormTeam:
			for _, m := range c.Members {
				team = append(team, m.WorkerID)
			}
		case domain.RecordTeamMeeting:
			if met.IsZero() {
				met = s.date
			}
		case domain.SignContract:
			signed = s.date
		case domain.RemoveTeamMember, domain.CloseCase:
			if !teamStopped {
				teamUntil, teamStopped = addDays(s.date, -1), true
			}
		case domain.EndContract:
			if !contractDone {
				contractUntil, contractDone = addDays(s.date, -1), true
			}
		}
	}
	if !met.IsZero() && !teamUntil.Before(met) {
		attendees := append([]string{coordinator}, team...)
		for n := range g.Meetings {
			d := dg.dateIn(met, teamUntil)
			steps = append(steps, demoStep{date: d, key: fmt.Sprintf("meeting/x%d", n+1), cmd: domain.RecordTeamMeeting{FamilyID: fid,
				MeetingID: demoID("team-meeting", key, fmt.Sprintf("x%d", n+1)), Date: d, Attendees: attendees,
				Decisions: []string{"Omówienie postępów rodziny i realizacji planu wsparcia"},
				NextSteps: []string{"Kontynuacja działań uzgodnionych w zespole"}}, reason: "protokół spotkania ZZK"})
		}
	}
	if !signed.IsZero() && !contractUntil.Before(signed) {
		for n := range g.Meetings {
			d := dg.dateIn(signed, contractUntil)
			steps = append(steps, demoStep{date: d, key: fmt.Sprintf("contract/review/x%d", n+1), cmd: domain.ReviewContract{FamilyID: fid, Date: d,
				Goals: []domain.GoalReview{{GoalID: "g1", Achievement: domain.PartiallyAchieved}},
				Notes: "Bieżący przegląd kontraktu: rodzina realizuje uzgodnione działania."}, reason: "bieżący przegląd kontraktu"})
		}
	}
	slices.SortStableFunc(steps, func(a, b demoStep) int { return a.date.Time().Compare(b.date.Time()) })
	return steps
}

// setup runs the commands that set the partnership up: its institutions,
// workers, initiation, members, services, meeting and formalisation.
func (bp *benchPartnership) setup(run demoRun) error {
	at := func(d domain.Date) time.Time { return d.Time().Add(10 * time.Hour) }
	for _, in := range bp.insts {
		cmd := domain.RegisterInstitution{InstitutionID: demoID("institution", in.slug), Name: in.name, Sector: in.sector, Municipality: in.municipality, County: in.county}
		if err := run("institution/"+in.slug, cmd, at(domain.NewDate(2019, 9, 1)), "dane syntetyczne"); err != nil {
			return err
		}
	}
	for _, w := range bp.workers {
		cmd := domain.RegisterWorker{InstitutionID: demoID("institution", w.inst), WorkerID: demoID("worker", w.inst, w.name), Name: w.name, Position: w.position}
		if err := run("worker/"+w.inst+"/"+w.name, cmd, at(domain.NewDate(2019, 9, 1)), "dane syntetyczne"); err != nil {
			return err
		}
	}
	return loadDemoPartnership(run, bp.p, bp.byslug)
}

// staffSupport records the forms of staff support of the demo partnership
// this one is cloned from.
func (bp *benchPartnership) staffSupport(run demoRun, template string) error {
	tag := bp.p.slug[len(template):]
	for _, s := range demoStaffSupport {
		if s.partnership != template {
			continue
		}
		cmd := domain.RecordStaffSupport{PartnershipID: demoID("partnership", bp.p.slug), ActivityID: demoID("staff-support", bp.p.slug, s.date.String()),
			Kind: s.kind, Date: s.date, Topic: s.topic, Hours: s.hours}
		for _, inst := range s.institutions {
			cmd.Institutions = append(cmd.Institutions, demoID("institution", inst+tag))
			for _, w := range bp.pool.workersAt(inst + tag) {
				cmd.Workers = append(cmd.Workers, demoID("worker", inst+tag, w))
			}
		}
		if err := run("staff-support/"+bp.p.slug+"/"+s.date.String(), cmd, s.date.Time().Add(10*time.Hour), "forma wsparcia kadr"); err != nil {
			return err
		}
	}
	return nil
}

// countCommands counts the commands a generation runs, for the progress
// bar: every family is generated once more, without writing.
func (g *benchGen) countCommands() int64 {
	var n int64
	count := func(string, domain.Command, time.Time, string) error { n++; return nil }
	for j := range g.parts {
		_ = g.parts[j].setup(count)
		_ = g.parts[j].staffSupport(count, demoPartnerships[j%len(demoPartnerships)].slug)
	}
	for i := range g.Families {
		if _, steps, err := g.family(i); err == nil {
			n += int64(len(steps))
		}
	}
	return n
}

// benchWriter runs the generated commands through the domain handler.
type benchWriter struct {
	h        *domain.Handler
	cache    *writeThrough
	bar      *progressbar.ProgressBar
	commands atomic.Int64 // commands that wrote events
}

var benchActor = domain.Actor{UserID: demoID("user", "bench"), Role: domain.RoleSystem}

// run executes one command under the stable key from which its command id
// derives, so that running it again writes nothing.
func (w *benchWriter) run(ctx context.Context, key string, cmd domain.Command, occurred time.Time, reason string) error {
	res, err := w.h.Execute(ctx, cmd, domain.Meta{CommandID: demoID("command", key), Actor: benchActor, OccurredAt: occurred, Reason: reason}, domain.AnyVersion)
	if err != nil {
		return fmt.Errorf("bench generate %s: %w", key, err)
	}
	if !res.Duplicate {
		w.commands.Add(1)
	}
	if w.bar != nil {
		_ = w.bar.Add(1)
	}
	return nil
}

// write writes the partnerships, then the families, then the staff
// support, each phase from up to concurrency goroutines. It returns how
// many families were complete already.
func (g *benchGen) write(ctx context.Context, w *benchWriter, concurrency int) (int, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	run := func(key string, cmd domain.Command, occurred time.Time, reason string) error {
		return w.run(ctx, key, cmd, occurred, reason)
	}
	// parallel runs fn(0..n-1) from up to concurrency goroutines and
	// returns the first error.
	parallel := func(n int, fn func(int) error) error {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range min(concurrency, n) {
			wg.Go(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= n || ctx.Err() != nil {
						return
					}
					if err := fn(i); err != nil {
						cancel(err)
						return
					}
				}
			})
		}
		wg.Wait()
		return context.Cause(ctx)
	}
	if err := parallel(len(g.parts), func(j int) error { return g.parts[j].setup(run) }); err != nil {
		return 0, err
	}
	var skipped atomic.Int64
	err := parallel(g.Families, func(i int) error {
		_, steps, err := g.family(i)
		if err != nil {
			return err
		}
		key := g.familyKey(i)
		fid := demoID("family", key)
		defer w.cache.forget(domain.AggregateFamily, fid)
		if !w.cache.fresh {
			// A family whose last command is recorded is complete: its
			// commands ran in order, each after the one before succeeded.
			envs, err := w.cache.Load(ctx, domain.AggregateFamily, fid)
			if err != nil {
				return fmt.Errorf("bench generate family %s: %w", key, err)
			}
			lastID := demoID("command", "family/"+key+"/"+steps[len(steps)-1].key)
			if slices.ContainsFunc(envs, func(e domain.Envelope) bool { return e.CommandID == lastID }) {
				skipped.Add(1)
				if w.bar != nil {
					_ = w.bar.Add(len(steps))
				}
				return nil
			}
		}
		for j, s := range steps {
			occurred := s.date.Time().Add(9*time.Hour + time.Duration(j)*time.Minute)
			if err := run("family/"+key+"/"+s.key, s.cmd, occurred, s.reason); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return int(skipped.Load()), err
	}
	err = parallel(len(g.parts), func(j int) error {
		return g.parts[j].staffSupport(run, demoPartnerships[j%len(demoPartnerships)].slug)
	})
	return int(skipped.Load()), err
}

// writeThrough is the domain.Store of the generator's handler. Appends go
// to the event store (group commit, sealing, hash chains, all as serve
// does); the events the generator appended are also kept in memory, so
// that deciding a family's next command does not read the family, its
// partnership and the institution back from JetStream (three batched
// direct gets and their decoding per command, which would bound the
// generator to a few hundred commands a second; see docs/performance.md).
// Each aggregate is written by one goroutine at a time, so what is kept is
// exactly what is stored. A family is dropped when it is written.
type writeThrough struct {
	store  domain.Store
	fresh  bool // the stream was empty at the start: what is not kept here has no events
	events atomic.Int64

	mu   sync.Mutex
	aggs map[string][]domain.Envelope
}

func newWriteThrough(store domain.Store, fresh bool) *writeThrough {
	return &writeThrough{store: store, fresh: fresh, aggs: map[string][]domain.Envelope{}}
}

// Load implements domain.Store.
func (w *writeThrough) Load(ctx context.Context, aggregate, id string) ([]domain.Envelope, error) {
	k := aggregate + "/" + id
	w.mu.Lock()
	envs, ok := w.aggs[k]
	w.mu.Unlock()
	if ok || w.fresh {
		return slices.Clip(envs), nil
	}
	envs, err := w.store.Load(ctx, aggregate, id)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	w.aggs[k] = envs
	w.mu.Unlock()
	return slices.Clip(envs), nil
}

// Append implements domain.Store.
func (w *writeThrough) Append(ctx context.Context, aggregate, id string, expected int64, meta domain.Meta, events ...domain.Event) (domain.Result, error) {
	res, err := w.store.Append(ctx, aggregate, id, expected, meta, events...)
	if err != nil || res.Duplicate {
		return res, err
	}
	w.events.Add(int64(len(events)))
	envs := make([]domain.Envelope, len(events))
	for i, e := range events {
		envs[i] = domain.Envelope{Type: e.EventType(), SchemaVersion: domain.SchemaVersion(e.EventType()),
			AggregateType: aggregate, AggregateID: id, AggregateVersion: expected + int64(i) + 1,
			OccurredAt: meta.OccurredAt.UTC(), Actor: meta.Actor, CommandID: meta.CommandID, CorrelationID: meta.CorrelationID,
			CausationID: meta.CausationID, Reason: meta.Reason, Payload: e, Sequence: res.Sequence}
	}
	k := aggregate + "/" + id
	w.mu.Lock()
	w.aggs[k] = append(w.aggs[k], envs...)
	w.mu.Unlock()
	return res, nil
}

func (w *writeThrough) forget(aggregate, id string) {
	w.mu.Lock()
	delete(w.aggs, aggregate+"/"+id)
	w.mu.Unlock()
}

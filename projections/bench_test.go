package projections_test

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
	"github.com/kooperacje/kooperacje/projections"
	"github.com/kooperacje/kooperacje/vault"
)

// The replay benchmark builds a stream of realistic size in its set-up:
// partnerships of four institutions (social assistance, education, labour,
// health), and families that each go through a whole case (consents, a
// diagnosis from three workers, a task team and its meetings, a contract
// with its actions and reviews, the contract's end and the case's
// closing), every command through the domain handler as the engine runs
// it, personal fields sealed.
//
// The store is opened with NoSync so that the set-up writes fast. The
// sync policy decides only when the embedded server acknowledges a write
// (before or after an fsync); reading goes through the same file store,
// blocks and cache either way, so the measured read rates do not depend on
// it. Both read paths are measured in the same run over the same stream,
// alternating in every iteration: compare them, not the absolute figures.

// benchPlace is one partnership of the bench stream.
type benchPlace struct {
	pid                       string
	mops, school, pup, health string
	coord, pedagog, adv, nurs string
}

type benchWorld struct {
	h      *domain.Handler
	places []benchPlace

	mu  sync.Mutex
	err error // the first command that failed; later commands are not run
}

// exec runs a command as of a business day. It may run on several
// goroutines: a failure is kept for the caller to report (Fatal must not
// be called off the test's goroutine).
func (w *benchWorld) exec(cmd domain.Command, on domain.Date) {
	w.mu.Lock()
	failed := w.err != nil
	w.mu.Unlock()
	if failed {
		return
	}
	m := domain.Meta{Actor: domain.Actor{UserID: "bench", Role: domain.RoleCoordinator}, OccurredAt: on.Time().Add(12 * time.Hour)}
	switch cmd.(type) {
	case domain.CloseCase, domain.ReopenCase, domain.RemoveTeamMember:
		m.Reason = "ewaluacja"
	}
	if _, err := w.h.Execute(context.Background(), cmd, m, domain.AnyVersion); err != nil {
		w.mu.Lock()
		if w.err == nil {
			w.err = fmt.Errorf("%T: %w", cmd, err)
		}
		w.mu.Unlock()
	}
}

// buildBenchStream writes partnerships and families into s; each family
// has 25 events plus extraMeetings more team meetings. It returns the
// number of events written.
func buildBenchStream(tb testing.TB, s *eventstore.Store, partnerships, families, extraMeetings int) int {
	tb.Helper()
	w := &benchWorld{h: &domain.Handler{Store: s}}
	towns := []string{"Sieradz", "Zduńska Wola", "Łask", "Wieluń", "Pajęczno", "Złoczew", "Błaszki", "Warta"}
	for i := range partnerships {
		town := towns[i%len(towns)]
		p := benchPlace{pid: domain.NewID(), mops: domain.NewID(), school: domain.NewID(), pup: domain.NewID(), health: domain.NewID(),
			coord: domain.NewID(), pedagog: domain.NewID(), adv: domain.NewID(), nurs: domain.NewID()}
		start := domain.NewDate(2019, 1, 10+i)
		for _, in := range []struct {
			id, worker, name, position string
			sector                     domain.Sector
		}{
			{p.mops, p.coord, "MOPS " + town, "pracownik socjalny", domain.SectorSocialAssistance},
			{p.school, p.pedagog, "Szkoła Podstawowa nr 1 w " + town, "pedagog szkolny", domain.SectorEducation},
			{p.pup, p.adv, "Powiatowy Urząd Pracy " + town, "doradca zawodowy", domain.SectorLabour},
			{p.health, p.nurs, "Przychodnia " + town, "pielęgniarka środowiskowa", domain.SectorHealth},
		} {
			w.exec(domain.RegisterInstitution{InstitutionID: in.id, Name: in.name, Sector: in.sector, Municipality: town, County: "sieradzki"}, start)
			w.exec(domain.RegisterWorker{InstitutionID: in.id, WorkerID: in.worker, Name: "Pracownik " + in.position, Position: in.position}, start)
		}
		w.exec(domain.InitiatePartnership{PartnershipID: p.pid, Name: "PZK " + town, Municipality: town, County: "sieradzki", Date: start, LeaderID: p.mops}, start)
		for _, in := range []string{p.school, p.pup, p.health} {
			w.exec(domain.JoinPartnership{PartnershipID: p.pid, InstitutionID: in, Date: start}, start)
		}
		w.places = append(w.places, p)
	}
	require.NoError(tb, w.err)
	// Families are independent aggregates: write them from a few
	// goroutines to build faster.
	var wg sync.WaitGroup
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				w.family(i, extraMeetings)
			}
		})
	}
	for i := range families {
		next <- i
	}
	close(next)
	wg.Wait()
	require.NoError(tb, w.err)
	return families * (25 + extraMeetings)
}

// family writes one family's case: 24 commands, 25 events (closing the
// case also dissolves the team), plus extraMeetings team meetings.
func (w *benchWorld) family(i, extraMeetings int) {
	p := w.places[i%len(w.places)]
	fid, applicant := domain.NewID(), domain.NewID()
	d := domain.NewDate(2019, 3, 1).Time().AddDate(0, 0, (i*7)%900)
	at := func(days int) domain.Date {
		t := d.AddDate(0, 0, days)
		return domain.NewDate(t.Year(), t.Month(), t.Day())
	}
	w.exec(domain.OpenFamilyCase{FamilyID: fid, PartnershipID: p.pid, Address: fmt.Sprintf("ul. Przykładowa %d, Sieradz", i+1),
		Household: []domain.Person{
			{PersonID: applicant, Name: fmt.Sprintf("Anna Przykładowa-%d", i), BirthDate: domain.NewDate(1985, 3, 1), Relation: domain.RelationApplicant},
			{PersonID: domain.NewID(), Name: fmt.Sprintf("Ola Przykładowa-%d", i), BirthDate: domain.NewDate(2012, 5, 5), Relation: domain.RelationChild},
		},
		Referral:    domain.ReferralSource{InstitutionID: p.school, Reason: "absencja dziecka w szkole"},
		Coordinator: domain.WorkerRef{WorkerID: p.coord, InstitutionID: p.mops}, OpenedOn: at(0)}, at(0))
	for _, in := range []string{p.school, p.pup} {
		w.exec(domain.GiveConsent{FamilyID: fid, ConsentID: domain.NewID(), InstitutionID: in, Categories: []domain.DataCategory{domain.DataBasic, domain.DataEducation, domain.DataEmployment},
			Purpose: "współpraca w zespole kooperacyjnym", LegalBasis: "art. 6 ust. 1 lit. a RODO", GivenBy: applicant, GivenOn: at(1)}, at(1))
	}
	for k, in := range []struct {
		worker, inst string
		area         domain.NeedArea
		needs        string
	}{
		{p.pedagog, p.school, domain.AreaEducation, "wsparcie w nauce, absencja"},
		{p.coord, p.mops, domain.AreaEducation, "konsekwencja wychowawcza"},
		{p.adv, p.pup, domain.AreaEmployment, "poszukiwanie pracy, brak kwalifikacji"},
	} {
		w.exec(domain.RecordDiagnosisInput{FamilyID: fid, Area: in.area, Severity: domain.SeverityMedium, Needs: in.needs,
			WorkerID: in.worker, InstitutionID: in.inst, Date: at(5 + k)}, at(5+k))
	}
	w.exec(domain.CompleteDiagnosis{FamilyID: fid, Date: at(20)}, at(20))
	w.exec(domain.FormTeam{FamilyID: fid, Date: at(21), Members: []domain.WorkerRef{
		{WorkerID: p.pedagog, InstitutionID: p.school}, {WorkerID: p.adv, InstitutionID: p.pup}}}, at(21))
	meetings := 6 + extraMeetings
	for k := range meetings {
		day := at(24 + k*200/meetings)
		w.exec(domain.RecordTeamMeeting{FamilyID: fid, MeetingID: domain.NewID(), Date: day, Attendees: []string{p.coord, p.pedagog, p.adv},
			Decisions: []string{"kontynuacja zajęć wyrównawczych"}, NextSteps: []string{"spotkanie z rodzicem"}}, day)
	}
	terms := domain.ContractTerms{Variant: domain.VariantA, Assessment: domain.Assessment{Causes: "bezrobocie, absencja dziecka"}, MainGoal: "stabilizacja sytuacji rodziny",
		Goals: []domain.Goal{{ID: "g1", Description: "regularna nauka"}, {ID: "g2", Description: "podjęcie pracy"}},
		Actions: []domain.Action{
			{ID: "a1", GoalID: "g1", Description: "zajęcia wyrównawcze", Responsible: domain.Party{Kind: domain.PartyInstitution, InstitutionID: p.school}, Deadline: at(90)},
			{ID: "a2", GoalID: "g2", Description: "rejestracja w PUP", Responsible: domain.Party{Kind: domain.PartyClient}, Deadline: at(45)},
			{ID: "a3", GoalID: "g2", Description: "doradztwo zawodowe", Responsible: domain.Party{Kind: domain.PartyInstitution, InstitutionID: p.pup}, Deadline: at(120)},
			{ID: "a4", GoalID: "g1", Description: "monitoring", Responsible: domain.Party{Kind: domain.PartyCoordinator}, Deadline: at(180)},
		},
		ClientDuties: "udział w spotkaniach", CoordinatorDuties: "koordynacja", StartDate: at(30), EndDate: at(240)}
	w.exec(domain.DraftContract{FamilyID: fid, ContractTerms: terms}, at(28))
	w.exec(domain.SignContract{FamilyID: fid, Date: at(30), ClientID: applicant}, at(30))
	for _, u := range []struct {
		id     string
		status domain.ActionStatus
		day    int
	}{{"a1", domain.ActionStatusStarted, 35}, {"a2", domain.ActionStatusCompleted, 40}, {"a1", domain.ActionStatusCompleted, 85}, {"a3", domain.ActionStatusMissed, 125}} {
		w.exec(domain.UpdateAction{FamilyID: fid, ActionID: u.id, Status: u.status, Date: at(u.day)}, at(u.day))
	}
	w.exec(domain.ReviewContract{FamilyID: fid, Date: at(130), Goals: []domain.GoalReview{{GoalID: "g1", Achievement: domain.PartiallyAchieved}, {GoalID: "g2", Achievement: domain.NotAchieved}}}, at(130))
	w.exec(domain.ReviewContract{FamilyID: fid, Date: at(230), Goals: []domain.GoalReview{{GoalID: "g1", Achievement: domain.Achieved}, {GoalID: "g2", Achievement: domain.PartiallyAchieved}}}, at(230))
	w.exec(domain.EndContract{FamilyID: fid, Date: at(240), Ending: domain.EndingGoalsMet}, at(240))
	w.exec(domain.CloseCase{FamilyID: fid, Date: at(245), Outcome: domain.OutcomePartlyAchieved}, at(245))
}

// openBenchStore opens an embedded store with NoSync (see above) that
// seals personal data with a keyring, as the engine does: the replay opens
// every sealed value, the cost a real evaluation pays.
func openBenchStore(tb testing.TB) *eventstore.Store {
	tb.Helper()
	ctx := context.Background()
	s, err := eventstore.Open(ctx, eventstore.Options{DataDir: tb.TempDir(), Listen: eventstore.ListenOff, NoSync: true})
	require.NoError(tb, err)
	tb.Cleanup(s.Close)
	master, _ := vault.NewMasterKey()
	keys, err := vault.OpenKeyring(ctx, s.JetStream(), master, 1)
	require.NoError(tb, err)
	tb.Cleanup(keys.Close)
	s.Protect(keys)
	return s
}

// readRawStream reads every message of the stream through an ordered
// consumer, as the store's Read does, without decoding; it returns the
// messages read.
func readRawStream(tb testing.TB, s *eventstore.Store, msgs uint64) uint64 {
	ctx := context.Background()
	cons, err := s.JetStream().OrderedConsumer(ctx, s.StreamName(), jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{"koop.>"}, DeliverPolicy: jetstream.DeliverAllPolicy})
	require.NoError(tb, err)
	it, err := cons.Messages(jetstream.PullMaxMessages(1024))
	require.NoError(tb, err)
	defer it.Stop()
	var n, bytes uint64
	for n < msgs {
		msg, err := it.Next()
		require.NoError(tb, err)
		bytes += uint64(len(msg.Data()))
		n++
	}
	if bytes == 0 {
		tb.Fatal("read nothing")
	}
	return n
}

type replayed struct {
	stats      projections.Stats
	indicators *projections.Indicators
	families   *projections.Families
}

func replayBench(tb testing.TB, s *eventstore.Store) replayed {
	ind, fam, par := projections.NewIndicators(nil), projections.NewFamilies(), projections.NewPartnerships()
	st, err := projections.Replay(context.Background(), s, projections.Until{}, nil, ind, fam, par)
	require.NoError(tb, err)
	return replayed{st, ind, fam}
}

func snapshotSize(tb testing.TB, p projections.Projection) int {
	b, err := p.Snapshot()
	require.NoError(tb, err)
	return len(b)
}

// BenchmarkReplay replays the whole stream through Indicators, Families
// and Partnerships (projections.Replay: an ordered consumer, one decode
// per event) beside a raw ordered-consumer read of the same stream, in the
// same iterations, in alternating rounds. Metrics: raw-msgs/s,
// raw-events/s, replay-events/s and replay/raw, the median of the rounds'
// ratios (the target is ≥ 0.70); evaluation-events/s and evaluation/raw,
// the evaluator's replay as kooperacje evaluate runs it (Indicators alone,
// the collector at ReplayGCPercent), the stream's events per second of it,
// beside evaluation-raw-events/s, a raw read in the same setting; B/event allocated by the replay; the
// Indicators snapshot's bytes (in all and per family), which grow with the
// families, not the events (compare events_per_family=25 and =50: same
// families, twice the events).
func BenchmarkReplay(b *testing.B) {
	for _, c := range []struct{ families, extraMeetings int }{{200, 0}, {200, 25}} {
		b.Run(fmt.Sprintf("families=%d/events_per_family=%d", c.families, 25+c.extraMeetings), func(b *testing.B) {
			s := openBenchStore(b)
			events := buildBenchStream(b, s, 4, c.families, c.extraMeetings)
			ctx := context.Background()
			msgs, err := s.LastSequence(ctx)
			require.NoError(b, err)
			// The whole stream's events, set-up included, as the replay counts them.
			total := replayBench(b, s).stats.Events
			require.GreaterOrEqual(b, total, int64(events))

			// Raw and replay take turns in short rounds, and the ratios
			// are the medians of the rounds' ratios, so that a neighbour
			// on the machine disturbs both sides alike.
			const rounds = 7
			var raw, rep, evalRaw, eval time.Duration
			var repRatios, evalRatios []float64
			var alloc uint64
			var last replayed
			var ms runtime.MemStats
			b.ResetTimer()
			for b.Loop() {
				for range rounds {
					t0 := time.Now()
					if n := readRawStream(b, s, msgs); n != msgs {
						b.Fatalf("raw read %d of %d messages", n, msgs)
					}
					t1 := time.Now()
					runtime.ReadMemStats(&ms)
					before := ms.TotalAlloc
					t2 := time.Now()
					last = replayBench(b, s)
					t3 := time.Now()
					runtime.ReadMemStats(&ms)
					alloc += ms.TotalAlloc - before
					raw, rep = raw+t1.Sub(t0), rep+t3.Sub(t2)
					repRatios = append(repRatios, t1.Sub(t0).Seconds()/t3.Sub(t2).Seconds())
					if last.stats.Events != total {
						b.Fatalf("replayed %d of %d events", last.stats.Events, total)
					}
				}
				// The evaluator's replay as kooperacje evaluate runs it:
				// Indicators alone, which needs neither plaintext nor the
				// users' and institutions' events, in a process whose
				// collector is set to ReplayGCPercent, beside raw reads in
				// the same process.
				gc := debug.SetGCPercent(projections.ReplayGCPercent)
				for range rounds {
					t0 := time.Now()
					readRawStream(b, s, msgs)
					t1 := time.Now()
					if _, err := projections.Replay(context.Background(), s, projections.Until{}, nil, projections.NewIndicators(nil)); err != nil {
						b.Fatal(err)
					}
					t2 := time.Now()
					evalRaw, eval = evalRaw+t1.Sub(t0), eval+t2.Sub(t1)
					evalRatios = append(evalRatios, t1.Sub(t0).Seconds()/t2.Sub(t1).Seconds())
				}
				debug.SetGCPercent(gc)
			}
			b.StopTimer()
			iters := float64(b.N * rounds)
			rawMsgs := float64(msgs) * iters / raw.Seconds()
			rawEvents := float64(total) * iters / raw.Seconds()
			repEvents := float64(total) * iters / rep.Seconds()
			b.ReportMetric(rawMsgs, "raw-msgs/s")
			b.ReportMetric(rawEvents, "raw-events/s")
			b.ReportMetric(repEvents, "replay-events/s")
			b.ReportMetric(median(repRatios), "replay/raw")
			b.ReportMetric(float64(total)*iters/evalRaw.Seconds(), "evaluation-raw-events/s")
			b.ReportMetric(float64(total)*iters/eval.Seconds(), "evaluation-events/s")
			b.ReportMetric(median(evalRatios), "evaluation/raw")
			b.ReportMetric(float64(alloc)/iters/float64(total), "B/event")
			ind := snapshotSize(b, last.indicators)
			b.ReportMetric(float64(ind), "indicators-B")
			b.ReportMetric(float64(ind)/float64(c.families), "indicators-B/family")
			b.ReportMetric(float64(snapshotSize(b, last.families)), "families-B")
			b.ReportMetric(float64(total), "events")
		})
	}
}

// TestIndicatorsGrowWithFamiliesNotEvents: the same number of families
// with about twice the events (more team meetings) gives an Indicators
// snapshot of nearly the same size, while twice the families gives about
// twice the size.
func TestIndicatorsGrowWithFamiliesNotEvents(t *testing.T) {
	if testing.Short() {
		t.Skip("builds three streams")
	}
	size := func(families, extra int) (int, int64) {
		s := openBenchStore(t)
		buildBenchStream(t, s, 2, families, extra)
		r := replayBench(t, s)
		return snapshotSize(t, r.indicators), r.stats.Events
	}
	base, baseEvents := size(10, 0)
	moreEvents, moreEventsN := size(10, 25)
	moreFamilies, moreFamiliesN := size(20, 0)
	t.Logf("indicators snapshot: %d B for %d events; %d B for %d events (same families); %d B for %d events (twice the families)",
		base, baseEvents, moreEvents, moreEventsN, moreFamilies, moreFamiliesN)
	assert.Greater(t, float64(moreEventsN)/float64(baseEvents), 1.8, "about twice the events")
	assert.Less(t, float64(moreEvents)/float64(base), 1.1, "twice the events, the same families: the same size within 10%")
	assert.Greater(t, float64(moreFamilies)/float64(base), 1.6, "twice the families: about twice the size")
}

// median returns the middle value of xs (the upper one of an even count).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

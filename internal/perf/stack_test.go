package perf_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
	"github.com/kooperacje/kooperacje/projections"
	"github.com/kooperacje/kooperacje/vault"
)

// stack is the engine as serve runs it: an embedded server fsyncing every
// write, the store sealing personal data with a keyring, the domain
// handler, and a raw stream on the same server for the raw figures.
type stack struct {
	store   *eventstore.Store
	keys    *vault.Keyring
	handler *domain.Handler
	js      jetstream.JetStream
	world   world
}

// rawStream is the stream of the raw measurements: the event stream's
// configuration (file storage, same server, same fsync policy) on its own
// subjects, so the engine's readers never see raw messages.
const rawStream = "RAW"

func openStack(tb testing.TB) *stack {
	tb.Helper()
	ctx := context.Background()
	store, err := eventstore.Open(ctx, eventstore.Options{DataDir: tb.TempDir(), Listen: eventstore.ListenOff})
	require.NoError(tb, err)
	tb.Cleanup(store.Close)
	require.True(tb, store.SyncAlways())
	master, _ := vault.NewMasterKey()
	keys, err := vault.OpenKeyring(ctx, store.JetStream(), master, 1)
	require.NoError(tb, err)
	tb.Cleanup(keys.Close)
	store.Protect(keys)
	cfg := eventstore.StreamConfig(rawStream, 1, eventstore.DefaultDuplicates)
	cfg.Subjects = []string{"raw.>"}
	_, err = store.JetStream().CreateOrUpdateStream(ctx, cfg)
	require.NoError(tb, err)
	require.NoError(tb, store.StageBatches(rawStream), "the raw stream stages its batches as the event stream does")
	s := &stack{store: store, keys: keys, handler: &domain.Handler{Store: store, Cache: domain.NewCache(0)}, js: store.JetStream()}
	s.world = s.newWorld(tb)
	return s
}

// world is one partnership: a social-welfare centre (the coordinator's)
// and a school (whose pedagogue records diagnosis inputs).
type world struct {
	pid, mops, school, coord, pedagog string
}

var (
	opened    = domain.NewDate(2024, 5, 1)
	consented = domain.NewDate(2024, 5, 2)
	diagnosed = domain.NewDate(2024, 5, 13)
)

func (s *stack) exec(tb testing.TB, cmd domain.Command) domain.Result {
	tb.Helper()
	m := benchMeta()
	m.OccurredAt = time.Time{} // the set-up's steps happen on their own dates
	res, err := s.handler.Execute(context.Background(), cmd, m, domain.AnyVersion)
	require.NoError(tb, err, "%T", cmd)
	return res
}

func benchMeta() domain.Meta {
	return domain.Meta{Actor: domain.Actor{UserID: "bench", Role: domain.RoleCoordinator}, OccurredAt: diagnosed.Time().Add(12 * time.Hour)}
}

func (s *stack) newWorld(tb testing.TB) world {
	w := world{pid: domain.NewID(), mops: domain.NewID(), school: domain.NewID(), coord: domain.NewID(), pedagog: domain.NewID()}
	s.exec(tb, domain.RegisterInstitution{InstitutionID: w.mops, Name: "MOPS Sieradz", Sector: domain.SectorSocialAssistance, Municipality: "Sieradz", County: "sieradzki"})
	s.exec(tb, domain.RegisterInstitution{InstitutionID: w.school, Name: "Szkoła Podstawowa nr 1 w Sieradzu", Sector: domain.SectorEducation, Municipality: "Sieradz", County: "sieradzki"})
	s.exec(tb, domain.RegisterWorker{InstitutionID: w.mops, WorkerID: w.coord, Name: "Pracownik socjalny", Position: "pracownik socjalny"})
	s.exec(tb, domain.RegisterWorker{InstitutionID: w.school, WorkerID: w.pedagog, Name: "Pedagog szkolny", Position: "pedagog szkolny"})
	s.exec(tb, domain.InitiatePartnership{PartnershipID: w.pid, Name: "PZK Sieradz", Municipality: "Sieradz", County: "sieradzki", Date: opened, LeaderID: w.mops})
	s.exec(tb, domain.JoinPartnership{PartnershipID: w.pid, InstitutionID: w.school, Date: opened})
	return w
}

// newFamily opens a family's case and records the consent that lets the
// school take part: two commands, two events.
func (s *stack) newFamily(tb testing.TB, i int) string {
	fid, applicant := domain.NewID(), domain.NewID()
	s.exec(tb, domain.OpenFamilyCase{FamilyID: fid, PartnershipID: s.world.pid, Address: fmt.Sprintf("ul. Przykładowa %d, Sieradz", i+1),
		Household: []domain.Person{
			{PersonID: applicant, Name: fmt.Sprintf("Anna Przykładowa-%d", i), BirthDate: domain.NewDate(1985, 3, 1), Relation: domain.RelationApplicant},
			{PersonID: domain.NewID(), Name: fmt.Sprintf("Ola Przykładowa-%d", i), BirthDate: domain.NewDate(2012, 5, 5), Relation: domain.RelationChild},
		},
		Referral:    domain.ReferralSource{InstitutionID: s.world.school, Reason: "absencja dziecka w szkole"},
		Coordinator: domain.WorkerRef{WorkerID: s.world.coord, InstitutionID: s.world.mops}, OpenedOn: opened})
	s.exec(tb, domain.GiveConsent{FamilyID: fid, ConsentID: domain.NewID(), InstitutionID: s.world.school,
		Categories: []domain.DataCategory{domain.DataBasic, domain.DataEducation}, Purpose: "współpraca w zespole kooperacyjnym",
		LegalBasis: "art. 6 ust. 1 lit. a RODO", GivenBy: applicant, GivenOn: consented})
	return fid
}

// newFamilies opens n families from a few goroutines.
func (s *stack) newFamilies(tb testing.TB, n int) []string {
	out := make([]string, n)
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 8 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				out[i] = s.newFamily(tb, i)
			}
		})
	}
	wg.Wait()
	return out
}

// diagnosis is the command of the throughput figures: the school's input
// to a family's diagnosis (loads the family and the partnership, checks the
// consent, seals the personal text, appends one event).
func (s *stack) diagnosis(fid string) domain.RecordDiagnosisInput {
	return domain.RecordDiagnosisInput{FamilyID: fid, Area: domain.AreaEducation, Severity: domain.SeverityMedium,
		Needs: "wsparcie w nauce, absencja", Strengths: "motywacja do zmiany", Resources: "wsparcie babci",
		WorkerID: s.world.pedagog, InstitutionID: s.world.school, Date: diagnosed}
}

// meanMessage returns the mean size of the event stream's messages, the
// size of the raw messages compared with them.
func (s *stack) meanMessage(tb testing.TB) int {
	stream, err := s.js.Stream(context.Background(), s.store.StreamName())
	require.NoError(tb, err)
	info, err := stream.Info(context.Background())
	require.NoError(tb, err)
	return int(info.State.Bytes / max(info.State.Msgs, 1))
}

// rawPublisher publishes messages of a given size on its own subject of
// the raw stream, synchronously, each expecting the subject's last
// sequence: what the engine does for one command, without the engine.
type rawPublisher struct {
	js      jetstream.JetStream
	subject string
	body    []byte
	last    uint64
}

func newRawPublisher(js jetstream.JetStream, size int) *rawPublisher {
	return &rawPublisher{js: js, subject: "raw." + domain.NewID(), body: []byte(strings.Repeat("x", size))}
}

func (p *rawPublisher) publish(ctx context.Context) error {
	msg := nats.NewMsg(p.subject)
	msg.Data = p.body
	msg.Header.Set(nats.MsgIdHdr, domain.NewID())
	ack, err := p.js.PublishMsg(ctx, msg, jetstream.WithExpectLastSequencePerSubject(p.last))
	if err != nil {
		return fmt.Errorf("raw publish to %s: %w", p.subject, err)
	}
	p.last = ack.Sequence
	return nil
}

// tally counts operations and errors of concurrent clients.
type tally struct {
	ops  atomic.Int64
	mu   sync.Mutex
	err  error
	lats []time.Duration
}

func (t *tally) fail(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err == nil {
		t.err = err
	}
}

func (t *tally) latency(d time.Duration) {
	t.mu.Lock()
	t.lats = append(t.lats, d)
	t.mu.Unlock()
}

// during runs clients goroutines, each calling op in a loop until d has
// passed, and returns the operations done per second.
func during(tb testing.TB, clients int, d time.Duration, op func(client int) error) float64 {
	tb.Helper()
	var t tally
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for c := range clients {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				if err := op(c); err != nil {
					t.fail(err)
					return
				}
				t.ops.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	require.NoError(tb, t.err)
	return float64(t.ops.Load()) / elapsed.Seconds()
}

// alternate runs raw and engine measurements in turns, rounds times, and
// returns the mean of each (figures per second) and the median of the
// per-round ratios engine/raw, which a neighbour's burst on the machine
// disturbs least.
func alternate(rounds int, raw, engine func() float64) (rawMean, engineMean, ratio float64) {
	ratios := make([]float64, rounds)
	for i := range rounds {
		r, e := raw(), engine()
		rawMean += r
		engineMean += e
		ratios[i] = e / r
	}
	sort.Float64s(ratios)
	return rawMean / float64(rounds), engineMean / float64(rounds), ratios[rounds/2]
}

// percentile returns the p-th percentile (0–100) of ds, in milliseconds.
func percentile(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(float64(len(s)-1) * p / 100)
	return float64(s[i]) / float64(time.Millisecond)
}

// live is the live projections serve runs, fed by one runner.
type live struct {
	runner       *projections.Runner
	institutions *projections.Institutions
	partnerships *projections.Partnerships
	users        *projections.Users
	families     *projections.Families
}

// live starts the live projections.
func (s *stack) live(tb testing.TB) live {
	tb.Helper()
	l := live{institutions: projections.NewInstitutions(), partnerships: projections.NewPartnerships(),
		users: projections.NewUsers(), families: projections.NewFamilies()}
	l.runner = projections.NewRunner(s.store, "bench", nil, l.institutions, l.partnerships, l.users, l.families)
	require.NoError(tb, l.runner.Start(context.Background()))
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = l.runner.Stop(ctx)
	})
	return l
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/kooperacje/kooperacje/api"
	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
	"github.com/kooperacje/kooperacje/polish"
	"github.com/kooperacje/kooperacje/projections"
)

func TestEvaluateTheDemoTwiceGivesTheSameFilesWithoutWhoTheFamiliesAre(t *testing.T) {
	dir, outsDir := t.TempDir(), t.TempDir()
	_, stop := startServe(t, "--data", dir, "--demo")
	require.Equal(t, 0, stop())

	// Who the demo families are: their ids and the names of their people.
	ctx := context.Background()
	var c storeConfig
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	c.register(fs, eventstore.ListenOff)
	require.NoError(t, fs.Parse([]string{"--data", dir}))
	c.demo = true
	store, _, done, err := openForCLI(ctx, &c)
	require.NoError(t, err)
	secrets := map[string]bool{}
	require.NoError(t, store.Read(ctx, 0, 0, func(_ uint64, envs []domain.Envelope, err error) error {
		if err != nil {
			return err
		}
		for _, env := range envs {
			if e, ok := env.Payload.(domain.FamilyCaseOpened); ok {
				secrets[env.AggregateID] = true
				for _, p := range e.Household {
					if p.Name != "" {
						secrets[p.Name] = true
					}
					secrets[p.PersonID] = true
				}
			}
		}
		return nil
	}))
	done()
	names := 0
	for s := range secrets {
		if strings.Contains(s, " ") {
			names++
		}
	}
	require.Positive(t, names, "the applicants' names were read in clear")
	if dump := os.Getenv("KOOPERACJE_EVALUATE_DUMP"); dump != "" {
		defer func() { _ = os.CopyFS(dump, os.DirFS(outsDir)) }()
	}

	outs := []string{filepath.Join(outsDir, "a"), filepath.Join(outsDir, "b")}
	for _, out := range outs {
		var stdout, stderr bytes.Buffer
		code := run(ctx, []string{"evaluate", "--data", dir, "--demo", "--out", out, "--quiet"}, &stdout, &stderr)
		require.Equal(t, 0, code, stderr.String())
		assert.Contains(t, stdout.String(), "report.html")
		assert.Contains(t, stdout.String(), "(today in Poland, the default)", "the command says which cut-off it used")
	}
	files := map[string][]byte{}
	for _, name := range evaluationOutputs {
		a, err := os.ReadFile(filepath.Join(outs[0], name))
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(outs[1], name))
		require.NoError(t, err)
		assert.Equal(t, string(a), string(b), "%s: the same history gives the same bytes", name)
		files[name] = a
		for s := range secrets {
			if !assert.NotContains(t, string(a), s, "%s carries pseudonyms only", name) {
				break
			}
		}
	}

	var ev struct {
		Replay struct {
			Skipped *int64 `json:"skipped_unknown_events"`
		} `json:"replay"`
		Partnerships []struct {
			Municipality string `json:"municipality"`
			Client       struct {
				Families int `json:"families_enrolled"`
			} `json:"client"`
		} `json:"partnerships"`
	}
	require.NoError(t, json.Unmarshal(files["indicators.json"], &ev))
	require.Len(t, ev.Partnerships, 4)
	for _, p := range ev.Partnerships {
		assert.Positive(t, p.Client.Families, p.Municipality)
	}
	require.NotNil(t, ev.Replay.Skipped, "the JSON reports skipped events of unknown types")
	assert.Zero(t, *ev.Replay.Skipped)

	assert.True(t, bytes.HasPrefix(files["indicators.csv"], []byte("\xef\xbb\xbf")), "a UTF-8 BOM")
	assert.Contains(t, string(files["indicators.csv"]), "Sieradz")
	assert.Contains(t, string(files["indicators.csv"]), "Rodziny objęte wsparciem")
	// The Polish convention: every row splits into as many columns as the
	// header on semicolons, and the demo's means carry decimal commas.
	lines := strings.Split(strings.TrimSuffix(string(files["indicators.csv"]), "\r\n"), "\r\n")
	require.Len(t, lines, 1+4+1, "a header, a row per partnership and one overall")
	for _, l := range lines[1:] {
		assert.Equal(t, strings.Count(lines[0], ";"), strings.Count(l, ";"), "%s", l)
	}
	assert.Regexp(t, `;\d+,\d+;`, lines[len(lines)-1], "a decimal comma")
	wb, err := excelize.OpenReader(bytes.NewReader(files["indicators.xlsx"]))
	require.NoError(t, err)
	assert.Equal(t, []string{"Informacje", "Instytucje (PZK)", "Pracownicy (ZZK)", "Klienci (rodziny)", "Wsparcie kadr", "Słownik wskaźników"}, wb.GetSheetList())
	_ = wb.Close()

	report := string(files["report.html"])
	top, _, _ := strings.Cut(report, "<h2>")
	assert.Contains(t, top, "Stan na <strong>"+projections.Today(time.Now()).String()+"</strong> — koniec dzisiejszego dnia (czas polski), zasada domyślna",
		"the cut-off stated at the top")
	assert.Contains(t, report, "<svg")
	assert.NotContains(t, report, "http://")
	assert.NotContains(t, report, "https://")
	assert.True(t, strings.HasPrefix(report, "<!DOCTYPE html>"))

	// The report is in Polish only: no value of an enumeration in
	// English, no English word, no key of the JSON, decimal commas.
	text := regexp.MustCompile(`(?s)<style>.*?</style>|<[^>]+>`).ReplaceAllString(report, " ")
	assert.Contains(t, text, "pomoc społeczna")
	assert.Contains(t, text, "niedotrzymanie przez klienta")
	assert.Contains(t, text, "Średnia liczba spotkań ZZK na rodzinę miesięcznie")
	assert.Contains(t, text, "Wsparcie kadr wg formy — spotkanie ZZK — godziny")
	assert.Contains(t, text, "Słownik wskaźników")
	for _, values := range polish.Enums {
		for _, v := range values {
			if len(v) < 3 || v == "partner" || v == "coaching" || v == "system" {
				continue // a letter of a variant, or a word Polish has too
			}
			assert.NotRegexp(t, `(^|[^\pL_])`+regexp.QuoteMeta(v)+`($|[^\pL_])`, text, "the report says %q in English", v)
		}
	}
	for _, word := range []string{"as of", "overall", "partnerships?", "indicators?", "skipped", "unknown", "evaluation", "period", "compared",
		"counties", "county", "events?", "value", "level", "worker", "institution", "client", "staff", "support", "changes?", "grouping", "\\(by\\)"} {
		assert.NotRegexp(t, `(?i)(^|[^\pL])`+word+`($|[^\pL])`, text, "the report says %q in English", word)
	}
	assert.NotRegexp(t, `[a-z]+_[a-z_]+`, text, "no key of the JSON")
	assert.NotRegexp(t, `\d\.\d`, text, "no decimal point")
	assert.Regexp(t, `\d,\d`, text, "decimal commas")
}

func TestEvaluateAsOfADayAndWithoutOut(t *testing.T) {
	dir := t.TempDir()
	_, stop := startServe(t, "--data", dir, "--demo")
	require.Equal(t, 0, stop())
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 2, run(context.Background(), []string{"evaluate", "--data", dir, "--demo"}, &stdout, &stderr), "--out is required")
	assert.Equal(t, 2, run(context.Background(), []string{"evaluate", "--data", dir, "--demo", "--out", t.TempDir(), "--as-of", "2020-13-01"}, &stdout, &stderr))

	out := t.TempDir()
	require.Equal(t, 0, run(context.Background(), []string{"evaluate", "--data", dir, "--demo", "--out", out, "--quiet", "--as-of", "1999-01-01"}, &stdout, &stderr), stderr.String())
	raw, err := os.ReadFile(filepath.Join(out, "indicators.json"))
	require.NoError(t, err)
	var ev struct {
		AsOf   string `json:"as_of"`
		Cutoff struct {
			OccurredAt string `json:"occurred_at"`
		} `json:"cutoff"`
		Overall struct {
			Client struct {
				Families int `json:"families_enrolled"`
			} `json:"client"`
		} `json:"overall"`
	}
	require.NoError(t, json.Unmarshal(raw, &ev))
	assert.Equal(t, "1999-01-01", ev.AsOf)
	assert.Equal(t, "1999-01-01T22:59:59.999999999Z", ev.Cutoff.OccurredAt, "the end of the day in Warsaw (UTC+1 in winter)")
	assert.Zero(t, ev.Overall.Client.Families, "no family had been enrolled in 1999")

	assert.Equal(t, 2, run(context.Background(), []string{"evaluate", "--data", dir, "--demo", "--out", t.TempDir(), "--lang", "de"}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), `--lang "de"`)
	en := t.TempDir()
	require.Equal(t, 0, run(context.Background(), []string{"evaluate", "--data", dir, "--demo", "--out", en, "--quiet", "--lang", "en", "--as-of", "2021-06-30"}, &stdout, &stderr), stderr.String())
	english, err := os.ReadFile(filepath.Join(en, "report.html"))
	require.NoError(t, err)
	assert.Contains(t, string(english), `<html lang="en">`)
	assert.Contains(t, string(english), "As of <strong>2021-06-30</strong> — the end of the chosen day (Polish time).")
	assert.Contains(t, string(english), "worker.team_meetings_per_family_month", "indicators by their keys of docs/evaluation.md")
	assert.NotContains(t, string(english), "Stan na")
	assert.Equal(t, 2, run(context.Background(), []string{"evaluate", "--data", dir, "--demo", "--out", t.TempDir(), "--by", "town"}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), `--by "town"`)

	// By county: each county's counters are its partnerships' together.
	byPartnership, _, _ := evaluateJSON(t, dir)
	assert.Equal(t, projections.ByPartnership, byPartnership.By)
	byCounty, _, _ := evaluateJSON(t, dir, "--by", "county", "--from", "2020-01-01", "--to", "2020-12-31")
	assert.Equal(t, projections.ByCounty, byCounty.By)
	families, contracts := map[string]int{}, map[string]int{}
	for _, g := range byPartnership.Partnerships {
		families[g.County] += g.Client.FamiliesEnrolled
	}
	full, _, _ := evaluateJSON(t, dir, "--as-of", "2020-12-31")
	for _, g := range full.Partnerships {
		contracts[g.County] += g.Client.ContractsSigned
	}
	require.Len(t, byCounty.Partnerships, len(families))
	sum := 0
	for _, g := range byCounty.Partnerships {
		assert.Empty(t, g.PartnershipID)
		assert.Equal(t, "powiat "+g.County, g.Name)
		assert.Equal(t, contracts[g.County], g.Client.ContractsSigned, "contracts signed by the end of 2020 in %s", g.County)
		sum += g.Client.FamiliesEnrolled
	}
	assert.Equal(t, full.Overall.Client.FamiliesEnrolled, sum)
	require.NotNil(t, byCounty.Period)
	require.Len(t, byCounty.Period.Partnerships, len(byCounty.Partnerships))

	// The report shows the grouping and the period's changes.
	out = t.TempDir()
	require.Equal(t, 0, run(context.Background(), []string{"evaluate", "--data", dir, "--demo", "--out", out, "--quiet", "--by", "county", "--from", "2020-01-01", "--to", "2020-12-31"}, &stdout, &stderr), stderr.String())
	report, err := os.ReadFile(filepath.Join(out, "report.html"))
	require.NoError(t, err)
	assert.Contains(t, string(report), "Porównanie powiatów")
	assert.Contains(t, string(report), "Okres: <strong>2020-01-01 – 2020-12-31</strong>")
	assert.Contains(t, string(report), "Zmiany w okresie 2020-01-01 – 2020-12-31")

	// The spreadsheets carry the period's changes after the counties'
	// states, a row each, with both days.
	csvBytes, err := os.ReadFile(filepath.Join(out, "indicators.csv"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(csvBytes), "\r\n"), "\r\n")
	counties := len(byCounty.Partnerships)
	require.Len(t, lines, 1+2*(counties+1), "a header, the states, then the changes")
	for i, l := range lines[1:] {
		cells := strings.Split(l, ";")
		if i <= counties {
			assert.Equal(t, []string{"stan na dzień", "", "2020-12-31"}, cells[3:6], "%s", l)
		} else {
			assert.Equal(t, []string{"zmiana w okresie", "2020-01-01", "2020-12-31"}, cells[3:6], "%s", l)
		}
	}
	assert.True(t, strings.HasPrefix(lines[len(lines)-1], "Ogółem (wszystkie partnerstwa);"))
}

// craftedEngine starts an engine (with the demo master key, so that
// evaluate --demo reads what it wrote) on a fresh data directory.
func craftedEngine(t *testing.T) (*engine, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	c := serveConfig{storeConfig: storeConfig{data: dir, natsListen: eventstore.ListenOff, stream: eventstore.DefaultStream, instance: "test", demo: true}}
	require.NoError(t, c.validate())
	e, err := startEngine(ctx, c, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	return e, dir
}

// evaluateJSON runs kooperacje evaluate with args on dir and returns
// indicators.json, decoded and raw, and stderr.
func evaluateJSON(t *testing.T, dir string, args ...string) (api.Evaluation, []byte, string) {
	t.Helper()
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	// evaluate tunes the collector for its replay and gives the process
	// its setting back.
	const marker = 137
	defer debug.SetGCPercent(debug.SetGCPercent(marker))
	code := run(context.Background(), append([]string{"evaluate", "--data", dir, "--demo", "--quiet", "--out", out}, args...), &stdout, &stderr)
	require.Equal(t, 0, code, "evaluate %v: %s", args, stderr.String())
	if os.Getenv("GOGC") == "" {
		require.Equal(t, marker, debug.SetGCPercent(marker), "the collector's setting after evaluate")
	}
	raw, err := os.ReadFile(filepath.Join(out, "indicators.json"))
	require.NoError(t, err)
	var ev api.Evaluation
	require.NoError(t, json.Unmarshal(raw, &ev))
	return ev, raw, stderr.String()
}

// TestEvaluateUpToASequenceIsWhatTheLiveProjectionHadThere drives a store
// through a crafted history with the domain handler, takes the live
// Indicators' state whenever its runner reaches chosen commands, and
// replays up to those sequences: the same bytes, both as snapshots and as
// evaluate --sequence's report.
func TestEvaluateUpToASequenceIsWhatTheLiveProjectionHadThere(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e, dir := craftedEngine(t)
	closed := false
	defer func() {
		if !closed {
			e.close(context.Background(), slog.New(slog.DiscardHandler))
		}
	}()
	pseudonym := func(id string) string {
		p, err := e.keys.Pseudonym(ctx, id)
		require.NoError(t, err)
		return p
	}
	live := projections.NewIndicators(pseudonym)
	runner := projections.NewRunner(e.store, "evaluate_test", nil, live)
	require.NoError(t, runner.Start(ctx))
	defer func() { _ = runner.Stop(context.Background()) }()

	type cut struct {
		seq              uint64
		snapshot, report []byte
	}
	var cuts []cut
	var last uint64
	do := func(d domain.Date, cmd domain.Command) {
		t.Helper()
		res, err := e.handler.Execute(ctx, cmd, domain.Meta{Actor: domain.Actor{UserID: "u", Role: domain.RoleCoordinator}, OccurredAt: d.Time().Add(10 * time.Hour), Reason: "historia testowa"}, domain.AnyVersion)
		require.NoError(t, err, "%T", cmd)
		last = res.Sequence
	}
	mark := func() {
		t.Helper()
		require.NoError(t, runner.WaitFor(ctx, last))
		snap, err := live.Snapshot()
		require.NoError(t, err)
		rep, err := json.Marshal(live.Report(api.DefaultAsOf(time.Now()))) // the default rule of evaluate and the overview
		require.NoError(t, err)
		cuts = append(cuts, cut{last, snap, rep})
	}
	day := func(m, d int) domain.Date { return domain.NewDate(2020, time.Month(m), d) }
	pid, fid, mops, school, pup := domain.NewID(), domain.NewID(), domain.NewID(), domain.NewID(), domain.NewID()
	coordinator, pedagog, applicant := domain.NewID(), domain.NewID(), domain.NewID()
	do(day(1, 2), domain.RegisterInstitution{InstitutionID: mops, Name: "MOPS Sieradz", Sector: domain.SectorSocialAssistance, Municipality: "Sieradz", County: "sieradzki"})
	do(day(1, 2), domain.RegisterInstitution{InstitutionID: school, Name: "SP 1", Sector: domain.SectorEducation, Municipality: "Sieradz", County: "sieradzki"})
	do(day(1, 2), domain.RegisterInstitution{InstitutionID: pup, Name: "PUP", Sector: domain.SectorLabour, Municipality: "Sieradz", County: "sieradzki"})
	do(day(1, 2), domain.RegisterWorker{InstitutionID: mops, WorkerID: coordinator, Name: "Marta Testowa", Position: "pracownik socjalny"})
	do(day(1, 2), domain.RegisterWorker{InstitutionID: school, WorkerID: pedagog, Name: "Piotr Fikcyjny", Position: "pedagog"})
	do(day(1, 10), domain.InitiatePartnership{PartnershipID: pid, Name: "PZK", Municipality: "Sieradz", County: "sieradzki", Date: day(1, 10), LeaderID: mops})
	do(day(1, 10), domain.JoinPartnership{PartnershipID: pid, InstitutionID: school, Date: day(1, 10)})
	mark() // a partnership of two
	do(day(1, 12), domain.JoinPartnership{PartnershipID: pid, InstitutionID: pup, Date: day(1, 12)})
	do(day(2, 1), domain.OpenFamilyCase{FamilyID: fid, PartnershipID: pid, Address: "ul. Przykładowa 1, Sieradz",
		Household: []domain.Person{
			{PersonID: applicant, Name: "Anna Przykładowa", BirthDate: domain.NewDate(1985, 3, 1), Relation: domain.RelationApplicant},
			{PersonID: domain.NewID(), Name: "Ola Przykładowa", BirthDate: domain.NewDate(2012, 5, 5), Relation: domain.RelationChild},
		},
		Referral:    domain.ReferralSource{InstitutionID: school, Reason: "absencja dziecka"},
		Coordinator: domain.WorkerRef{WorkerID: coordinator, InstitutionID: mops}, OpenedOn: day(2, 1)})
	mark() // a family enrolled
	do(day(2, 5), domain.RecordMeeting{PartnershipID: pid, MeetingID: domain.NewID(), Kind: domain.MeetingRegular, Date: day(2, 5), Place: "MOPS", Attendees: []string{mops, school}})
	do(day(2, 10), domain.RecordDiagnosisInput{FamilyID: fid, Area: domain.AreaEducation, Severity: domain.SeverityMedium, Needs: "wsparcie w nauce",
		WorkerID: coordinator, InstitutionID: mops, Date: day(2, 10)})
	do(day(2, 20), domain.CompleteDiagnosis{FamilyID: fid, Date: day(2, 20)})
	mark() // diagnosed after 19 days
	do(day(3, 10), domain.FormalizePartnership{PartnershipID: pid, Date: day(3, 10)})
	do(day(3, 12), domain.RecordStaffSupport{PartnershipID: pid, ActivityID: domain.NewID(), Kind: domain.SupportTraining, Date: day(3, 12), Topic: "współpraca", Institutions: []string{mops, school}, Hours: 6})
	do(day(4, 2), domain.LeavePartnership{PartnershipID: pid, InstitutionID: pup, Date: day(4, 2)})
	mark() // formalised, a training, a member left
	require.GreaterOrEqual(t, len(cuts), 4)

	for _, c := range cuts {
		fresh := projections.NewIndicators(pseudonym)
		st, err := projections.Replay(ctx, e.store, projections.Until{Sequence: c.seq}, nil, fresh)
		require.NoError(t, err)
		assert.Equal(t, c.seq, st.Position)
		snap, err := fresh.Snapshot()
		require.NoError(t, err)
		assert.Equal(t, string(c.snapshot), string(snap), "replayed up to sequence %d", c.seq)
	}
	for i := 1; i < len(cuts); i++ {
		assert.NotEqual(t, string(cuts[i-1].snapshot), string(cuts[i].snapshot), "every cut-off sees something new")
	}

	require.NoError(t, runner.Stop(ctx))
	e.close(ctx, slog.New(slog.DiscardHandler))
	closed = true
	for _, c := range cuts {
		ev, _, _ := evaluateJSON(t, dir, "--sequence", strconv.FormatUint(c.seq, 10))
		require.NotNil(t, ev.Cutoff)
		assert.Equal(t, c.seq, ev.Cutoff.Sequence)
		assert.Equal(t, c.seq, ev.Replay.Position)
		rep, err := json.Marshal(ev.IndicatorReport)
		require.NoError(t, err)
		assert.Equal(t, string(c.report), string(rep), "evaluate --sequence %d reports the live state there", c.seq)
	}

	// --recorded-as-of: everything had been recorded by now; nothing at
	// the start of 2000.
	ev, _, _ := evaluateJSON(t, dir, "--recorded-as-of", time.Now().UTC().Add(time.Minute).Format(time.RFC3339))
	assert.Equal(t, cuts[len(cuts)-1].seq, ev.Replay.Position)
	ev, _, _ = evaluateJSON(t, dir, "--recorded-as-of", "2000-01-01")
	assert.Zero(t, ev.Replay.Position)
	assert.Empty(t, ev.Partnerships)

	// A period: February 2020 saw the family enrolled, one PZK meeting and
	// the diagnosis; nothing of the partnership's membership changed.
	ev, raw, _ := evaluateJSON(t, dir, "--from", "2020-02-01", "--to", "2020-02-29")
	assert.Equal(t, "2020-02-29", ev.AsOf.String())
	require.NotNil(t, ev.Period)
	assert.Equal(t, "2020-02-01", ev.Period.From.String())
	p := ev.Period.Overall
	assert.Equal(t, 1, p.Client.FamiliesEnrolled)
	assert.Equal(t, 1, p.Client.DaysToDiagnosis.N)
	assert.Nil(t, p.Client.DaysToDiagnosis.Median, "statistics are not counters")
	assert.Equal(t, 1, p.Institution.Meetings)
	assert.Zero(t, p.Institution.Members, "all three joined in January")
	assert.Zero(t, p.Institution.Formalized)
	require.Len(t, ev.Period.Partnerships, 1)
	assert.Equal(t, pid, ev.Period.Partnerships[0].PartnershipID)
	assert.Equal(t, 3, ev.Overall.Institution.Members, "the document stands as of --to")
	_, again, _ := evaluateJSON(t, dir, "--from", "2020-02-01", "--to", "2020-02-29")
	assert.Equal(t, string(raw), string(again), "deterministic")
	ev, _, _ = evaluateJSON(t, dir, "--from", "2020-03-01", "--to", "2020-12-31")
	assert.Equal(t, -1, ev.Period.Overall.Institution.Members, "a net change: the PUP left in April")
	assert.Equal(t, 1, ev.Period.Overall.Institution.MembersLeft)
	assert.Equal(t, 1, ev.Period.Overall.Institution.Formalized)
	assert.Equal(t, 6.0, ev.Period.Overall.StaffSupport.Hours)
	assert.Zero(t, ev.Period.Overall.Client.FamiliesEnrolled)

	for _, bad := range [][]string{
		{"--sequence", "3", "--recorded-as-of", "2020-01-01"},
		{"--sequence", "0"},
		{"--sequence", "100000"},
		{"--recorded-as-of", "wczoraj"},
		{"--as-of", "2020-02-01", "--to", "2020-02-29", "--from", "2020-02-01"},
		{"--from", "2020-02-01"},
		{"--to", "2020-02-01"},
		{"--from", "2020-03-01", "--to", "2020-02-01"},
		{"--from", "2020-02-30", "--to", "2020-03-01"},
	} {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, 2, run(context.Background(), append([]string{"evaluate", "--data", dir, "--demo", "--quiet", "--out", t.TempDir()}, bad...), &stdout, &stderr), "%v: %s", bad, stderr.String())
	}
}

// TestEvaluateSkipsEventsOfAFutureTypeWithAWarning: a newer engine wrote an
// event this version does not know.
func TestEvaluateSkipsEventsOfAFutureTypeWithAWarning(t *testing.T) {
	e, dir := craftedEngine(t)
	id := domain.NewID()
	future, err := json.Marshal(map[string]any{"events": []map[string]any{{
		"event_id": domain.NewID(), "type": "FutureEventType", "schema_version": 1,
		"aggregate_type": "family", "aggregate_id": id, "aggregate_version": 1,
		"occurred_at": "2020-02-01T10:00:00Z", "recorded_at": "2020-02-01T10:00:00Z",
		"payload": map[string]any{"to": "Mars"},
	}}})
	require.NoError(t, err)
	msg := nats.NewMsg("koop.family." + id)
	msg.Data = future
	_, err = e.store.JetStream().PublishMsg(context.Background(), msg)
	require.NoError(t, err)
	e.close(context.Background(), slog.New(slog.DiscardHandler))

	ev, _, stderr := evaluateJSON(t, dir)
	assert.Equal(t, int64(1), ev.Replay.SkippedUnknown)
	assert.Equal(t, uint64(1), ev.Replay.Position)
	assert.Zero(t, ev.Replay.Events)
	assert.Contains(t, stderr, "warning: 1 events of unknown types were skipped")
	assert.Zero(t, ev.Overall.Client.FamiliesEnrolled)
}

// TestTheOverviewAndTheReportStandAtTheSameCutoff: on the same demo, the
// overview (live read models), the evaluation route and `kooperacje
// evaluate` without a day all stand at the end of today in Poland, say so,
// and give the same figures, overdue actions included.
func TestTheOverviewAndTheReportStandAtTheSameCutoff(t *testing.T) {
	dir := t.TempDir()
	base, stop := startServe(t, "--data", dir, "--demo", "--http", freeAddr(t))
	tokens := demoTokensOf(t, dir)
	var d api.Dashboard
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/dashboard", tokens["evaluator"], &d))
	var page api.Evaluation
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/evaluation", tokens["evaluator"], &page))
	require.Equal(t, 0, stop())
	report, _, _ := evaluateJSON(t, dir)

	today := projections.Today(time.Now())
	for name, got := range map[string]struct {
		day  domain.Date
		rule api.CutoffRule
	}{"overview": {d.AsOf, d.CutoffRule}, "evaluation page": {page.AsOf, page.CutoffRule}, "report": {report.AsOf, report.CutoffRule}} {
		assert.Equal(t, today, got.day, "%s: as of today in Poland", name)
		assert.Equal(t, api.CutoffToday, got.rule, "%s: says it is the default rule", name)
	}
	require.Len(t, d.Partnerships, len(report.Partnerships))
	for i, g := range report.Partnerships {
		assert.Equal(t, g, d.Partnerships[i].IndicatorGroup, g.Name)
		assert.Equal(t, g, page.Partnerships[i], g.Name)
	}
	assert.Equal(t, report.Overall, d.Overall.IndicatorGroup)
	assert.Positive(t, report.Overall.Client.Actions.Overdue+report.Overall.Client.Actions.Completed, "the comparison is of actions that exist")

	// The demo's staff support: all six forms, and part of the task teams'
	// members trained cross-sector.
	ss := report.Overall.StaffSupport
	assert.Len(t, ss.ByForm, len(domain.SupportKinds))
	assert.Positive(t, ss.Participants)
	require.NotNil(t, ss.TrainedShare)
	assert.Positive(t, *ss.TrainedShare)
	assert.LessOrEqual(t, *ss.TrainedShare, 100.0)
	assert.InDelta(t, 100*float64(ss.Trained)/float64(ss.TeamMembers), *ss.TrainedShare, 0.005)
}

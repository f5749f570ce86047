package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
	"github.com/kooperacje/kooperacje/projections"
)

// evaluation is what indicators.json holds: the replay's account and the
// indicators (docs/evaluation.md).
type evaluation struct {
	Format int             `json:"format"`
	Cutoff *evaluateCutoff `json:"cutoff"`
	Replay evaluateReplay  `json:"replay"`
	projections.IndicatorReport
}

type evaluateCutoff struct {
	OccurredAt time.Time `json:"occurred_at"` // events of business time after this were left out
}

type evaluateReplay struct {
	Commits        int64  `json:"commits"`
	Events         int64  `json:"events"`
	SkippedUnknown int64  `json:"skipped_unknown_events"` // events of types this version does not know
	Position       uint64 `json:"position"`
}

// progressSource moves a progress bar along the stream sequences read.
type progressSource struct {
	projections.Source
	bar *progressbar.ProgressBar
}

func (s progressSource) Read(ctx context.Context, from, to uint64, fn projections.CommitFunc) error {
	return s.Source.Read(ctx, from, to, func(seq uint64, envs []domain.Envelope, err error) error {
		_ = s.bar.Set64(int64(seq))
		return fn(seq, envs, err)
	})
}

// evaluate replays the stream into the evaluation indicators and writes
// indicators.json, indicators.csv and report.html: kooperacje evaluate
// --out DIR [--as-of DATE].
func evaluate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c storeConfig
	var asOf, out string
	var quiet bool
	fs := flag.NewFlagSet("evaluate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.register(fs, eventstore.ListenOff)
	fs.BoolVar(&c.demo, "demo", false, "a demo installation: use the master key serve --demo generated")
	fs.StringVar(&asOf, "as-of", "", "a day (YYYY-MM-DD): only what happened by its end, in business time (default: everything, as of the last day in the history)")
	fs.StringVar(&out, "out", "", "directory to write indicators.json, indicators.csv and report.html into (required)")
	fs.BoolVar(&quiet, "quiet", false, "no progress bar")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if out == "" {
		return usagef("--out: a directory is required")
	}
	var until projections.Until
	var day domain.Date
	var cutoff *evaluateCutoff
	if asOf != "" {
		d, err := domain.ParseDate(asOf)
		if err != nil {
			return usagef("--as-of: %v", err)
		}
		end := d.Time().AddDate(0, 0, 1)
		until.OccurredAt = time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, projections.Warsaw).Add(-time.Nanosecond)
		day, cutoff = d, &evaluateCutoff{OccurredAt: until.OccurredAt.UTC()}
	}
	store, keys, done, err := openForCLI(ctx, &c)
	if err != nil {
		return err
	}
	defer done()
	var perr error
	ind := projections.NewIndicators(func(id string) string {
		p, err := keys.Pseudonym(ctx, id)
		if err != nil && perr == nil {
			perr = err
		}
		return p
	})
	var src projections.Source = store
	last, err := store.LastSequence(ctx)
	if err != nil {
		return err
	}
	bar := progress(stderr, int64(last), "evaluate", quiet)
	if bar != nil {
		src = progressSource{Source: store, bar: bar}
	}
	st, err := projections.Replay(ctx, src, until, nil, ind)
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		return err
	}
	if perr != nil {
		return fmt.Errorf("pseudonyms: %w", perr)
	}
	ev := evaluation{Format: 1, Cutoff: cutoff, IndicatorReport: ind.Report(day),
		Replay: evaluateReplay{Commits: st.Commits, Events: st.Events, SkippedUnknown: st.Skipped, Position: st.Position}}
	if st.Skipped > 0 {
		fmt.Fprintf(stderr, "warning: %d events of unknown types were skipped (a newer engine wrote them)\n", st.Skipped)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	files, err := evaluationFiles(ev)
	if err != nil {
		return err
	}
	for _, name := range []string{"indicators.json", "indicators.csv", "report.html"} {
		if err := os.WriteFile(filepath.Join(out, name), files[name], 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "%d partnerships, %d families, as of %s: %s\n", len(ev.Partnerships), ev.Overall.Client.FamiliesEnrolled, ev.AsOf, filepath.Join(out, "report.html"))
	return nil
}

// evaluationFiles renders the three outputs.
func evaluationFiles(ev evaluation) (map[string][]byte, error) {
	var js bytes.Buffer
	enc := json.NewEncoder(&js)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ev); err != nil {
		return nil, err
	}
	groups := append(slices.Clone(ev.Partnerships), ev.Overall)
	rows := make([][]indicatorRow, len(groups))
	for i, g := range groups {
		r, err := flattenGroup(g)
		if err != nil {
			return nil, err
		}
		rows[i] = r
	}
	var cs bytes.Buffer
	cs.WriteString("\ufeff") // a BOM: spreadsheets then read UTF-8, Polish letters included
	w := csv.NewWriter(&cs)
	_ = w.Write([]string{"partnerstwo_id", "partnerstwo", "gmina", "poziom", "wskaznik", "opis", "wartosc", "stan_na"})
	for i, g := range groups {
		for _, r := range rows[i] {
			_ = w.Write([]string{g.PartnershipID, groupName(g), g.Municipality, r.level, r.key, r.label, r.value, ev.AsOf.String()})
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, err
	}
	return map[string][]byte{"indicators.json": js.Bytes(), "indicators.csv": cs.Bytes(), "report.html": reportHTML(ev, groups, rows)}, nil
}

func groupName(g projections.IndicatorGroup) string {
	if g.PartnershipID == "" {
		return "ogółem (overall)"
	}
	return g.Name
}

type indicatorRow struct {
	level, key, label, value string
	number                   float64
	isNumber                 bool
}

// flattenGroup turns a group into rows, one per indicator (a map's entries
// and a distribution's statistics each a row), in a stable order: the
// JSON's field order, map keys sorted.
func flattenGroup(g projections.IndicatorGroup) ([]indicatorRow, error) {
	var rows []indicatorRow
	for _, level := range []struct {
		name string
		v    any
	}{{"institution", g.Institution}, {"worker", g.Worker}, {"client", g.Client}} {
		raw, err := json.Marshal(level.v)
		if err != nil {
			return nil, err
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var tree orderedObject
		if err := dec.Decode(&tree); err != nil {
			return nil, err
		}
		tree.walk(nil, func(path []string, v any) {
			r := indicatorRow{level: level.name, key: strings.Join(path, "."), label: polishLabel(path)}
			switch x := v.(type) {
			case json.Number:
				r.value = x.String()
				r.number, _ = x.Float64()
				r.isNumber = true
			case nil:
				r.value = ""
			default:
				r.value = fmt.Sprint(x)
			}
			rows = append(rows, r)
		})
	}
	return rows, nil
}

// orderedObject is a JSON object that keeps its keys' order.
type orderedObject struct {
	keys []string
	vals map[string]any
}

func (o *orderedObject) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		return err
	}
	o.vals = map[string]any{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		k := t.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		var v any
		if len(raw) > 0 && raw[0] == '{' {
			sub := &orderedObject{}
			if err := sub.UnmarshalJSON(raw); err != nil {
				return err
			}
			v = sub
		} else {
			d := json.NewDecoder(bytes.NewReader(raw))
			d.UseNumber()
			if err := d.Decode(&v); err != nil {
				return err
			}
		}
		o.keys = append(o.keys, k)
		o.vals[k] = v
	}
	return nil
}

func (o *orderedObject) walk(path []string, fn func([]string, any)) {
	for _, k := range o.keys {
		p := append(slices.Clone(path), k)
		if sub, ok := o.vals[k].(*orderedObject); ok {
			sub.walk(p, fn)
			continue
		}
		fn(p, o.vals[k])
	}
}

var polishWords = map[string]string{
	"members_by_sector":     "Instytucje członkowskie wg sektora",
	"members":               "Instytucje członkowskie",
	"sector_coverage":       "Liczba sektorów w PZK",
	"services_by_sector":    "Usługi w koszyku wg sektora",
	"services":              "Usługi w koszyku",
	"meetings_by_kind":      "Spotkania PZK wg rodzaju",
	"meetings":              "Spotkania PZK",
	"formalized":            "PZK sformalizowane",
	"days_to_formalisation": "Dni od inicjacji do formalizacji",
	"members_left":          "Instytucje, które wystąpiły",
	"staff_support_by_kind": "Wsparcie kadr wg formy",
	"staff_support_hours":   "Godziny wsparcia kadr",
	"teams_formed":          "Powołane ZZK",
	"team_size_at_forming":  "Średnia liczebność ZZK przy powołaniu",
	"institutions_per_team": "Średnia liczba instytucji w ZZK",
	"sectors_per_team":      "Średnia liczba sektorów w ZZK",
	"team_meetings":         "Spotkania ZZK",
	"families_enrolled":     "Rodziny objęte wsparciem",
	"families_open":         "Rodziny w toku (sprawy otwarte)",
	"days_to_diagnosis":     "Dni od otwarcia do diagnozy",
	"days_to_contract":      "Dni od otwarcia do podpisania kontraktu",
	"contracts_signed":      "Podpisane kontrakty",
	"sectors_per_contract":  "Średnia liczba sektorów w kontrakcie",
	"actions_by_sector":     "Działania wg sektora",
	"actions":               "Działania",
	"goals_by_achievement":  "Cele wg stopnia osiągnięcia (ostatnia ocena)",
	"contract_endings":      "Zakończenia kontraktów wg przyczyny",
	"case_outcomes":         "Zamknięcia spraw wg rezultatu",
	"reopenings":            "Ponowne otwarcia spraw",
	"n":                     "liczba",
	"value":                 "wartość",
	"min":                   "minimum",
	"q1":                    "pierwszy kwartyl",
	"median":                "mediana",
	"q3":                    "trzeci kwartyl",
	"max":                   "maksimum",
	"completed":             "wykonane",
	"missed":                "niewykonane",
	"overdue":               "zaległe",
	"open":                  "w toku",
	"social_assistance":     "pomoc społeczna",
	"family_support":        "wspieranie rodziny",
	"labour":                "rynek pracy",
	"education":             "edukacja",
	"health":                "ochrona zdrowia",
	"justice":               "wymiar sprawiedliwości",
	"police":                "policja",
	"housing":               "mieszkalnictwo",
	"ngo":                   "organizacje pozarządowe",
	"other":                 "inne",
	"client":                "klient",
	"training":              "szkolenie",
	"coaching":              "coaching",
	"workshop":              "warsztaty",
	"consultation":          "konsultacje",
	"initiating":            "inicjujące",
	"formalising":           "formalizujące",
	"regular":               "zwyczajne",
	"achieved":              "osiągnięty",
	"partially_achieved":    "częściowo osiągnięty",
	"not_achieved":          "nieosiągnięty",
	"goals_met":             "cele osiągnięte",
	"client_broke":          "niedotrzymanie przez klienta",
	"client_withdrew":       "rezygnacja klienta",
	"moved_away":            "wyprowadzka",
	"goals_achieved":        "cele osiągnięte",
	"partly_achieved":       "cele częściowo osiągnięte",
	"transferred":           "przekazanie",
}

func polishLabel(path []string) string {
	parts := make([]string, len(path))
	for i, p := range path {
		if l, ok := polishWords[p]; ok {
			parts[i] = l
		} else {
			parts[i] = p
		}
	}
	return strings.Join(parts, " — ")
}

// chartsOf are the indicators the report draws a bar chart of, one bar a
// partnership.
var chartsOf = []string{
	"client.families_enrolled", "client.contracts_signed", "client.days_to_diagnosis.median", "client.days_to_contract.median",
	"client.sectors_per_contract.value", "client.actions.completed", "client.actions.missed", "client.actions.overdue", "client.reopenings",
	"worker.teams_formed", "worker.team_size_at_forming.value", "worker.sectors_per_team.value", "worker.team_meetings",
	"institution.members", "institution.sector_coverage", "institution.services", "institution.meetings", "institution.members_left",
}

const reportCSS = `body{font-family:system-ui,sans-serif;margin:2em auto;max-width:60em;color:#111;line-height:1.4}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #999}h3{font-size:1.05em;margin:1.5em 0 .3em}
.en{color:#555;font-size:.85em;font-weight:normal}table{border-collapse:collapse;width:100%;font-size:.9em}
td,th{border:1px solid #bbb;padding:.2em .5em;text-align:left}td.v{text-align:right;font-variant-numeric:tabular-nums}
svg text{font-size:12px;font-family:system-ui,sans-serif}.bar{fill:#3b6ea5;stroke:#000;stroke-width:.5}
@media print{h2{page-break-before:always}}`

func reportHTML(ev evaluation, groups []projections.IndicatorGroup, rows [][]indicatorRow) []byte {
	var b strings.Builder
	e := html.EscapeString
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"pl\">\n<head>\n<meta charset=\"utf-8\">\n<title>Ewaluacja modelu kooperacji — stan na %s</title>\n<style>\n%s\n</style>\n</head>\n<body>\n", e(ev.AsOf.String()), reportCSS)
	fmt.Fprintf(&b, "<h1>Ewaluacja modelu kooperacji <span class=\"en\">(evaluation of the cooperation model)</span></h1>\n")
	fmt.Fprintf(&b, "<p>Stan na <strong>%s</strong> (as of). Partnerstwa: %d. Rodziny oznaczone wyłącznie pseudonimami; raport nie zawiera danych osobowych.</p>\n", e(ev.AsOf.String()), len(ev.Partnerships))
	fmt.Fprintf(&b, "<p>Odtworzono %d komunikatów, %d zdarzeń; pominięto %d zdarzeń nieznanego typu (skipped unknown events).</p>\n", ev.Replay.Commits, ev.Replay.Events, ev.Replay.SkippedUnknown)
	index := func(rs []indicatorRow, key string) (indicatorRow, bool) {
		for _, r := range rs {
			if r.level+"."+r.key == key {
				return r, true
			}
		}
		return indicatorRow{}, false
	}
	b.WriteString("<h2>Porównanie partnerstw <span class=\"en\">(partnerships compared)</span></h2>\n")
	for _, key := range chartsOf {
		type bar struct {
			name  string
			v     float64
			value string
		}
		var bars []bar
		maxV := 0.0
		for i, g := range ev.Partnerships {
			r, _ := index(rows[i], key)
			name := g.Municipality
			if name == "" {
				name = g.Name
			}
			bars = append(bars, bar{name, r.number, r.value})
			maxV = max(maxV, r.number)
		}
		r, _ := index(rows[len(rows)-1], key)
		fmt.Fprintf(&b, "<h3>%s <span class=\"en\">(%s)</span></h3>\n", e(r.label), e(key))
		const rowH, labelW, barW = 22, 170, 360
		fmt.Fprintf(&b, "<svg role=\"img\" aria-label=\"%s\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n", e(r.label), labelW+barW+80, rowH*len(bars)+4, labelW+barW+80, rowH*len(bars)+4)
		for i, br := range bars {
			y := i*rowH + 2
			w := 0.0
			if maxV > 0 {
				w = br.v / maxV * barW
			}
			val := br.value
			if val == "" {
				val = "brak danych"
			}
			fmt.Fprintf(&b, "<text x=\"0\" y=\"%d\">%s</text><rect class=\"bar\" x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\"/><text x=\"%.1f\" y=\"%d\">%s</text>\n",
				y+14, e(br.name), labelW, y+3, w, rowH-8, float64(labelW)+w+6, y+14, e(val))
		}
		b.WriteString("</svg>\n")
	}
	for i, g := range groups {
		title := groupName(g)
		if g.Municipality != "" {
			title += " — gmina " + g.Municipality
		}
		fmt.Fprintf(&b, "<h2>%s</h2>\n<table>\n<tr><th>Poziom</th><th>Wskaźnik</th><th>Wartość</th><th class=\"en\">indicator</th></tr>\n", e(title))
		levels := map[string]string{"institution": "instytucje (PZK)", "worker": "pracownicy (ZZK)", "client": "klienci (rodziny)"}
		for _, r := range rows[i] {
			fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td><td class=\"v\">%s</td><td class=\"en\">%s</td></tr>\n", e(levels[r.level]), e(r.label), e(r.value), e(r.key))
		}
		b.WriteString("</table>\n")
	}
	b.WriteString("<p class=\"en\">Definicje wskaźników: docs/evaluation.md.</p>\n</body>\n</html>\n")
	return []byte(b.String())
}

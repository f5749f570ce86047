package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/kooperacje/kooperacje/api"
	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/polish"
	"github.com/kooperacje/kooperacje/projections"
)

// evaluation is what indicators.json holds (api.Evaluation, which GET
// /api/v1/evaluation answers too).
type evaluation = api.Evaluation

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
// indicators.json, indicators.csv, indicators.xlsx and report.html: kooperacje evaluate
// --out DIR [--as-of DAY | --from DAY --to DAY] [--sequence N |
// --recorded-as-of TIME].
func evaluate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c storeConfig
	var asOf, recordedAsOf, from, to, out, by, lang string
	var sequence uint64
	var quiet bool
	fs := oneOffFlags("evaluate", &c, stderr, "")
	fs.StringVar(&asOf, "as-of", "", "a day (YYYY-MM-DD): only what happened by its end, in business time (default: today in Poland, the rule of the overview and the evaluation page)")
	fs.Uint64Var(&sequence, "sequence", 0, "a stream sequence: only the commands stored at or before it (the state the live projections had there)")
	fs.StringVar(&recordedAsOf, "recorded-as-of", "", "an RFC 3339 time or a day (YYYY-MM-DD, its end in Poland): only what the engine had recorded by then")
	fs.StringVar(&from, "from", "", "with --to: also report the changes of the counters over the days from..to (docs/evaluation.md)")
	fs.StringVar(&to, "to", "", "with --from: the last day of the period; the indicators stand as of it")
	fs.StringVar(&by, "by", string(projections.ByPartnership), "how to group the partnerships: partnership (one group per municipality's PZK) or county (powiat)")
	fs.StringVar(&out, "out", "", "directory to write indicators.json, indicators.csv, indicators.xlsx and report.html into (required)")
	fs.BoolVar(&quiet, "quiet", false, "no progress bar")
	fs.StringVar(&lang, "lang", "pl", "the language of report.html: pl (Polish, the default) or en (English, indicators named by their keys of docs/evaluation.md)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if out == "" {
		return usagef("--out: a directory is required")
	}
	var until projections.Until
	var day, fromDay domain.Date
	now := time.Now() // the default day (api.DefaultAsOf), once for every replay
	switch {
	case set["sequence"] && set["recorded-as-of"]:
		return usagef("--sequence and --recorded-as-of both cut the stream where the engine was; give one of them")
	case set["sequence"] && sequence == 0:
		return usagef("--sequence: a stream sequence starts at 1")
	case set["as-of"] && (set["from"] || set["to"]):
		return usagef("--as-of and --from/--to both set the day the indicators stand at; with a period, --to is that day")
	case set["from"] != set["to"]:
		return usagef("--from and --to go together")
	case !slices.Contains(reportLangs, lang):
		return usagef("--lang %q: use one of %v", lang, reportLangs)
	case !slices.Contains(projections.Groupings, projections.Grouping(by)):
		return usagef("--by %q: use one of %v", by, projections.Groupings)
	}
	until.Sequence = sequence
	if recordedAsOf != "" {
		if d, err := domain.ParseDate(recordedAsOf); err == nil {
			until.RecordedAt = api.EndOfDay(d)
		} else if t, err := time.Parse(time.RFC3339, recordedAsOf); err == nil {
			until.RecordedAt = t
		} else {
			return usagef("--recorded-as-of: %q is neither a day (YYYY-MM-DD) nor an RFC 3339 time", recordedAsOf)
		}
	}
	if asOf != "" {
		d, err := domain.ParseDate(asOf)
		if err != nil {
			return usagef("--as-of: %v", err)
		}
		day, until.OccurredAt = d, api.EndOfDay(d)
	}
	if set["from"] {
		f, err := domain.ParseDate(from)
		if err != nil {
			return usagef("--from: %v", err)
		}
		t, err := domain.ParseDate(to)
		if err != nil {
			return usagef("--to: %v", err)
		}
		if t.Before(f) {
			return usagef("--from %s is after --to %s", f, t)
		}
		fromDay, day, until.OccurredAt = f, t, api.EndOfDay(t)
	}
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(projections.ReplayGCPercent))
	}
	store, keys, done, err := openForCLI(ctx, &c)
	if err != nil {
		return err
	}
	defer done()
	last, err := store.LastSequence(ctx)
	if err != nil {
		return err
	}
	if set["sequence"] && sequence > last {
		return usagef("--sequence %d: the stream ends at %d", sequence, last)
	}
	if !fromDay.IsZero() && until.Sequence == 0 && until.RecordedAt.IsZero() {
		until.Sequence = last // both ends of the period read the same commands
	}
	replay := func(until projections.Until, day domain.Date) (evaluation, error) {
		var src projections.Source = store
		bar := progress(stderr, int64(last), "evaluate", quiet)
		if bar != nil {
			src = progressSource{Source: store, bar: bar}
			defer func() { _ = bar.Finish() }()
		}
		return api.Evaluate(ctx, src, keys, until, day, projections.Grouping(by), now)
	}
	ev, err := replay(until, day)
	if err != nil {
		return err
	}
	if ev.Replay.SkippedUnknown > 0 {
		fmt.Fprintf(stderr, "warning: %d events of unknown types were skipped (a newer engine wrote them)\n", ev.Replay.SkippedUnknown)
	}
	if !fromDay.IsZero() {
		before := fromDay.Time().AddDate(0, 0, -1)
		dayBefore := domain.NewDate(before.Year(), before.Month(), before.Day())
		start := until
		start.OccurredAt = api.EndOfDay(dayBefore)
		ev0, err := replay(start, dayBefore)
		if err != nil {
			return err
		}
		ev.Period = periodOf(ev0.IndicatorReport, ev.IndicatorReport, fromDay, day)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	files, err := evaluationFiles(ev, lang)
	if err != nil {
		return err
	}
	for _, name := range evaluationOutputs {
		if err := os.WriteFile(filepath.Join(out, name), files[name], 0o644); err != nil {
			return err
		}
	}
	rule := "the day asked for"
	if ev.CutoffRule == api.CutoffToday {
		rule = "today in Poland, the default"
	}
	fmt.Fprintf(stdout, "%d partnerships, %d families, as of the end of %s (%s): %s\n", len(ev.Partnerships), ev.Overall.Client.FamiliesEnrolled, ev.AsOf, rule, filepath.Join(out, "report.html"))
	return nil
}

// periodOf are the changes of the counters from the report as of the day
// before a period to the report as of its last day: every whole number
// and hour total is the later value less the earlier one (a partnership or
// map key missing on one side counts as zero there), the statistics of
// distributions and means (everything but their n) are null. Which of
// them are "what happened in the period" and which net changes of a stock
// is in docs/evaluation.md.
func periodOf(before, after projections.IndicatorReport, from, to domain.Date) *api.EvaluationPeriod {
	p := &api.EvaluationPeriod{From: from, To: to, Partnerships: make([]projections.IndicatorGroup, 0, len(after.Partnerships))}
	key := func(g projections.IndicatorGroup) string { return g.PartnershipID + "\x00" + g.County }
	earlier := map[string]projections.IndicatorGroup{}
	for _, g := range before.Partnerships {
		earlier[key(g)] = g
	}
	for _, g := range after.Partnerships {
		p.Partnerships = append(p.Partnerships, difference(g, earlier[key(g)]))
	}
	p.Overall = difference(after.Overall, before.Overall)
	return p
}

func difference(after, before projections.IndicatorGroup) projections.IndicatorGroup {
	var d projections.IndicatorGroup
	reflect.ValueOf(&d).Elem().Set(subtract(reflect.ValueOf(after), reflect.ValueOf(before)))
	return d
}

// subtract returns a − b for the kinds an IndicatorGroup is made of.
func subtract(a, b reflect.Value) reflect.Value {
	t := a.Type()
	out := reflect.New(t).Elem()
	switch t.Kind() {
	case reflect.Int:
		out.SetInt(a.Int() - b.Int())
	case reflect.Float64:
		out.SetFloat(math.Round((a.Float()-b.Float())*100) / 100)
	case reflect.String:
		out.Set(a)
	case reflect.Pointer:
		// a statistic of a distribution or a mean: not a counter
	case reflect.Struct:
		for i := range t.NumField() {
			if t.Field(i).IsExported() {
				out.Field(i).Set(subtract(a.Field(i), b.Field(i)))
			}
		}
	case reflect.Map:
		out.Set(reflect.MakeMap(t))
		zero := reflect.Zero(t.Elem())
		get := func(m reflect.Value, k reflect.Value) reflect.Value {
			if v := m.MapIndex(k); v.IsValid() {
				return v
			}
			return zero
		}
		for _, m := range []reflect.Value{a, b} {
			for _, k := range m.MapKeys() {
				out.SetMapIndex(k, subtract(get(a, k), get(b, k)))
			}
		}
	default:
		panic("evaluate: no difference of " + t.String())
	}
	return out
}

// evaluationOutputs are the files evaluate writes.
var evaluationOutputs = []string{"indicators.json", "indicators.csv", "indicators.xlsx", "report.html"}

// evaluationFiles renders the outputs.
func evaluationFiles(ev evaluation, lang string) (map[string][]byte, error) {
	js, err := api.EncodeEvaluation(ev)
	if err != nil {
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
	cs, err := api.EvaluationCSV(ev)
	if err != nil {
		return nil, err
	}
	xlsx, err := api.EvaluationWorkbook(ev)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{"indicators.json": js, "indicators.csv": cs, "indicators.xlsx": xlsx, "report.html": reportHTML(ev, groups, rows, lang)}, nil
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
	}{{"institution", g.Institution}, {"worker", g.Worker}, {"client", g.Client}, {"staff_support", g.StaffSupport}} {
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

func polishLabel(path []string) string { return polish.IndicatorLabel(path) }

// chartsOf are the indicators the report draws a bar chart of, one bar a
// partnership.
var chartsOf = []string{
	"client.families_enrolled", "client.contracts_signed", "client.days_to_diagnosis.median", "client.days_to_contract.median",
	"client.sectors_per_contract.value", "client.actions.completed", "client.actions.missed", "client.actions.overdue", "client.reopenings",
	"worker.teams_formed", "worker.team_size_at_forming.value", "worker.sectors_per_team.value", "worker.team_meetings", "worker.team_meetings_per_family_month",
	"institution.members", "institution.sector_coverage", "institution.services", "institution.meetings", "institution.members_left",
	"staff_support.support_activities", "staff_support.support_hours", "staff_support.support_participants", "staff_support.team_members_trained_share",
}

const reportCSS = `body{font-family:system-ui,sans-serif;margin:2em auto;max-width:60em;color:#111;line-height:1.4}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #999}h3{font-size:1.05em;margin:1.5em 0 .3em}
.note{color:#555;font-size:.9em}table{border-collapse:collapse;width:100%;font-size:.9em}
td,th{border:1px solid #bbb;padding:.2em .5em;text-align:left}td.v{text-align:right;font-variant-numeric:tabular-nums}
svg text{font-size:12px;font-family:system-ui,sans-serif}.bar{fill:#3b6ea5;stroke:#000;stroke-width:.5}
@media print{h2{page-break-before:always}}`

// periodRows are the changes over the period of the i-th of n groups (the
// last one is the overall group), leaving out statistics that have no
// change; none without a period.
func periodRows(ev evaluation, i, n int) []indicatorRow {
	if ev.Period == nil {
		return nil
	}
	g := ev.Period.Overall
	if i < n-1 {
		if i >= len(ev.Period.Partnerships) {
			return nil
		}
		g = ev.Period.Partnerships[i]
	}
	rows, err := flattenGroup(g)
	if err != nil {
		return nil
	}
	return slices.DeleteFunc(rows, func(r indicatorRow) bool { return r.value == "" })
}

// reportWords are the report's fixed words in each language it is
// written in: Polish (the default) and English (--lang en).
var reportWords = map[string]map[string]string{
	"pl": {
		"title": "Ewaluacja modelu kooperacji", "as_of": "Stan na", "counted": "Policzono", "pseudonyms": "Rodziny oznaczone wyłącznie pseudonimami; raport nie zawiera danych osobowych.",
		"partnerships": "Partnerstwa", "replayed": "Odtworzono %s i %s; pominięto zdarzeń nieznanego typu: %d.", "grouping": "Grupowanie",
		"period": "Okres", "period_note": "zmiany liczników w okresie poniżej, przy każdej grupie.", "compared_partnerships": "Porównanie partnerstw (gmin)",
		"compared_counties": "Porównanie powiatów", "no_data": "brak danych", "level": "Poziom", "indicator": "Wskaźnik", "value": "Wartość",
		"change": "Zmiana", "changes": "Zmiany w okresie", "municipality": "gmina", "glossary": "Słownik wskaźników", "definition": "Definicja", "formula": "Wzór",
		"institution": "instytucje (PZK)", "worker": "pracownicy (ZZK)", "client": "klienci (rodziny)", "staff_support": "wsparcie kadr",
		"overall": "Ogółem (wszystkie partnerstwa)",
	},
	"en": {
		"title": "Evaluation of the cooperation model", "as_of": "As of", "counted": "Counted", "pseudonyms": "Families under pseudonyms only; the report holds no personal data.",
		"partnerships": "Partnerships", "replayed": "Replayed %s and %s; events of unknown types skipped: %d.", "grouping": "Grouping",
		"period": "Period", "period_note": "the changes of the counters over the period below each group.", "compared_partnerships": "Partnerships (municipalities) compared",
		"compared_counties": "Counties compared", "no_data": "no data", "level": "Level", "indicator": "Indicator", "value": "Value",
		"change": "Change", "changes": "Changes over the period", "municipality": "municipality", "glossary": "Indicators", "definition": "Definition", "formula": "Formula",
		"institution": "institutions (PZK)", "worker": "workers (ZZK)", "client": "clients (families)", "staff_support": "staff support",
		"overall": "Overall (all partnerships)",
	},
}

// reportLangs are the languages of report.html.
var reportLangs = []string{"pl", "en"}

// reportValue writes a number as the language does: a decimal comma in
// Polish.
func reportValue(v, lang string) string {
	if lang == "pl" {
		return strings.Replace(v, ".", ",", 1)
	}
	return v
}

// reportLabel names an indicator: its Polish name, or in English its key
// as docs/evaluation.md defines it.
func reportLabel(r indicatorRow, lang string) string {
	if lang == "pl" {
		return r.label
	}
	return r.level + "." + r.key
}

func reportHTML(ev evaluation, groups []projections.IndicatorGroup, rows [][]indicatorRow, lang string) []byte {
	var b strings.Builder
	e := html.EscapeString
	w := reportWords[lang]
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n<title>%s — %s %s</title>\n<style>\n%s\n</style>\n</head>\n<body>\n",
		lang, e(w["title"]), e(strings.ToLower(w["as_of"])), e(ev.AsOf.String()), reportCSS)
	fmt.Fprintf(&b, "<h1>%s</h1>\n", e(w["title"]))
	rule, cutoff := api.CutoffRuleText(ev, lang)
	fmt.Fprintf(&b, "<p class=\"cutoff\" data-rule=\"%s\">%s <strong>%s</strong> — %s. %s %s.</p>\n",
		e(string(ev.CutoffRule)), e(w["as_of"]), e(ev.AsOf.String()), e(rule), e(w["counted"]), e(cutoff))
	fmt.Fprintf(&b, "<p>%s: %d. %s</p>\n", e(w["partnerships"]), len(ev.Partnerships), e(w["pseudonyms"]))
	messages, events := polish.Messages.Count(int(ev.Replay.Commits)), polish.Events.Count(int(ev.Replay.Events))
	if lang != "pl" {
		messages, events = fmt.Sprintf("%d messages", ev.Replay.Commits), fmt.Sprintf("%d events", ev.Replay.Events)
	}
	fmt.Fprintf(&b, "<p>%s</p>\n", e(fmt.Sprintf(w["replayed"], messages, events, ev.Replay.SkippedUnknown)))
	fmt.Fprintf(&b, "<p>%s: <strong>%s</strong>.</p>\n", e(w["grouping"]), e(api.GroupingText(ev.By, lang)))
	compared := w["compared_partnerships"]
	if ev.By == projections.ByCounty {
		compared = w["compared_counties"]
	}
	if ev.Period != nil {
		fmt.Fprintf(&b, "<p>%s: <strong>%s – %s</strong>; %s</p>\n", e(w["period"]), e(ev.Period.From.String()), e(ev.Period.To.String()), e(w["period_note"]))
	}
	index := func(rs []indicatorRow, key string) (indicatorRow, bool) {
		for _, r := range rs {
			if r.level+"."+r.key == key {
				return r, true
			}
		}
		return indicatorRow{}, false
	}
	fmt.Fprintf(&b, "<h2>%s</h2>\n", e(compared))
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
		label := reportLabel(r, lang)
		fmt.Fprintf(&b, "<h3>%s</h3>\n", e(label))
		const rowH, labelW, barW = 22, 170, 360
		fmt.Fprintf(&b, "<svg role=\"img\" aria-label=\"%s\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n", e(label), labelW+barW+80, rowH*len(bars)+4, labelW+barW+80, rowH*len(bars)+4)
		for i, br := range bars {
			y := i*rowH + 2
			bw := 0.0
			if maxV > 0 {
				bw = br.v / maxV * barW
			}
			val := reportValue(br.value, lang)
			if val == "" {
				val = w["no_data"]
			}
			fmt.Fprintf(&b, "<text x=\"0\" y=\"%d\">%s</text><rect class=\"bar\" x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\"/><text x=\"%.1f\" y=\"%d\">%s</text>\n",
				y+14, e(br.name), labelW, y+3, bw, rowH-8, float64(labelW)+bw+6, y+14, e(val))
		}
		b.WriteString("</svg>\n")
	}
	for i, g := range groups {
		title := g.Name
		if g.PartnershipID == "" && g.County == "" {
			title = w["overall"]
		}
		if g.Municipality != "" {
			title += " — " + w["municipality"] + " " + g.Municipality
		}
		fmt.Fprintf(&b, "<h2>%s</h2>\n<table>\n<tr><th>%s</th><th>%s</th><th>%s</th></tr>\n", e(title), e(w["level"]), e(w["indicator"]), e(w["value"]))
		for _, r := range rows[i] {
			fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td><td class=\"v\">%s</td></tr>\n", e(w[r.level]), e(reportLabel(r, lang)), e(reportValue(r.value, lang)))
		}
		b.WriteString("</table>\n")
		if change := periodRows(ev, i, len(groups)); len(change) > 0 {
			fmt.Fprintf(&b, "<h3>%s %s – %s</h3>\n<table class=\"period\">\n<tr><th>%s</th><th>%s</th><th>%s</th></tr>\n",
				e(w["changes"]), e(ev.Period.From.String()), e(ev.Period.To.String()), e(w["level"]), e(w["indicator"]), e(w["change"]))
			for _, r := range change {
				fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td><td class=\"v\">%s</td></tr>\n", e(w[r.level]), e(reportLabel(r, lang)), e(reportValue(r.value, lang)))
			}
			b.WriteString("</table>\n")
		}
	}
	if lang == "pl" {
		fmt.Fprintf(&b, "<h2>%s</h2>\n<table class=\"glossary\">\n<tr><th>%s</th><th>%s</th><th>%s</th></tr>\n", e(w["glossary"]), e(w["indicator"]), e(w["definition"]), e(w["formula"]))
		seen := map[string]bool{}
		for _, r := range rows[len(rows)-1] {
			top, _, _ := strings.Cut(r.key, ".")
			if seen[top] {
				continue
			}
			seen[top] = true
			ind := polish.Indicators[top]
			fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td><td>%s</td></tr>\n", e(ind.Name), e(ind.Definition), e(ind.Formula))
		}
		b.WriteString("</table>\n")
	} else {
		b.WriteString("<p class=\"note\">The indicators' definitions: docs/evaluation.md, by the keys above.</p>\n")
	}
	b.WriteString("</body>\n</html>\n")
	return []byte(b.String())
}

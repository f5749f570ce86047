package api

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/polish"
	"github.com/kooperacje/kooperacje/projections"
)

// SheetLevel is one level of the evaluation as the spreadsheets lay it
// out: a sheet of the workbook, a block of columns of the CSV.
type SheetLevel struct {
	Key   string // the level's key in the JSON document: institution, worker, client, staff_support
	Sheet string // the sheet's Polish name
	value func(projections.IndicatorGroup) any
	keep  func(indicator string) bool
}

// SheetLevels are the levels in the order of the workbook's sheets.
var SheetLevels = []SheetLevel{
	{Key: "institution", Sheet: "Instytucje (PZK)", value: func(g projections.IndicatorGroup) any { return g.Institution }},
	{Key: "worker", Sheet: "Pracownicy (ZZK)", value: func(g projections.IndicatorGroup) any { return g.Worker }},
	{Key: "client", Sheet: "Klienci (rodziny)", value: func(g projections.IndicatorGroup) any { return g.Client }},
	{Key: "staff_support", Sheet: "Wsparcie kadr", value: func(g projections.IndicatorGroup) any { return g.StaffSupport }},
}

// IndicatorCell is one number of a group's level: its path in the JSON
// document under the level (["actions_by_sector", "ngo", "overdue"]) and
// its value, nil where the JSON has null (a statistic of no values).
type IndicatorCell struct {
	Path    []string
	Value   *float64
	Integer bool // a count, not a measure with decimals
}

// Key is the cell's path joined by dots, as docs/evaluation.md names it.
func (c IndicatorCell) Key() string { return strings.Join(c.Path, ".") }

// Cells flattens a group's level into its numbers in a stable order: the
// JSON's field order; a map's keys in the domain's order with every value
// of its enumeration present (zero when the JSON has none), then any
// other key sorted.
func (l SheetLevel) Cells(g projections.IndicatorGroup) []IndicatorCell {
	var out []IndicatorCell
	flattenValue(reflect.ValueOf(l.value(g)), nil, &out)
	if l.keep != nil {
		out = slices.DeleteFunc(out, func(c IndicatorCell) bool { return !l.keep(c.Path[0]) })
	}
	return out
}

func flattenValue(v reflect.Value, path []string, out *[]IndicatorCell) {
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			flattenValue(v.Field(i), append(slices.Clone(path), name), out)
		}
	case reflect.Map:
		var keys []string
		if kind := polish.Indicators[path[len(path)-1]].Values; kind != "" {
			keys = slices.Clone(polish.Enums[kind])
		}
		var extra []string
		for _, k := range v.MapKeys() {
			if !slices.Contains(keys, k.String()) {
				extra = append(extra, k.String())
			}
		}
		slices.Sort(extra)
		for _, k := range append(keys, extra...) {
			e := v.MapIndex(reflect.ValueOf(k).Convert(v.Type().Key()))
			if !e.IsValid() {
				e = reflect.Zero(v.Type().Elem())
			}
			flattenValue(e, append(slices.Clone(path), k), out)
		}
	case reflect.Pointer:
		if v.IsNil() {
			*out = append(*out, IndicatorCell{Path: path})
			return
		}
		flattenValue(v.Elem(), path, out)
	case reflect.Int, reflect.Int64:
		x := float64(v.Int())
		*out = append(*out, IndicatorCell{Path: path, Value: &x, Integer: true})
	case reflect.Float64:
		x := v.Float()
		*out = append(*out, IndicatorCell{Path: path, Value: &x})
	default:
		panic("api: no spreadsheet cell of " + v.Type().String())
	}
}

// exportRow is one row of a spreadsheet: a group as of the cut-off, or
// its changes over the period.
type exportRow struct {
	group      projections.IndicatorGroup
	what       string      // "stan na dzień" or "zmiana w okresie"
	from, upTo domain.Date // from is zero for a state
}

func exportRows(ev Evaluation) []exportRow {
	var rows []exportRow
	for _, g := range append(slices.Clone(ev.Partnerships), ev.Overall) {
		rows = append(rows, exportRow{group: g, what: "stan na dzień", upTo: ev.AsOf})
	}
	if ev.Period != nil {
		for _, g := range append(slices.Clone(ev.Period.Partnerships), ev.Period.Overall) {
			rows = append(rows, exportRow{group: g, what: "zmiana w okresie", from: ev.Period.From, upTo: ev.Period.To})
		}
	}
	return rows
}

// exportColumns are a level's columns over every row: each row's cells
// in order, a key one row lacks inserted after the key before it.
func exportColumns(l SheetLevel, rows []exportRow) [][]string {
	var cols [][]string
	has := map[string]bool{}
	for _, r := range rows {
		at := 0
		for _, c := range l.Cells(r.group) {
			k := c.Key()
			if !has[k] {
				has[k] = true
				cols = slices.Insert(cols, at, c.Path)
			} else {
				at = slices.IndexFunc(cols, func(p []string) bool { return strings.Join(p, ".") == k })
			}
			at++
		}
	}
	return cols
}

// groupTitle names a row's group in Polish.
func groupTitle(g projections.IndicatorGroup) string {
	if g.PartnershipID == "" && g.County == "" {
		return "Ogółem (wszystkie partnerstwa)"
	}
	return g.Name
}

// exportHeads are the first columns of every level's table.
var exportHeads = []string{"Partnerstwo", "Gmina", "Powiat", "Zestawienie", "Od dnia", "Do dnia"}

// CutoffText says in Polish which cut-off a document stands at.
func CutoffText(ev Evaluation) string {
	s := "zdarzenia, które nastąpiły do końca dnia " + ev.AsOf.String() + " (czas polski)"
	if ev.CutoffRule == CutoffToday {
		s += " — dnia sporządzenia zestawienia, zgodnie z zasadą domyślną (jak w przeglądzie)"
	}
	if ev.Cutoff != nil && ev.Cutoff.Sequence > 0 {
		s += fmt.Sprintf(", zapisane do pozycji %d strumienia", ev.Cutoff.Sequence)
	}
	if ev.Cutoff != nil && !ev.Cutoff.RecordedAt.IsZero() {
		s += ", zapisane do " + ev.Cutoff.RecordedAt.In(projections.Warsaw).Format("2006-01-02 15:04:05") + " (czas polski)"
	}
	return s
}

// GroupingText names a grouping in Polish, or in English for lang "en".
func GroupingText(by projections.Grouping, lang string) string {
	switch {
	case by == projections.ByCounty && lang == "en":
		return "counties (the partnerships of a county together)"
	case by == projections.ByCounty:
		return "powiaty (partnerstwa jednego powiatu razem)"
	case lang == "en":
		return "partnerships (one per municipality)"
	}
	return "partnerstwa (jedno partnerstwo na gminę)"
}

// CutoffRuleText says in Polish (or in English for lang "en") which rule
// chose the document's day, and what its cut-off counted.
func CutoffRuleText(ev Evaluation, lang string) (rule, counted string) {
	if lang != "en" {
		return polish.Labels["cutoff"][string(ev.CutoffRule)], CutoffText(ev)
	}
	rule = "the end of the chosen day (Polish time)"
	if ev.CutoffRule == CutoffToday {
		rule = "the end of today (Polish time), the default rule"
	}
	counted = "what happened by the end of " + ev.AsOf.String() + " (Polish time)"
	if ev.Cutoff != nil && ev.Cutoff.Sequence > 0 {
		counted += fmt.Sprintf(", stored up to stream sequence %d", ev.Cutoff.Sequence)
	}
	if ev.Cutoff != nil && !ev.Cutoff.RecordedAt.IsZero() {
		counted += ", recorded by " + ev.Cutoff.RecordedAt.In(projections.Warsaw).Format("2006-01-02 15:04:05") + " (Polish time)"
	}
	return rule, counted
}

// EvaluationCSV is the document as one wide table in the Polish
// convention: UTF-8 with a BOM, fields separated by semicolons, decimal
// commas, CRLF line ends; a row per partnership (or county) and one for
// all together (then, with a period, the same rows of the changes), a
// column per indicator with its Polish name (docs/evaluation.md).
func EvaluationCSV(ev Evaluation) ([]byte, error) {
	rows := exportRows(ev)
	var b bytes.Buffer
	b.WriteString("\ufeff")
	w := csv.NewWriter(&b)
	w.Comma, w.UseCRLF = ';', true
	head := slices.Clone(exportHeads)
	cols := make([][][]string, len(SheetLevels))
	for i, l := range SheetLevels {
		cols[i] = exportColumns(l, rows)
		for _, p := range cols[i] {
			head = append(head, polish.IndicatorLabel(p))
		}
	}
	if err := w.Write(head); err != nil {
		return nil, fmt.Errorf("evaluation csv: %w", err)
	}
	for _, r := range rows {
		rec := []string{groupTitle(r.group), r.group.Municipality, r.group.County, r.what, dateText(r.from), dateText(r.upTo)}
		for i, l := range SheetLevels {
			vals := cellsByKey(l.Cells(r.group))
			for _, p := range cols[i] {
				rec = append(rec, decimalComma(vals[strings.Join(p, ".")]))
			}
		}
		if err := w.Write(rec); err != nil {
			return nil, fmt.Errorf("evaluation csv: %w", err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("evaluation csv: %w", err)
	}
	return b.Bytes(), nil
}

func cellsByKey(cs []IndicatorCell) map[string]IndicatorCell {
	m := make(map[string]IndicatorCell, len(cs))
	for _, c := range cs {
		m[c.Key()] = c
	}
	return m
}

func dateText(d domain.Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

// decimalComma writes a number as Polish spreadsheets read it: 4,25; ""
// for no value.
func decimalComma(c IndicatorCell) string {
	if c.Value == nil {
		return ""
	}
	return strings.Replace(strconv.FormatFloat(*c.Value, 'f', -1, 64), ".", ",", 1)
}

// The workbook's sheets besides the levels'.
const (
	TitleSheet    = "Informacje"
	GlossarySheet = "Słownik wskaźników"
)

// EvaluationWorkbook is the document as an Office Open XML workbook: a
// title sheet (what, the cut-off, the period, what was counted), a sheet
// per level (SheetLevels) with a row per partnership (or county) and one
// for all together and a column per indicator, numbers as numbers and
// days as dates, and a glossary with each indicator's definition and
// formula.
func EvaluationWorkbook(ev Evaluation) ([]byte, error) {
	f := excelize.NewFile()
	defer func() { _ = f.Close() }()
	x := &sheetWriter{f: f}
	bold := x.style(&excelize.Style{Font: &excelize.Font{Bold: true}, Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	dateFmt, intFmt, decFmt := "yyyy-mm-dd", "0", "0.00"
	dates := x.style(&excelize.Style{CustomNumFmt: &dateFmt, Alignment: &excelize.Alignment{Horizontal: "left"}})
	ints := x.style(&excelize.Style{CustomNumFmt: &intFmt})
	decs := x.style(&excelize.Style{CustomNumFmt: &decFmt})
	wrap := x.style(&excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})

	x.err = f.SetSheetName("Sheet1", TitleSheet)
	title := [][]any{
		{"Ewaluacja modelu kooperacji — wskaźniki partnerstw"},
		{},
		{"Stan na dzień", ev.AsOf},
		{"Granica danych", "Policzono " + CutoffText(ev) + "."},
	}
	if ev.Period != nil {
		title = append(title, []any{"Okres od", ev.Period.From}, []any{"Okres do", ev.Period.To},
			[]any{"Zmiany w okresie", "Wiersze „zmiana w okresie” to różnice liczników między końcem dnia przed początkiem okresu a końcem jego ostatniego dnia."})
	}
	title = append(title,
		[]any{"Grupowanie", GroupingText(ev.By, "pl")},
		[]any{"Partnerstwa", len(ev.Partnerships)},
		[]any{"Rodziny objęte wsparciem", ev.Overall.Client.FamiliesEnrolled},
		[]any{"Co policzono", "Odtworzono " + polish.Messages.Count(int(ev.Replay.Commits)) + " i " + polish.Events.Count(int(ev.Replay.Events)) +
			fmt.Sprintf(" zapisanych w strumieniu do pozycji %d; pominięto zdarzeń nieznanego typu: %d.", ev.Replay.Position, ev.Replay.SkippedUnknown)},
		[]any{"Dane osobowe", "Brak: rodziny są liczone wyłącznie pod pseudonimami."},
		[]any{"Arkusze", "Po jednym arkuszu na poziom (instytucje, pracownicy, klienci, wsparcie kadr): wiersz to partnerstwo (gmina), kolumna to wskaźnik; definicje i wzory w arkuszu „" + GlossarySheet + "”."},
	)
	for i, row := range title {
		for j, v := range row {
			cell := x.cell(TitleSheet, j+1, i+1, v)
			switch {
			case j == 0:
				x.setStyle(TitleSheet, cell, bold)
			case isDate(v):
				x.setStyle(TitleSheet, cell, dates)
			default:
				x.setStyle(TitleSheet, cell, wrap)
			}
		}
	}
	x.width(TitleSheet, "A", "A", 26)
	x.width(TitleSheet, "B", "B", 90)

	rows := exportRows(ev)
	type glossed struct{ key, sheet string }
	var glossary []glossed
	for _, l := range SheetLevels {
		if _, err := f.NewSheet(l.Sheet); err != nil && x.err == nil {
			x.err = fmt.Errorf("workbook: sheet %s: %w", l.Sheet, err)
		}
		cols := exportColumns(l, rows)
		for j, h := range exportHeads {
			x.setStyle(l.Sheet, x.cell(l.Sheet, j+1, 1, h), bold)
		}
		for j, p := range cols {
			x.setStyle(l.Sheet, x.cell(l.Sheet, len(exportHeads)+j+1, 1, polish.IndicatorLabel(p)), bold)
			if !slices.ContainsFunc(glossary, func(g glossed) bool { return g.key == p[0] }) {
				glossary = append(glossary, glossed{p[0], l.Sheet})
			}
		}
		for i, r := range rows {
			n := i + 2
			for j, v := range []any{groupTitle(r.group), r.group.Municipality, r.group.County, r.what} {
				x.cell(l.Sheet, j+1, n, v)
			}
			for j, d := range []domain.Date{r.from, r.upTo} {
				if !d.IsZero() {
					x.setStyle(l.Sheet, x.cell(l.Sheet, 5+j, n, d), dates)
				}
			}
			vals := cellsByKey(l.Cells(r.group))
			for j, p := range cols {
				c, ok := vals[strings.Join(p, ".")]
				if !ok || c.Value == nil {
					continue
				}
				style := decs
				if c.Integer {
					style = ints
				}
				x.setStyle(l.Sheet, x.cell(l.Sheet, len(exportHeads)+j+1, n, *c.Value), style)
			}
		}
		x.width(l.Sheet, "A", "A", 34)
		x.width(l.Sheet, "B", "D", 16)
		x.width(l.Sheet, "E", "F", 12)
		if len(cols) > 0 {
			last, _ := excelize.ColumnNumberToName(len(exportHeads) + len(cols))
			x.width(l.Sheet, "G", last, 16)
		}
		if x.err == nil {
			x.err = f.SetRowHeight(l.Sheet, 1, 75)
		}
		if x.err == nil {
			x.err = f.SetPanes(l.Sheet, &excelize.Panes{Freeze: true, XSplit: 1, YSplit: 1, TopLeftCell: "B2", ActivePane: "bottomRight"})
		}
	}

	if _, err := f.NewSheet(GlossarySheet); err != nil && x.err == nil {
		x.err = fmt.Errorf("workbook: sheet %s: %w", GlossarySheet, err)
	}
	for j, h := range []string{"Wskaźnik", "Arkusz", "Definicja", "Wzór"} {
		x.setStyle(GlossarySheet, x.cell(GlossarySheet, j+1, 1, h), bold)
	}
	for i, g := range glossary {
		ind := polish.Indicators[g.key]
		for j, v := range []string{cmpOr(ind.Name, g.key), g.sheet, ind.Definition, ind.Formula} {
			x.setStyle(GlossarySheet, x.cell(GlossarySheet, j+1, i+2, v), wrap)
		}
	}
	x.width(GlossarySheet, "A", "A", 36)
	x.width(GlossarySheet, "B", "B", 18)
	x.width(GlossarySheet, "C", "C", 70)
	x.width(GlossarySheet, "D", "D", 50)
	if x.err != nil {
		return nil, x.err
	}
	b, err := f.WriteToBuffer()
	if err != nil {
		return nil, fmt.Errorf("workbook: %w", err)
	}
	return b.Bytes(), nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func isDate(v any) bool {
	_, ok := v.(domain.Date)
	return ok
}

// sheetWriter writes cells and keeps the first error.
type sheetWriter struct {
	f   *excelize.File
	err error
}

func (x *sheetWriter) style(s *excelize.Style) int {
	id, err := x.f.NewStyle(s)
	if err != nil && x.err == nil {
		x.err = fmt.Errorf("workbook: style: %w", err)
	}
	return id
}

// cell writes v at (col, row), both from 1, and returns the cell's name;
// a domain.Date becomes a date.
func (x *sheetWriter) cell(sheet string, col, row int, v any) string {
	name, err := excelize.CoordinatesToCellName(col, row)
	if err != nil {
		if x.err == nil {
			x.err = fmt.Errorf("workbook: %w", err)
		}
		return "A1"
	}
	if d, ok := v.(domain.Date); ok {
		t := d.Time()
		v = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	if err := x.f.SetCellValue(sheet, name, v); err != nil && x.err == nil {
		x.err = fmt.Errorf("workbook: %s!%s: %w", sheet, name, err)
	}
	return name
}

func (x *sheetWriter) setStyle(sheet, cell string, style int) {
	if err := x.f.SetCellStyle(sheet, cell, cell, style); err != nil && x.err == nil {
		x.err = fmt.Errorf("workbook: style of %s!%s: %w", sheet, cell, err)
	}
}

func (x *sheetWriter) width(sheet, from, to string, w float64) {
	if err := x.f.SetColWidth(sheet, from, to, w); err != nil && x.err == nil {
		x.err = fmt.Errorf("workbook: width of %s!%s:%s: %w", sheet, from, to, err)
	}
}

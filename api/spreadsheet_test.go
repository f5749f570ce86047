package api_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/kooperacje/kooperacje/api"
	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/polish"
)

// jsonNumber finds a level's number in the evaluation's JSON by its path;
// ok is false for null. A key the JSON lacks is a zero (the spreadsheets
// list every value of an enumeration).
func jsonNumber(t *testing.T, group map[string]any, level string, path []string) (float64, bool) {
	t.Helper()
	var v any = group[level]
	for _, p := range path {
		m, ok := v.(map[string]any)
		require.True(t, ok, "%s.%v: not an object in the JSON", level, path)
		if _, ok := m[p]; !ok {
			return 0, true
		}
		v = m[p]
	}
	if v == nil {
		return 0, false
	}
	n, ok := v.(float64)
	require.True(t, ok, "%s.%v is %T", level, path, v)
	return n, true
}

// evaluationJSON gets the evaluation document as generic JSON and typed.
func evaluationJSON(t *testing.T, ta *testAPI, query string) ([]map[string]any, api.Evaluation) {
	t.Helper()
	r := ta.do(http.MethodGet, "/api/v1/evaluation"+query, ta.tokens[domain.RoleEvaluator], nil, nil)
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	var doc struct {
		Partnerships []map[string]any `json:"partnerships"`
		Overall      map[string]any   `json:"overall"`
	}
	require.NoError(t, json.Unmarshal(r.raw, &doc))
	var ev api.Evaluation
	require.NoError(t, json.Unmarshal(r.raw, &ev))
	return append(doc.Partnerships, doc.Overall), ev
}

func TestTheWorkbookHoldsTheEvaluationsNumbersSheetBySheet(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t, withEvaluation)
	f := newFamilyFixture(ta)
	ta.openFamily(f, f.coordinator)
	ta.command(http.MethodPost, f.path+"/staff-support", map[string]any{"kind": "training", "date": "2024-05-01", "topic": "kryzys",
		"institutions": []string{f.ops}, "hours": 2.5}, http.StatusCreated)
	const query = "?as_of=2024-06-30"
	groups, ev := evaluationJSON(t, ta, query)

	r := ta.do(http.MethodGet, "/api/v1/evaluation/export.xlsx"+query, ta.tokens[domain.RoleEvaluator], nil, nil)
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, api.XLSXType, r.header.Get("Content-Type"))
	assert.Equal(t, `attachment; filename="wskazniki-2024-06-30.xlsx"`, r.header.Get("Content-Disposition"))
	x, err := excelize.OpenReader(bytes.NewReader(r.raw))
	require.NoError(t, err, "excelize reads the workbook back")
	defer func() { _ = x.Close() }()

	want := []string{api.TitleSheet}
	for _, l := range api.SheetLevels {
		want = append(want, l.Sheet)
	}
	assert.Equal(t, append(want, api.GlossarySheet), x.GetSheetList())

	asOf, err := x.GetCellValue(api.TitleSheet, "B3")
	require.NoError(t, err)
	assert.Equal(t, "2024-06-30", asOf, "the day on the title sheet, formatted as a date")
	raw, err := x.GetCellValue(api.TitleSheet, "B3", excelize.Options{RawCellValue: true})
	require.NoError(t, err)
	assert.Equal(t, "45473", raw, "a date is a date serial, not text")
	cutoff, err := x.GetCellValue(api.TitleSheet, "B4")
	require.NoError(t, err)
	assert.Contains(t, cutoff, "do końca dnia 2024-06-30")

	glossary, err := x.GetRows(api.GlossarySheet)
	require.NoError(t, err)
	defined := map[string]bool{}
	for _, row := range glossary[1:] {
		require.Len(t, row, 4, "%v", row)
		assert.NotEmpty(t, row[2], "%s: a definition", row[0])
		assert.NotEmpty(t, row[3], "%s: a formula", row[0])
		defined[row[0]] = true
	}

	checked := 0
	for _, l := range api.SheetLevels {
		rows, err := x.GetRows(l.Sheet, excelize.Options{RawCellValue: true})
		require.NoError(t, err)
		require.Len(t, rows, len(groups)+1, "%s: a header and a row per partnership and overall", l.Sheet)
		cells := l.Cells(ev.Overall)
		require.NotEmpty(t, cells, l.Sheet)
		require.Len(t, rows[0], 6+len(cells), "%s: a column per indicator", l.Sheet)
		assert.Equal(t, "Ogółem (wszystkie partnerstwa)", rows[len(rows)-1][0])
		for j, c := range cells {
			head := rows[0][6+j]
			assert.Equal(t, polish.IndicatorLabel(c.Path), head)
			assert.True(t, defined[polish.Indicators[c.Path[0]].Name], "%s: in the glossary", head)
			for i, g := range groups {
				n, ok := jsonNumber(t, g, l.Key, c.Path)
				got := ""
				if 6+j < len(rows[i+1]) {
					got = rows[i+1][6+j]
				}
				if !ok {
					assert.Empty(t, got, "%s row %d %s: null is an empty cell", l.Sheet, i+2, head)
					continue
				}
				v, err := strconv.ParseFloat(got, 64)
				require.NoError(t, err, "%s row %d %s: a number, not %q", l.Sheet, i+2, head, got)
				assert.InDelta(t, n, v, 1e-9, "%s row %d %s", l.Sheet, i+2, head)
				checked++
			}
		}
	}
	assert.Greater(t, checked, 100)

	shown, err := x.GetRows("Wsparcie kadr")
	require.NoError(t, err)
	at := slices.Index(shown[0], "Godziny wsparcia kadr")
	require.Positive(t, at)
	assert.Equal(t, "2.50", shown[1][at], "hours carry a number format with two decimals")
	assert.Equal(t, "1", shown[1][slices.Index(shown[0], "Wsparcie kadr wg formy — szkolenie międzysektorowe — działania")], "counts are whole numbers")
}

func TestThePolishCSVSplitsOnSemicolonsWithDecimalCommas(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t, withEvaluation)
	f := newFamilyFixture(ta)
	ta.openFamily(f, f.coordinator)
	ta.command(http.MethodPost, f.path+"/staff-support", map[string]any{"kind": "coaching", "date": "2024-05-01", "topic": "superwizja",
		"institutions": []string{f.ops}, "hours": 1.75}, http.StatusCreated)
	groups, ev := evaluationJSON(t, ta, "?as_of=2024-06-30")

	r := ta.do(http.MethodGet, "/api/v1/evaluation/export.csv?as_of=2024-06-30", ta.tokens[domain.RoleEvaluator], nil, nil)
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, api.CSVType, r.header.Get("Content-Type"))
	body, ok := bytes.CutPrefix(r.raw, []byte("\ufeff"))
	require.True(t, ok, "UTF-8 with a BOM")
	assert.Contains(t, string(body), "\r\n")
	cr := csv.NewReader(bytes.NewReader(body))
	cr.Comma = ';'
	recs, err := cr.ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, len(groups)+1)
	head := recs[0]
	seen := map[string]bool{}
	for _, h := range head {
		assert.False(t, seen[h], "%q: each column named once", h)
		seen[h] = true
		assert.NotContains(t, h, "_", "%q: a Polish name, not a key", h)
	}
	col := 6
	decimals := 0
	for _, l := range api.SheetLevels {
		for _, c := range l.Cells(ev.Overall) {
			for i, g := range groups {
				n, ok := jsonNumber(t, g, l.Key, c.Path)
				got := recs[i+1][col]
				if !ok {
					assert.Empty(t, got)
					continue
				}
				assert.NotContains(t, got, ".", "%s: a decimal comma", head[col])
				if strings.Contains(got, ",") {
					decimals++
				}
				v, err := strconv.ParseFloat(strings.Replace(got, ",", ".", 1), 64)
				require.NoError(t, err, "%s: %q", head[col], got)
				assert.InDelta(t, n, v, 1e-9, "%s row %d", head[col], i+2)
			}
			col++
		}
	}
	assert.Equal(t, len(head), col, "every column is an indicator after the six that name the row")
	assert.Positive(t, decimals, "1,75 hours")
	assert.Equal(t, "1,75", recs[1][slices.Index(head, "Godziny wsparcia kadr")])
}

func TestTheSpreadsheetsFollowTheEvaluationsAccessAndParameters(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t, withEvaluation)
	tests := []struct {
		name        string
		role        domain.Role
		path        string
		status      int
		code, field string
	}{
		{"the workbook for a coordinator is forbidden", domain.RoleCoordinator, "/api/v1/evaluation/export.xlsx", 403, "role_forbidden", ""},
		{"the CSV for a worker is forbidden", domain.RoleWorker, "/api/v1/evaluation/export.csv", 403, "role_forbidden", ""},
		{"a day that does not exist is refused", domain.RoleEvaluator, "/api/v1/evaluation/export.xlsx?as_of=2024-02-30", 400, "invalid_field", "as_of"},
		{"a time instead of a day is refused", domain.RoleEvaluator, "/api/v1/evaluation/export.csv?as_of=2024-05-05T10:00:00Z", 400, "invalid_field", "as_of"},
		{"a grouping that does not exist is refused", domain.RoleEvaluator, "/api/v1/evaluation/export.csv?by=town", 400, "invalid_field", "by"},
		{"another format is no route", domain.RoleEvaluator, "/api/v1/evaluation/export.ods", 404, "no_route", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireProblem(t, ta.do(http.MethodGet, tt.path, ta.tokens[tt.role], nil, nil), tt.status, tt.code, tt.field)
		})
	}
	r := ta.do(http.MethodGet, "/api/v1/evaluation/export.csv", ta.tokens[domain.RoleAdmin], nil, nil)
	assert.Equal(t, http.StatusOK, r.status, "the admin may: %s", r.raw)
}

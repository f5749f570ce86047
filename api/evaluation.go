package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/projections"
)

// Pseudonyms turns a family id into its evaluation pseudonym
// (vault.Keyring.Pseudonym).
type Pseudonyms interface {
	Pseudonym(ctx context.Context, familyID string) (string, error)
}

// Evaluation is the evaluation document: what `kooperacje evaluate` writes
// to indicators.json and GET /api/v1/evaluation answers, the replay's
// account and the indicators (docs/evaluation.md). It carries pseudonyms
// only.
type Evaluation struct {
	Format int               `json:"format"`
	Cutoff *EvaluationCutoff `json:"cutoff"`
	// CutoffRule says how the day the document stands at was chosen: the
	// default (the end of today in Poland) or asked for.
	CutoffRule CutoffRule `json:"cutoff_rule"`
	// By is how the groups are formed: one per partnership (municipality)
	// or one per county.
	By     projections.Grouping `json:"by"`
	Replay EvaluationReplay     `json:"replay"`
	projections.IndicatorReport
	// Period is set by evaluate --from --to only.
	Period *EvaluationPeriod `json:"period,omitempty"`
}

// EvaluationCutoff is how far the replay went; nil when it read
// everything.
type EvaluationCutoff struct {
	Sequence   uint64    `json:"sequence,omitempty"`   // commands stored after this stream sequence were left out
	RecordedAt time.Time `json:"recorded_at,omitzero"` // events recorded after this were left out
	OccurredAt time.Time `json:"occurred_at,omitzero"` // events of business time after this were left out
}

// EvaluationReplay is what the replay read.
type EvaluationReplay struct {
	Commits        int64  `json:"commits"`
	Events         int64  `json:"events"`
	SkippedUnknown int64  `json:"skipped_unknown_events"` // events of types this version does not know
	Position       uint64 `json:"position"`
}

// EvaluationPeriod are the changes of the counters between the end of the
// day before From and the end of To (docs/evaluation.md, "Periods").
type EvaluationPeriod struct {
	From         domain.Date                  `json:"from"`
	To           domain.Date                  `json:"to"`
	Partnerships []projections.IndicatorGroup `json:"partnerships"`
	Overall      projections.IndicatorGroup   `json:"overall"`
}

// CutoffRule says how the day of a document (the evaluation, the
// overview) was chosen (docs/decisions/0013).
type CutoffRule string

// The cut-off rules.
const (
	// CutoffToday is the default of the overview, the evaluation page and
	// `kooperacje evaluate`: the end of today in Poland (DefaultAsOf), so
	// the figures move with the calendar, once a day, never with the last
	// event's date.
	CutoffToday CutoffRule = "today"
	// CutoffAsOf is a day asked for (as_of, --as-of, --to): the end of it
	// in Poland.
	CutoffAsOf CutoffRule = "as_of"
)

// DefaultAsOf is the day a document stands at when none is asked for:
// today in Poland (Europe/Warsaw).
func DefaultAsOf(now time.Time) domain.Date { return projections.Today(now) }

// EndOfDay is the last instant of a day in Poland: the business cut-off of
// "as of DAY".
func EndOfDay(d domain.Date) time.Time {
	end := d.Time().AddDate(0, 0, 1)
	return time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, projections.Warsaw).Add(-time.Nanosecond)
}

// Evaluate replays src up to until into fresh indicators, families under
// their pseudonyms, and returns the document as of day, grouped as by says
// ("" is by partnership). The zero day is the default rule: today in
// Poland by now (DefaultAsOf), until cut at its end.
func Evaluate(ctx context.Context, src projections.Source, pseudonyms Pseudonyms, until projections.Until, day domain.Date, by projections.Grouping, now time.Time) (Evaluation, error) {
	rule := CutoffAsOf
	if day.IsZero() {
		day, rule = DefaultAsOf(now), CutoffToday
		until.OccurredAt = EndOfDay(day)
	}
	ev, err := replayEvaluation(ctx, src, pseudonyms, until, day, by)
	ev.CutoffRule = rule
	return ev, err
}

func replayEvaluation(ctx context.Context, src projections.Source, pseudonyms Pseudonyms, until projections.Until, day domain.Date, by projections.Grouping) (Evaluation, error) {
	if by == "" {
		by = projections.ByPartnership
	}
	if !slices.Contains(projections.Groupings, by) {
		return Evaluation{}, domain.Invalid("by", "%q is not a grouping; use one of %v", by, projections.Groupings)
	}
	var perr error
	ind := projections.NewIndicators(func(id string) string {
		p, err := pseudonyms.Pseudonym(ctx, id)
		if err != nil && perr == nil {
			perr = err
		}
		return p
	})
	st, err := projections.Replay(ctx, src, until, nil, ind)
	if err != nil {
		return Evaluation{}, fmt.Errorf("evaluation replay: %w", err)
	}
	if perr != nil {
		return Evaluation{}, fmt.Errorf("pseudonyms: %w", perr)
	}
	ev := Evaluation{Format: 2, By: by, IndicatorReport: ind.ReportBy(day, by),
		Replay: EvaluationReplay{Commits: st.Commits, Events: st.Events, SkippedUnknown: st.Skipped, Position: st.Position}}
	c := EvaluationCutoff{Sequence: until.Sequence}
	if !until.RecordedAt.IsZero() {
		c.RecordedAt = until.RecordedAt.UTC()
	}
	if !until.OccurredAt.IsZero() {
		c.OccurredAt = until.OccurredAt.UTC()
	}
	if c != (EvaluationCutoff{}) {
		ev.Cutoff = &c
	}
	return ev, nil
}

// EncodeEvaluation is the document's JSON, byte for byte the same for the
// same document: indented, HTML not escaped, a final newline.
func EncodeEvaluation(ev Evaluation) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ev); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// evaluationOf replays the document a request asks for (as_of, by), or
// writes the problem and answers false.
func (s *Server) evaluationOf(w http.ResponseWriter, r *http.Request) (Evaluation, bool) {
	if s.Stream == nil || s.Pseudonyms == nil {
		writeProblem(w, Problem{Status: http.StatusServiceUnavailable, Code: "evaluation_unavailable",
			Detail: "this server is not configured to replay the stream", Instance: r.URL.Path})
		return Evaluation{}, false
	}
	var until projections.Until
	var day domain.Date
	if v := r.URL.Query().Get("as_of"); v != "" {
		d, err := domain.ParseDate(v)
		if err != nil {
			s.writeError(w, r, domain.Invalid("as_of", "%v", err))
			return Evaluation{}, false
		}
		day, until.OccurredAt = d, EndOfDay(d)
	}
	ev, err := Evaluate(r.Context(), s.Stream, s.Pseudonyms, until, day, projections.Grouping(r.URL.Query().Get("by")), s.Now())
	if err != nil {
		s.writeError(w, r, err)
		return Evaluation{}, false
	}
	if ev.Replay.SkippedUnknown > 0 {
		s.log.Warn("evaluation: events of unknown types were skipped", "skipped", ev.Replay.SkippedUnknown)
	}
	return ev, true
}

// evaluation answers GET /api/v1/evaluation?as_of=DAY: the document
// `kooperacje evaluate --as-of DAY` writes, replayed from the stream on
// every request (no as_of: as of today, the default rule).
func (s *Server) evaluation(w http.ResponseWriter, r *http.Request, _ Principal) {
	ev, ok := s.evaluationOf(w, r)
	if !ok {
		return
	}
	b, err := EncodeEvaluation(ev)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// Media types of the evaluation's spreadsheets.
const (
	XLSXType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	CSVType  = "text/csv; charset=utf-8; header=present"
)

// evaluationExport answers GET /api/v1/evaluation/export.xlsx and
// export.csv: the same document as a workbook or a Polish CSV, as an
// attachment named after its day.
func (s *Server) evaluationExport(xlsx bool) func(http.ResponseWriter, *http.Request, Principal) {
	return func(w http.ResponseWriter, r *http.Request, _ Principal) {
		ev, ok := s.evaluationOf(w, r)
		if !ok {
			return
		}
		render, ext, typ := EvaluationCSV, "csv", CSVType
		if xlsx {
			render, ext, typ = EvaluationWorkbook, "xlsx", XLSXType
		}
		b, err := render(ev)
		if err != nil {
			s.writeError(w, r, fmt.Errorf("evaluation export: %w", err))
			return
		}
		w.Header().Set("Content-Type", typ)
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="wskazniki-%s.%s"`, ev.AsOf, ext))
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b)
	}
}

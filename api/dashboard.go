package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/projections"
)

// Dashboard is the overview the web pages show every signed-in user: each
// partnership's indicators as of today, on the definitions of the
// evaluation (docs/evaluation.md), with its families counted by stage.
// It holds counts and statistics only, never a family's id or name.
type Dashboard struct {
	AsOf domain.Date `json:"as_of"`
	// CutoffRule is always CutoffToday: the overview stands at the end of
	// today in Poland, the default of the evaluation too.
	CutoffRule   CutoffRule       `json:"cutoff_rule"`
	Position     uint64           `json:"position"` // the read models' stream position
	Partnerships []DashboardGroup `json:"partnerships"`
	Overall      DashboardGroup   `json:"overall"`
}

// DashboardGroup is one partnership of the overview, or all of them.
type DashboardGroup struct {
	projections.IndicatorGroup
	FamiliesByStage map[string]int `json:"families_by_stage"`
}

// dashboard answers GET /api/v1/dashboard from the live read models.
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request, _ Principal) {
	if s.Indicators == nil {
		writeProblem(w, Problem{Status: http.StatusServiceUnavailable, Code: "dashboard_unavailable",
			Detail: "this server does not keep the live indicators", Instance: r.URL.Path})
		return
	}
	if !s.caughtUp(w, r) {
		return
	}
	writeJSON(w, http.StatusOK, s.overview(DefaultAsOf(s.Now())))
}

// overview computes the dashboard as of a day, once per read-model
// position: every open page asks again at each change, and the report
// walks every family.
func (s *Server) overview(today domain.Date) Dashboard {
	s.dashMu.Lock()
	defer s.dashMu.Unlock()
	pos := s.Runner.Position()
	if s.dash != nil && s.dash.Position == pos && s.dash.AsOf == today {
		return *s.dash
	}
	rep := s.Indicators.Report(today)
	d := Dashboard{AsOf: today, CutoffRule: CutoffToday, Position: pos, Partnerships: make([]DashboardGroup, 0, len(rep.Partnerships))}
	overall := map[string]int{}
	for _, st := range projections.FamilyStages {
		overall[st] = 0
	}
	for _, g := range rep.Partnerships {
		stages := s.Families.StagesByPartnership(g.PartnershipID)
		for st, n := range stages {
			overall[st] += n
		}
		d.Partnerships = append(d.Partnerships, DashboardGroup{IndicatorGroup: g, FamiliesByStage: stages})
	}
	d.Overall = DashboardGroup{IndicatorGroup: rep.Overall, FamiliesByStage: overall}
	s.dash = &d
	return d
}

// streamPing is how often the event stream sends a comment to keep idle
// connections (and proxies) open.
const streamPing = 15 * time.Second

// streamCoalesce gathers the commands applied within this time into one
// message, so a burst of writes costs the pages one refresh.
const streamCoalesce = 100 * time.Millisecond

// CloseStreams ends every open event stream, as the HTTP server shuts
// down (http.Server.RegisterOnShutdown): pages then reconnect to another
// instance or show that they are disconnected.
func (s *Server) CloseStreams() { s.closeOnce.Do(func() { close(s.closing) }) }

// stream answers GET /api/v1/stream with Server-Sent Events: a "position"
// event with the read models' stream position at once and whenever it
// moves, so that open pages refresh what they show. It tells nothing but
// that number; what a page then reads is decided by the routes it reads.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, _ Principal) {
	rc := http.NewResponseController(w)
	// The server's write timeout is for ordinary answers; this one lasts
	// as long as the page is open.
	_ = rc.SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(pos uint64) bool {
		_, err := fmt.Fprintf(w, "event: position\nid: %d\ndata: {\"position\":%d}\n\n", pos, pos)
		return err == nil && rc.Flush() == nil
	}
	ping := time.NewTicker(streamPing)
	defer ping.Stop()
	var last uint64
	first := true
	for {
		changed := s.Runner.Changed()
		if pos := s.Runner.Position(); first || pos != last {
			if !send(pos) {
				return
			}
			first, last = false, pos
		}
		select {
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		case <-changed:
			select {
			case <-time.After(streamCoalesce):
			case <-r.Context().Done():
				return
			}
		case <-ping.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}

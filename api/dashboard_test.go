package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/api"
	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/projections"
)

func TestDashboardIsTheEvaluationKeptLiveWithoutNames(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	f := newFamilyFixture(ta)
	f1 := ta.openFamily(f, f.coordinator)
	f2 := ta.openFamily(f, f.coordinator2)
	last := ta.lastSeq()

	// The evaluation by its default rule: today in Poland, as the overview.
	ev, err := api.Evaluate(context.Background(), ta.store, ta.keys, projections.Until{}, domain.Date{}, projections.ByPartnership, time.Now())
	require.NoError(t, err)
	assert.Equal(t, api.CutoffToday, ev.CutoffRule)
	assert.Equal(t, projections.Today(time.Now()), ev.AsOf)
	for _, role := range domain.Roles {
		if role == domain.RoleSystem {
			continue
		}
		r := ta.do(http.MethodGet, "/api/v1/dashboard?min_seq="+strconv.FormatUint(last, 10), ta.tokens[role], nil, nil)
		require.Equal(t, http.StatusOK, r.status, "%s: %s", role, r.raw)
		var d api.Dashboard
		require.NoError(t, json.Unmarshal(r.raw, &d))
		assert.Equal(t, last, d.Position, role)
		assert.Equal(t, projections.Today(time.Now()), d.AsOf)
		assert.Equal(t, ev.AsOf, d.AsOf, "the overview and the evaluation stand at the same day")
		assert.Equal(t, api.CutoffToday, d.CutoffRule, "and say so")
		require.Len(t, d.Partnerships, 1, role)
		g := d.Partnerships[0]
		assert.Equal(t, f.id, g.PartnershipID)
		// The same indicators as a replay of the whole stream.
		assert.Equal(t, ev.Partnerships[0].Institution, g.Institution)
		assert.Equal(t, ev.Partnerships[0].Worker, g.Worker)
		assert.Equal(t, ev.Partnerships[0].Client, g.Client)
		assert.Equal(t, ev.Overall.Client, d.Overall.Client)
		assert.Equal(t, 2, g.FamiliesByStage[projections.StageOpened])
		assert.Equal(t, 2, d.Overall.FamiliesByStage[projections.StageOpened])
		for _, st := range projections.FamilyStages {
			_, ok := d.Overall.FamiliesByStage[st]
			assert.True(t, ok, "every stage is counted, %s too", st)
		}
		for _, secret := range append([]string{f1.id, f2.id, f1.applicant, f1.child, f2.applicant, f2.child}, familySecrets...) {
			assert.NotContains(t, string(r.raw), secret, "%s: the overview carries counts only", role)
		}
	}
	// The overview is computed once per position, and again when it moves.
	ta.openFamily(f, f.coordinator)
	var d api.Dashboard
	r := ta.read("/api/v1/dashboard", ta.lastSeq(), &d)
	require.Equal(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, 3, d.Overall.Client.FamiliesEnrolled)
	assert.Equal(t, ta.lastSeq(), d.Position)

	r = ta.do(http.MethodGet, "/api/v1/dashboard", "", nil, nil)
	requireProblem(t, r, http.StatusUnauthorized, "token_missing", "Authorization")
	requireProblem(t, ta.do(http.MethodGet, "/api/v1/dashboard?min_seq=soon", ta.tokens[domain.RoleAnimator], nil, nil),
		http.StatusBadRequest, "invalid_field", "min_seq")
}

func TestDashboardWithoutIndicatorsIsUnavailable(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t, func(c *api.Config) { c.Indicators = nil })
	requireProblem(t, ta.do(http.MethodGet, "/api/v1/dashboard", ta.tokens[domain.RoleAdmin], nil, nil),
		http.StatusServiceUnavailable, "dashboard_unavailable", "")
}

// sseEvent is one event read off a text/event-stream.
type sseEvent struct {
	name, id, data string
}

// readEvents sends the events of an open stream to a channel until it
// ends.
func readEvents(body *bufio.Reader) <-chan sseEvent {
	ch := make(chan sseEvent)
	go func() {
		defer close(ch)
		var ev sseEvent
		for {
			line, err := body.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\n")
			switch {
			case line == "":
				if ev.name != "" {
					ch <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "id: "):
				ev.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return ch
}

func nextPosition(t *testing.T, events <-chan sseEvent) uint64 {
	t.Helper()
	select {
	case ev, ok := <-events:
		require.True(t, ok, "the stream ended")
		require.Equal(t, "position", ev.name)
		var d struct{ Position uint64 }
		require.NoError(t, json.Unmarshal([]byte(ev.data), &d), ev.data)
		assert.Equal(t, strconv.FormatUint(d.Position, 10), ev.id)
		return d.Position
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
		return 0
	}
}

func TestStreamTellsThePositionAsTheReadModelsMove(t *testing.T) {
	t.Parallel()
	ta := newTestAPI(t)
	req, err := http.NewRequest(http.MethodGet, ta.server.URL+"/api/v1/stream", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+ta.tokens[domain.RoleWorker])
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	events := readEvents(bufio.NewReader(resp.Body))

	assert.Equal(t, ta.runner.Position(), nextPosition(t, events), "the position at once")
	res := ta.command(http.MethodPost, "/api/v1/institutions", map[string]any{"name": "Szkoła Podstawowa nr 2", "sector": "education",
		"municipality": "Sieradz", "county": "sieradzki"}, http.StatusCreated)
	for pos := uint64(0); pos < res.Sequence; {
		pos = nextPosition(t, events)
	}

	// Shutting the server down ends the streams.
	ta.api.CloseStreams()
	select {
	case _, ok := <-events:
		for ok {
			_, ok = <-events
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not end when the server closed the streams")
	}

	r := ta.do(http.MethodGet, "/api/v1/stream", "", nil, nil)
	requireProblem(t, r, http.StatusUnauthorized, "token_missing", "Authorization")
}

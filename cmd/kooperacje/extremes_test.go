package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
	"github.com/kooperacje/kooperacje/projections"
	"github.com/kooperacje/kooperacje/vault"
)

// extremeClient sends commands to a running engine as its first
// administrator and requires each to be accepted.
type extremeClient struct {
	t     *testing.T
	base  string
	token string
	seq   uint64
}

func (c *extremeClient) send(method, path string, body any) map[string]any {
	c.t.Helper()
	b, err := json.Marshal(body)
	require.NoError(c.t, err)
	require.LessOrEqual(c.t, len(b), 64<<10, "%s %s: within the body limit", method, path)
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(b))
	require.NoError(c.t, err)
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(c.t, json.NewDecoder(resp.Body).Decode(&out))
	require.Less(c.t, resp.StatusCode, 300, "%s %s: %v", method, path, out)
	if s, ok := out["sequence"].(float64); ok {
		c.seq = uint64(s)
	}
	return out
}

func (c *extremeClient) get(path string, v any) {
	c.t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	require.Equal(c.t, http.StatusOK, getJSON(c.t, c.base+path+sep+"min_seq="+strconv.FormatUint(c.seq, 10), c.token, v))
}

// TestAStartAfterTheMostExtremeAcceptedCommandsSucceeds stores through the
// API the most extreme values it accepts (the earliest and the latest
// business times and dates, the longest texts, the longest lists), and an
// event an older engine let in (a business time in year 9999), restarts
// the engine on the same data directory and compares every read model
// with a rebuild from the stream.
func TestAStartAfterTheMostExtremeAcceptedCommandsSucceeds(t *testing.T) {
	_, key := vault.NewMasterKey()
	t.Setenv(MasterKeyEnv, key)
	dir := t.TempDir()
	base, stop := startServe(t, "--data", dir, "--instance", "extremes")
	token, err := os.ReadFile(filepath.Join(dir, AdminTokenFile))
	require.NoError(t, err)
	c := &extremeClient{t: t, base: base, token: strings.TrimSpace(string(token))}

	text := func(n int) string { return strings.Repeat("ż", n) } // two bytes a character
	name, long := text(300), text(4000)
	list := func(n, size int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%03d", i) + strings.Repeat("x", size-3)
		}
		return out
	}
	now := time.Now()
	// The latest business time accepted, on today's date in Poland.
	latest := now.Add(domain.ClockTolerance - time.Minute)
	if domain.DayOf(latest) != domain.DayOf(now) {
		latest = now
	}
	today := domain.DayOf(latest).String()
	earliest := "1990-01-01T00:00:00+01:00" // the first instant of 1990 in Poland

	ops := c.send(http.MethodPost, "/api/v1/institutions", map[string]any{"name": name, "sector": "social_assistance", "municipality": name, "county": name, "address": name})["id"].(string)
	school := c.send(http.MethodPost, "/api/v1/institutions", map[string]any{"name": "Szkoła", "sector": "education", "municipality": "Testowo", "county": "testowski"})["id"].(string)
	c.send(http.MethodPost, "/api/v1/workers", map[string]any{"institution_id": ops, "name": name, "position": name})
	c.send(http.MethodPost, "/api/v1/workers", map[string]any{"institution_id": school, "name": "Piotr Pedagog", "position": "pedagog"})
	workerOf := func(inst string) string {
		var v projections.InstitutionView
		c.get("/api/v1/institutions/"+inst, &v)
		require.Len(t, v.Workers, 1)
		return v.Workers[0].ID
	}
	coordinator, pedagogue := workerOf(ops), workerOf(school)

	pid := c.send(http.MethodPost, "/api/v1/partnerships", map[string]any{"name": name, "municipality": name, "county": name, "date": "1990-01-01",
		"place": name, "leader_id": ops, "occurred_at": earliest, "reason": long})["id"].(string)
	pp := "/api/v1/partnerships/" + pid
	c.send(http.MethodPost, pp+"/members", map[string]any{"institution_id": school, "date": "1990-01-01", "signatory": name, "powers": long, "resources": long})
	c.send(http.MethodPost, pp+"/services", map[string]any{"institution_id": school, "name": name, "description": long, "target_groups": list(100, 300), "capacity": 1000000, "access": long})
	c.send(http.MethodPost, pp+"/meetings", map[string]any{"kind": "regular", "date": today, "place": name, "attendees": []string{ops, school},
		"guests": list(100, 300), "decisions": list(7, 4000), "occurred_at": latest.Format(time.RFC3339Nano)})
	c.send(http.MethodPost, pp+"/formalize", map[string]any{"date": today, "place": name})

	household := []map[string]any{{"person_id": domain.NewID(), "name": name, "birth_date": "1900-01-01", "relation": "applicant"}}
	for range 29 {
		household = append(household, map[string]any{"person_id": domain.NewID(), "name": name, "birth_date": "1989-12-31", "relation": "child"})
	}
	fid := c.send(http.MethodPost, "/api/v1/families", map[string]any{"partnership_id": pid, "household": household, "address": name, "phone": strings.Repeat("1", 40),
		"referral": map[string]any{"institution_id": school, "reason": long}, "coordinator": map[string]any{"worker_id": coordinator, "institution_id": ops},
		"opened_on": "1990-01-01", "occurred_at": earliest})["id"].(string)
	fp := "/api/v1/families/" + fid
	applicant := household[0]["person_id"]
	c.send(http.MethodPost, fp+"/consents", map[string]any{"institution_id": school, "categories": domain.DataCategories, "purpose": long, "legal_basis": name,
		"given_by": applicant, "given_on": "1990-01-01", "expires_on": "2100-12-31", "occurred_at": earliest})
	c.send(http.MethodPost, fp+"/diagnosis", map[string]any{"area": "education", "severity": "high", "needs": long, "strengths": long, "resources": long, "barriers": long,
		"worker_id": pedagogue, "institution_id": school, "date": "1990-01-01"})
	c.send(http.MethodPost, fp+"/diagnosis/complete", map[string]any{"date": today, "summary": long})
	c.send(http.MethodPost, fp+"/team", map[string]any{"date": today, "members": []map[string]any{{"worker_id": pedagogue, "institution_id": school}}})
	c.send(http.MethodPost, fp+"/team/meetings", map[string]any{"date": today, "attendees": []string{coordinator, pedagogue}, "decisions": list(10, 4000),
		"next_steps": list(3, 4000), "occurred_at": latest.Format(time.RFC3339Nano)})
	goals := make([]map[string]any, 50)
	for i := range goals {
		goals[i] = map[string]any{"id": fmt.Sprintf("g%d", i+1), "description": text(100)}
	}
	actions := make([]map[string]any, 200)
	for i := range actions {
		actions[i] = map[string]any{"id": fmt.Sprintf("a%d", i+1), "goal_id": fmt.Sprintf("g%d", i%50+1), "description": "Działanie",
			"responsible": map[string]any{"kind": "institution", "institution_id": school}, "deadline": "2100-12-31"}
	}
	c.send(http.MethodPost, fp+"/contract", map[string]any{"variant": "B", "assessment": map[string]any{"causes": text(2000)}, "main_goal": text(2000), "goals": goals,
		"actions": actions, "client_duties": text(1000), "coordinator_duties": text(1000), "start_date": "1990-01-01", "end_date": "2100-12-31", "date": today})
	c.send(http.MethodPost, fp+"/contract/sign", map[string]any{"date": today, "client_id": applicant})
	c.send(http.MethodPost, fp+"/contract/actions/a200", map[string]any{"status": "completed", "date": today, "note": long})
	require.Equal(t, 0, stop(), "the engine stops cleanly")

	// An older engine let a business time of year 9999 in: stored past
	// today's handler, as it was then.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := serveConfig{storeConfig: storeConfig{data: dir, natsListen: eventstore.ListenOff, stream: eventstore.DefaultStream, instance: "extremes"}}
	require.NoError(t, cfg.validate())
	log := slog.New(slog.DiscardHandler)
	e, err := startEngine(ctx, cfg, log)
	require.NoError(t, err)
	envs, err := e.store.Load(ctx, domain.AggregateFamily, fid)
	require.NoError(t, err)
	_, err = e.store.Append(ctx, domain.AggregateFamily, fid, envs[len(envs)-1].AggregateVersion,
		domain.Meta{CommandID: domain.NewID(), OccurredAt: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), Actor: domain.Actor{UserID: "old", Role: domain.RoleSystem}},
		domain.TeamMeetingRecorded{MeetingID: domain.NewID(), Date: domain.DayOf(now), Attendees: []string{coordinator}})
	require.NoError(t, err)
	require.NoError(t, e.catchUp(ctx))
	e.close(ctx, log)

	// The start after them succeeds, resumes from its checkpoint, and its
	// read models are what a rebuild from the stream gives.
	e, err = startEngine(ctx, cfg, log)
	require.NoError(t, err, "no stored event stops a start")
	defer e.close(context.Background(), log)
	last, err := e.store.LastSequence(ctx)
	require.NoError(t, err)
	assert.Equal(t, last, e.runner.Position(), "resumed from the checkpoint")
	require.NoError(t, e.catchUp(ctx))
	require.NoError(t, e.runner.Err())
	assert.Empty(t, e.runner.Unapplied())

	pseudonyms, err := e.keys.Pseudonyms(ctx)
	require.NoError(t, err)
	inst, part, users, fam, ind := projections.NewInstitutions(), projections.NewPartnerships(), projections.NewUsers(), projections.NewFamilies(), projections.NewIndicators(pseudonyms)
	st, err := projections.Rebuild(ctx, e.store, last, inst, part, users, fam, ind)
	require.NoError(t, err)
	assert.Empty(t, st.Unapplied)
	for _, pair := range [][2]projections.Projection{{e.institutions, inst}, {e.partnerships, part}, {e.users, users}, {e.families, fam}, {e.indicators, ind}} {
		live, err := pair[0].Snapshot()
		require.NoError(t, err)
		rebuilt, err := pair[1].Snapshot()
		require.NoError(t, err)
		assert.Equal(t, string(live), string(rebuilt), "%s: the restarted read model is the rebuilt one", pair[0].Name())
	}
	assert.Equal(t, projections.Today(time.Now()), ind.LastDay(), "the year-9999 event counts as of the day it was recorded")
	plan, ok := e.families.Plan(fid, domain.NewDate(1990, 1, 1))
	require.True(t, ok, "as of the opening day the case exists")
	assert.Len(t, plan.Consents, 1)
}

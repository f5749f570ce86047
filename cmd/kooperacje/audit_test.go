package main

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/vault"
)

func TestHistoryAndPlansAsOfOnTheDemo(t *testing.T) {
	dir := t.TempDir()
	base, stop := startServe(t, "--data", dir, "--demo")
	tokens := demoTokensOf(t, dir)
	var list struct {
		Items []struct {
			ID       string `json:"id"`
			OpenedOn string `json:"opened_on"`
		}
	}
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/families?stage=contract_ended", tokens["auditor"], &list))
	require.NotEmpty(t, list.Items)
	f := list.Items[0]

	var hist struct {
		Items []struct {
			Type, Summary, Reason string
			Actor                 struct{ Role string }
			By                    struct{ Name, Role, Position, Institution string }
			Hash                  string
		}
	}
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/families/"+f.ID+"/history", tokens["auditor"], &hist))
	require.NotEmpty(t, hist.Items)
	assert.Equal(t, "FamilyCaseOpened", hist.Items[0].Type)
	uuid := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	deciders := map[string]bool{}
	for _, h := range hist.Items {
		assert.NotEmpty(t, h.Summary)
		assert.NotEmpty(t, h.Actor.Role)
		assert.Len(t, h.Hash, 64)
		assert.NotRegexp(t, uuid, h.Summary, h.Type)
		// Every step of the demo's families is taken by a worker: named,
		// in a Polish role, for a named institution.
		assert.Contains(t, []string{"pracownik socjalny", "pracownik instytucji"}, h.By.Role, h.Type)
		assert.NotEmpty(t, h.By.Institution, h.Type)
		assert.NotEmpty(t, h.By.Position, "%s: a worker has a position", h.Type)
		assert.NotContains(t, h.By.Name, "spoza rejestru", h.Type)
		deciders[h.By.Name] = true
	}
	coordinator, by := hist.Items[0].By.Name, hist.Items[0].By
	assert.Contains(t, hist.Items[0].Summary, "koordynator: "+coordinator, "the coordinator opens the case")
	assert.Greater(t, len(deciders), 1, "the team's workers take their own steps: %v", deciders)
	assert.Equal(t, http.StatusForbidden, getJSON(t, base+"/api/v1/families/"+f.ID+"/history", tokens["evaluator"], nil))

	var then, now struct{ Stage string }
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/families/"+f.ID+"/plan?as_of="+f.OpenedOn, tokens["admin"], &then))
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/families/"+f.ID+"/plan", tokens["admin"], &now))
	assert.Equal(t, "opened", then.Stage, "on its opening day the case was just opened")
	assert.Equal(t, "contract_ended", now.Stage)
	assert.Equal(t, http.StatusNotFound, getJSON(t, base+"/api/v1/families/"+f.ID+"/plan?as_of=2019-01-01", tokens["admin"], nil), "before the opening it did not exist")
	assert.Equal(t, http.StatusBadRequest, getJSON(t, base+"/api/v1/families/"+f.ID+"/plan?as_of=yesterday", tokens["admin"], nil))
	assert.Equal(t, http.StatusBadRequest, getJSON(t, base+"/api/v1/families/"+f.ID+"/plan?as_of=2020-01-01&time=sometime", tokens["admin"], nil))
	require.Equal(t, 0, stop())

	var stdout, stderr syncBuffer
	require.Equal(t, 0, run(context.Background(), []string{"audit", "--data", dir, "--demo", "--family", f.ID}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "Otwarto sprawę rodziny")
	assert.Contains(t, stdout.String(), coordinator+" ("+by.Position+", "+by.Institution+")", "the audit names who decided")
	assert.NotRegexp(t, uuid, stdout.String(), "no id in the printed history")
	assert.Contains(t, stdout.String(), "Zakończono kontrakt")
	stdout, stderr = syncBuffer{}, syncBuffer{}
	require.Equal(t, 0, run(context.Background(), []string{"plan", "--data", dir, "--demo", "--family", f.ID, "--as-of", f.OpenedOn}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), `"stage": "opened"`)
	stdout = syncBuffer{}
	require.Equal(t, 0, run(context.Background(), []string{"plan", "--data", dir, "--demo", "--family", f.ID, "--time", "recorded"}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), `"stage": "contract_ended"`)
	assert.Equal(t, 1, run(context.Background(), []string{"plan", "--data", dir, "--demo", "--family", f.ID, "--as-of", "2019-01-01"}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "did not exist")
	stderr = syncBuffer{}
	assert.Equal(t, 2, run(context.Background(), []string{"audit", "--data", dir, "--demo", "--family", "nope"}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "--family")
}

func TestTokensFromTheCommandLine(t *testing.T) {
	_, key := vault.NewMasterKey()
	t.Setenv(MasterKeyEnv, key)
	dir := t.TempDir()
	var stdout, stderr syncBuffer
	require.Equal(t, 0, run(context.Background(), []string{"token", "create", "--data", dir, "--name", "Audytor Zewnętrzny", "--role", "auditor", "--expires", "24h"}, &stdout, &stderr), stderr.String())
	tok := strings.TrimSpace(stdout.String())
	require.True(t, strings.HasPrefix(tok, "koop_"))
	m := regexp.MustCompile(`user (\S+), token (\S+)`).FindStringSubmatch(stderr.String())
	require.Len(t, m, 3)
	user, tokenID := strings.TrimSuffix(m[1], ","), m[2]

	base, stop := startServe(t, "--data", dir)
	var me struct{ Role string }
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/me", tok, &me))
	assert.Equal(t, "auditor", me.Role)
	require.Equal(t, 0, stop())

	stdout, stderr = syncBuffer{}, syncBuffer{}
	require.Equal(t, 0, run(context.Background(), []string{"token", "revoke", "--data", dir, "--user", user, "--token", tokenID}, &stdout, &stderr), stderr.String())
	base, _ = startServe(t, "--data", dir)
	assert.Equal(t, http.StatusUnauthorized, getJSON(t, base+"/api/v1/me", tok, nil), "a revoked token no longer authenticates")

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"neither a user nor a name", []string{"token", "create", "--data", dir}, "--user ID, or --name"},
		{"an unknown role", []string{"token", "create", "--data", dir, "--name", "X", "--role", "king"}, "role"},
		{"revoke without a token", []string{"token", "revoke", "--data", dir, "--user", user}, "--token"},
		{"no subcommand", []string{"token"}, "create or revoke"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr syncBuffer
			assert.NotEqual(t, 0, run(context.Background(), tt.args, &stdout, &stderr))
			assert.Contains(t, stderr.String(), tt.want)
		})
	}
}

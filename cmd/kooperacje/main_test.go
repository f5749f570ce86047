package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
	"github.com/kooperacje/kooperacje/vault"
)

// syncBuffer is a bytes.Buffer safe for the program and the test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var apiLine = regexp.MustCompile(`API:\s+(http://\S+)/api/v1`)

// startServe runs "kooperacje serve" in process and returns the API's base
// URL and a function that stops it and returns its exit code.
func startServe(t *testing.T, args ...string) (string, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--http", "127.0.0.1:0", "--nats-listen", "off"}, args...), &stdout, &stderr)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if m := apiLine.FindStringSubmatch(stdout.String()); m != nil {
			stopped := false
			stop := func() int {
				if stopped {
					return 0
				}
				stopped = true
				cancel()
				return <-done
			}
			t.Cleanup(func() { stop() })
			return m[1], stop
		}
		select {
		case code := <-done:
			cancel()
			t.Fatalf("serve exited with %d before serving:\n%s", code, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not start:\n%s", stderr.String())
		}
	}
}

func getJSON(t *testing.T, url, token string, v any) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	if v != nil {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
	}
	return resp.StatusCode
}

func TestServeDemoTellsTheSeedStoryAndLoadsOnce(t *testing.T) {
	dir := t.TempDir()
	base, stop := startServe(t, "--data", dir, "--demo")

	raw, err := os.ReadFile(filepath.Join(dir, DemoTokensFile))
	require.NoError(t, err)
	var tokens map[string]string
	require.NoError(t, json.Unmarshal(raw, &tokens))
	for _, role := range []string{"admin", "animator", "coordinator", "worker", "evaluator", "auditor"} {
		require.NotEmpty(t, tokens[role], role)
	}
	info, err := os.Stat(filepath.Join(dir, DemoTokensFile))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	var list struct {
		Items []struct {
			ID, Name, Stage, InitiatedOn, FormalizedOn string
			Members                                    int
		}
	}
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/partnerships", tokens["animator"], &list))
	byName := map[string]int{}
	for i, p := range list.Items {
		byName[p.Name] = i
	}
	require.Len(t, list.Items, 4)
	sieradz := list.Items[byName["PZK Sieradz"]]
	assert.Equal(t, "formalized", sieradz.Stage)
	assert.Equal(t, 17, sieradz.Members, "MOPS, PCPR and the fifteen other institutions of the seed text")

	var detail struct {
		FormalizedOn string `json:"formalized_on"`
		Place        string
		Meetings     []struct{ Kind, Date, Place string }
		Members      []struct{ Name, Sector string }
	}
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/partnerships/"+sieradz.ID, tokens["worker"], &detail))
	assert.Equal(t, "2019-10-23", detail.FormalizedOn)
	assert.Equal(t, "Urząd Miasta Sieradza", detail.Place)
	require.Len(t, detail.Meetings, 1)
	assert.Equal(t, "formalising", detail.Meetings[0].Kind)
	assert.Equal(t, "Miejski Ośrodek Pomocy Społecznej w Sieradzu", detail.Members[0].Name)

	initiating := map[string]string{"PZK Piotrków Trybunalski": "2019-09-24", "PZK Radomsko": "2019-09-25", "PZK Zduńska Wola": "2019-09-26"}
	for name, date := range initiating {
		p := list.Items[byName[name]]
		assert.Equal(t, "initiated", p.Stage, name)
		var d struct{ Meetings []struct{ Kind, Date string } }
		require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/partnerships/"+p.ID, tokens["admin"], &d))
		require.Len(t, d.Meetings, 1, name)
		assert.Equal(t, "initiating", d.Meetings[0].Kind, name)
		assert.Equal(t, date, d.Meetings[0].Date, name)
	}

	var ready struct{ Position uint64 }
	require.Equal(t, http.StatusOK, getJSON(t, base+"/readyz", "", &ready))
	require.NotZero(t, ready.Position)
	require.Equal(t, 0, stop())

	// Loading the demo again on the same data changes nothing, and the
	// tokens keep working.
	base2, _ := startServe(t, "--data", dir, "--demo")
	var ready2 struct{ Position uint64 }
	require.Equal(t, http.StatusOK, getJSON(t, base2+"/readyz", "", &ready2))
	assert.Equal(t, ready.Position, ready2.Position, "a second demo load writes no event")
	assert.Equal(t, http.StatusOK, getJSON(t, base2+"/api/v1/me", tokens["coordinator"], nil))
}

func TestServeWithoutDemoCreatesTheFirstAdmin(t *testing.T) {
	_, key := vault.NewMasterKey()
	t.Setenv(MasterKeyEnv, key)
	dir := t.TempDir()
	base, _ := startServe(t, "--data", dir)
	path := filepath.Join(dir, AdminTokenFile)
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	token, err := os.ReadFile(path)
	require.NoError(t, err)
	var me struct{ Role string }
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/me", strings.TrimSpace(string(token)), &me))
	assert.Equal(t, "admin", me.Role)
	var list struct{ Items []any }
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/partnerships", strings.TrimSpace(string(token)), &list))
	assert.Empty(t, list.Items, "no demo data without --demo")

	// The group commit's counters: the first administrator's commands
	// went out alone.
	resp, err := http.Get(base + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	metrics, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	single := regexp.MustCompile(`(?m)^kooperacje_group_commit_messages_total\{how="single"\} (\d+)$`).FindSubmatch(metrics)
	require.NotNil(t, single, "%s", metrics)
	assert.NotEqual(t, "0", string(single[1]), "the first administrator's commands were written")
	assert.Contains(t, string(metrics), "kooperacje_group_commit_refused_batches_total 0\n")
	assert.Regexp(t, `(?m)^kooperacje_batch_staging_in_memory [01]$`, string(metrics))
}

func TestServeFinishesAFirstAdminCutOffByACrash(t *testing.T) {
	_, key := vault.NewMasterKey()
	t.Setenv(MasterKeyEnv, key)
	dir := t.TempDir()
	// What a crash between the two commands of the first start leaves: the
	// token file, and the administrator registered without the token.
	require.NoError(t, os.WriteFile(filepath.Join(dir, AdminTokenFile), []byte("koop_never-issued\n"), 0o600))
	ctx := context.Background()
	c := storeConfig{data: dir, natsListen: eventstore.ListenOff, stream: eventstore.DefaultStream, instance: "test"}
	store, _, done, err := openForCLI(ctx, &c)
	require.NoError(t, err)
	uid := domain.NewID()
	system := domain.Meta{Actor: domain.Actor{UserID: uid, Role: domain.RoleSystem}, Reason: "pierwsze uruchomienie: administrator"}
	_, err = (&domain.Handler{Store: store}).Execute(ctx, domain.RegisterUser{UserID: uid, Name: "Administrator", Role: domain.RoleAdmin}, system, 0)
	require.NoError(t, err)
	done()

	base, _ := startServe(t, "--data", dir)
	token, err := os.ReadFile(filepath.Join(dir, AdminTokenFile))
	require.NoError(t, err)
	var me struct {
		UserID string `json:"user_id"`
		Role   string
	}
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/me", strings.TrimSpace(string(token)), &me), "the next start gives the administrator a token")
	assert.Equal(t, uid, me.UserID, "the same administrator, not a second one")
	assert.Equal(t, "admin", me.Role)
	var users struct{ Items []any }
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/v1/users", strings.TrimSpace(string(token)), &users))
	assert.Len(t, users.Items, 1)
}

func TestWriteFileSyncedReplacesWholeAndLeavesNothingBehind(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "token")
	require.NoError(t, writeFileSynced(path, []byte("first\n"), 0o600))
	require.NoError(t, writeFileSynced(path, []byte("second\n"), 0o600))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "second\n", string(b))
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file is left")

	assert.Error(t, writeFileSynced(filepath.Join(dir, "missing", "token"), []byte("x"), 0o600))
	entries, err = os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "a failed write leaves nothing")
}

func TestServeRefusesToStartWithoutAMasterKey(t *testing.T) {
	t.Setenv(MasterKeyEnv, "")
	os.Unsetenv(MasterKeyEnv)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no key at all", nil, "a master key is required"},
		{"a key file that does not exist", []string{"--master-key-file", "/nonexistent/master.key"}, "master key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr syncBuffer
			code := run(context.Background(), append([]string{"serve", "--data", t.TempDir(), "--nats-listen", "off"}, tt.args...), &stdout, &stderr)
			assert.Equal(t, 1, code)
			assert.Contains(t, stderr.String(), tt.want)
		})
	}
	var stdout, stderr syncBuffer
	t.Setenv(MasterKeyEnv, "not a key")
	code := run(context.Background(), []string{"serve", "--data", t.TempDir(), "--nats-listen", "off"}, &stdout, &stderr)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr.String(), MasterKeyEnv)
	assert.NotContains(t, stderr.String(), "not a key", "the key itself is never echoed")
}

func TestBadCommandLines(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"an unknown command", []string{"sserve"}, `unknown command "sserve"`},
		{"an unknown flag", []string{"serve", "--colour"}, "flag provided but not defined: -colour"},
		{"an http address without a port", []string{"serve", "--http", "localhost"}, `--http "localhost"`},
		{"a nats listen address that is neither host:port nor off", []string{"serve", "--nats-listen", "on"}, `--nats-listen "on"`},
		{"credentials without an external server", []string{"serve", "--nats-creds", "x.creds"}, "go with --nats-url"},
		{"both credentials and an nkey", []string{"serve", "--nats-url", "nats://a:4222", "--nats-creds", "a", "--nats-nkey", "b"}, "not both"},
		{"replicas on the embedded server", []string{"serve", "--replicas", "3"}, "needs a cluster"},
		{"too many replicas", []string{"serve", "--nats-url", "nats://a:4222", "--replicas", "7"}, "1 to 5"},
		{"an unknown batch staging", []string{"serve", "--batch-staging", "ram"}, `batch staging "ram": use auto, memory or disk`},
		{"batch staging with a cluster", []string{"serve", "--nats-url", "nats://a:4222", "--batch-staging", "disk"}, "goes with the embedded server"},
		{"an instance name with a space", []string{"serve", "--instance", "a b"}, `--instance "a b"`},
		{"an unknown log level", []string{"serve", "--log-level", "loud"}, `--log-level "loud"`},
		{"a stray argument", []string{"serve", "extra"}, "takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var stdout, stderr syncBuffer
			args := append(tt.args, "--data", dir)
			if tt.args[0] != "serve" {
				args = tt.args
			}
			code := run(context.Background(), args, &stdout, &stderr)
			assert.Equal(t, 2, code)
			assert.Contains(t, stderr.String(), tt.want)
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Empty(t, entries, "a bad command line writes nothing")
		})
	}
}

func TestServeRefusesABusyPort(t *testing.T) {
	_, key := vault.NewMasterKey()
	t.Setenv(MasterKeyEnv, key)
	dir := t.TempDir()
	base, _ := startServe(t, "--data", dir)
	addr := strings.TrimPrefix(base, "http://")
	var stdout, stderr syncBuffer
	code := run(context.Background(), []string{"serve", "--data", t.TempDir(), "--nats-listen", "off", "--http", addr}, &stdout, &stderr)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr.String(), "listen on "+addr)
}

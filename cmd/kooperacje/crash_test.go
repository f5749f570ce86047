package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/api"
	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
	"github.com/kooperacje/kooperacje/projections"
	"github.com/kooperacje/kooperacje/vault"
)

// childEnv makes the test binary behave as the kooperacje binary (see
// TestMain), so that the crash test kills a real process built with the
// same flags (-race included) without needing the Go tool at run time.
const childEnv = "KOOPERACJE_TEST_AS_BINARY"

// Settings of TestCrashSafety from the environment.
const (
	crashRoundsEnv = "KOOPERACJE_CRASH_ROUNDS" // kill-and-restart rounds (default crashRounds)
	crashSeedEnv   = "KOOPERACJE_CRASH_SEED"   // seed of the kill moments and the load (default: the clock)
	crashDirEnv    = "KOOPERACJE_CRASH_DIR"    // keep the data directory and the logs there (default: a temporary directory)
	crashRounds    = 25
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		main() // exits
	}
	os.Exit(m.Run())
}

// TestCrashSafety runs "kooperacje serve" as a child process on one data
// directory, drives commands through the HTTP API from several goroutines,
// kills the child with SIGKILL at a random moment, restarts it and checks
// that every acknowledged command is there, that a retried unacknowledged
// command is applied at most once, that the read models converge on the
// stream, and at the end that "kooperacje verify" finds every hash chain and
// stream checkpoint intact.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts the engine many times")
	}
	rounds := crashRounds
	if v := os.Getenv(crashRoundsEnv); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, crashRoundsEnv)
		rounds = n
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv(crashSeedEnv); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		require.NoError(t, err, crashSeedEnv)
		seed = n
	}
	t.Logf("%d rounds, %s=%d", rounds, crashSeedEnv, seed)

	h := newCrashHarness(t, seed)
	// Die during the very first starts too: creating the streams,
	// registering the first administrator.
	for i := range 3 {
		h.killDuringStart(fmt.Sprintf("first-start-%d", i), 400*time.Millisecond)
	}
	var prev *crashLedger
	for round := 0; round < rounds; round++ {
		c := h.start(round)
		if round == 0 {
			h.setUp(c)
		} else {
			h.check(c, prev)
		}
		prev = h.load(c, round)
		if h.rng.IntN(5) == 0 {
			// Also die while starting: recovering the store, catching the
			// projections up, writing the stream checkpoint.
			h.killDuringStart(fmt.Sprintf("round-%03d-start", round), time.Second)
		}
		if round == rounds/2 {
			// Commands cut off by the kill may be stored: the next check
			// retries and counts them.
			last := h.verify("after a kill")
			assert.LessOrEqual(t, last, h.maxSeq+uint64(len(prev.inflight)), "the stream holds only what was sent")
			h.compareCheckpoint("after a kill")
		}
		if t.Failed() {
			return
		}
	}
	c := h.start(rounds)
	h.check(c, prev)
	c.stop(t)
	last := h.verify("after a graceful stop")
	assert.Equal(t, h.maxSeq, last, "the stream ends at the last acknowledged command: nothing lost, nothing unaccounted for")
	assert.Equal(t, last, h.compareCheckpoint("after a graceful stop"), "the graceful stop checkpoints the read models at the end of the stream")
	t.Logf("%d commands acknowledged, %d in flight at a kill (%d of them had been stored), %d families",
		h.acked, h.inflight, h.storedInflight, len(h.families))
}

// crashHarness is the state of TestCrashSafety across rounds: what the
// engine acknowledged, aggregate by aggregate.
type crashHarness struct {
	t       *testing.T
	rng     *rand.Rand
	seed    uint64
	data    string
	logs    string
	keyFile string
	client  *http.Client
	current *crashChild

	token                   string
	mops, coordinator, pzk  string
	pzkVersion, instVersion int64
	families                map[string]*crashFamily
	maxSeq                  uint64
	acked, inflight         int
	storedInflight          int
	lastLogs                []string
	keyN                    atomic.Int64
}

// crashFamily is what the test knows of a family case: the version its
// last acknowledged command brought it to, and whether its task team is
// formed (so that team meetings may be recorded).
type crashFamily struct {
	version int64
	team    bool
}

// crashCmd is one command sent through the API.
type crashCmd struct {
	kind         string // open, diagnosis, team, meeting, pzk-meeting, worker
	method, path string
	key          string // Idempotency-Key
	body         any
	family       string // the family case written ("" for open before its answer, and for other aggregates)
	want         int    // the status of success
}

type crashAck struct {
	crashCmd
	res api.CommandResponse
}

// crashLedger is what one round of load sent: the commands acknowledged
// with their answers, and those whose answer the kill cut off.
type crashLedger struct {
	mu       sync.Mutex
	acked    []crashAck
	inflight []crashCmd
}

func newCrashHarness(t *testing.T, seed uint64) *crashHarness {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		dir = t.TempDir()
	} else {
		require.NoError(t, os.MkdirAll(dir, 0o700))
	}
	h := &crashHarness{t: t, rng: rand.New(rand.NewPCG(seed, 0)), seed: seed,
		data: filepath.Join(dir, "data"), logs: filepath.Join(dir, "logs"), keyFile: filepath.Join(dir, "master.key"),
		client: &http.Client{Timeout: 60 * time.Second}, families: map[string]*crashFamily{}}
	require.NoError(t, os.MkdirAll(h.logs, 0o700))
	_, key := vault.NewMasterKey()
	require.NoError(t, os.WriteFile(h.keyFile, []byte(key+"\n"), 0o600))
	t.Cleanup(func() {
		if h.current != nil {
			h.current.kill()
		}
		if t.Failed() {
			for _, p := range h.lastLogs {
				t.Logf("--- tail of %s:\n%s", p, tailOf(p, 40))
			}
		}
	})
	return h
}

// crashChild is one run of the engine as a child process.
type crashChild struct {
	cmd  *exec.Cmd
	base string // http://127.0.0.1:PORT
	log  string
	done chan struct{} // closed when the process has exited
	err  error         // its exit, once done is closed
}

var apiAddr = regexp.MustCompile(`API:\s+(http://\S+)/api/v1`)

// spawn starts the child with its output going to a log file.
func (h *crashHarness) spawn(name string, args ...string) *crashChild {
	h.t.Helper()
	path := filepath.Join(h.logs, name+".log")
	f, err := os.Create(path)
	require.NoError(h.t, err)
	cmd := exec.Command(os.Args[0], args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, MasterKeyEnv+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, childEnv+"=1")
	cmd.Stdout, cmd.Stderr = f, f
	require.NoError(h.t, cmd.Start())
	f.Close()
	c := &crashChild{cmd: cmd, log: path, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	h.lastLogs = append(h.lastLogs, path)
	if len(h.lastLogs) > 2 {
		h.lastLogs = h.lastLogs[len(h.lastLogs)-2:]
	}
	return c
}

func (h *crashHarness) serveArgs() []string {
	return []string{"serve", "--data", h.data, "--master-key-file", h.keyFile, "--http", "127.0.0.1:0",
		"--nats-listen", "off", "--instance", "crash", "--log-level", "debug"}
}

// start runs serve and waits until it answers.
func (h *crashHarness) start(round int) *crashChild {
	h.t.Helper()
	c := h.spawn(fmt.Sprintf("round-%03d", round), h.serveArgs()...)
	h.current = c
	deadline := time.Now().Add(3 * time.Minute)
	for {
		b, _ := os.ReadFile(c.log)
		if m := apiAddr.FindSubmatch(b); m != nil {
			c.base = string(m[1])
			return c
		}
		select {
		case <-c.done:
			h.current = nil
			h.t.Fatalf("round %d: serve exited before serving (%v):\n%s", round, c.err, tailOf(c.log, 40))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("round %d: serve did not start within 3 minutes:\n%s", round, tailOf(c.log, 40))
		}
	}
}

// killDuringStart starts serve and kills it at a random moment before
// within, whether it serves yet or not.
func (h *crashHarness) killDuringStart(name string, within time.Duration) {
	c := h.spawn(name, h.serveArgs()...)
	h.current = c
	select {
	case <-c.done:
		h.t.Fatalf("%s: serve exited by itself while starting (%v):\n%s", name, c.err, tailOf(c.log, 40))
	case <-time.After(time.Duration(h.rng.Int64N(int64(within)))):
	}
	c.kill()
	h.current = nil
}

// kill ends the child with SIGKILL: no shutdown, no last checkpoint.
func (c *crashChild) kill() {
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// stop ends the child with SIGTERM and requires a clean exit.
func (c *crashChild) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-c.done:
		require.NoError(t, c.err, "a graceful stop exits with 0:\n%s", tailOf(c.log, 20))
	case <-time.After(time.Minute):
		// SIGQUIT makes the Go runtime write every goroutine's stack to
		// the log before it exits.
		_ = c.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
			c.kill()
		}
		t.Fatalf("serve did not stop within a minute of SIGTERM; its goroutines are in %s", c.log)
	}
}

// verify runs "kooperacje verify" on the data directory (no engine runs)
// and returns the stream's last sequence.
func (h *crashHarness) verify(when string) uint64 {
	h.t.Helper()
	c := h.spawn("verify-"+strings.ReplaceAll(when, " ", "-"), "verify", "--data", h.data, "--master-key-file", h.keyFile, "--quiet")
	select {
	case <-c.done:
		require.NoError(h.t, c.err, "verify %s:\n%s", when, tailOf(c.log, 40))
	case <-time.After(3 * time.Minute):
		c.kill()
		h.t.Fatalf("verify %s did not end within 3 minutes", when)
	}
	out, err := os.ReadFile(c.log)
	require.NoError(h.t, err)
	assert.Contains(h.t, string(out), "every chain holds", "verify %s", when)
	var rep struct {
		Messages uint64 `json:"messages"`
		Last     uint64 `json:"last_sequence"`
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "{") {
			require.NoError(h.t, json.Unmarshal([]byte(line), &rep))
		}
	}
	assert.Equal(h.t, rep.Last, rep.Messages, "verify %s read every message of the stream", when)
	assert.GreaterOrEqual(h.t, rep.Last, h.maxSeq, "verify %s: the stream reaches every acknowledged command", when)
	return rep.Last
}

// compareCheckpoint rebuilds every read model from the stream up to the
// projections' last checkpoint (no engine runs) and requires the
// checkpoint to hold exactly the rebuilt state: the live read models,
// carried through every crash and restart, equal a replay from zero. It
// returns the checkpoint's sequence.
func (h *crashHarness) compareCheckpoint(when string) uint64 {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := storeConfig{data: h.data, natsListen: eventstore.ListenOff, stream: eventstore.DefaultStream, instance: "crash", masterKey: h.keyFile}
	store, _, done, err := openForCLI(ctx, &c)
	require.NoError(h.t, err)
	defer done()
	raw, err := store.LoadCheckpoint(ctx, "projections_crash")
	require.NoError(h.t, err)
	if raw == nil {
		h.t.Logf("%s: the projections have no checkpoint yet (each run was shorter than the interval)", when)
		return 0
	}
	var cp struct {
		Sequence    uint64                     `json:"sequence"`
		Projections map[string]json.RawMessage `json:"projections"`
	}
	require.NoError(h.t, json.Unmarshal(raw, &cp))
	ps := []projections.Projection{projections.NewInstitutions(), projections.NewPartnerships(), projections.NewUsers(), projections.NewFamilies()}
	st, err := projections.Rebuild(ctx, store, cp.Sequence, ps...)
	require.NoError(h.t, err)
	require.Equal(h.t, cp.Sequence, st.Position)
	for _, p := range ps {
		rebuilt, err := p.Snapshot()
		require.NoError(h.t, err)
		var a, b bytes.Buffer
		require.NoError(h.t, json.Compact(&a, cp.Projections[p.Name()]))
		require.NoError(h.t, json.Compact(&b, rebuilt))
		if a.String() != b.String() {
			live, fresh := filepath.Join(h.logs, p.Name()+"-checkpoint.json"), filepath.Join(h.logs, p.Name()+"-rebuilt.json")
			_ = os.WriteFile(live, a.Bytes(), 0o600)
			_ = os.WriteFile(fresh, b.Bytes(), 0o600)
			h.t.Errorf("%s: the checkpoint of the read model %s at sequence %d differs from a rebuild (%s, %s)", when, p.Name(), cp.Sequence, live, fresh)
		}
	}
	return cp.Sequence
}

// answer is the engine's answer to a command.
type answer struct {
	status   int
	replayed bool
	res      api.CommandResponse
	body     []byte
}

// send sends a command; an error means no answer came (the kill).
func (h *crashHarness) send(base string, c crashCmd) (answer, error) {
	var body io.Reader
	if c.body != nil {
		b, err := json.Marshal(c.body)
		if err != nil {
			return answer{}, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(c.method, base+c.path, body)
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Authorization", "Bearer "+h.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", c.key)
	resp, err := h.client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, replayed: resp.Header.Get("Idempotent-Replayed") == "true"}
	if a.body, err = io.ReadAll(resp.Body); err != nil {
		return answer{}, err
	}
	if a.status/100 == 2 {
		if err := json.Unmarshal(a.body, &a.res); err != nil {
			return a, fmt.Errorf("%s %s answered %d with %q: %w", c.method, c.path, a.status, a.body, err)
		}
	}
	return a, nil
}

// must sends a command that must succeed, and notes its answer.
func (h *crashHarness) must(base string, c crashCmd) api.CommandResponse {
	h.t.Helper()
	a, err := h.send(base, c)
	require.NoError(h.t, err)
	require.Equal(h.t, c.want, a.status, "%s %s: %s", c.method, c.path, a.body)
	h.note(crashAck{crashCmd: c, res: a.res})
	return a.res
}

// note records what an acknowledged command wrote.
func (h *crashHarness) note(a crashAck) {
	h.acked++
	h.maxSeq = max(h.maxSeq, a.res.Sequence)
	switch a.kind {
	case "pzk-meeting", "pzk":
		h.pzkVersion = max(h.pzkVersion, a.res.Version)
	case "worker", "institution":
		h.instVersion = max(h.instVersion, a.res.Version)
	case "open", "diagnosis", "team", "meeting":
		f := h.families[a.res.ID]
		if f == nil {
			f = &crashFamily{}
			h.families[a.res.ID] = f
		}
		f.version = max(f.version, a.res.Version)
		f.team = f.team || a.kind == "team"
	}
}

func (h *crashHarness) key(round int, who string) string {
	return fmt.Sprintf("crash-%d-%d-%s-%d", h.seed, round, who, h.keyN.Add(1))
}

// setUp reads the first administrator's token and registers the social
// welfare centre, its social worker and the partnership it leads.
func (h *crashHarness) setUp(c *crashChild) {
	h.t.Helper()
	tok, err := os.ReadFile(filepath.Join(h.data, AdminTokenFile))
	require.NoError(h.t, err)
	h.token = strings.TrimSpace(string(tok))
	h.mops = h.must(c.base, crashCmd{kind: "institution", method: http.MethodPost, path: "/api/v1/institutions", key: h.key(0, "setup"), want: http.StatusCreated,
		body: map[string]any{"name": "MOPS w Crashowie", "sector": "social_assistance", "municipality": "Crashów", "county": "crashowski"}}).ID
	h.must(c.base, crashCmd{kind: "worker", method: http.MethodPost, path: "/api/v1/workers", key: h.key(0, "setup"), want: http.StatusCreated,
		body: map[string]any{"institution_id": h.mops, "name": "Anna Koordynatorka", "position": "pracownik socjalny"}})
	h.pzk = h.must(c.base, crashCmd{kind: "pzk", method: http.MethodPost, path: "/api/v1/partnerships", key: h.key(0, "setup"), want: http.StatusCreated,
		body: map[string]any{"name": "PZK Crashów", "municipality": "Crashów", "county": "crashowski", "date": "2024-01-10",
			"place": "Urząd Miasta", "leader_id": h.mops, "reason": "spotkanie inicjujące"}}).ID
	var inst struct{ Workers []struct{ ID string } }
	require.Equal(h.t, http.StatusOK, h.get(c.base, fmt.Sprintf("/api/v1/institutions/%s?min_seq=%d", h.mops, h.maxSeq), &inst, nil))
	require.Len(h.t, inst.Workers, 1)
	h.coordinator = inst.Workers[0].ID
}

// get reads a query as the administrator; header, if not nil, receives
// the answer's headers.
func (h *crashHarness) get(base, path string, v any, header *http.Header) int {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	require.NoError(h.t, err)
	req.Header.Set("Authorization", "Bearer "+h.token)
	resp, err := h.client.Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	if resp.StatusCode == http.StatusOK && v != nil {
		require.NoError(h.t, json.Unmarshal(b, v), "%s", b)
	}
	if header != nil {
		*header = resp.Header
	}
	return resp.StatusCode
}

// load drives commands from several goroutines until it kills the child
// at a random moment, and returns what was acknowledged and what was cut
// off.
func (h *crashHarness) load(c *crashChild, round int) *crashLedger {
	h.t.Helper()
	l := &crashLedger{}
	var stop atomic.Bool
	var wg sync.WaitGroup
	run := func(who string, seed uint64, next func(rng *rand.Rand, last *crashAck) crashCmd) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(h.seed, seed))
			var last *crashAck
			for !stop.Load() {
				cmd := next(rng, last)
				cmd.key = h.key(round, who)
				a, err := h.send(c.base, cmd)
				if err != nil {
					l.mu.Lock()
					l.inflight = append(l.inflight, cmd)
					l.mu.Unlock()
					return
				}
				if a.status != cmd.want {
					h.t.Errorf("round %d: %s %s answered %d, not %d: %s", round, cmd.method, cmd.path, a.status, cmd.want, a.body)
					stop.Store(true)
					return
				}
				ack := crashAck{crashCmd: cmd, res: a.res}
				l.mu.Lock()
				l.acked = append(l.acked, ack)
				l.mu.Unlock()
				last = &ack
			}
		}()
	}
	// Family workers: each opens a case, records the coordinator's
	// diagnosis input, forms the task team and records its meetings, then
	// opens the next case.
	for i := range 4 {
		run(fmt.Sprintf("family%d", i), uint64(round*10+i+1), func(rng *rand.Rand, last *crashAck) crashCmd {
			switch {
			case last == nil || (last.kind == "meeting" && rng.IntN(3) == 0):
				return h.openCmd()
			case last.kind == "open":
				return h.familyCmd("diagnosis", last.res.ID)
			case last.kind == "diagnosis":
				return h.familyCmd("team", last.res.ID)
			default:
				return h.familyCmd("meeting", last.res.ID)
			}
		})
	}
	// Team meetings on the cases of earlier rounds: appending to
	// aggregates written before a crash.
	var old []string
	for id, f := range h.families {
		if f.team {
			old = append(old, id)
		}
	}
	if len(old) > 0 {
		run("old", uint64(round*10+7), func(rng *rand.Rand, _ *crashAck) crashCmd {
			return h.familyCmd("meeting", old[rng.IntN(len(old))])
		})
	}
	// The directory: the partnership's meetings and the centre's workers.
	run("directory", uint64(round*10+8), func(rng *rand.Rand, _ *crashAck) crashCmd {
		if rng.IntN(2) == 0 {
			return crashCmd{kind: "pzk-meeting", method: http.MethodPost, path: "/api/v1/partnerships/" + h.pzk + "/meetings", want: http.StatusCreated,
				body: map[string]any{"kind": "regular", "date": "2024-02-01", "place": "MOPS", "attendees": []string{h.mops}, "reason": "protokół"}}
		}
		return crashCmd{kind: "worker", method: http.MethodPost, path: "/api/v1/workers", want: http.StatusCreated,
			body: map[string]any{"institution_id": h.mops, "name": fmt.Sprintf("Pracownik %d", rng.IntN(1e6)), "position": "asystent rodziny"}}
	})

	// Mostly early kills; every third round runs past the projections'
	// checkpoint interval (2 s), so that restarts also resume from a
	// checkpoint instead of replaying from zero.
	delay := 100 + h.rng.IntN(1400)
	if h.rng.IntN(3) == 0 {
		delay = 2000 + h.rng.IntN(2000)
	}
	time.Sleep(time.Duration(delay) * time.Millisecond)
	stop.Store(true)
	c.kill()
	h.current = nil
	wg.Wait()
	h.client.CloseIdleConnections()
	for _, a := range l.acked {
		h.note(a)
	}
	return l
}

func (h *crashHarness) openCmd() crashCmd {
	return crashCmd{kind: "open", method: http.MethodPost, path: "/api/v1/families", want: http.StatusCreated, body: map[string]any{
		"partnership_id": h.pzk, "address": "ul. Awaryjna 1, Crashów", "opened_on": "2024-03-01",
		"household":   []map[string]any{{"person_id": domain.NewID(), "name": "Jan Testowy", "birth_date": "1980-01-01", "relation": "applicant"}},
		"referral":    map[string]any{"institution_id": h.mops, "reason": "zgłoszenie"},
		"coordinator": map[string]any{"worker_id": h.coordinator, "institution_id": h.mops},
	}}
}

func (h *crashHarness) familyCmd(kind, family string) crashCmd {
	c := crashCmd{kind: kind, method: http.MethodPost, family: family, want: http.StatusOK}
	path := "/api/v1/families/" + family
	switch kind {
	case "diagnosis":
		c.path, c.body = path+"/diagnosis", map[string]any{"area": "housing", "severity": "medium", "needs": "mieszkanie",
			"worker_id": h.coordinator, "institution_id": h.mops, "date": "2024-03-02"}
	case "team":
		c.path, c.body = path+"/team", map[string]any{"date": "2024-03-03", "members": []any{}}
	case "meeting":
		c.path, c.want, c.body = path+"/team/meetings", http.StatusCreated, map[string]any{"date": "2024-03-04",
			"attendees": []string{h.coordinator}, "decisions": []string{"dalsza praca"}}
	}
	return c
}

// check runs on a restarted engine: every command the last round had
// acknowledged is there, each command it cut off is retried and applied
// once, and the read models agree with the stream.
func (h *crashHarness) check(c *crashChild, l *crashLedger) {
	h.t.Helper()
	var ready struct{ Position uint64 }
	require.Equal(h.t, http.StatusOK, h.get(c.base, "/readyz", &ready, nil))
	assert.GreaterOrEqual(h.t, ready.Position, h.maxSeq, "the read models have caught up with every acknowledged command when serve answers")

	// A sample of the acknowledged commands, sent again: the first answer,
	// marked as replayed.
	for _, i := range h.rng.Perm(len(l.acked))[:min(5, len(l.acked))] {
		a := l.acked[i]
		again, err := h.send(c.base, a.crashCmd)
		require.NoError(h.t, err)
		assert.Equal(h.t, a.want, again.status, "%s %s sent again: %s", a.method, a.path, again.body)
		assert.True(h.t, again.replayed, "%s %s sent again after the crash is a replay", a.method, a.path)
		assert.Equal(h.t, a.res, again.res, "%s %s sent again answers as the first time", a.method, a.path)
	}

	// Every command cut off by the kill, retried with its key: it may or
	// may not have been stored, but it is applied once.
	touched := map[string]bool{}
	for _, a := range l.acked {
		if a.family != "" || a.kind == "open" {
			touched[a.res.ID] = true
		}
	}
	retried := map[string]bool{} // families with a retried command
	for _, cmd := range l.inflight {
		h.inflight++
		first, err := h.send(c.base, cmd)
		require.NoError(h.t, err)
		require.Equal(h.t, cmd.want, first.status, "%s %s retried after the crash: %s", cmd.method, cmd.path, first.body)
		if first.replayed {
			h.storedInflight++
		}
		second, err := h.send(c.base, cmd)
		require.NoError(h.t, err)
		assert.Equal(h.t, cmd.want, second.status, "%s %s retried twice: %s", cmd.method, cmd.path, second.body)
		assert.True(h.t, second.replayed, "%s %s retried twice: the second is a replay", cmd.method, cmd.path)
		assert.Equal(h.t, first.res, second.res, "%s %s retried twice answers the same", cmd.method, cmd.path)
		h.note(crashAck{crashCmd: cmd, res: first.res})
		if cmd.family != "" || cmd.kind == "open" {
			touched[first.res.ID] = true
			retried[first.res.ID] = true
		}
	}

	// The partnership and the institution: their read models stand at the
	// version of the last acknowledged command (each writes one event, one
	// writer each): nothing lost, nothing applied twice.
	var hdr http.Header
	require.Equal(h.t, http.StatusOK, h.get(c.base, fmt.Sprintf("/api/v1/partnerships/%s?min_seq=%d", h.pzk, h.maxSeq), nil, &hdr))
	assert.Equal(h.t, strconv.Quote(strconv.FormatInt(h.pzkVersion, 10)), hdr.Get("ETag"), "the partnership's version")
	require.Equal(h.t, http.StatusOK, h.get(c.base, fmt.Sprintf("/api/v1/institutions/%s?min_seq=%d", h.mops, h.maxSeq), nil, &hdr))
	assert.Equal(h.t, strconv.Quote(strconv.FormatInt(h.instVersion, 10)), hdr.Get("ETag"), "the institution's version")

	// Each family touched: its history (read from the stream) holds every
	// acknowledged command at the sequence and version it was answered
	// with, one message per command id, and ends at the version of the
	// last acknowledged command.
	acked := map[string][]crashAck{}
	for _, a := range l.acked {
		acked[a.res.ID] = append(acked[a.res.ID], a)
	}
	for id := range touched {
		var hist struct {
			Items []struct {
				Sequence  uint64 `json:"sequence"`
				Version   int64  `json:"version"`
				CommandID string `json:"command_id"`
				Type      string `json:"type"`
			}
		}
		require.Equal(h.t, http.StatusOK, h.get(c.base, "/api/v1/families/"+id+"/history", &hist, nil), "history of %s", id)
		at := map[uint64]int64{} // sequence → last version
		seqOf := map[string]uint64{}
		for i, e := range hist.Items {
			assert.Equal(h.t, int64(i+1), e.Version, "family %s: versions follow each other", id)
			at[e.Sequence] = e.Version
			if s, ok := seqOf[e.CommandID]; ok && s != e.Sequence {
				h.t.Errorf("family %s: command %s is stored twice, at sequences %d and %d", id, e.CommandID, s, e.Sequence)
			}
			seqOf[e.CommandID] = e.Sequence
		}
		for _, a := range acked[id] {
			assert.Equal(h.t, a.res.Version, at[a.res.Sequence], "family %s: the %s acknowledged at sequence %d, version %d", id, a.kind, a.res.Sequence, a.res.Version)
		}
		n := int64(len(hist.Items))
		assert.Equal(h.t, h.families[id].version, n, "family %s ends at its last acknowledged command (retried: %v)", id, retried[id])
	}

	// The families list (the read model) equals what the stream gives:
	// every family case, each at its version.
	var list struct {
		Items []struct {
			ID      string `json:"id"`
			Version int64  `json:"version"`
		}
	}
	require.Equal(h.t, http.StatusOK, h.get(c.base, fmt.Sprintf("/api/v1/families?min_seq=%d", h.maxSeq), &list, nil))
	got := map[string]int64{}
	for _, f := range list.Items {
		got[f.ID] = f.Version
	}
	want := map[string]int64{}
	for id, f := range h.families {
		want[id] = f.version
	}
	assert.Equal(h.t, want, got, "the families list agrees with the acknowledged commands")

	// Every message in the stream comes from a command the test sent and
	// has now seen acknowledged: the read models stand exactly at the last.
	require.Equal(h.t, http.StatusOK, h.get(c.base, "/readyz", &ready, nil))
	assert.Equal(h.t, h.maxSeq, ready.Position, "the read models stand at the stream's last sequence")
}

// tailOf returns the last n lines of a file.
func tailOf(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

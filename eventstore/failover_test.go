package eventstore_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
	"github.com/kooperacje/kooperacje/internal/natstest"
	"github.com/kooperacje/kooperacje/projections"
)

// The linearizability model: each aggregate is a versioned log of
// commands with optimistic concurrency and idempotency by command id.
// Append(cmd, expected v, n events) stores the command iff v is the
// current version, answering the new version; a command already stored
// answers its first result and changes nothing; a load answers the log.
//
// One allowance: an append may answer a conflict at the current version.
// The stream leader checks the expected sequence against writes it has
// proposed but not yet committed, so a concurrent append still in flight
// (which a load does not see yet, and which may yet fail) refuses this
// one. A conflict writes nothing and the caller decides again, so the
// allowance costs no safety; what the model still refuses is an append
// stored at a version other than the one it expected, a command stored
// twice, a retry of a stored command answered with anything but its first
// result, and a load that misses a completed append or shows one that
// never happened.

// logOp is the input of one operation on an aggregate: a Load, or an
// Append of n events by command cmd expected at version expected.
type logOp struct {
	aggregate string
	load      bool
	cmd       string
	expected  int64
	n         int
}

// logResult is the output of an operation. unknown marks an append whose
// outcome the client never learnt (an error or timeout): it may or may not
// have taken effect.
type logResult struct {
	unknown   bool
	conflict  bool
	duplicate bool
	version   int64  // an append's version after the command
	log       string // a load's commands, as logState.log
}

// logState is one aggregate's log: "cmd/n;" per stored command, in order,
// and the version (the number of events).
type logState struct {
	log     string
	version int64
}

// versionAfter returns the version the aggregate reached with cmd, if cmd
// is in the log.
func (s logState) versionAfter(cmd string) (int64, bool) {
	var v int64
	for entry := range strings.SplitSeq(s.log, ";") {
		id, n, ok := strings.Cut(entry, "/")
		if !ok {
			continue
		}
		k, _ := strconv.Atoi(n)
		v += int64(k)
		if id == cmd {
			return v, true
		}
	}
	return 0, false
}

var versionedLog = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		by := map[string][]porcupine.Operation{}
		var order []string
		for _, op := range history {
			a := op.Input.(logOp).aggregate
			if _, ok := by[a]; !ok {
				order = append(order, a)
			}
			by[a] = append(by[a], op)
		}
		out := make([][]porcupine.Operation, 0, len(order))
		for _, a := range order {
			out = append(out, by[a])
		}
		return out
	},
	Init: func() any { return logState{} },
	Step: func(state, input, output any) (bool, any) {
		st, in, out := state.(logState), input.(logOp), output.(logResult)
		if in.load {
			return out.log == st.log, st
		}
		if v, stored := st.versionAfter(in.cmd); stored {
			// A command already stored is never stored again; its retry
			// answers the first result.
			return out.unknown || (out.duplicate && !out.conflict && out.version == v), st
		}
		if out.conflict {
			return true, st // see the allowance above
		}
		if in.expected != st.version {
			return out.unknown, st
		}
		next := logState{log: fmt.Sprintf("%s%s/%d;", st.log, in.cmd, in.n), version: st.version + int64(in.n)}
		return out.unknown || (!out.duplicate && out.version == next.version), next
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(logOp), output.(logResult)
		if in.load {
			return fmt.Sprintf("load() → %s", logState{log: out.log}.short())
		}
		res := fmt.Sprintf("v%d", out.version)
		switch {
		case out.unknown:
			res = "?"
		case out.conflict:
			res = "conflict"
		case out.duplicate:
			res += " (duplicate)"
		}
		return fmt.Sprintf("append(%s/%d at v%d) → %s", in.cmd[len(in.cmd)-6:], in.n, in.expected, res)
	},
	DescribeState: func(state any) string { return state.(logState).short() },
}

// history records operations as a porcupine history.
type history struct {
	start time.Time
	mu    sync.Mutex
	ops   []porcupine.Operation
}

func (h *history) now() int64 { return int64(time.Since(h.start)) }

func (h *history) add(client int, in logOp, call int64, out logResult) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: h.now()})
}

// operations returns the history with every unknown outcome returning
// after everything else, Porcupine's way of saying "may have happened at
// any time after the call".
func (h *history) operations() []porcupine.Operation {
	h.mu.Lock()
	defer h.mu.Unlock()
	end := h.now() + 1
	ops := make([]porcupine.Operation, len(h.ops))
	for i, op := range h.ops {
		if op.Output.(logResult).unknown {
			op.Return = end
		}
		ops[i] = op
	}
	return ops
}

// loadLog returns the aggregate's commands as the model writes them.
func loadLog(ctx context.Context, s *eventstore.Store, id string) (string, error) {
	envs, err := s.Load(ctx, domain.AggregateInstitution, id)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for i := 0; i < len(envs); {
		j := i
		for j < len(envs) && envs[j].Sequence == envs[i].Sequence {
			j++
		}
		fmt.Fprintf(&b, "%s/%d;", envs[i].CommandID, j-i)
		i = j
	}
	return b.String(), nil
}

// faultClient is one goroutine of the workload, writing through one engine.
type faultClient struct {
	id    int
	store *eventstore.Store
	h     *history
	acked *sync.Map // command id → domain.Result, every acknowledged append
	stop  <-chan struct{}
	errs  atomic.Int64 // appends that failed other than by a conflict
}

func (c *faultClient) load(id string) (int64, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	call := c.h.now()
	log, err := loadLog(ctx, c.store, id)
	if err != nil {
		return 0, false // a read that failed constrains nothing: left out of the history
	}
	c.h.add(c.id, logOp{aggregate: id, load: true}, call, logResult{log: log})
	return logState{log: log}.versionAfterAll(), true
}

// short describes the log by its version, length and last command.
func (s logState) short() string {
	entries := strings.Split(strings.TrimSuffix(s.log, ";"), ";")
	last := entries[len(entries)-1]
	if i := strings.LastIndex(last, "-"); i >= 0 {
		last = last[i+7:] // the command id's last six digits, as appends show them
	}
	return fmt.Sprintf("v%d, %d commands, last %s", s.versionAfterAll(), len(entries), last)
}

// versionAfterAll returns the version at the end of the log.
func (s logState) versionAfterAll() int64 {
	var v int64
	for entry := range strings.SplitSeq(s.log, ";") {
		if _, n, ok := strings.Cut(entry, "/"); ok {
			k, _ := strconv.Atoi(n)
			v += int64(k)
		}
	}
	return v
}

// append appends one command of n events at version expected, retrying
// with the same command id after errors (each try is one operation of
// the history) until it is acknowledged or refused by a conflict. ok is
// false when the workload stopped first.
func (c *faultClient) append(id string, expected int64, n int) (res domain.Result, conflict, ok bool) {
	m := meta()
	events := []domain.Event{}
	if expected == 0 {
		events = append(events, institution("SP"))
	}
	for len(events) < n {
		events = append(events, worker("W"))
	}
	in := logOp{aggregate: id, cmd: m.CommandID, expected: expected, n: n}
	var giveUp time.Time
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		call := c.h.now()
		res, err := c.store.Append(ctx, domain.AggregateInstitution, id, expected, m, events...)
		cancel()
		switch {
		case err == nil:
			c.h.add(c.id, in, call, logResult{version: res.Version, duplicate: res.Duplicate})
			c.acked.Store(m.CommandID, res)
			return res, false, true
		case errors.Is(err, domain.ErrVersionConflict):
			c.h.add(c.id, in, call, logResult{conflict: true})
			return res, true, true
		}
		c.h.add(c.id, in, call, logResult{unknown: true})
		c.errs.Add(1)
		select {
		case <-c.stop:
			// Go on retrying a while after the fault, so that few tries
			// stay unknown when the cluster works again.
			if giveUp.IsZero() {
				giveUp = time.Now().Add(10 * time.Second)
			}
			if time.Now().After(giveUp) {
				return res, false, false
			}
		default:
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// soloWriter appends to its own aggregate, loading it now and then.
func (c *faultClient) soloWriter(id string) {
	var version int64
	for i := 0; ; i++ {
		select {
		case <-c.stop:
			return
		default:
		}
		if i%4 == 3 {
			c.load(id)
		}
		res, conflict, ok := c.append(id, version, 1+i%2)
		if !ok {
			return
		}
		if conflict {
			// Only this client writes here: a conflict would be a lost or
			// doubled write, which the history shows.
			if v, ok := c.load(id); ok {
				version = v
			}
			continue
		}
		version = res.Version
	}
}

// contender loads a shared aggregate and appends on the version it saw,
// as Handler.Execute does.
func (c *faultClient) contender(id string) {
	for i := 0; ; i++ {
		select {
		case <-c.stop:
			return
		default:
		}
		v, ok := c.load(id)
		if !ok {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if v == 0 {
			continue // the setup has not registered it yet
		}
		if _, _, ok := c.append(id, v, 1); !ok {
			return
		}
	}
}

// streamLeader returns the server name of the stream's leader, asking
// through s until one is known or the timeout passes.
func streamLeader(t *testing.T, s *eventstore.Store, not string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		info, err := s.JetStream().Stream(ctx, s.StreamName())
		cancel()
		if err == nil {
			if cl := info.CachedInfo().Cluster; cl != nil && cl.Leader != "" && cl.Leader != not {
				return cl.Leader
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no stream leader other than %q after %s", not, timeout)
	return ""
}

// TestLeaderFailoverLosesNoAcknowledgedCommand stops the stream's leader
// under a load of concurrent commands, on aggregates of their own and on
// contended ones, through two engines, and restarts it later. No
// acknowledged command may be lost or stored twice, writes must resume on
// the new leader, both engines' projections must converge, and the
// history of appends and loads must be linearizable per aggregate.
func TestLeaderFailoverLosesNoAcknowledgedCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("a fault test of about half a minute")
	}
	c := natstest.StartCluster(t, 3)
	engines := []*eventstore.Store{openEngine(t, c, "engine-a"), openEngine(t, c, "engine-b")}
	ra, va := startProjections(t, engines[0], "engine-a")
	rb, vb := startProjections(t, engines[1], "engine-b")

	h := &history{start: time.Now()}
	var acked sync.Map
	stop := make(chan struct{})
	var clients []*faultClient
	newClient := func() *faultClient {
		fc := &faultClient{id: len(clients), store: engines[len(clients)%2], h: h, acked: &acked, stop: stop}
		clients = append(clients, fc)
		return fc
	}
	const solo, shared, perShared = 6, 2, 3
	var aggregates []string
	var wg sync.WaitGroup
	for range solo {
		id := domain.NewID()
		aggregates = append(aggregates, id)
		fc := newClient()
		wg.Go(func() { fc.soloWriter(id) })
	}
	for range shared {
		id := domain.NewID()
		aggregates = append(aggregates, id)
		_, _, ok := newClient().append(id, 0, 1)
		require.True(t, ok)
		for range perShared {
			fc := newClient()
			wg.Go(func() { fc.contender(id) })
		}
	}

	time.Sleep(2 * time.Second)
	leader := streamLeader(t, engines[0], "", 10*time.Second)
	stoppedAt := h.now()
	c.Stop(leader)
	t.Logf("stopped the stream leader %s at %s", leader, time.Duration(stoppedAt))
	newLeader := streamLeader(t, engines[1], leader, 30*time.Second)
	t.Logf("%s leads the stream after %s", newLeader, time.Duration(h.now()-stoppedAt))
	// Long enough for the clients of the stopped node to reconnect
	// elsewhere (nats.go waits two seconds before a reconnect).
	time.Sleep(4 * time.Second)
	restartedAt := h.now()
	c.Restart(leader)
	c.WaitForStreamCurrent(engines[0].StreamName(), 30*time.Second)
	t.Logf("%s restarted and current after %s", leader, time.Duration(h.now()-restartedAt))
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()

	ops := h.operations()
	var during, after, unknown int
	for _, op := range ops {
		in, out := op.Input.(logOp), op.Output.(logResult)
		switch {
		case out.unknown:
			unknown++
		case in.load || out.conflict:
		case op.Call > stoppedAt && op.Return < restartedAt:
			during++
		case op.Call > restartedAt:
			after++
		}
	}
	var failed int64
	for _, fc := range clients {
		failed += fc.errs.Load()
	}
	t.Logf("%d operations: %d appends acknowledged while %s was down, %d after it came back, %d tries with unknown outcome (%d failed appends)",
		len(ops), during, leader, after, unknown, failed)
	assert.Positive(t, during, "writes resume on the new leader")
	assert.Positive(t, after, "writes go on after the old leader's restart")

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	t.Run("no acknowledged command is lost", func(t *testing.T) {
		stored := map[string]domain.Result{}
		for _, id := range aggregates {
			envs, err := engines[0].Load(ctx, domain.AggregateInstitution, id)
			require.NoError(t, err)
			for _, e := range envs {
				stored[e.CommandID] = domain.Result{Version: e.AggregateVersion, Sequence: e.Sequence}
			}
		}
		n := 0
		acked.Range(func(k, v any) bool {
			n++
			want, got := v.(domain.Result), stored[k.(string)]
			assert.Equal(t, want.Sequence, got.Sequence, "command %s", k)
			assert.Equal(t, want.Version, got.Version, "command %s", k)
			return true
		})
		assert.Positive(t, n)
	})

	t.Run("no command is stored twice", func(t *testing.T) {
		seen := map[string]uint64{}
		err := engines[1].Read(ctx, 0, 0, func(seq uint64, envs []domain.Envelope, err error) error {
			if err != nil {
				return err
			}
			if first, ok := seen[envs[0].CommandID]; ok {
				t.Errorf("command %s stored at sequences %d and %d", envs[0].CommandID, first, seq)
			}
			seen[envs[0].CommandID] = seq
			return nil
		})
		require.NoError(t, err)
	})

	t.Run("both engines' projections converge", func(t *testing.T) {
		requireConverged(t, engines[0], []*projections.Runner{ra, rb}, []*projections.Institutions{va, vb})
		for _, id := range aggregates {
			envs, err := engines[1].Load(ctx, domain.AggregateInstitution, id)
			require.NoError(t, err)
			v, ok := vb.Get(id)
			require.True(t, ok, "institution %s", id)
			assert.Equal(t, envs[len(envs)-1].AggregateVersion, v.Version, "institution %s", id)
		}
	})

	t.Run("appends and loads are linearizable", func(t *testing.T) {
		res, info := porcupine.CheckOperationsVerbose(versionedLog, ops, time.Minute)
		if res != porcupine.Ok {
			path := filepath.Join(t.ArtifactDir(), "linearizability.html")
			if err := porcupine.VisualizePath(versionedLog, info, path); err != nil {
				t.Logf("write the visualization: %v", err)
			}
			for _, part := range versionedLog.Partition(ops) {
				if porcupine.CheckOperations(versionedLog, part) {
					continue
				}
				slices.SortFunc(part, func(a, b porcupine.Operation) int { return cmp.Compare(a.Call, b.Call) })
				// The shortest illegal prefix, by call time, and the
				// operations just before its end.
				end := len(part)
				for end > 1 && !porcupine.CheckOperations(versionedLog, part[:end-1]) {
					end--
				}
				var b strings.Builder
				for _, op := range part[max(0, end-15):end] {
					fmt.Fprintf(&b, "client %d [%s, %s] %s\n", op.ClientId, time.Duration(op.Call), time.Duration(op.Return),
						versionedLog.DescribeOperation(op.Input, op.Output))
				}
				t.Logf("aggregate %s is not linearizable:\n%s", part[0].Input.(logOp).aggregate, b.String())
			}
			t.Fatalf("history of %d operations is %s; visualization: %s (kept with go test -artifacts)", len(ops), res, path)
		}
	})
}

// TestVersionedLogModelRefusesWhatTheStoreMustNotDo checks the model the
// failover test relies on: it must reject a stale load, a command stored
// twice and a lost acknowledged append, or the check would prove nothing.
func TestVersionedLogModelRefusesWhatTheStoreMustNotDo(t *testing.T) {
	op := func(client int, in logOp, call, ret int64, out logResult) porcupine.Operation {
		in.aggregate = "a"
		return porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret}
	}
	first := op(0, logOp{cmd: "c1", n: 1}, 0, 10, logResult{version: 1})
	tests := []struct {
		name  string
		ops   []porcupine.Operation
		legal bool
	}{
		{"a load after an append sees it", []porcupine.Operation{first,
			op(1, logOp{load: true}, 11, 12, logResult{log: "c1/1;"})}, true},
		{"a load after an append misses it", []porcupine.Operation{first,
			op(1, logOp{load: true}, 11, 12, logResult{log: ""})}, false},
		{"a load concurrent with an append may miss it", []porcupine.Operation{first,
			op(1, logOp{load: true}, 5, 12, logResult{log: ""})}, true},
		{"a retry of a stored command answers its first result", []porcupine.Operation{first,
			op(0, logOp{cmd: "c1", n: 1}, 11, 12, logResult{version: 1, duplicate: true})}, true},
		{"a retry of a stored command is stored again", []porcupine.Operation{first,
			op(0, logOp{cmd: "c1", n: 1}, 11, 12, logResult{version: 2})}, false},
		{"a retry of a stored command conflicts", []porcupine.Operation{first,
			op(0, logOp{cmd: "c1", n: 1}, 11, 12, logResult{conflict: true})}, false},
		{"an unknown append may have happened", []porcupine.Operation{
			op(0, logOp{cmd: "c1", n: 1}, 0, 100, logResult{unknown: true}),
			op(1, logOp{load: true}, 11, 12, logResult{log: "c1/1;"}),
		}, true},
		{"an append at the current version may conflict with one in flight", []porcupine.Operation{
			op(0, logOp{cmd: "c1", n: 1}, 0, 10, logResult{unknown: true}),
			op(1, logOp{cmd: "c2", n: 1}, 1, 2, logResult{conflict: true}),
			op(1, logOp{load: true}, 3, 4, logResult{log: ""}),
		}, true},
		{"an append at a stale version succeeds", []porcupine.Operation{first,
			op(1, logOp{cmd: "c2", expected: 0, n: 1}, 11, 12, logResult{version: 1})}, false},
		{"two appends on one version both succeed", []porcupine.Operation{first,
			op(1, logOp{cmd: "c2", n: 1}, 0, 10, logResult{version: 1})}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.legal, porcupine.CheckOperations(versionedLog, tt.ops))
		})
	}
}

// Package natstest runs real nats-server nodes inside a test process: a
// three-node JetStream cluster on loopback whose nodes can be stopped and
// restarted on their own store directories, for tests of the engine
// against a replicated stream and its failover. It is for tests only.
package natstest

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Cluster is a JetStream cluster of nodes running in the test process.
// Its methods fail the test on error; they are safe for concurrent use.
type Cluster struct {
	tb    testing.TB
	mu    sync.Mutex
	nodes []*node
}

type node struct {
	opts *server.Options // the options every start of the node uses
	srv  *server.Server  // nil while stopped
}

// StartCluster starts a cluster of n nodes (three for R3) on loopback, each
// storing in its own t.TempDir with every write fsynced before it is
// acknowledged (sync_interval: always), and waits until the nodes have
// elected a JetStream meta leader. The cluster shuts down when the test
// ends.
func StartCluster(tb testing.TB, n int) *Cluster {
	tb.Helper()
	// Fixed ports, so that a restarted node comes back where its peers
	// and the clients look for it.
	clientPorts, routePorts := freePorts(tb, n), freePorts(tb, n)
	routes := make([]string, n)
	for i, p := range routePorts {
		routes[i] = fmt.Sprintf("nats-route://127.0.0.1:%d", p)
	}
	c := &Cluster{tb: tb}
	for i := range n {
		c.nodes = append(c.nodes, &node{opts: &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1),
			Host:       "127.0.0.1",
			Port:       clientPorts[i],
			JetStream:  true,
			StoreDir:   tb.TempDir(),
			SyncAlways: true,
			NoLog:      true,
			NoSigs:     true,
			Cluster: server.ClusterOpts{
				Name: "kooperacje-test",
				Host: "127.0.0.1",
				Port: routePorts[i],
			},
			Routes: server.RoutesFromStr(strings.Join(routes, ",")),
		}})
	}
	tb.Cleanup(c.shutdown)
	for i := range c.nodes {
		c.start(i)
	}
	c.WaitForMetaLeader()
	return c
}

// freePorts returns n TCP ports free on loopback at the time of the call.
func freePorts(tb testing.TB, n int) []int {
	tb.Helper()
	ports := make([]int, n)
	ls := make([]net.Listener, n)
	for i := range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatalf("natstest: find a free port: %v", err)
		}
		ls[i], ports[i] = l, l.Addr().(*net.TCPAddr).Port
	}
	for _, l := range ls {
		_ = l.Close()
	}
	return ports
}

func (c *Cluster) start(i int) {
	c.tb.Helper()
	nd := c.nodes[i] // the slice of nodes never changes, their servers do
	opts := *nd.opts // the server keeps and may change its options: give each start its own copy
	srv, err := server.NewServer(&opts)
	if err != nil {
		c.tb.Fatalf("natstest: new server %s: %v", opts.ServerName, err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		c.tb.Fatalf("natstest: server %s not ready after 30s", opts.ServerName)
	}
	c.mu.Lock()
	nd.srv = srv
	c.mu.Unlock()
}

// URL returns the client URLs of every node, comma separated, as
// eventstore.Options.URL and nats.Connect take them.
func (c *Cluster) URL() string {
	urls := make([]string, len(c.nodes))
	for i, nd := range c.nodes {
		urls[i] = fmt.Sprintf("nats://127.0.0.1:%d", nd.opts.Port)
	}
	return strings.Join(urls, ",")
}

// ClientURL returns the client URL of the named node alone, for a client
// that must talk to that node (a follower, say).
func (c *Cluster) ClientURL(name string) string {
	c.tb.Helper()
	return fmt.Sprintf("nats://127.0.0.1:%d", c.nodes[c.index(name)].opts.Port)
}

// Names returns the nodes' server names ("n1", "n2", …), as stream info
// reports them in Cluster.Leader and Cluster.Replicas.
func (c *Cluster) Names() []string {
	names := make([]string, len(c.nodes))
	for i, nd := range c.nodes {
		names[i] = nd.opts.ServerName
	}
	return names
}

func (c *Cluster) index(name string) int {
	c.tb.Helper()
	for i, nd := range c.nodes {
		if nd.opts.ServerName == name {
			return i
		}
	}
	c.tb.Fatalf("natstest: no node called %q", name)
	return -1
}

// Stop shuts the named node down and keeps its store directory for
// Restart. Its clients and routes drop at once; it is nats-server's own
// shutdown, not a power cut, so it may hand its leaderships on first. What
// survives is what it had fsynced, which with SyncAlways is every write it
// acknowledged.
func (c *Cluster) Stop(name string) {
	c.tb.Helper()
	nd := c.nodes[c.index(name)]
	c.mu.Lock()
	srv := nd.srv
	nd.srv = nil
	c.mu.Unlock()
	if srv == nil {
		c.tb.Fatalf("natstest: node %s is not running", name)
	}
	srv.Shutdown()
	srv.WaitForShutdown()
}

// Restart starts the named, stopped node again on its store directory and
// ports.
func (c *Cluster) Restart(name string) {
	c.tb.Helper()
	i := c.index(name)
	c.mu.Lock()
	running := c.nodes[i].srv != nil
	c.mu.Unlock()
	if running {
		c.tb.Fatalf("natstest: node %s is running", name)
	}
	c.start(i)
}

// Server returns the running server of the named node, or nil when it is
// stopped.
func (c *Cluster) Server(name string) *server.Server {
	c.tb.Helper()
	i := c.index(name)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i].srv
}

func (c *Cluster) running() []*server.Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*server.Server
	for _, nd := range c.nodes {
		if nd.srv != nil {
			out = append(out, nd.srv)
		}
	}
	return out
}

// WaitForMetaLeader waits up to 30 seconds until a running node leads the
// JetStream meta group and every running node is current with it.
func (c *Cluster) WaitForMetaLeader() {
	c.tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		leader, current := false, true
		for _, s := range c.running() {
			leader = leader || s.JetStreamIsLeader()
			current = current && s.JetStreamIsCurrent()
		}
		if leader && current {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.tb.Fatalf("natstest: no JetStream meta leader after 30s")
}

// WaitForStreamCurrent waits up to timeout until every running node holds
// a current replica of the stream (in the global account), for example
// after a restarted node has caught up.
func (c *Cluster) WaitForStreamCurrent(stream string, timeout time.Duration) {
	c.tb.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		ok, leader := true, false
		for _, s := range c.running() {
			ok = ok && s.JetStreamIsStreamCurrent(server.DEFAULT_GLOBAL_ACCOUNT, stream)
			leader = leader || s.JetStreamIsStreamLeader(server.DEFAULT_GLOBAL_ACCOUNT, stream)
		}
		if ok && leader {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.tb.Fatalf("natstest: stream %s not current on every node after %s", stream, timeout)
}

func (c *Cluster) shutdown() {
	for _, s := range c.running() {
		s.Shutdown()
		s.WaitForShutdown()
	}
}

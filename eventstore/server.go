package eventstore

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// Files the embedded server keeps in the data directory.
const (
	// NKeyFile holds the seed of the only user the embedded server accepts,
	// readable by its owner only. The plain nats CLI uses it with --nkey.
	NKeyFile = "nats-user.nk"
	// JetStreamDir holds JetStream's file store, below the data directory.
	JetStreamDir = "jetstream"
)

// syncQueueLen bounds the buffer of the connection's synchronous
// subscriptions. jetstreamext.GetBatch makes one per request (the access
// log's reads; Load has its own reply subscription, see directGetter), and
// nats.go's default (65,536 slots, half a megabyte allocated and cleared
// per subscription) cost more in garbage collection than the reading; a
// direct-get batch holds at most loadBatch messages.
const syncQueueLen = 4 * loadBatch

// ListenOff tells the embedded server not to listen on TCP: the engine
// connects in process and no outside client can.
const ListenOff = "off"

// DefaultListen is where the embedded server listens by default: loopback
// only, the standard NATS port.
const DefaultListen = "127.0.0.1:4222"

// embedded is a nats-server running inside this process.
type embedded struct {
	srv      *server.Server
	seedPath string
	stager   *stager
}

// startEmbedded starts a JetStream server storing under dataDir. listen is
// "host:port", or ListenOff. With syncAlways every write is fsynced before
// it is acknowledged; staging says where atomic batches are staged.
func startEmbedded(dataDir, listen string, syncAlways bool, staging BatchStaging, log *slog.Logger) (*embedded, error) {
	if dataDir == "" {
		return nil, errors.New("embedded server: a data directory is required")
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded server: create data directory: %w", err)
	}
	seedPath := filepath.Join(dataDir, NKeyFile)
	pub, err := ensureUserNKey(seedPath)
	if err != nil {
		return nil, fmt.Errorf("embedded server: %w", err)
	}
	opts := &server.Options{
		ServerName: "kooperacje",
		JetStream:  true,
		StoreDir:   dataDir, // nats-server keeps its file store in <dataDir>/jetstream
		SyncAlways: syncAlways,
		NoSigs:     true,
		NoLog:      log == nil,
		Nkeys:      []*server.NkeyUser{{Nkey: pub}},
	}
	if listen == ListenOff {
		opts.DontListen = true
	} else {
		host, port, err := splitListen(listen)
		if err != nil {
			return nil, err
		}
		opts.Host, opts.Port = host, port
	}
	// nats-server keeps its file store in <dataDir>/jetstream.
	st, err := newStager(filepath.Join(dataDir, "jetstream"), staging)
	if err != nil {
		return nil, fmt.Errorf("embedded server: %w", err)
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded server: %w", err)
	}
	if log != nil {
		srv.SetLoggerV2(serverLogger{log}, false, false, false)
	}
	go srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("embedded server: not ready after 30s (is %s already in use?)", listen)
	}
	return &embedded{srv: srv, seedPath: seedPath, stager: st}, nil
}

// splitListen parses "host:port"; port 0 picks a free port.
func splitListen(listen string) (string, int, error) {
	host, p, err := net.SplitHostPort(listen)
	if err != nil {
		return "", 0, fmt.Errorf("nats listen address %q: want host:port or %q: %w", listen, ListenOff, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("nats listen address %q: port %q is not a number from 0 to 65535", listen, p)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	return host, port, nil
}

// ensureUserNKey returns the public key of the user whose seed is at path,
// creating the seed (owner-readable only) on first use.
func ensureUserNKey(path string) (string, error) {
	seed, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		kp, err := nkeys.CreateUser()
		if err != nil {
			return "", fmt.Errorf("create nkey: %w", err)
		}
		if seed, err = kp.Seed(); err != nil {
			return "", fmt.Errorf("create nkey: %w", err)
		}
		if err := os.WriteFile(path, append(seed, '\n'), 0o600); err != nil {
			return "", fmt.Errorf("write %s: %w", path, err)
		}
	} else if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	// Whatever happened to the file since, it stays the owner's alone.
	if err := os.Chmod(path, 0o600); err != nil {
		return "", fmt.Errorf("chmod %s: %w", path, err)
	}
	kp, err := nkeys.ParseDecoratedNKey(seed)
	if err != nil {
		return "", fmt.Errorf("%s does not hold an nkey seed: %w", path, err)
	}
	return kp.PublicKey()
}

// connect opens a client connection to the embedded server, in process.
func (e *embedded) connect(name string) (*nats.Conn, error) {
	auth, err := nats.NkeyOptionFromSeed(e.seedPath)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", e.seedPath, err)
	}
	return nats.Connect("", nats.InProcessServer(e.srv), auth, nats.Name(name), nats.MaxReconnects(-1), nats.SyncQueueLen(syncQueueLen))
}

// clientURL returns the address outside clients use, or "" when the server
// does not listen.
func (e *embedded) clientURL() string {
	if e.srv.Addr() == nil {
		return ""
	}
	return e.srv.ClientURL()
}

func (e *embedded) shutdown() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
	e.stager.close()
}

// serverLogger sends nats-server's log lines to slog.
type serverLogger struct{ log *slog.Logger }

func (l serverLogger) Noticef(format string, v ...any) {
	l.log.Debug(fmt.Sprintf(format, v...), "component", "nats-server")
}
func (l serverLogger) Warnf(format string, v ...any) {
	l.log.Warn(fmt.Sprintf(format, v...), "component", "nats-server")
}
func (l serverLogger) Fatalf(format string, v ...any) {
	l.log.Error(fmt.Sprintf(format, v...), "component", "nats-server")
}
func (l serverLogger) Errorf(format string, v ...any) {
	l.log.Error(fmt.Sprintf(format, v...), "component", "nats-server")
}
func (l serverLogger) Debugf(format string, v ...any) {
	l.log.Debug(fmt.Sprintf(format, v...), "component", "nats-server")
}
func (l serverLogger) Tracef(string, ...any) {}

// Package eventstore keeps the events of Kooperacje on NATS JetStream: one
// stream, one subject per aggregate instance (koop.<aggregate>.<id>), one
// message per command holding that command's events (see
// docs/decisions/0001-one-message-per-command.md).
//
// By default it runs an embedded nats-server with JetStream file storage
// under the data directory, fsyncing every write before acknowledging it;
// with a URL it uses an external server or cluster instead.
//
// Group commit (docs/decisions/0007-group-commit.md): Append hands its
// message to one committer goroutine. A lone message goes out as a plain
// publish; messages of concurrent appends that wait together go out as one
// JetStream atomic batch (at most one per subject, up to MaxBatch), stored
// with one fsync, each keeping its own expected subject sequence and
// message id, and each told its sequence from the batch ack (a batch is
// stored consecutively). A batch the server refuses was stored not at all;
// its messages are then published one by one, so that every Append gets
// exactly the answer it would have got alone: its sequence, a version
// conflict, or the first result of a retried command.
package eventstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/kooperacje/kooperacje/domain"
)

// Defaults of Options.
const (
	DefaultStream     = "KOOPERACJE"
	DefaultDuplicates = 10 * time.Minute
	// MaxCommitBytes bounds the encoded events of one command; NATS's
	// default max_payload is 1 MiB.
	MaxCommitBytes = 900 * 1024
	subjectPrefix  = "koop"
)

// Options say where the events live.
type Options struct {
	// DataDir is the embedded server's data directory. Ignored with URL.
	DataDir string
	// Listen is the embedded server's client address ("127.0.0.1:4222",
	// "127.0.0.1:0" for any free port, or ListenOff). Empty means ListenOff.
	Listen string
	// URL points at an external NATS server or cluster instead of the
	// embedded one ("nats://a:4222,nats://b:4222").
	URL string
	// CredsFile (a .creds file with JWT and seed) or NKeyFile (an nkey seed)
	// authenticate to the external server.
	CredsFile, NKeyFile string
	// Stream is the stream's name (DefaultStream if empty).
	Stream string
	// Replicas of the stream: 1 embedded; with URL, 0 keeps an existing
	// stream's replicas and creates a new one with 3.
	Replicas int
	// Duplicates is the stream's deduplication window (DefaultDuplicates).
	Duplicates time.Duration
	// NoSync lets the embedded server acknowledge writes before they are
	// fsynced (JetStream's default of a sync every two minutes). Never set it
	// for real data: a power cut loses acknowledged commands. Benchmarks use
	// it to compare.
	NoSync bool
	// BatchStaging says where the embedded server stages atomic batches
	// (StagingAuto: in memory where Linux's tmpfs is at hand). Ignored with
	// URL: a cluster stages in memory anyway. See
	// docs/decisions/0010-batch-staging-in-memory.md.
	BatchStaging BatchStaging
	// NoGroupCommit makes every Append publish its message on its own
	// instead of through the group commit (see
	// docs/decisions/0007-group-commit.md). Benchmarks use it to compare.
	NoGroupCommit bool
	// Name identifies this engine's connections in the server's
	// monitoring; the group commit's own connection is Name + "-commit".
	Name string
	// Logger receives the embedded server's log; nil silences it.
	Logger *slog.Logger
}

// Store is the event store. It is safe for concurrent use.
type Store struct {
	nc     *nats.Conn
	wnc    *nats.Conn // the committer's, when group commit is on
	js     jetstream.JetStream
	stream jetstream.Stream
	name   string
	emb    *embedded
	now    func() time.Time

	mu   sync.Mutex
	last map[string]position   // subject → last known position, to map versions to sequences
	obs  jetstream.ObjectStore // checkpoint bucket, opened on first use

	protector Protector

	gets   *directGetter // the batched direct gets of Load
	gc     *committer    // nil with NoGroupCommit
	single atomic.Uint64 // messages published alone without a committer
}

// position is where an aggregate's last command sits in the stream.
type position struct {
	version  int64
	sequence uint64
	hash     string // the hash of the aggregate's last event
}

// Open starts the embedded server (or connects to opts.URL), then creates
// or updates the stream. Call Close when done.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Stream == "" {
		opts.Stream = DefaultStream
	}
	if opts.Duplicates == 0 {
		opts.Duplicates = DefaultDuplicates
	}
	if opts.Name == "" {
		opts.Name = "kooperacje"
	}
	s := &Store{name: opts.Stream, now: time.Now, last: map[string]position{}}
	var err error
	if opts.URL == "" {
		if opts.Listen == "" {
			opts.Listen = ListenOff
		}
		if opts.Replicas == 0 {
			opts.Replicas = 1
		}
		if s.emb, err = startEmbedded(opts.DataDir, opts.Listen, !opts.NoSync, opts.BatchStaging, opts.Logger); err != nil {
			return nil, err
		}
	}
	s.nc, err = s.connect(opts, "")
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("connect to nats: %w", err)
	}
	if s.js, err = jetstream.New(s.nc); err != nil {
		s.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	if err := s.ensureStream(ctx, opts); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.StageBatches(s.name); err != nil {
		s.Close()
		return nil, err
	}
	if s.gets, err = newDirectGetter(s.js, s.name); err != nil {
		s.Close()
		return nil, err
	}
	if !opts.NoGroupCommit {
		// The committer publishes on a connection of its own: the server
		// reads each connection in order, and a read waiting for a batch
		// being committed would otherwise hold up the next batch behind it.
		if s.wnc, err = s.connect(opts, "-commit"); err != nil {
			s.Close()
			return nil, fmt.Errorf("connect to nats: %w", err)
		}
		wjs, err := jetstream.New(s.wnc)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("jetstream: %w", err)
		}
		// A forming batch is sent ahead unless the embedded server stages
		// batches on disk (an external cluster stages them in memory).
		s.gc = newCommitter(wjs, s.name, MinBatch, MaxBatch, s.emb == nil || s.emb.stager.inMemory())
	}
	return s, nil
}

// connect opens a connection to the embedded server or the external one,
// named after opts.Name and suffix.
func (s *Store) connect(opts Options, suffix string) (*nats.Conn, error) {
	if s.emb != nil {
		return s.emb.connect(opts.Name + suffix)
	}
	return connectExternal(opts, opts.Name+suffix)
}

func connectExternal(opts Options, name string) (*nats.Conn, error) {
	nopts := []nats.Option{nats.Name(name), nats.MaxReconnects(-1), nats.SyncQueueLen(syncQueueLen)}
	switch {
	case opts.CredsFile != "" && opts.NKeyFile != "":
		return nil, errors.New("give either a credentials file or an nkey file, not both")
	case opts.CredsFile != "":
		nopts = append(nopts, nats.UserCredentials(opts.CredsFile))
	case opts.NKeyFile != "":
		o, err := nats.NkeyOptionFromSeed(opts.NKeyFile)
		if err != nil {
			return nil, fmt.Errorf("load nkey %s: %w", opts.NKeyFile, err)
		}
		nopts = append(nopts, o)
	}
	return nats.Connect(opts.URL, nopts...)
}

// StreamConfig returns the stream settings for an audit-grade log: nothing
// expires or is ever deleted or purged through the API, duplicates are
// detected within the window, and atomic batches and direct gets are
// allowed.
func StreamConfig(name string, replicas int, duplicates time.Duration) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:               name,
		Description:        "Kooperacje events: one subject per aggregate, one message per command",
		Subjects:           []string{subjectPrefix + ".>"},
		Retention:          jetstream.LimitsPolicy,
		MaxAge:             0,
		MaxMsgs:            -1,
		MaxBytes:           -1,
		MaxMsgsPerSubject:  -1,
		MaxMsgSize:         1024 * 1024,
		Discard:            jetstream.DiscardNew,
		Storage:            jetstream.FileStorage,
		Replicas:           replicas,
		Duplicates:         duplicates,
		DenyDelete:         true,
		DenyPurge:          true,
		AllowDirect:        true,
		AllowAtomicPublish: true,
	}
}

func (s *Store) ensureStream(ctx context.Context, opts Options) error {
	if opts.Replicas == 0 {
		opts.Replicas = 3
		if existing, err := s.js.Stream(ctx, opts.Stream); err == nil {
			opts.Replicas = existing.CachedInfo().Config.Replicas
		}
	}
	cfg := StreamConfig(opts.Stream, opts.Replicas, opts.Duplicates)
	var err error
	// In a fresh cluster the first request can time out while the meta
	// leader is elected: retry briefly.
	for attempt := 0; attempt < 10; attempt++ {
		tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		s.stream, err = s.js.CreateOrUpdateStream(tctx, cfg)
		cancel()
		if err == nil || ctx.Err() != nil || !isTransient(err) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("create or update stream %s: %w", opts.Stream, err)
	}
	return nil
}

func isTransient(err error) bool {
	var apiErr *jetstream.APIError
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, jetstream.ErrJetStreamNotEnabled) ||
		// A cluster that has just formed may not know its peers' JetStream
		// resources yet: "no suitable peers for placement".
		errors.As(err, &apiErr) && apiErr.ErrorCode == errCodeNoSuitablePeers
}

// errCodeNoSuitablePeers is JetStream's error code for a stream that no
// set of peers can place (yet).
const errCodeNoSuitablePeers jetstream.ErrorCode = 10005

// StageBatches makes the atomic batches of stream, a stream of the
// embedded server, staged where Options.BatchStaging says, as the event
// stream's are. The engine's other streams that publish atomic batches
// (the access log) call it after creating their stream; with an external
// server it does nothing.
func (s *Store) StageBatches(stream string) error {
	if s.emb == nil {
		return nil
	}
	return s.emb.stager.stage(stream)
}

// BatchesInMemory reports whether the embedded server stages atomic
// batches in memory.
func (s *Store) BatchesInMemory() bool { return s.emb != nil && s.emb.stager.inMemory() }

// Replicas returns the event stream's number of replicas, which the
// engine's other streams and buckets follow.
func (s *Store) Replicas() int { return s.stream.CachedInfo().Config.Replicas }

// Close stops the group commit (appends still waiting fail with
// ErrClosed; those in flight are answered), closes the connection and stops
// the embedded server, if any.
func (s *Store) Close() {
	if s.gc != nil {
		s.gc.close()
	}
	if s.wnc != nil {
		_ = s.wnc.Drain()
		s.wnc.Close()
	}
	if s.nc != nil {
		_ = s.nc.Drain()
		s.nc.Close()
	}
	if s.emb != nil {
		s.emb.shutdown()
	}
}

// Protect makes the store seal personal data with p (vault.Keyring, which
// keeps its keys on this store's JetStream). Call it after Open and before
// the first Append; without it, personal data is stored in clear, which is
// for tests of the store alone.
func (s *Store) Protect(p Protector) { s.protector = p }

// Conn returns the NATS connection, for the parts of the engine that keep
// their own buckets or streams beside the event stream.
func (s *Store) Conn() *nats.Conn { return s.nc }

// JetStream returns the JetStream context of the connection.
func (s *Store) JetStream() jetstream.JetStream { return s.js }

// StreamName returns the name of the event stream.
func (s *Store) StreamName() string { return s.name }

// ClientURL returns the address on which the embedded server accepts plain
// NATS clients, or "" (external server, or not listening).
func (s *Store) ClientURL() string {
	if s.emb == nil {
		return ""
	}
	return s.emb.clientURL()
}

// NKeyPath returns the path of the embedded server's user seed, or "".
func (s *Store) NKeyPath() string {
	if s.emb == nil {
		return ""
	}
	return s.emb.seedPath
}

// Subject returns the subject of an aggregate instance.
func Subject(aggregate, id string) (string, error) {
	for _, part := range []struct{ name, v string }{{"aggregate", aggregate}, {"id", id}} {
		if part.v == "" || strings.ContainsAny(part.v, ".*> \t\r\n") {
			return "", domain.Invalid(part.name, "%q cannot be a subject token", part.v)
		}
	}
	return subjectPrefix + "." + aggregate + "." + id, nil
}

// LastSequence returns the sequence of the newest message in the stream
// (0 when empty).
func (s *Store) LastSequence(ctx context.Context) (uint64, error) {
	info, err := s.stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("stream info %s: %w", s.name, err)
	}
	return info.State.LastSeq, nil
}

// Ping checks that the store answers: the server is reachable and the
// stream exists.
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.LastSequence(ctx)
	return err
}

// SyncAlways reports whether the embedded server fsyncs every write before
// acknowledging it (false for an external server: its own configuration
// decides, see docs/operations.md).
func (s *Store) SyncAlways() bool {
	if s.emb == nil {
		return false
	}
	cfg := s.emb.srv.JetStreamConfig()
	return cfg != nil && cfg.SyncAlways
}

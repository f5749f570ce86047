package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kooperacje/kooperacje/api"
	"github.com/kooperacje/kooperacje/credentials"
	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
	"github.com/kooperacje/kooperacje/projections"
	"github.com/kooperacje/kooperacje/vault"
	"github.com/kooperacje/kooperacje/web"
)

// AdminTokenFile is where serve writes the first admin's token when it
// starts on an empty store without --demo.
const AdminTokenFile = "admin-token"

// serveConfig is the configuration of serve, from its flags.
type serveConfig struct {
	storeConfig
	http            string
	logLevel        string
	accessRetention time.Duration
	cacheEntries    int
	behindTLSProxy  bool
}

func parseServe(args []string, stderr io.Writer) (serveConfig, error) {
	var c serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.register(fs, eventstore.DefaultListen)
	fs.StringVar(&c.http, "http", "127.0.0.1:8080", "HTTP address of the API")
	fs.BoolVar(&c.demo, "demo", false, "load the demo partnerships and users (tokens in <data>/demo-tokens.json)")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.DurationVar(&c.accessRetention, "access-log-retention", 2*365*24*time.Hour, "how long the log of reads of personal data is kept (0: for ever)")
	fs.BoolVar(&c.behindTLSProxy, "behind-tls-proxy", false, "a proxy terminates TLS in front of the engine: mark the session cookie Secure and throttle sign-ins by the address the proxy appends to X-Forwarded-For")
	fs.IntVar(&c.cacheEntries, "cache-entries", domain.DefaultCacheEntries, "aggregate states kept in memory between commands (0: none, every command loads what it needs)")
	if err := parseFlags(fs, args); err != nil {
		return c, err
	}
	if c.accessRetention < 0 {
		return c, usagef("--access-log-retention %s: must not be negative", c.accessRetention)
	}
	if c.cacheEntries < 0 {
		return c, usagef("--cache-entries %d: must not be negative", c.cacheEntries)
	}
	if _, _, err := net.SplitHostPort(c.http); err != nil {
		return c, usagef("--http %q: want host:port (e.g. 127.0.0.1:8080)", c.http)
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.logLevel)); err != nil {
		return c, usagef("--log-level %q: use debug, info, warn or error", c.logLevel)
	}
	return c, c.validate()
}

// engine is everything serve runs, wired together.
type engine struct {
	store        *eventstore.Store
	runner       *projections.Runner
	handler      *domain.Handler
	institutions *projections.Institutions
	partnerships *projections.Partnerships
	users        *projections.Users
	families     *projections.Families
	indicators   *projections.Indicators
	keys         *vault.Keyring
	creds        *credentials.Store
	api          *api.Server
}

// startEngine opens the store, starts the projections and builds the API.
func startEngine(ctx context.Context, c serveConfig, log *slog.Logger) (*engine, error) {
	master, err := c.loadMasterKey()
	if err != nil {
		return nil, err
	}
	store, keys, err := c.open(ctx, master, log)
	if err != nil {
		return nil, err
	}
	pseudonyms, err := keys.Pseudonyms(ctx)
	if err != nil {
		keys.Close()
		store.Close()
		return nil, fmt.Errorf("evaluation key: %w", err)
	}
	e := &engine{store: store, keys: keys, handler: &domain.Handler{Store: store},
		institutions: projections.NewInstitutions(), partnerships: projections.NewPartnerships(), users: projections.NewUsers(),
		families: projections.NewFamilies(), indicators: projections.NewIndicators(pseudonyms)}
	e.runner = projections.NewRunner(store, "projections_"+c.instance, log, e.institutions, e.partnerships, e.users, e.families, e.indicators)
	if c.cacheEntries > 0 {
		cache := domain.NewCache(c.cacheEntries)
		e.handler.Cache = cache
		// A family erased through another engine leaves this one's cache
		// as soon as the stream brings its FamilyErased.
		e.runner.OnApplied(func(_ uint64, envs []domain.Envelope) { cache.Observe(envs) })
	}
	if err := e.runner.Start(ctx); err != nil {
		keys.Close()
		store.Close()
		return nil, err
	}
	access, err := store.OpenAccessLog(ctx, c.accessRetention)
	if err != nil {
		_ = e.runner.Stop(ctx)
		keys.Close()
		store.Close()
		return nil, err
	}
	if e.creds, err = credentials.Open(ctx, store.JetStream(), store.Replicas(), credentials.DefaultSessionPolicy.MaxAge, credentials.DefaultParams); err != nil {
		_ = e.runner.Stop(ctx)
		keys.Close()
		store.Close()
		return nil, err
	}
	reg := prometheus.NewRegistry()
	registerStoreMetrics(reg, store)
	e.api = api.New(api.Config{Credentials: e.creds, BehindTLSProxy: c.behindTLSProxy, Access: access, Handler: e.handler, Runner: e.runner, Institutions: e.institutions, Partnerships: e.partnerships,
		Users: e.users, Families: e.families, Indicators: e.indicators, Events: store, Keys: keys, Stream: store, Pseudonyms: keys, Store: store, Logger: log, Registry: reg})
	return e, nil
}

// routes sends the API's paths to the API and every other path to the
// dashboards.
func (e *engine) routes() http.Handler {
	mux := http.NewServeMux()
	for _, p := range []string{"/api/", "/healthz", "/readyz", "/metrics"} {
		mux.Handle(p, e.api)
	}
	mux.Handle("/", web.Handler())
	return mux
}

// catchUp waits until the projections have applied everything stored now.
func (e *engine) catchUp(ctx context.Context) error {
	last, err := e.store.LastSequence(ctx)
	if err != nil {
		return err
	}
	return e.runner.WaitFor(ctx, last)
}

func (e *engine) close(ctx context.Context, log *slog.Logger) {
	if err := e.runner.Stop(ctx); err != nil {
		log.Warn("save projection checkpoint", "err", err)
	}
	e.keys.Close()
	e.store.Close()
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseServe(args, stderr)
	if err != nil {
		return err
	}
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.logLevel))
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))

	if c.noSync {
		log.Warn("--unsafe-no-fsync: writes are acknowledged before they reach the disk; a power cut loses them. Benchmarks only.")
	}
	e, err := startEngine(ctx, c, log)
	if err != nil {
		return err
	}
	defer e.close(context.Background(), log)
	if c.natsURL == "" {
		where := "disk (--batch-staging disk, or no tmpfs at /dev/shm): each group commit costs about four fsyncs"
		if e.store.BatchesInMemory() {
			where = "memory (/dev/shm): each group commit costs one fsync"
		}
		log.Info("group commits are staged in " + where)
	}
	var signIns map[string]demoSignIn
	if c.demo {
		if err := loadDemo(ctx, e.handler, c.data); err != nil {
			return err
		}
		if signIns, err = demoPasswords(ctx, e.handler, e.creds, c.data); err != nil {
			return err
		}
	}
	if err := e.catchUp(ctx); err != nil {
		return fmt.Errorf("catch up projections: %w", err)
	}
	// An erasure that stopped between its event and the key's destruction
	// is finished here.
	for _, id := range e.families.Erased() {
		if _, err := e.keys.Erase(ctx, id); err != nil {
			return fmt.Errorf("finish the erasure of family %s: %w", id, err)
		}
	}
	if !c.demo {
		if err := bootstrapAdmin(ctx, e, c.data, log); err != nil {
			return err
		}
		if err := e.catchUp(ctx); err != nil {
			return fmt.Errorf("catch up projections: %w", err)
		}
	}

	// Stream checkpoints for tamper evidence: now, every ten minutes, and
	// at shutdown.
	checkpoint := func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := e.store.WriteCheckpoint(cctx); err != nil {
			log.Warn("stream checkpoint", "err", err)
		}
	}
	checkpoint()
	defer checkpoint()
	go func() {
		t := time.NewTicker(10 * time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				checkpoint()
			}
		}
	}()

	ln, err := net.Listen("tcp", c.http)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.http, err)
	}
	srv := api.NewHTTPServer(e.routes())
	// The pages' event streams end when shutdown starts rather than hold
	// it up; other requests finish.
	srv.RegisterOnShutdown(e.api.CloseStreams)
	fmt.Fprintf(stdout, "Kooperacje %s\n  Dashboard:  http://%s/\n  API:        http://%s/api/v1 (OpenAPI: /api/v1/openapi.json)\n", version, ln.Addr(), ln.Addr())
	if u := e.store.ClientURL(); u != "" {
		fmt.Fprintf(stdout, "  NATS:       %s  (nats --server %s --nkey %s stream info %s)\n", u, u, e.store.NKeyPath(), c.stream)
	}
	if c.demo {
		fmt.Fprintf(stdout, "  Demo:       tokens in %s, passwords in %s\n", filepath.Join(c.data, DemoTokensFile), filepath.Join(c.data, DemoPasswordsFile))
		printDemoSignIns(stdout, signIns)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	return nil
}

// writeFileSynced replaces path with data so that, once it returns, the
// file survives a power cut: a temporary file beside it is written,
// fsynced and renamed over path, and the directory is fsynced. path holds
// the old content or the new, never a torn one.
func writeFileSynced(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // gone already after the rename
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// bootstrapAdmin creates the first administrator of an empty installation
// and writes its token, owner-readable only, to <data>/admin-token. A
// first start cut off between registering the administrator and issuing
// the token is finished by the next.
func bootstrapAdmin(ctx context.Context, e *engine, dataDir string, log *slog.Logger) error {
	uid := domain.NewID()
	switch users := e.users.List(); {
	case len(users) == 0:
	case len(users) == 1 && users[0].Role == domain.RoleAdmin && len(users[0].Tokens) == 0:
		uid = users[0].ID
	default:
		return nil
	}
	// The token is written first, and synced: if recording fails, a new
	// start tries again; the other way round, a lost file would lock
	// everyone out.
	token, hash := api.NewToken()
	path := filepath.Join(dataDir, AdminTokenFile)
	if err := writeFileSynced(path, []byte(token+"\n"), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	system := domain.Meta{Actor: domain.Actor{UserID: uid, Role: domain.RoleSystem}, Reason: "pierwsze uruchomienie: administrator"}
	if _, ok := e.users.Get(uid); !ok {
		// The login "admin" signs in once the administrator gave themselves
		// a password through a set-up link (docs/operations.md).
		// A start cut off after reserving it for another id leaves the
		// administrator without a login, never unable to start.
		login := "admin"
		if err := e.creds.ReserveLogin(ctx, login, uid); err != nil {
			log.Warn("the first administrator gets no login", "err", err)
			login = ""
		}
		if _, err := e.handler.Execute(ctx, domain.RegisterUser{UserID: uid, Login: login, Name: "Administrator", Role: domain.RoleAdmin}, system, 0); err != nil {
			return fmt.Errorf("bootstrap admin: %w", err)
		}
	}
	if _, err := e.handler.Execute(ctx, domain.IssueToken{UserID: uid, TokenID: domain.NewID(), Hash: hash}, system, domain.AnyVersion); err != nil {
		return fmt.Errorf("bootstrap admin token: %w", err)
	}
	log.Info("created the first administrator; the token is in "+path, "user", uid)
	return nil
}

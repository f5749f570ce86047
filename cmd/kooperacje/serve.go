package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kooperacje/kooperacje/api"
	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
	"github.com/kooperacje/kooperacje/projections"
	"github.com/kooperacje/kooperacje/vault"
)

// AdminTokenFile is where serve writes the first admin's token when it
// starts on an empty store without --demo.
const AdminTokenFile = "admin-token"

// serveConfig is the configuration of serve, from its flags.
type serveConfig struct {
	data       string
	http       string
	natsListen string
	natsURL    string
	natsCreds  string
	natsNKey   string
	stream     string
	replicas   int
	instance   string
	demo       bool
	noSync     bool
	logLevel   string
	masterKey  string // file
}

// MasterKeyEnv is the environment variable that may hold the master key.
const MasterKeyEnv = "KOOPERACJE_MASTER_KEY"

// DemoMasterKeyFile is where --demo keeps a generated master key when none
// is given: demo data only.
const DemoMasterKeyFile = "demo-master.key"

// loadMasterKey returns the master key of c: from --master-key-file, the
// environment, or, with --demo only, a key generated into the data
// directory.
func loadMasterKey(c serveConfig) (vault.MasterKey, error) {
	_, inEnv := os.LookupEnv(MasterKeyEnv)
	if c.masterKey != "" || inEnv || !c.demo {
		k, err := vault.LoadMasterKey(c.masterKey, MasterKeyEnv)
		if err != nil && !c.demo {
			return k, fmt.Errorf("%w (outside --demo a master key is required: generate one with 'kooperacje keys generate > master.key; chmod 600 master.key')", err)
		}
		return k, err
	}
	path := filepath.Join(c.data, DemoMasterKeyFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		_, text := vault.NewMasterKey()
		if err := os.WriteFile(path, []byte(text+"\n"), 0o600); err != nil {
			return vault.MasterKey{}, fmt.Errorf("write demo master key: %w", err)
		}
	}
	return vault.LoadMasterKey(path, "")
}

func parseServe(args []string, stderr io.Writer) (serveConfig, error) {
	var c serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	host, _ := os.Hostname()
	fs.StringVar(&c.data, "data", "./data", "data directory (JetStream store of the embedded server, credentials, tokens)")
	fs.StringVar(&c.http, "http", "127.0.0.1:8080", "HTTP address of the API")
	fs.StringVar(&c.natsListen, "nats-listen", eventstore.DefaultListen, `client address of the embedded NATS server, or "off" for in-process only`)
	fs.StringVar(&c.natsURL, "nats-url", "", "URL(s) of an external NATS server or cluster instead of the embedded one")
	fs.StringVar(&c.natsCreds, "nats-creds", "", "credentials file (JWT + seed) for --nats-url")
	fs.StringVar(&c.natsNKey, "nats-nkey", "", "nkey seed file for --nats-url")
	fs.StringVar(&c.stream, "stream", eventstore.DefaultStream, "name of the event stream")
	fs.IntVar(&c.replicas, "replicas", 0, "stream replicas (default 1 embedded, 3 with --nats-url)")
	fs.StringVar(&c.instance, "instance", host, "name of this engine instance (its projection consumer and checkpoint)")
	fs.BoolVar(&c.demo, "demo", false, "load the demo partnerships and users (tokens in <data>/demo-tokens.json)")
	fs.BoolVar(&c.noSync, "unsafe-no-fsync", false, "acknowledge writes before they are fsynced (benchmarks only: a power cut loses data)")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.masterKey, "master-key-file", "", "file with the master key that wraps the families' data keys (or set "+MasterKeyEnv+")")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, fmt.Errorf("%w: serve: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("%w: serve takes no arguments, got %q", errUsage, fs.Args())
	}
	return c, c.validate()
}

var instanceName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func (c *serveConfig) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
	}
	if c.data == "" {
		return bad("--data must name a directory")
	}
	if _, _, err := net.SplitHostPort(c.http); err != nil {
		return bad("--http %q: want host:port (e.g. 127.0.0.1:8080)", c.http)
	}
	if c.natsListen != eventstore.ListenOff {
		if _, _, err := net.SplitHostPort(c.natsListen); err != nil {
			return bad("--nats-listen %q: want host:port or off", c.natsListen)
		}
	}
	if c.natsURL == "" && (c.natsCreds != "" || c.natsNKey != "") {
		return bad("--nats-creds and --nats-nkey go with --nats-url")
	}
	if c.natsCreds != "" && c.natsNKey != "" {
		return bad("give --nats-creds or --nats-nkey, not both")
	}
	if c.replicas < 0 || c.replicas > 5 {
		return bad("--replicas %d: JetStream allows 1 to 5", c.replicas)
	}
	if c.replicas == 0 {
		c.replicas = 1
		if c.natsURL != "" {
			c.replicas = 3
		}
	}
	if c.natsURL == "" && c.replicas != 1 {
		return bad("--replicas %d needs a cluster (--nats-url); the embedded server is a single node", c.replicas)
	}
	c.instance = strings.Map(func(r rune) rune {
		if r == '.' {
			return '-'
		}
		return r
	}, c.instance)
	if !instanceName.MatchString(c.instance) {
		return bad("--instance %q: use 1–64 letters, digits, - or _", c.instance)
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.logLevel)); err != nil {
		return bad("--log-level %q: use debug, info, warn or error", c.logLevel)
	}
	return nil
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
	keys         *vault.Keyring
	api          *api.Server
}

// startEngine opens the store, starts the projections and builds the API.
func startEngine(ctx context.Context, c serveConfig, log *slog.Logger) (*engine, error) {
	if err := os.MkdirAll(c.data, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	master, err := loadMasterKey(c)
	if err != nil {
		return nil, err
	}
	store, err := eventstore.Open(ctx, eventstore.Options{
		DataDir: c.data, Listen: c.natsListen, URL: c.natsURL, CredsFile: c.natsCreds, NKeyFile: c.natsNKey,
		Stream: c.stream, Replicas: c.replicas, NoSync: c.noSync, Name: "kooperacje-" + c.instance, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	keys, err := vault.OpenKeyring(ctx, store.JetStream(), master, c.replicas)
	if err != nil {
		store.Close()
		return nil, err
	}
	store.Protect(keys)
	e := &engine{store: store, keys: keys, handler: &domain.Handler{Store: store},
		institutions: projections.NewInstitutions(), partnerships: projections.NewPartnerships(), users: projections.NewUsers(),
		families: projections.NewFamilies()}
	e.runner = projections.NewRunner(store, "projections_"+c.instance, log, e.institutions, e.partnerships, e.users, e.families)
	if err := e.runner.Start(ctx); err != nil {
		keys.Close()
		store.Close()
		return nil, err
	}
	e.api = api.New(api.Config{Handler: e.handler, Runner: e.runner, Institutions: e.institutions, Partnerships: e.partnerships,
		Users: e.users, Families: e.families, Events: store, Keys: keys, Store: store, Logger: log, Registry: prometheus.NewRegistry()})
	return e, nil
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

	e, err := startEngine(ctx, c, log)
	if err != nil {
		return err
	}
	defer e.close(context.Background(), log)
	if c.demo {
		if err := loadDemo(ctx, e.handler, c.data); err != nil {
			return err
		}
	}
	if err := e.catchUp(ctx); err != nil {
		return fmt.Errorf("catch up projections: %w", err)
	}
	if !c.demo {
		if err := bootstrapAdmin(ctx, e, c.data, log); err != nil {
			return err
		}
		if err := e.catchUp(ctx); err != nil {
			return fmt.Errorf("catch up projections: %w", err)
		}
	}

	ln, err := net.Listen("tcp", c.http)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.http, err)
	}
	srv := &http.Server{Handler: e.api, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}
	fmt.Fprintf(stdout, "Kooperacje %s\n  API:        http://%s/api/v1 (OpenAPI: /api/v1/openapi.json)\n", version, ln.Addr())
	if u := e.store.ClientURL(); u != "" {
		fmt.Fprintf(stdout, "  NATS:       %s  (nats --server %s --nkey %s stream info %s)\n", u, u, e.store.NKeyPath(), c.stream)
	}
	if c.demo {
		fmt.Fprintf(stdout, "  Demo:       tokens in %s\n", filepath.Join(c.data, DemoTokensFile))
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

// bootstrapAdmin creates the first administrator of an empty installation
// and writes its token, owner-readable only, to <data>/admin-token.
func bootstrapAdmin(ctx context.Context, e *engine, dataDir string, log *slog.Logger) error {
	if len(e.users.List()) > 0 {
		return nil
	}
	uid := domain.NewID()
	system := domain.Meta{Actor: domain.Actor{UserID: uid, Role: domain.RoleSystem}, Reason: "pierwsze uruchomienie: administrator"}
	if _, err := e.handler.Execute(ctx, domain.RegisterUser{UserID: uid, Name: "Administrator", Role: domain.RoleAdmin}, system, 0); err != nil {
		return fmt.Errorf("bootstrap admin: %w", err)
	}
	token, hash := api.NewToken()
	if _, err := e.handler.Execute(ctx, domain.IssueToken{UserID: uid, TokenID: domain.NewID(), Hash: hash}, system, domain.AnyVersion); err != nil {
		return fmt.Errorf("bootstrap admin token: %w", err)
	}
	path := filepath.Join(dataDir, AdminTokenFile)
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	log.Info("created the first administrator; the token is in "+path, "user", uid)
	return nil
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/kooperacje/kooperacje/eventstore"
	"github.com/kooperacje/kooperacje/vault"
)

// MasterKeyEnv is the environment variable that may hold the master key.
const MasterKeyEnv = "KOOPERACJE_MASTER_KEY"

// DemoMasterKeyFile is where --demo keeps a generated master key when none
// is given: demo data only.
const DemoMasterKeyFile = "demo-master.key"

// storeConfig says where the events and keys are: the flags every command
// that opens the store shares.
type storeConfig struct {
	data       string
	natsListen string
	natsURL    string
	natsCreds  string
	natsNKey   string
	stream     string
	replicas   int
	instance   string
	noSync     bool
	staging    string // --batch-staging as given
	batches    eventstore.BatchStaging
	masterKey  string // file
	demo       bool   // a demo installation may generate its master key
}

// register adds the store's flags to fs; listen is the embedded server's
// default client address.
func (c *storeConfig) register(fs *flag.FlagSet, listen string) {
	host, _ := os.Hostname()
	fs.StringVar(&c.data, "data", "./data", "data directory (JetStream store of the embedded server, credentials, tokens)")
	fs.StringVar(&c.natsListen, "nats-listen", listen, `client address of the embedded NATS server, or "off" for in-process only`)
	fs.StringVar(&c.natsURL, "nats-url", "", "URL(s) of an external NATS server or cluster instead of the embedded one")
	fs.StringVar(&c.natsCreds, "nats-creds", "", "credentials file (JWT + seed) for --nats-url")
	fs.StringVar(&c.natsNKey, "nats-nkey", "", "nkey seed file for --nats-url")
	fs.StringVar(&c.stream, "stream", eventstore.DefaultStream, "name of the event stream")
	fs.IntVar(&c.replicas, "replicas", 0, "stream replicas (default 1 embedded; with --nats-url, the existing stream's, or 3 for a new one)")
	fs.StringVar(&c.instance, "instance", host, "name of this engine instance (its projection consumer and checkpoint)")
	fs.StringVar(&c.staging, "batch-staging", "auto", "where the embedded server stages group commits before committing them: memory (tmpfs, one fsync a batch), disk, or auto (memory where /dev/shm is tmpfs)")
	fs.BoolVar(&c.noSync, "unsafe-no-fsync", false, "acknowledge writes before they are fsynced (benchmarks only: a power cut loses data)")
	fs.StringVar(&c.masterKey, "master-key-file", "", "file with the master key that wraps the families' data keys (or set "+MasterKeyEnv+")")
}

// usagef returns a command-line error (exit code 2).
func usagef(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
}

// parseFlags parses args, refusing stray arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("%s: %v", fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return usagef("%s takes no arguments, got %q", fs.Name(), fs.Args())
	}
	return nil
}

var instanceName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func (c *storeConfig) validate() error {
	if c.data == "" {
		return usagef("--data must name a directory")
	}
	if c.natsListen != eventstore.ListenOff {
		if _, _, err := net.SplitHostPort(c.natsListen); err != nil {
			return usagef("--nats-listen %q: want host:port or off", c.natsListen)
		}
	}
	if c.natsURL == "" && (c.natsCreds != "" || c.natsNKey != "") {
		return usagef("--nats-creds and --nats-nkey go with --nats-url")
	}
	if c.natsCreds != "" && c.natsNKey != "" {
		return usagef("give --nats-creds or --nats-nkey, not both")
	}
	staging, err := eventstore.ParseBatchStaging(c.staging)
	if err != nil {
		return usagef("--batch-staging: %v", err)
	}
	if c.natsURL != "" && c.staging != "auto" {
		return usagef("--batch-staging goes with the embedded server; a cluster stages batches in memory anyway")
	}
	c.batches = staging
	if c.replicas < 0 || c.replicas > 5 {
		return usagef("--replicas %d: JetStream allows 1 to 5", c.replicas)
	}
	if c.replicas == 0 && c.natsURL == "" {
		c.replicas = 1
	}
	if c.natsURL == "" && c.replicas != 1 {
		return usagef("--replicas %d needs a cluster (--nats-url); the embedded server is a single node", c.replicas)
	}
	c.instance = strings.ReplaceAll(c.instance, ".", "-")
	if !instanceName.MatchString(c.instance) {
		return usagef("--instance %q: use 1–64 letters, digits, - or _", c.instance)
	}
	return nil
}

// loadMasterKey returns the master key: from --master-key-file, the
// environment, or, with --demo only, a key generated into the data
// directory.
func (c *storeConfig) loadMasterKey() (vault.MasterKey, error) {
	_, inEnv := os.LookupEnv(MasterKeyEnv)
	if c.masterKey != "" || inEnv || !c.demo {
		k, err := vault.LoadMasterKey(c.masterKey, MasterKeyEnv)
		if err != nil && !c.demo {
			return k, fmt.Errorf("%w (outside --demo a master key is required: generate one with 'kooperacje keys generate > master.key; chmod 600 master.key')", err)
		}
		return k, err
	}
	if err := os.MkdirAll(c.data, 0o700); err != nil {
		return vault.MasterKey{}, fmt.Errorf("create data directory: %w", err)
	}
	path := filepath.Join(c.data, DemoMasterKeyFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		_, text := vault.NewMasterKey()
		// Synced: the families' data keys are wrapped with it next.
		if err := writeFileSynced(path, []byte(text+"\n"), 0o600); err != nil {
			return vault.MasterKey{}, fmt.Errorf("write demo master key: %w", err)
		}
	}
	return vault.LoadMasterKey(path, "")
}

// open opens the event store and the keyring with master, and makes the
// store seal personal data with it.
func (c *storeConfig) open(ctx context.Context, master vault.MasterKey, log *slog.Logger) (*eventstore.Store, *vault.Keyring, error) {
	// The data directory holds the embedded server's store, and with an
	// external server still the engine's own files (tokens).
	if err := os.MkdirAll(c.data, 0o700); err != nil {
		return nil, nil, fmt.Errorf("create data directory: %w", err)
	}
	store, err := eventstore.Open(ctx, eventstore.Options{
		DataDir: c.data, Listen: c.natsListen, URL: c.natsURL, CredsFile: c.natsCreds, NKeyFile: c.natsNKey,
		Stream: c.stream, Replicas: c.replicas, NoSync: c.noSync, BatchStaging: c.batches, Name: "kooperacje-" + c.instance, Logger: log,
	})
	if err != nil {
		return nil, nil, err
	}
	keys, err := vault.OpenKeyring(ctx, store.JetStream(), master, store.Replicas())
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	store.Protect(keys)
	return store, keys, nil
}

// oneOffFlags returns the flag set of a one-off command (audit, evaluate,
// forget, …) with the store's flags, the embedded server not listening,
// and --demo (demoHelp, or the usual help when ""), writing usage to
// stderr.
func oneOffFlags(name string, c *storeConfig, stderr io.Writer, demoHelp string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.register(fs, eventstore.ListenOff)
	if demoHelp == "" {
		demoHelp = "a demo installation: use the master key serve --demo generated"
	}
	fs.BoolVar(&c.demo, "demo", false, demoHelp)
	return fs
}

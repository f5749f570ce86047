// Command kooperacje is the one binary of Kooperacje: an event-sourced
// case-coordination engine for multi-sector support of families, on NATS
// JetStream.
//
// Usage:
//
//	kooperacje serve [flags]      run the API on an embedded or external JetStream
//	kooperacje forget --family ID erase a family's personal data (crypto-shredding)
//	kooperacje retention [--apply] list (and erase) closed cases past their retention
//	kooperacje keys generate|rotate  make a master key, re-wrap data keys with a new one
//	kooperacje verify             check the events' hash chains (tamper evidence)
//	kooperacje bench generate|scale  synthetic data at scale, and what the engine needs for it
//	kooperacje version            print the version
//
// Run "kooperacje serve -h" for the flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// errUsage marks a mistake in the command line; the exit code is 2.
var errUsage = errors.New("usage")

// run is the whole program, so that tests can run it in process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stdout, stderr)
	case "forget":
		err = forget(ctx, args[1:], stdout, stderr)
	case "retention":
		err = retention(ctx, args[1:], stdout, stderr)
	case "keys":
		err = keysCmd(ctx, args[1:], stdout, stderr)
	case "verify":
		err = verify(ctx, args[1:], stdout, stderr)
	case "audit":
		err = audit(ctx, args[1:], stdout, stderr)
	case "token":
		err = token(ctx, args[1:], stdout, stderr)
	case "plan":
		err = plan(ctx, args[1:], stdout, stderr)
	case "evaluate":
		err = evaluate(ctx, args[1:], stdout, stderr)
	case "bench":
		err = bench(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "kooperacje", version)
	case "help", "-h", "--help":
		usage(stdout)
	default:
		fmt.Fprintf(stderr, "kooperacje: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, "kooperacje:", err)
		return 2
	default:
		fmt.Fprintln(stderr, "kooperacje:", err)
		return 1
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Kooperacje: multi-sector support of families, event-sourced on NATS JetStream.

Usage:
  kooperacje serve [flags]         run the API (embedded JetStream by default; --demo loads the demo data)
  kooperacje forget --family ID    erase a family's personal data (--reason, --legal-basis)
  kooperacje retention [--apply]   list closed cases past their retention, and erase them with --apply
  kooperacje verify                check every aggregate's hash chain; name the first broken link
  kooperacje audit --family ID     a family's decision history: who decided what, when and why
  kooperacje plan --family ID --as-of DATE   a family's support plan as it stood then (--time business|recorded)
  kooperacje evaluate --out DIR    evaluation indicators per partnership (--as-of DATE): JSON, CSV and an HTML report
  kooperacje bench generate --families N   write synthetic partnerships and families through the domain (test data only)
  kooperacje bench scale           rebuild time, memory, size and plan/load latency on a generated data directory
  kooperacje token create|revoke   issue a bearer token (to a new or existing user) or revoke one
  kooperacje keys generate         print a new master key
  kooperacje keys rotate           re-wrap every data key with a new master key (--old-key-file, --new-key-file)
  kooperacje version               print the version

Run "kooperacje <command> -h" for the flags.
`)
}

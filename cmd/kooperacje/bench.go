package main

import (
	"context"
	"fmt"
	"io"
)

// bench dispatches kooperacje bench generate|scale.
func bench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("bench: want a subcommand: generate or scale")
	}
	switch args[0] {
	case "generate":
		return benchGenerate(ctx, args[1:], stdout, stderr)
	case "scale":
		return benchScale(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, `Usage:
  kooperacje bench generate --data DIR [--families N] [--seed S] [--partnerships P] [--concurrency C] [--meetings M] [--no-sync] [--append] [--quiet]
  kooperacje bench scale --data DIR [--queries Q] [--json]

Run "kooperacje bench generate -h" or "kooperacje bench scale -h" for the flags.
`)
		return nil
	}
	return usagef("bench: unknown subcommand %q: want generate or scale", args[0])
}

// Command benchtable turns the output of `go test -bench` over the
// benchmarks of internal/perf (and projections' BenchmarkReplay) into one
// table: each figure of the engine beside the raw JetStream figure
// measured in the same run, their ratio, and the target it is held to.
//
//	go test -run '^$' -bench . -benchtime=1x ./internal/perf | go run ./internal/benchtable
//
// It exits with status 1 if a benchmark failed or printed no figures.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
)

// row is one line of the table: which benchmark and metrics it shows, and
// its target, if the issue set one.
type row struct {
	label  string
	bench  string // benchmark name without the -GOMAXPROCS suffix
	engine string // the engine's metric
	raw    string // the raw JetStream metric beside it
	ratio  string // the ratio's metric; empty: engine / raw
	target string // the target as printed; empty: none
	// met says whether the figures meet the target.
	met func(m metrics) bool
}

// metrics are one benchmark's reported figures by unit.
type metrics map[string]float64

var rows = []row{
	{label: "commands/s, domain + store, 1 client", bench: "BenchmarkCommands/clients=1", engine: "cmd/s", raw: "raw-cmd/s", ratio: "ratio"},
	{label: "commands/s, domain + store, 16 clients", bench: "BenchmarkCommands/clients=16", engine: "cmd/s", raw: "raw-cmd/s", ratio: "ratio"},
	{label: "commands/s, domain + store, 64 clients", bench: "BenchmarkCommands/clients=64", engine: "cmd/s", raw: "raw-cmd/s", ratio: "ratio",
		target: "≥ 3× raw", met: func(m metrics) bool { return m["ratio"] >= 3 }},
	{label: "appends/s, store only (group commit), 16 clients", bench: "BenchmarkAppends/clients=16", engine: "appends/s", raw: "raw-cmd/s", ratio: "ratio"},
	{label: "appends/s, store only (group commit), 64 clients", bench: "BenchmarkAppends/clients=64", engine: "appends/s", raw: "raw-cmd/s", ratio: "ratio",
		target: "≥ 3× raw", met: func(m metrics) bool { return m["ratio"] >= 3 }},
	{label: "commands/s, 64 clients, beside raw atomic batches of 100", bench: "BenchmarkCommands/clients=64", engine: "cmd/s", raw: "raw-batch-msg/s"},
	{label: "commands/s, HTTP API, 64 clients", bench: "BenchmarkHTTP", engine: "cmd/s", raw: "raw-cmd/s", ratio: "ratio"},
	{label: "append latency p50 (ms), 1 client", bench: "BenchmarkAppendLatency", engine: "p50-ms", raw: "raw-p50-ms", ratio: "ratio",
		target: "≤ 1.5× raw", met: func(m metrics) bool { return m["ratio"] <= 1.5 }},
	{label: "append latency p99 (ms), 1 client", bench: "BenchmarkAppendLatency", engine: "p99-ms", raw: "raw-p99-ms", ratio: "p99-ratio",
		target: "≤ 1.5× raw", met: func(m metrics) bool { return m["p99-ratio"] <= 1.5 }},
	{label: "loads/s of a family of 100 events", bench: "BenchmarkLoadFamily", engine: "loads/s", raw: "raw-loads/s", ratio: "ratio"},
	{label: "projection rebuild, events/s", bench: "BenchmarkReplay/families=200/events_per_family=25", engine: "replay-events/s", raw: "raw-events/s", ratio: "replay/raw",
		target: "≥ 0.70 of raw", met: func(m metrics) bool { return m["replay/raw"] >= 0.70 }},
	{label: "evaluation replay (Indicators, as kooperacje evaluate runs it), events/s", bench: "BenchmarkReplay/families=200/events_per_family=25", engine: "evaluation-events/s", raw: "evaluation-raw-events/s", ratio: "evaluation/raw",
		target: "≥ 0.70 of raw", met: func(m metrics) bool { return m["evaluation/raw"] >= 0.70 }},
	{label: "command → visible lag p50 (ms), half of peak", bench: "BenchmarkProjectionLag", engine: "lag-p50-ms", raw: "raw-lag-p50-ms"},
	{label: "command → visible lag p99 (ms), half of peak", bench: "BenchmarkProjectionLag", engine: "lag-p99-ms", raw: "raw-lag-p99-ms",
		target: "< 50 ms", met: func(m metrics) bool { return m["lag-p99-ms"] < 50 }},
	{label: "acknowledged → visible lag p50 (ms)", bench: "BenchmarkProjectionLag", engine: "ack-lag-p50-ms"},
	{label: "acknowledged → visible lag p99 (ms)", bench: "BenchmarkProjectionLag", engine: "ack-lag-p99-ms"},
}

func main() {
	results, cpu, failed, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(2)
	}
	write(os.Stdout, results, cpu)
	if len(failed) > 0 {
		fmt.Fprintln(os.Stderr, "benchtable: failed:\n"+strings.Join(failed, "\n"))
		os.Exit(1)
	}
}

var suffix = regexp.MustCompile(`-\d+$`)

// parse reads `go test -bench` output: the figures of each benchmark, the
// cpu line, and the lines that report a failure.
func parse(r io.Reader) (map[string]metrics, string, []string, error) {
	results := map[string]metrics{}
	var cpu string
	var failed []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "cpu: "):
			cpu = strings.TrimPrefix(line, "cpu: ")
		case strings.HasPrefix(line, "--- FAIL"), strings.HasPrefix(line, "FAIL"), strings.HasPrefix(line, "panic:"):
			failed = append(failed, line)
		case strings.HasPrefix(line, "Benchmark"):
			f := strings.Fields(line)
			if len(f) < 4 {
				continue
			}
			m := metrics{}
			// name, iterations, then value-unit pairs.
			for i := 2; i+1 < len(f); i += 2 {
				v, err := strconv.ParseFloat(f[i], 64)
				if err != nil {
					return nil, "", nil, fmt.Errorf("%q: %w", line, err)
				}
				m[f[i+1]] = v
			}
			results[suffix.ReplaceAllString(f[0], "")] = m
		}
	}
	return results, cpu, failed, sc.Err()
}

// write prints the table in Markdown.
func write(w io.Writer, results map[string]metrics, cpu string) {
	fmt.Fprintf(w, "Kooperacje beside raw JetStream, same embedded server, file storage, fsync always (%d CPUs", runtime.NumCPU())
	if cpu != "" {
		fmt.Fprintf(w, ", %s", cpu)
	}
	if m, ok := results["BenchmarkCommands/clients=64"]; ok {
		fmt.Fprintf(w, "; group commits staged %s", map[bool]string{true: "in memory", false: "on disk"}[m["batches-in-memory"] == 1])
	}
	fmt.Fprintln(w, ")")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| measure | engine | raw JetStream | ratio | target | met |")
	fmt.Fprintln(w, "|---|--:|--:|--:|---|---|")
	for _, r := range rows {
		m, ok := results[r.bench]
		if !ok || m[r.engine] == 0 {
			fmt.Fprintf(w, "| %s | not run | | | %s | |\n", r.label, r.target)
			continue
		}
		ratio := m[r.ratio]
		if r.ratio == "" && m[r.raw] != 0 {
			ratio = m[r.engine] / m[r.raw]
		}
		met := ""
		if r.met != nil {
			met = "no"
			if r.met(m) {
				met = "yes"
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", r.label, figure(m[r.engine]), figure(m[r.raw]), ratioText(ratio), r.target, met)
	}
	if m, ok := results["BenchmarkProjectionLag"]; ok {
		fmt.Fprintf(w, "\nLag measured at %s commands/s (peak %s).", figure(m["cmd/s"]), figure(m["peak-cmd/s"]))
	}
	for _, b := range []string{"BenchmarkCommands/clients=64", "BenchmarkAppends/clients=64"} {
		if m, ok := results[b]; ok && m["msgs/batch"] > 0 {
			fmt.Fprintf(w, " %s: %s messages per batch.", strings.TrimPrefix(b, "Benchmark"), figure(m["msgs/batch"]))
		}
	}
	fmt.Fprintln(w)
}

func figure(v float64) string {
	switch {
	case v == 0:
		return "—"
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

func ratioText(v float64) string {
	if v == 0 {
		return "—"
	}
	return strconv.FormatFloat(v, 'f', 2, 64) + "×"
}

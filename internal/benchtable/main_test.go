package main

import (
	"bytes"
	"strings"
	"testing"
)

const sample = `goos: linux
cpu: Test CPU
BenchmarkCommands/clients=64-2   	       1	6004217137 ns/op	      4000 cmd/s	        22.38 msgs/batch	         3.20 ratio	      30000 raw-batch-msg/s	       1250 raw-cmd/s	         1 batches-in-memory
BenchmarkAppendLatency-2 	       1	2711422246 ns/op	         0.40 p50-ms	        1.2 p99-ms	         2.0 p99-ratio	         1.25 ratio	         0.32 raw-p50-ms	         0.6 raw-p99-ms
BenchmarkReplay/families=200/events_per_family=25-2 1 9 ns/op 100 replay-events/s 200 raw-events/s 0.5 replay/raw 150 evaluation-events/s 200 evaluation-raw-events/s 0.75 evaluation/raw
--- FAIL: BenchmarkHTTP
`

func TestTableShowsEachFigureBesideRawWithItsTarget(t *testing.T) {
	results, cpu, failed, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if cpu != "Test CPU" || len(failed) != 1 {
		t.Fatalf("cpu %q, failed %q", cpu, failed)
	}
	var out bytes.Buffer
	write(&out, results, cpu)
	table := out.String()
	for _, want := range []string{
		"| commands/s, domain + store, 64 clients | 4000 | 1250 | 3.20× | ≥ 3× raw | yes |",
		"| commands/s, 64 clients, beside raw atomic batches of 100 | 4000 | 30000 | 0.13× |  |  |",
		"| append latency p50 (ms), 1 client | 0.40 | 0.32 | 1.25× | ≤ 1.5× raw | yes |",
		"| append latency p99 (ms), 1 client | 1.20 | 0.60 | 2.00× | ≤ 1.5× raw | no |",
		"| projection rebuild, events/s | 100 | 200 | 0.50× | ≥ 0.70 of raw | no |",
		"| evaluation replay (Indicators, as kooperacje evaluate runs it), events/s | 150 | 200 | 0.75× | ≥ 0.70 of raw | yes |",
		"| commands/s, HTTP API, 64 clients | not run |",
		"messages per batch",
		"group commits staged in memory)",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("the table lacks %q:\n%s", want, table)
		}
	}
}

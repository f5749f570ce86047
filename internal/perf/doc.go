// Package perf holds the benchmarks behind `make bench`: each measures the
// engine's whole stack (domain handler, event store with group commit and
// sealed personal data, projections, HTTP API) beside raw JetStream on the
// same embedded server, storage and sync policy, in the same run, and
// reports both figures and their ratio with b.ReportMetric. The command
// internal/benchtable turns their output into one table.
//
// Raw and engine measurements alternate in short rounds, so that a noisy
// neighbour on the machine slows both alike: compare the ratios, not the
// absolute figures.
package perf

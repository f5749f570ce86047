package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kooperacje/kooperacje/eventstore"
)

// registerStoreMetrics exposes how the event store's appends reach
// JetStream (group commit, decisions 0007 and 0010), beside the API's own
// metrics on the same registry.
func registerStoreMetrics(reg *prometheus.Registry, store *eventstore.Store) {
	messages := func(how string, n func(eventstore.CommitStats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "kooperacje", Name: "group_commit_messages_total",
			Help:        "Commands' messages by how they reached JetStream: single (published alone), batched (in an atomic batch), retried (published one by one after their batch was refused), stale (kept out of a batch, their expected sequence known stale), given_up (their publish lost its connection or answer, published again by their append).",
			ConstLabels: prometheus.Labels{"how": how}}, func() float64 { return float64(n(store.CommitStats())) })
	}
	inMemory := 0.0
	if store.BatchesInMemory() {
		inMemory = 1
	}
	reg.MustRegister(
		messages("single", func(s eventstore.CommitStats) uint64 { return s.Single }),
		messages("batched", func(s eventstore.CommitStats) uint64 { return s.Batched }),
		messages("retried", func(s eventstore.CommitStats) uint64 { return s.Retried }),
		messages("stale", func(s eventstore.CommitStats) uint64 { return s.Stale }),
		messages("given_up", func(s eventstore.CommitStats) uint64 { return s.GivenUp }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "kooperacje", Name: "group_commit_batches_total",
			Help: "Atomic batches stored by the group commit."}, func() float64 { return float64(store.CommitStats().Batches) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "kooperacje", Name: "group_commit_refused_batches_total",
			Help: "Atomic batches the server refused whole (their messages then published one by one)."}, func() float64 { return float64(store.CommitStats().Refused) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "kooperacje", Name: "batch_staging_in_memory",
			Help: "1 when the embedded server stages group commits in memory (/dev/shm), 0 on disk or with an external server."}, func() float64 { return inMemory }),
	)
}

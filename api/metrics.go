package api

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/projections"
)

// metrics are the API's Prometheus instruments.
type metrics struct {
	requests *prometheus.HistogramVec
	commands *prometheus.CounterVec
	signIns  *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry, runner *projections.Runner, cache *domain.Cache) *metrics {
	m := &metrics{
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "kooperacje", Name: "http_request_duration_seconds",
			Help:    "HTTP requests by route and status.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "code"}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "kooperacje", Name: "commands_total",
			Help: "Commands handled, by command and outcome (written, duplicate, rejected, failed).",
		}, []string{"command", "outcome"}),
		signIns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "kooperacje", Name: "sign_ins_total",
			Help: "Sign-in attempts by outcome (ok, invalid, throttled).",
		}, []string{"outcome"}),
	}
	reg.MustRegister(m.requests, m.commands, m.signIns)
	if runner != nil {
		reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "kooperacje", Name: "projection_position",
				Help: "Last stream sequence applied to the read models."}, func() float64 { return float64(runner.Position()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "kooperacje", Name: "projection_skipped_events",
				Help: "Events of unknown types skipped by the projections."}, func() float64 { return float64(runner.Skipped()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "kooperacje", Name: "projection_unapplied_events",
				Help: "Events a read model could not apply and left out (listed by kooperacje verify)."}, func() float64 { return float64(len(runner.Unapplied())) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "kooperacje", Name: "projection_failed",
				Help: "1 when the projections stopped on an event they could not apply."}, func() float64 {
				if runner.Err() != nil {
					return 1
				}
				return 0
			}),
		)
	}
	if cache != nil {
		registerCache(reg, cache)
	}
	_ = reg.Register(collectors.NewGoCollector())
	_ = reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// registerCache exposes the counters of the handler's aggregate cache.
func registerCache(reg *prometheus.Registry, cache *domain.Cache) {
	lookups := func(result string, n func(domain.CacheStats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "kooperacje", Name: "aggregate_cache_lookups_total",
			Help:        "Aggregate states a command needed, by how the cache answered: hit (used as cached, or checked and current), shared (taken from a read another command issued after it asked), refresh (cached, newer events applied), miss (loaded whole).",
			ConstLabels: prometheus.Labels{"result": result}}, func() float64 { return float64(n(cache.Stats())) })
	}
	reg.MustRegister(
		lookups("hit", func(s domain.CacheStats) uint64 { return s.Hits }),
		lookups("shared", func(s domain.CacheStats) uint64 { return s.Shared }),
		lookups("refresh", func(s domain.CacheStats) uint64 { return s.Refreshes }),
		lookups("miss", func(s domain.CacheStats) uint64 { return s.Misses }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "kooperacje", Name: "aggregate_cache_evictions_total",
			Help: "Aggregate states dropped from the cache to keep its bound."}, func() float64 { return float64(cache.Stats().Evictions) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "kooperacje", Name: "aggregate_cache_erasures_total",
			Help: "Erased families dropped from the cache for good."}, func() float64 { return float64(cache.Stats().Erasures) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "kooperacje", Name: "aggregate_cache_entries",
			Help: "Aggregate states in the cache."}, func() float64 { return float64(cache.Stats().Entries) }),
	)
}

func (m *metrics) observe(route string, code int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Observe(d.Seconds())
}

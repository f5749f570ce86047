package eventstore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
)

// The benchmarks measure the engine's append and load beside raw JetStream
// publishes and direct gets on the same embedded server, storage and sync
// policy (fsync always), in the same run: compare the pairs, not the
// absolute figures.

func benchWorker() domain.WorkerRegistered {
	return domain.WorkerRegistered{WorkerID: domain.NewID(), Name: strings.Repeat("x", 300), Position: "pracownik socjalny"}
}

// BenchmarkAppend appends one-event commands from 1, 16 and 64 clients,
// each on its own aggregate ("engine"), against raw publishes of a message
// of the same size with the same expected-sequence header ("raw").
func BenchmarkAppend(b *testing.B) {
	for _, clients := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("clients=%d/raw", clients), func(b *testing.B) {
			s := open(b, "")
			ctx := context.Background()
			body := []byte(strings.Repeat("x", 700))
			runParallel(b, clients, func(client int, ops int) {
				subject := fmt.Sprintf("koop.bench.%d", client)
				var last uint64
				for range ops {
					msg := nats.NewMsg(subject)
					msg.Data = body
					msg.Header.Set(nats.MsgIdHdr, domain.NewID())
					ack, err := s.JetStream().PublishMsg(ctx, msg, jetstream.WithExpectLastSequencePerSubject(last))
					if err != nil {
						b.Error(err)
						return
					}
					last = ack.Sequence
				}
			})
		})
		b.Run(fmt.Sprintf("clients=%d/engine", clients), func(b *testing.B) {
			s := open(b, "")
			ctx := context.Background()
			runParallel(b, clients, func(_ int, ops int) {
				id := domain.NewID()
				m := meta()
				for v := range int64(ops) {
					m.CommandID = domain.NewID()
					if _, err := s.Append(ctx, domain.AggregateInstitution, id, v, m, benchWorker()); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// runParallel splits b.N operations over clients goroutines.
func runParallel(b *testing.B, clients int, fn func(client, ops int)) {
	b.Helper()
	var wg sync.WaitGroup
	var next atomic.Int64
	per := b.N / clients
	b.ResetTimer()
	for c := range clients {
		ops := per
		if c == 0 {
			ops += b.N % clients
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(int(next.Add(1)), ops)
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkLoad loads an aggregate of 100 events ("engine": direct gets and
// decoding into domain events) against fetching the same 100 messages raw.
func BenchmarkLoad(b *testing.B) {
	s := open(b, "")
	ctx := context.Background()
	id := domain.NewID()
	for v := range int64(100) {
		m := meta()
		_, err := s.Append(ctx, domain.AggregateInstitution, id, v, m, benchWorker())
		require.NoError(b, err)
	}
	subject, err := eventstore.Subject(domain.AggregateInstitution, id)
	require.NoError(b, err)
	b.Run("events=100/raw", func(b *testing.B) {
		stream, err := s.JetStream().Stream(ctx, s.StreamName())
		require.NoError(b, err)
		for b.Loop() {
			cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
			require.NoError(b, err)
			batch, err := cons.FetchNoWait(100)
			require.NoError(b, err)
			n := 0
			for range batch.Messages() {
				n++
			}
			if n != 100 {
				b.Fatalf("fetched %d", n)
			}
		}
	})
	b.Run("events=100/engine", func(b *testing.B) {
		for b.Loop() {
			envs, err := s.Load(ctx, domain.AggregateInstitution, id)
			require.NoError(b, err)
			if len(envs) != 100 {
				b.Fatalf("loaded %d", len(envs))
			}
		}
	})
}

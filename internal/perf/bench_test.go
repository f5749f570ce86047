package perf_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/kooperacje/kooperacje/api"
	"github.com/kooperacje/kooperacje/domain"
)

// Each benchmark does its own fixed amount of work per iteration: run them
// with -benchtime=1x (as `make bench` does).

const (
	rounds = 5                      // raw and engine take turns this many times
	slice  = 300 * time.Millisecond // the length of one turn
)

// BenchmarkCommands runs commands through the domain handler with its
// aggregate cache, as serve runs it, and the store (the family from the
// cache, its partnership and the institution checked for newer events,
// decide, seal, append through the group commit) from 1, 16 and 64
// clients, each on families of its own,
// beside the same number of raw clients each publishing a message of the
// same mean size synchronously with its expected subject sequence. At 64
// clients it also measures raw atomic batches of 100 messages from one
// publisher, the ceiling group commit aims at.
func BenchmarkCommands(b *testing.B) {
	for _, clients := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			s := openStack(b)
			ctx := context.Background()
			const perClient = 2
			families := s.newFamilies(b, clients*perClient)
			size := s.meanMessage(b)
			raws := make([]*rawPublisher, clients)
			for i := range raws {
				raws[i] = newRawPublisher(s.js, size)
			}
			var turn [64]atomic.Int64
			for range b.N {
				before := s.store.CommitStats()
				raw, engine, ratio := alternate(rounds,
					func() float64 {
						return during(b, clients, slice, func(c int) error { return raws[c].publish(ctx) })
					},
					func() float64 {
						return during(b, clients, slice, func(c int) error {
							fid := families[c*perClient+int(turn[c].Add(1))%perClient]
							_, err := s.handler.Execute(ctx, s.diagnosis(fid), benchMeta(), domain.AnyVersion)
							return err
						})
					})
				b.ReportMetric(engine, "cmd/s")
				b.ReportMetric(raw, "raw-cmd/s")
				b.ReportMetric(ratio, "ratio")
				st := s.store.CommitStats()
				if n := st.Batches - before.Batches; n > 0 {
					b.ReportMetric(float64(st.Batched-before.Batched)/float64(n), "msgs/batch")
				}
				if clients == 64 {
					b.ReportMetric(rawBatchRate(b, s, size), "raw-batch-msg/s")
					inMemory := 0.0
					if s.store.BatchesInMemory() {
						inMemory = 1
					}
					b.ReportMetric(inMemory, "batches-in-memory")
				}
			}
		})
	}
}

// BenchmarkAppends is BenchmarkCommands without the domain: each of 16 or
// 64 clients appends one diagnosis event (sealed, chained, through the
// group commit) to an aggregate of its own with Store.Append, knowing its
// version, so no read precedes the write. It isolates what group commit
// gives from the reads a command also makes.
func BenchmarkAppends(b *testing.B) {
	for _, clients := range []int{16, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			s := openStack(b)
			ctx := context.Background()
			fids := s.newFamilies(b, clients)
			versions := make([]int64, clients)
			for i := range versions {
				versions[i] = 2
			}
			raws := make([]*rawPublisher, clients)
			for i := range raws {
				raws[i] = newRawPublisher(s.js, s.meanMessage(b))
			}
			event := diagnosisEvent(s)
			for range b.N {
				before := s.store.CommitStats()
				raw, engine, ratio := alternate(rounds,
					func() float64 {
						return during(b, clients, slice, func(c int) error { return raws[c].publish(ctx) })
					},
					func() float64 {
						return during(b, clients, slice, func(c int) error {
							m := benchMeta()
							m.CommandID = domain.NewID()
							_, err := s.store.Append(ctx, domain.AggregateFamily, fids[c], versions[c], m, event)
							versions[c]++
							return err
						})
					})
				b.ReportMetric(engine, "appends/s")
				b.ReportMetric(raw, "raw-cmd/s")
				b.ReportMetric(ratio, "ratio")
				st := s.store.CommitStats()
				if n := st.Batches - before.Batches; n > 0 {
					b.ReportMetric(float64(st.Batched-before.Batched)/float64(n), "msgs/batch")
				}
			}
		})
	}
}

func diagnosisEvent(s *stack) domain.DiagnosisInputRecorded {
	return domain.DiagnosisInputRecorded{Area: domain.AreaEducation, Severity: domain.SeverityMedium, Needs: "wsparcie w nauce, absencja",
		Strengths: "motywacja do zmiany", Resources: "wsparcie babci", WorkerID: s.world.pedagog, InstitutionID: s.world.school,
		Sector: domain.SectorEducation, Date: diagnosed}
}

// rawBatchRate publishes atomic batches of 100 messages of the given size
// on distinct subjects, each with its expected subject sequence, for
// rounds turns, and returns messages per second.
func rawBatchRate(b *testing.B, s *stack, size int) float64 {
	ctx := context.Background()
	pubs := make([]*rawPublisher, 100)
	for i := range pubs {
		pubs[i] = newRawPublisher(s.js, size)
	}
	n := 0
	start := time.Now()
	for time.Since(start) < rounds*slice/2 {
		msgs := make([]*nats.Msg, len(pubs))
		for i, p := range pubs {
			msgs[i] = nats.NewMsg(p.subject)
			msgs[i].Data = p.body
			msgs[i].Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(p.last, 10))
			msgs[i].Header.Set(nats.MsgIdHdr, domain.NewID())
		}
		ack, err := jetstreamext.PublishMsgBatch(ctx, s.js, msgs, jetstreamext.BatchFlowControl{})
		require.NoError(b, err)
		for i, p := range pubs {
			p.last = ack.Sequence - uint64(len(pubs)-1-i)
		}
		n += len(msgs)
	}
	return float64(n) / time.Since(start).Seconds()
}

// BenchmarkAppendLatency measures one client's Store.Append of one
// diagnosis event (sealed, chained, through the group commit) against a
// raw synchronous publish of the same size with its expected sequence.
func BenchmarkAppendLatency(b *testing.B) {
	s := openStack(b)
	ctx := context.Background()
	fid := s.newFamily(b, 0)
	envs, err := s.store.Load(ctx, domain.AggregateFamily, fid)
	require.NoError(b, err)
	version := int64(len(envs))
	raw := newRawPublisher(s.js, s.meanMessage(b))
	event := diagnosisEvent(s)
	const samples = 400
	for range b.N {
		var rawLat, engLat []time.Duration
		for range rounds {
			for range samples {
				t0 := time.Now()
				require.NoError(b, raw.publish(ctx))
				rawLat = append(rawLat, time.Since(t0))
			}
			for range samples {
				m := benchMeta()
				m.CommandID = domain.NewID()
				t0 := time.Now()
				_, err := s.store.Append(ctx, domain.AggregateFamily, fid, version, m, event)
				engLat = append(engLat, time.Since(t0))
				require.NoError(b, err)
				version++
			}
		}
		p50, rp50 := percentile(engLat, 50), percentile(rawLat, 50)
		p99, rp99 := percentile(engLat, 99), percentile(rawLat, 99)
		b.ReportMetric(p50, "p50-ms")
		b.ReportMetric(rp50, "raw-p50-ms")
		b.ReportMetric(p99, "p99-ms")
		b.ReportMetric(rp99, "raw-p99-ms")
		b.ReportMetric(p50/rp50, "ratio")
		b.ReportMetric(p99/rp99, "p99-ratio")
	}
}

// BenchmarkLoadFamily loads a family of 100 events (Store.Load: batched
// direct gets, decoding, opening the sealed fields) against fetching its
// messages raw with batched direct gets.
func BenchmarkLoadFamily(b *testing.B) {
	s := openStack(b)
	ctx := context.Background()
	fid := s.newFamily(b, 0)
	for range 98 {
		s.exec(b, s.diagnosis(fid))
	}
	envs, err := s.store.Load(ctx, domain.AggregateFamily, fid)
	require.NoError(b, err)
	require.Len(b, envs, 100)
	msgs := uint64(100)
	for range b.N {
		raw, engine, ratio := alternate(rounds,
			func() float64 {
				return during(b, 1, slice/2, func(int) error {
					it, err := jetstreamext.GetBatch(ctx, s.js, s.store.StreamName(), 256, jetstreamext.GetBatchSubject("koop.family."+fid))
					if err != nil {
						return err
					}
					var n uint64
					for msg, err := range it {
						if err != nil {
							return err
						}
						if len(msg.Data) == 0 {
							return fmt.Errorf("empty message %d", msg.Sequence)
						}
						n++
					}
					if n != msgs {
						return fmt.Errorf("fetched %d of %d messages", n, msgs)
					}
					return nil
				})
			},
			func() float64 {
				return during(b, 1, slice/2, func(int) error {
					envs, err := s.store.Load(ctx, domain.AggregateFamily, fid)
					if err == nil && len(envs) != 100 {
						err = fmt.Errorf("loaded %d events", len(envs))
					}
					return err
				})
			})
		b.ReportMetric(engine, "loads/s")
		b.ReportMetric(raw, "raw-loads/s")
		b.ReportMetric(ratio, "ratio")
	}
}

// BenchmarkHTTP sends diagnosis inputs through the HTTP API (a real
// net/http server over api.New with the whole stack: authentication,
// access checks, the handler, the store, the live projections) from 64
// clients, each on families of its own, beside 64 raw synchronous
// publishers.
func BenchmarkHTTP(b *testing.B) {
	const clients = 64
	s := openStack(b)
	ctx := context.Background()
	l := s.live(b)
	runner := l.runner
	uid := domain.NewID()
	system := domain.Meta{Actor: domain.Actor{UserID: uid, Role: domain.RoleSystem}, Reason: "bench"}
	_, err := s.handler.Execute(ctx, domain.RegisterUser{UserID: uid, Name: "Bench admin", Role: domain.RoleAdmin}, system, 0)
	require.NoError(b, err)
	token, hash := api.NewToken()
	res, err := s.handler.Execute(ctx, domain.IssueToken{UserID: uid, TokenID: domain.NewID(), Hash: hash}, system, domain.AnyVersion)
	require.NoError(b, err)
	require.NoError(b, runner.WaitFor(ctx, res.Sequence))
	srv := httptest.NewServer(api.New(api.Config{Handler: s.handler, Runner: runner, Institutions: l.institutions,
		Partnerships: l.partnerships, Users: l.users, Families: l.families, Events: s.store, Keys: s.keys, Store: s.store}))
	b.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	const perClient = 2
	fids := s.newFamilies(b, clients*perClient)
	last, err := s.store.LastSequence(ctx)
	require.NoError(b, err)
	require.NoError(b, runner.WaitFor(ctx, last))
	raws := make([]*rawPublisher, clients)
	for i := range raws {
		raws[i] = newRawPublisher(s.js, s.meanMessage(b))
	}
	body, err := json.Marshal(s.diagnosis(""))
	require.NoError(b, err)
	var turn [clients]atomic.Int64
	post := func(c int) error {
		fid := fids[c*perClient+int(turn[c].Add(1))%perClient]
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/families/"+fid+"/diagnosis", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("POST diagnosis: %d %s", resp.StatusCode, out)
		}
		return nil
	}
	for range b.N {
		raw, engine, ratio := alternate(rounds,
			func() float64 {
				return during(b, clients, slice, func(c int) error { return raws[c].publish(ctx) })
			},
			func() float64 { return during(b, clients, slice, post) })
		b.ReportMetric(engine, "cmd/s")
		b.ReportMetric(raw, "raw-cmd/s")
		b.ReportMetric(ratio, "ratio")
	}
}

// BenchmarkProjectionLag measures how long a command takes to become
// visible in the live projections (from the moment it is due to be sent
// to the moment the runner has applied it, read-your-writes; and from its
// acknowledgement to then) while commands arrive at about half of the peak
// rate, open loop. The raw reference publishes at the same rate and
// measures how long a message takes from its due time to an ordered
// consumer.
func BenchmarkProjectionLag(b *testing.B) {
	s := openStack(b)
	ctx := context.Background()
	runner := s.live(b).runner
	// At most one command a family at a time, as in the other figures
	// (distinct families): a burst that piled several commands on one
	// family would measure their conflicts and retries, not the lag.
	free := make(chan string, 256)
	for _, fid := range s.newFamilies(b, cap(free)) {
		free <- fid
	}
	command := func() (uint64, error) {
		fid := <-free
		defer func() { free <- fid }()
		res, err := s.handler.Execute(ctx, s.diagnosis(fid), benchMeta(), domain.AnyVersion)
		return res.Sequence, err
	}
	for range b.N {
		peak := during(b, 64, time.Second, func(int) error { _, err := command(); return err })
		rate := peak / 2
		var eng, acked tally
		var rawLat []time.Duration
		sent, took := 0, time.Duration(0)
		// Engine and raw take turns, so that both meet the same neighbours.
		for range rounds {
			t0 := time.Now()
			n, _ := openLoop(rate, 2*slice, func(due time.Time) {
				seq, err := command()
				ack := time.Now()
				if err == nil {
					err = runner.WaitFor(ctx, seq)
				}
				if err != nil {
					eng.fail(err)
					return
				}
				eng.latency(time.Since(due))
				acked.latency(time.Since(ack))
			})
			sent, took = sent+n, took+time.Since(t0)
			require.NoError(b, eng.err)
			rawLat = append(rawLat, rawLag(b, s, rate, 2*slice)...)
		}
		b.ReportMetric(peak, "peak-cmd/s")
		b.ReportMetric(float64(sent)/took.Seconds(), "cmd/s")
		b.ReportMetric(percentile(eng.lats, 50), "lag-p50-ms")
		b.ReportMetric(percentile(eng.lats, 99), "lag-p99-ms")
		b.ReportMetric(percentile(acked.lats, 50), "ack-lag-p50-ms")
		b.ReportMetric(percentile(acked.lats, 99), "ack-lag-p99-ms")
		b.ReportMetric(percentile(rawLat, 50), "raw-lag-p50-ms")
		b.ReportMetric(percentile(rawLat, 99), "raw-lag-p99-ms")
	}
}

// openLoop calls op at rate per second for d, each call on its own
// goroutine (up to 256 at once) and told when it was due, so that a slow
// answer delays no later call: the latencies include any queueing. It
// returns the number of calls and the rate achieved.
func openLoop(rate float64, d time.Duration, op func(due time.Time)) (int, float64) {
	interval := time.Duration(float64(time.Second) / rate)
	sem := make(chan struct{}, 256)
	var wg sync.WaitGroup
	start := time.Now()
	n := 0
	for due := start; due.Sub(start) < d; due = due.Add(interval) {
		if w := time.Until(due); w > 0 {
			time.Sleep(w)
		}
		sem <- struct{}{}
		wg.Add(1)
		n++
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			op(due)
		}()
	}
	wg.Wait()
	return n, float64(n) / time.Since(start).Seconds()
}

// rawLag publishes raw messages at rate for d and returns how long each
// took from its due time to an ordered consumer's receipt.
func rawLag(b *testing.B, s *stack, rate float64, d time.Duration) []time.Duration {
	ctx := context.Background()
	subject := "raw.lag." + domain.NewID()
	size := s.meanMessage(b)
	cons, err := s.js.OrderedConsumer(ctx, rawStream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}, DeliverPolicy: jetstream.DeliverNewPolicy})
	require.NoError(b, err)
	var mu sync.Mutex
	var lats []time.Duration
	got := make(chan struct{}, 1<<16)
	cc, err := cons.Consume(func(m jetstream.Msg) {
		ns, _ := strconv.ParseInt(m.Headers().Get("Due"), 10, 64)
		mu.Lock()
		lats = append(lats, time.Since(time.Unix(0, ns)))
		mu.Unlock()
		got <- struct{}{}
	})
	require.NoError(b, err)
	defer cc.Stop()
	body := bytes.Repeat([]byte("x"), size)
	var failed atomic.Value
	sent, _ := openLoop(rate, d, func(due time.Time) {
		msg := nats.NewMsg(subject)
		msg.Data = body
		msg.Header.Set("Due", strconv.FormatInt(due.UnixNano(), 10))
		msg.Header.Set(nats.MsgIdHdr, domain.NewID())
		if _, err := s.js.PublishMsg(ctx, msg); err != nil {
			failed.Store(err)
		}
	})
	if err, ok := failed.Load().(error); ok {
		b.Fatal(err)
	}
	timeout := time.After(10 * time.Second)
	for range sent {
		select {
		case <-got:
		case <-timeout:
			b.Fatal("the raw consumer did not receive every message")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return lats
}

package eventstore

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Broken is the first broken link of a hash chain that Verify found.
type Broken struct {
	Sequence uint64 `json:"sequence"`
	Subject  string `json:"subject"`
	EventID  string `json:"event_id,omitempty"`
	Problem  string `json:"problem"`
}

// Report is what Verify checked.
type Report struct {
	Messages   uint64  `json:"messages"`
	Events     uint64  `json:"events"`
	Aggregates int     `json:"aggregates"`
	Last       uint64  `json:"last_sequence"`
	Broken     *Broken `json:"broken,omitempty"`
}

// Verify reads the whole stream, checks its running digest against the
// stored stream checkpoints (WriteCheckpoint), and checks every
// aggregate's hash chain:
// each event must name its predecessor's hash, carry the hash of its own
// stored form (under the chain key, so a link cannot be forged without the
// master key), follow its predecessor's version, and sit on its
// aggregate's subject. It stops at the first broken link and names it;
// progress, if given, is told each sequence read.
func (s *Store) Verify(ctx context.Context, progress func(seq, last uint64)) (Report, error) {
	var rep Report
	key, err := s.chainKey(ctx)
	if err != nil {
		return rep, err
	}
	last, err := s.LastSequence(ctx)
	if err != nil {
		return rep, err
	}
	rep.Last = last
	cps, err := s.Checkpoints(ctx)
	if err != nil {
		return rep, err
	}
	at := map[uint64]StreamCheckpoint{}
	for _, c := range cps {
		at[c.Sequence] = c
	}
	if n := len(cps); n > 0 && cps[n-1].Sequence > last {
		rep.Broken = &Broken{Sequence: last, Problem: fmt.Sprintf("the checkpoint of %s covers %d messages, the stream holds %d: messages were removed", cps[n-1].At.Format(time.RFC3339), cps[n-1].Sequence, last)}
		return rep, nil
	}
	if last == 0 {
		return rep, nil
	}
	var running []byte
	type tip struct {
		version int64
		hash    string
	}
	tips := map[string]tip{}
	errStop := errors.New("stop")
	err = s.readRaw(ctx, 1, last, func(seq uint64, subject string, data []byte) error {
		rep.Messages++
		broken := func(eventID, format string, args ...any) error {
			rep.Broken = &Broken{Sequence: seq, Subject: subject, EventID: eventID, Problem: fmt.Sprintf(format, args...)}
			return errStop
		}
		running = streamDigest(key, running, seq, subject, data)
		if cp, ok := at[seq]; ok && cp.Digest != hex.EncodeToString(running) {
			return broken("", "the stream up to here differs from the checkpoint of %s: messages were altered, removed or inserted", cp.At.Format(time.RFC3339))
		}
		var c wireCommit
		if err := json.Unmarshal(data, &c); err != nil || len(c.Events) == 0 {
			return broken("", "the message is not a list of events")
		}
		t := tips[subject]
		for _, w := range c.Events {
			rep.Events++
			switch {
			case subjectPrefix+"."+w.AggregateType+"."+w.AggregateID != subject:
				return broken(w.EventID, "the event belongs to %s.%s, not to this subject", w.AggregateType, w.AggregateID)
			case w.AggregateVersion != t.version+1:
				return broken(w.EventID, "version %d follows version %d", w.AggregateVersion, t.version)
			case w.PrevHash != t.hash:
				return broken(w.EventID, "it names %q as its predecessor's hash, which is %q", w.PrevHash, t.hash)
			}
			got := w.Hash
			check := w
			check.Hash = ""
			want, err := digest(key, &check)
			if err != nil {
				return err
			}
			if got != want {
				return broken(w.EventID, "its hash does not match its content: altered or forged")
			}
			t = tip{version: w.AggregateVersion, hash: got}
		}
		tips[subject] = t
		if progress != nil {
			progress(seq, last)
		}
		return nil
	})
	rep.Aggregates = len(tips)
	if errors.Is(err, errStop) {
		return rep, nil
	}
	return rep, err
}

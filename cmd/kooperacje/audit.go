package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
	"github.com/kooperacje/kooperacje/projections"
)

// errTampered makes verify exit with 1 after printing the broken link.
var errTampered = errors.New("verify: the event log has been tampered with")

// progress returns a progress bar over n steps on stderr, or nil when
// quiet or when stderr is not a terminal.
func progress(stderr io.Writer, n int64, what string, quiet bool) *progressbar.ProgressBar {
	f, ok := stderr.(*os.File)
	if quiet || !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return progressbar.NewOptions64(n, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("msg"),
		progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100e6), progressbar.OptionClearOnFinish())
}

// verify checks every aggregate's hash chain: kooperacje verify.
func verify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c storeConfig
	var quiet bool
	fs := oneOffFlags("verify", &c, stderr, "")
	fs.BoolVar(&quiet, "quiet", false, "no progress bar")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	store, keys, done, err := openForCLI(ctx, &c)
	if err != nil {
		return err
	}
	defer done()
	last, err := store.LastSequence(ctx)
	if err != nil {
		return err
	}
	bar := progress(stderr, int64(last), "verify", quiet)
	rep, err := store.Verify(ctx, func(seq, _ uint64) {
		if bar != nil {
			_ = bar.Set64(int64(seq))
		}
	})
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		return err
	}
	// Every read model over the whole stream, as a start builds them: the
	// events one cannot apply are listed (docs/decisions/0011).
	pseudonyms, err := keys.Pseudonyms(ctx)
	if err != nil {
		return fmt.Errorf("evaluation key: %w", err)
	}
	st, err := projections.Replay(ctx, store, projections.Until{Sequence: last}, slog.New(slog.DiscardHandler), projections.NewInstitutions(),
		projections.NewPartnerships(), projections.NewUsers(), projections.NewFamilies(), projections.NewIndicators(pseudonyms))
	if err != nil {
		return err
	}
	out, _ := json.Marshal(struct {
		eventstore.Report
		Unapplied []projections.Unapplied `json:"unapplied,omitempty"`
	}{rep, st.Unapplied})
	fmt.Fprintln(stdout, string(out))
	for _, u := range st.Unapplied {
		fmt.Fprintf(stderr, "sequence %d, event %s (%s): the %s read model cannot apply it: %s\n", u.Sequence, u.EventID, u.Type, u.Projection, u.Problem)
	}
	if rep.Broken != nil {
		fmt.Fprintf(stderr, "first broken link: sequence %d on %s (event %s): %s\n", rep.Broken.Sequence, rep.Broken.Subject, rep.Broken.EventID, rep.Broken.Problem)
		return errTampered
	}
	fmt.Fprintf(stderr, "%d messages, %d events of %d aggregates: every chain holds\n", rep.Messages, rep.Events, rep.Aggregates)
	return nil
}

// audit prints a family's decision history: kooperacje audit --family ID.
func audit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c storeConfig
	var family string
	var asJSON bool
	fs := oneOffFlags("audit", &c, stderr, "")
	fs.StringVar(&family, "family", "", "id of the family case (required)")
	fs.BoolVar(&asJSON, "json", false, "one JSON object a line instead of a table")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := domain.CheckID("family", family); err != nil {
		return usagef("--family: %v", err)
	}
	store, _, done, err := openForCLI(ctx, &c)
	if err != nil {
		return err
	}
	defer done()
	envs, err := store.Load(ctx, domain.AggregateFamily, family)
	if err != nil {
		return err
	}
	if len(envs) == 0 {
		return fmt.Errorf("family case %s does not exist", family)
	}
	// The names of users, institutions and services come from their read
	// models, rebuilt here: they are small.
	dir := projections.Directory{Users: projections.NewUsers(), Institutions: projections.NewInstitutions(), Partnerships: projections.NewPartnerships()}
	if _, err := projections.Replay(ctx, store, projections.Until{}, slog.New(slog.DiscardHandler), dir.Users, dir.Institutions, dir.Partnerships); err != nil {
		return fmt.Errorf("audit: read the names of users and institutions: %w", err)
	}
	enc := json.NewEncoder(stdout)
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	if !asJSON {
		fmt.Fprintln(tw, "SEQ\tOCCURRED\tRECORDED\tWHO\tWHAT\tWHY")
	}
	for _, h := range projections.History(envs, dir) {
		if asJSON {
			if err := enc.Encode(h); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", h.Sequence, h.OccurredAt.Format(time.DateOnly), h.RecordedAt.Format(time.DateTime),
			h.By, h.Summary, h.Reason)
	}
	return tw.Flush()
}

// plan prints a family's support plan as it stood at a past moment:
// kooperacje plan --family ID --as-of 2020-05-01 [--time recorded].
func plan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c storeConfig
	var family, asOf, kind string
	fs := oneOffFlags("plan", &c, stderr, "")
	fs.StringVar(&family, "family", "", "id of the family case (required)")
	fs.StringVar(&asOf, "as-of", "", "a day (YYYY-MM-DD) or an RFC 3339 instant (default: now)")
	fs.StringVar(&kind, "time", "business", "business (when things happened) or recorded (when the engine recorded them)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := domain.CheckID("family", family); err != nil {
		return usagef("--family: %v", err)
	}
	if kind != "business" && kind != "recorded" {
		return usagef("--time %q: use business or recorded", kind)
	}
	business, recorded := projections.Today(time.Now()), time.Time{}
	if asOf != "" {
		if d, err := domain.ParseDate(asOf); err == nil {
			business = d
			if kind == "recorded" {
				end := d.Time().AddDate(0, 0, 1)
				recorded = time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, projections.Warsaw).Add(-time.Nanosecond)
			}
		} else if t, err := time.Parse(time.RFC3339, asOf); err == nil {
			business = projections.Today(t)
			if kind == "recorded" {
				recorded = t
			}
		} else {
			return usagef("--as-of %q: want YYYY-MM-DD or an RFC 3339 time", asOf)
		}
	} else if kind == "recorded" {
		recorded = time.Now()
	}
	if kind == "recorded" {
		business = domain.Date{}
	}
	store, _, done, err := openForCLI(ctx, &c)
	if err != nil {
		return err
	}
	defer done()
	envs, err := store.Load(ctx, domain.AggregateFamily, family)
	if err != nil {
		return err
	}
	p, ok := projections.PlanAsOf(envs, family, business, recorded)
	if !ok {
		return fmt.Errorf("family case %s did not exist at that moment", family)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(p)
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kooperacje/kooperacje/domain"
	"github.com/kooperacje/kooperacje/eventstore"
)

func TestEvaluateTheDemoTwiceGivesTheSameFilesWithoutWhoTheFamiliesAre(t *testing.T) {
	dir, outsDir := t.TempDir(), t.TempDir()
	_, stop := startServe(t, "--data", dir, "--demo")
	require.Equal(t, 0, stop())

	// Who the demo families are: their ids and the names of their people.
	ctx := context.Background()
	var c storeConfig
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	c.register(fs, eventstore.ListenOff)
	require.NoError(t, fs.Parse([]string{"--data", dir}))
	c.demo = true
	store, _, done, err := openForCLI(ctx, &c)
	require.NoError(t, err)
	secrets := map[string]bool{}
	require.NoError(t, store.Read(ctx, 0, 0, func(_ uint64, envs []domain.Envelope, err error) error {
		if err != nil {
			return err
		}
		for _, env := range envs {
			if e, ok := env.Payload.(domain.FamilyCaseOpened); ok {
				secrets[env.AggregateID] = true
				for _, p := range e.Household {
					if p.Name != "" {
						secrets[p.Name] = true
					}
					secrets[p.PersonID] = true
				}
			}
		}
		return nil
	}))
	done()
	names := 0
	for s := range secrets {
		if strings.Contains(s, " ") {
			names++
		}
	}
	require.Positive(t, names, "the applicants' names were read in clear")
	if dump := os.Getenv("KOOPERACJE_EVALUATE_DUMP"); dump != "" {
		defer func() { _ = os.CopyFS(dump, os.DirFS(outsDir)) }()
	}

	outs := []string{filepath.Join(outsDir, "a"), filepath.Join(outsDir, "b")}
	for _, out := range outs {
		var stdout, stderr bytes.Buffer
		code := run(ctx, []string{"evaluate", "--data", dir, "--demo", "--out", out, "--quiet"}, &stdout, &stderr)
		require.Equal(t, 0, code, stderr.String())
		assert.Contains(t, stdout.String(), "report.html")
	}
	files := map[string][]byte{}
	for _, name := range []string{"indicators.json", "indicators.csv", "report.html"} {
		a, err := os.ReadFile(filepath.Join(outs[0], name))
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(outs[1], name))
		require.NoError(t, err)
		assert.Equal(t, string(a), string(b), "%s: the same history gives the same bytes", name)
		files[name] = a
		for s := range secrets {
			if !assert.NotContains(t, string(a), s, "%s carries pseudonyms only", name) {
				break
			}
		}
	}

	var ev struct {
		Replay struct {
			Skipped *int64 `json:"skipped_unknown_events"`
		} `json:"replay"`
		Partnerships []struct {
			Municipality string `json:"municipality"`
			Client       struct {
				Families int `json:"families_enrolled"`
			} `json:"client"`
		} `json:"partnerships"`
	}
	require.NoError(t, json.Unmarshal(files["indicators.json"], &ev))
	require.Len(t, ev.Partnerships, 4)
	for _, p := range ev.Partnerships {
		assert.Positive(t, p.Client.Families, p.Municipality)
	}
	require.NotNil(t, ev.Replay.Skipped, "the JSON reports skipped events of unknown types")
	assert.Zero(t, *ev.Replay.Skipped)

	assert.True(t, bytes.HasPrefix(files["indicators.csv"], []byte("\xef\xbb\xbf")), "a UTF-8 BOM")
	assert.Contains(t, string(files["indicators.csv"]), "Sieradz")
	assert.Contains(t, string(files["indicators.csv"]), "Rodziny objęte wsparciem")

	report := string(files["report.html"])
	assert.Contains(t, report, "<svg")
	assert.NotContains(t, report, "http://")
	assert.NotContains(t, report, "https://")
	assert.True(t, strings.HasPrefix(report, "<!DOCTYPE html>"))
}

func TestEvaluateAsOfADayAndWithoutOut(t *testing.T) {
	dir := t.TempDir()
	_, stop := startServe(t, "--data", dir, "--demo")
	require.Equal(t, 0, stop())
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 2, run(context.Background(), []string{"evaluate", "--data", dir, "--demo"}, &stdout, &stderr), "--out is required")
	assert.Equal(t, 2, run(context.Background(), []string{"evaluate", "--data", dir, "--demo", "--out", t.TempDir(), "--as-of", "2020-13-01"}, &stdout, &stderr))

	out := t.TempDir()
	require.Equal(t, 0, run(context.Background(), []string{"evaluate", "--data", dir, "--demo", "--out", out, "--quiet", "--as-of", "1999-01-01"}, &stdout, &stderr), stderr.String())
	raw, err := os.ReadFile(filepath.Join(out, "indicators.json"))
	require.NoError(t, err)
	var ev struct {
		AsOf   string `json:"as_of"`
		Cutoff struct {
			OccurredAt string `json:"occurred_at"`
		} `json:"cutoff"`
		Overall struct {
			Client struct {
				Families int `json:"families_enrolled"`
			} `json:"client"`
		} `json:"overall"`
	}
	require.NoError(t, json.Unmarshal(raw, &ev))
	assert.Equal(t, "1999-01-01", ev.AsOf)
	assert.Equal(t, "1999-01-01T22:59:59.999999999Z", ev.Cutoff.OccurredAt, "the end of the day in Warsaw (UTC+1 in winter)")
	assert.Zero(t, ev.Overall.Client.Families, "no family had been enrolled in 1999")
}

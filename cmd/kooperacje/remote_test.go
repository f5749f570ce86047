package main

import (
	"context"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCommandsReachARunningEngineThroughNATS runs a one-off command
// against the embedded server of a running engine, as an operator would
// with the plain NATS address and the engine's nkey.
func TestCommandsReachARunningEngineThroughNATS(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--data", dir, "--demo", "--http", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0"}, &stdout, &stderr)
	}()
	natsLine := regexp.MustCompile(`NATS:\s+(nats://\S+)`)
	var url string
	require.Eventually(t, func() bool {
		if m := natsLine.FindStringSubmatch(stdout.String()); m != nil {
			url = m[1]
			return true
		}
		return false
	}, 60*time.Second, 20*time.Millisecond, "serve did not start: %s", stderr.String())

	var out, errs syncBuffer
	code := run(context.Background(), []string{"verify", "--nats-url", url, "--nats-nkey", filepath.Join(dir, "nats-user.nk"),
		"--data", dir, "--demo", "--quiet"}, &out, &errs)
	require.Equal(t, 0, code, errs.String())
	assert.Contains(t, errs.String(), "every chain holds")

	cancel()
	assert.Equal(t, 0, <-done)
}

package main

import (
	"context"
	"io"
)

// benchScale is kooperacje bench scale.
func benchScale(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return usagef("bench scale: not written yet")
}

package projections

import (
	"testing"
	"time"
)

// The checkpoint loop waits at least the runner's interval, and longer
// after a slow checkpoint, so that checkpoints take at most a hundredth of
// the runner's time however large the read models grow.
func TestCheckpointsBackOffWhenSlow(t *testing.T) {
	r := NewRunner(nil, "test", nil)
	for _, tc := range []struct {
		took, want time.Duration
	}{
		{0, 2 * time.Second},
		{5 * time.Millisecond, 2 * time.Second},
		{20 * time.Millisecond, 2 * time.Second},
		{50 * time.Millisecond, 5 * time.Second},
		{12 * time.Second, 20 * time.Minute},
	} {
		if got := r.nextCheckpoint(tc.took); got != tc.want {
			t.Errorf("after a checkpoint of %v: next in %v, want %v", tc.took, got, tc.want)
		}
	}
}

package eventstore

// Hooks for the group-commit tests (compiled into tests only).

// HoldCommits keeps the committer from taking messages until release is
// called, so that the test can line up the contents of the next batch.
func HoldCommits(s *Store) (release func()) {
	s.gc.gate.Lock()
	return s.gc.gate.Unlock
}

// Queued returns how many messages wait for the committer.
func Queued(s *Store) int {
	s.gc.mu.Lock()
	defer s.gc.mu.Unlock()
	n := 0
	for _, p := range s.gc.queue {
		if !p.cancelled {
			n++
		}
	}
	return n
}

// SetMinBatch changes the fewest messages sent as a batch. Call it before
// the first Append.
func SetMinBatch(s *Store, n int) { s.gc.minBatch = n }

// SetLoadMaxBytes bounds the bytes of one direct-get batch of Load, so
// that the server ends batches early.
func SetLoadMaxBytes(s *Store, n int) { s.gets.maxBytes = n }

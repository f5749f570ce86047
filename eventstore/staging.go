package eventstore

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// BatchStaging says where the embedded server stages an atomic batch
// before it commits the batch to the stream (see
// docs/decisions/0010-batch-staging-in-memory.md).
type BatchStaging string

// The places a batch can be staged.
const (
	// StagingAuto stages in memory when a memory file system (tmpfs) is
	// at hand, on disk otherwise. The default.
	StagingAuto BatchStaging = ""
	// StagingMemory stages in a directory of a memory file system, as a
	// clustered stream stages in memory: a batch costs the one fsync of
	// its commit. Opening the store fails where there is no tmpfs.
	StagingMemory BatchStaging = "memory"
	// StagingDisk leaves staging where nats-server puts it for a
	// single-node file stream: in a directory of the stream's own, created,
	// fsynced and removed for every batch (about four fsyncs a batch).
	StagingDisk BatchStaging = "disk"
)

// ErrNoMemoryFS means memory staging was asked for where no memory file
// system is available.
var ErrNoMemoryFS = errors.New("no memory file system (tmpfs) for staging batches")

// ParseBatchStaging reads a --batch-staging value: auto, memory or disk.
func ParseBatchStaging(s string) (BatchStaging, error) {
	switch s {
	case "", "auto":
		return StagingAuto, nil
	case string(StagingMemory), string(StagingDisk):
		return BatchStaging(s), nil
	}
	return "", fmt.Errorf("batch staging %q: use auto, memory or disk", s)
}

// memoryFS finds the memory file system to stage batches in ("" for
// none); tests replace it.
var memoryFS = tmpfsDir

// stagingPrefix starts the name of every staging directory the engine
// makes in the memory file system; only such directories are ever
// removed.
const stagingPrefix = "kooperacje-batches-"

// batchesDir is the directory of a stream's staged batches in nats-server's
// file store: <store>/<account>/streams/<stream>/batches.
const batchesDir = "batches"

// stager points the batches directories of the embedded server's streams
// at directories of a memory file system. nats-server stages an atomic
// batch of a single-node file stream in a file store of its own under
// that directory, so that a batch interrupted by a crash half-way through
// its commit can be finished when the server starts again; a link to
// tmpfs keeps that for a crash of the process (tmpfs outlives it), while
// each batch costs one fsync instead of about four and three directory
// creations.
type stager struct {
	base     string // the memory file system's directory; "" stages on disk
	storeDir string // the server's JetStream store, <data>/jetstream
	// owner names this data directory in the names of its staging
	// directories (a digest of its path), so that a start finds those of
	// earlier processes on the same data directory, and only those.
	owner string

	mu      sync.Mutex
	dirs    map[string]string // link → the staging directory this process made
	cleaned bool              // earlier processes' staging removed
}

// newStager prepares staging under storeDir as staging asks.
func newStager(storeDir string, staging BatchStaging) (*stager, error) {
	abs, err := filepath.Abs(storeDir)
	if err != nil {
		return nil, fmt.Errorf("batch staging: %w", err)
	}
	// The same data directory by whatever path it is named (its parent
	// exists; the store itself may not yet).
	if parent, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		abs = filepath.Join(parent, filepath.Base(abs))
	}
	sum := sha256.Sum256([]byte(abs))
	st := &stager{storeDir: storeDir, owner: hex.EncodeToString(sum[:6]), dirs: map[string]string{}}
	if staging != StagingDisk {
		st.base = memoryFS()
		if st.base == "" && staging == StagingMemory {
			return nil, ErrNoMemoryFS
		}
	}
	return st, nil
}

// prefix starts the names of this data directory's staging directories
// for stream ("*" for any stream).
func (st *stager) prefix(stream string) string {
	return stagingPrefix + stream + "-" + st.owner + "-"
}

// removeLeftovers removes the staging directories that earlier processes
// on this data directory left in the memory file system: a killed process
// leaves its own, and the server, once started, has finished any batch it
// found interrupted in them. Directories of other data directories, and
// whatever a link points at outside the memory file system, are never
// touched. Call it once the server has started, before the first stage.
func (st *stager) removeLeftovers() {
	base := memoryFS()
	if base == "" {
		return
	}
	old, _ := filepath.Glob(filepath.Join(base, st.prefix("*")+"*"))
	for _, d := range old {
		_ = os.RemoveAll(d)
	}
}

// inMemory reports whether batches are staged in memory.
func (st *stager) inMemory() bool { return st.base != "" }

// stage links the batches directory of stream (which must exist on the
// server) to a fresh directory of the memory file system. Call it before
// the stream's first atomic batch; a second call for the same stream does
// nothing.
func (st *stager) stage(stream string) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.cleaned {
		st.removeLeftovers() // an earlier process's, in memory or not now
		st.cleaned = true
	}
	if st.base == "" {
		return nil
	}
	dir, err := st.streamDir(stream)
	if err != nil {
		return err
	}
	link := filepath.Join(dir, batchesDir)
	if _, ok := st.dirs[link]; ok {
		return nil
	}
	// The server removed the batches directory when it started; one made
	// since holds only finished batches' empty directories, if anything.
	if err := os.Remove(link); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("stage batches of %s in memory: %w", stream, err)
	}
	target, err := os.MkdirTemp(st.base, st.prefix(stream))
	if err != nil {
		return fmt.Errorf("stage batches of %s in memory: %w", stream, err)
	}
	if err := os.Symlink(target, link); err != nil {
		_ = os.RemoveAll(target)
		return fmt.Errorf("stage batches of %s in memory: %w", stream, err)
	}
	st.dirs[link] = target
	return nil
}

// streamDir finds stream's directory in the server's store.
func (st *stager) streamDir(stream string) (string, error) {
	accounts, err := os.ReadDir(st.storeDir)
	if err != nil {
		return "", fmt.Errorf("stage batches of %s: %w", stream, err)
	}
	for _, a := range accounts {
		d := filepath.Join(st.storeDir, a.Name(), "streams", stream)
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d, nil
		}
	}
	return "", fmt.Errorf("stage batches of %s: no directory of the stream under %s", stream, st.storeDir)
}

// close removes the links and the staging directories this process made.
// Call it after the server has stopped.
func (st *stager) close() {
	st.mu.Lock()
	defer st.mu.Unlock()
	for link, target := range st.dirs {
		if t, err := os.Readlink(link); err == nil && t == target {
			_ = os.Remove(link)
		}
		_ = os.RemoveAll(target)
		delete(st.dirs, link)
	}
}

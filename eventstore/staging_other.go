//go:build !linux

package eventstore

// tmpfsDir returns "": memory staging is implemented for Linux's tmpfs
// only; elsewhere batches are staged on disk.
func tmpfsDir() string { return "" }

package domain

import (
	"cmp"
	"maps"
	"slices"
)

// sortedKeys returns the keys of m in order, so that decisions over maps
// are deterministic.
func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	return slices.Sorted(maps.Keys(m))
}

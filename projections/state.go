package projections

import (
	"encoding/json"
	"fmt"
	"sync"
)

// snapshot encodes a read model's state under its read lock. Maps encode
// with sorted keys, so equal states give equal bytes.
func snapshot(mu *sync.RWMutex, state any) ([]byte, error) {
	mu.RLock()
	defer mu.RUnlock()
	return json.Marshal(state)
}

// restore decodes a snapshot into a fresh map and swaps it in.
func restore[V any](mu *sync.RWMutex, dst *map[string]V, b []byte) error {
	m := map[string]V{}
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("decode snapshot: %w", err)
	}
	mu.Lock()
	*dst = m
	mu.Unlock()
	return nil
}

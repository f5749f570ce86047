package domain

import (
	"context"

	jsonv2 "github.com/go-json-experiment/json"
)

// The two strict decoders of payloads, for the test that holds them to
// agree.
var (
	DecodeV1 = decodeV1
	DecodeV2 = func(data []byte, v any) error { return jsonv2.Unmarshal(data, v, strictV2) }
)

// CachedState returns the state a Cache holds for an aggregate, for tests
// that compare it with the state loaded from the store. Tests must not
// change it.
func (c *Cache) CachedState(aggregate, id string) (State, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[cacheKey{aggregate, id}]
	if !ok {
		return nil, false
	}
	return el.Value.(*snapshot).state, true
}

// Fresh returns the current state of an aggregate as a fact is read: from
// the cache, checked for newer events, sharing concurrent reads.
func (c *Cache) Fresh(ctx context.Context, store Store, aggregate, id string) (State, error) {
	s, err := c.fresh(ctx, store, cacheKey{aggregate, id})
	if err != nil {
		return nil, err
	}
	return s.state, nil
}

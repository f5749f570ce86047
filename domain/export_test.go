package domain

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

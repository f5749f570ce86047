package credentials

import (
	"sync"
	"time"
)

// Throttle slows down guessing: once Free failures are recorded under one
// key (a login, or an address), the next attempt must wait a second, and
// each further failure doubles the wait, up to MaxDelay. A success under the key forgets its
// failures; a key without failures for Forget is forgotten too. It lives in
// the memory of one engine instance. It is safe for concurrent use.
type Throttle struct {
	Free     int
	MaxDelay time.Duration
	Forget   time.Duration

	mu   sync.Mutex
	keys map[string]*attempts
	ops  int
}

type attempts struct {
	failures int
	until    time.Time // no attempt before then
	last     time.Time
}

// NewThrottle returns a throttle allowing free failures before delays
// begin.
func NewThrottle(free int, maxDelay time.Duration) *Throttle {
	return &Throttle{Free: free, MaxDelay: maxDelay, Forget: time.Hour, keys: map[string]*attempts{}}
}

// Wait returns how long key must wait at now before it may try again; 0
// when it may try now.
func (t *Throttle) Wait(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	a := t.keys[key]
	if a == nil || !now.Before(a.until) {
		return 0
	}
	return a.until.Sub(now)
}

// Fail records a failed attempt under key at now.
func (t *Throttle) Fail(key string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ops++
	if t.ops%1024 == 0 {
		for k, a := range t.keys {
			if now.Sub(a.last) > t.Forget && !now.Before(a.until) {
				delete(t.keys, k)
			}
		}
	}
	a := t.keys[key]
	if a == nil || (now.Sub(a.last) > t.Forget && !now.Before(a.until)) {
		a = &attempts{}
		t.keys[key] = a
	}
	a.failures++
	a.last = now
	if over := a.failures - t.Free; over >= 0 {
		d := time.Second << min(over, 30)
		if d > t.MaxDelay || d <= 0 {
			d = t.MaxDelay
		}
		a.until = now.Add(d)
	}
}

// Succeed forgets the failures under key.
func (t *Throttle) Succeed(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, key)
}

// Package ttl is a small, bounded, concurrency-safe cache whose entries
// expire: what a warm Lambda instance may remember between requests.
package ttl

import (
	"sync"
	"time"
)

// Cache maps keys to values for TTL. When it holds Max entries it drops
// expired ones, and if none expired, everything: a crude bound that keeps a
// flood of distinct keys from growing the heap.
type Cache[K comparable, V any] struct {
	TTL time.Duration
	Max int
	Now func() time.Time

	mu      sync.Mutex
	entries map[K]entry[V]
}

type entry[V any] struct {
	value   V
	expires time.Time
}

// Get returns the value of key if present and fresh.
func (c *Cache[K, V]) Get(key K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || !c.now().Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.value, true
}

// Put stores value under key for TTL.
func (c *Cache[K, V]) Put(key K, value V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.entries == nil {
		c.entries = map[K]entry[V]{}
	}
	if c.Max > 0 && len(c.entries) >= c.Max {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= c.Max {
			clear(c.entries)
		}
	}
	c.entries[key] = entry[V]{value, now.Add(c.TTL)}
}

// Delete forgets key.
func (c *Cache[K, V]) Delete(key K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, key)
}

func (c *Cache[K, V]) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

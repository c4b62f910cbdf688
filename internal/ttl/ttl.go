// Package ttl is a small, bounded, concurrency-safe cache whose entries
// expire: what a warm Lambda instance may remember between requests.
package ttl

import (
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Cache maps keys to values for TTL, holding at most Max entries (0: no
// bound). When full it drops the least recently used entry, so a flood of
// distinct keys, or more active clients than it holds, costs the entries
// nobody asked for lately rather than everything: the hit rate degrades
// with the working set, it never collapses.
//
// The LRU order is hashicorp's simplelru; expiry is checked here, against
// Now, so tests move time with a clock of their own (golang-lru's
// expirable cache reads the wall clock).
type Cache[K comparable, V any] struct {
	TTL time.Duration
	Max int
	Now func() time.Time

	mu  sync.Mutex
	lru *simplelru.LRU[K, entry[V]]
}

type entry[V any] struct {
	value   V
	expires time.Time
}

// unbounded is the size of a cache without Max; simplelru needs one.
const unbounded = 1 << 30

// Get returns the value of key if present and fresh.
func (c *Cache[K, V]) Get(key K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var zero V
	if c.lru == nil {
		return zero, false
	}
	e, ok := c.lru.Get(key)
	if !ok {
		return zero, false
	}
	if !c.now().Before(e.expires) {
		c.lru.Remove(key)
		return zero, false
	}
	return e.value, true
}

// Put stores value under key for TTL, dropping the least recently used
// entry when the cache is full.
func (c *Cache[K, V]) Put(key K, value V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lru == nil {
		size := c.Max
		if size <= 0 {
			size = unbounded
		}
		c.lru, _ = simplelru.NewLRU[K, entry[V]](size, nil) // only a size ≤ 0 fails
	}
	c.lru.Add(key, entry[V]{value, c.now().Add(c.TTL)})
}

// Delete forgets key.
func (c *Cache[K, V]) Delete(key K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lru != nil {
		c.lru.Remove(key)
	}
}

// Len is how many entries the cache holds, fresh or not yet dropped.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lru == nil {
		return 0
	}
	return c.lru.Len()
}

func (c *Cache[K, V]) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

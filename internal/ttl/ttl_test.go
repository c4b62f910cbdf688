package ttl

import (
	"testing"
	"time"
)

func TestExpiryAndBound(t *testing.T) {
	now := time.Unix(0, 0)
	c := Cache[string, int]{TTL: time.Minute, Max: 3, Now: func() time.Time { return now }}
	c.Put("a", 1)
	if v, ok := c.Get("a"); !ok || v != 1 {
		t.Fatalf("Get = %v, %v", v, ok)
	}
	now = now.Add(time.Minute)
	if _, ok := c.Get("a"); ok {
		t.Error("an entry outlived its TTL")
	}
	c.Put("b", 2)
	c.Put("c", 3)
	c.Put("d", 4) // full: the expired "a" goes first
	if _, ok := c.Get("b"); !ok {
		t.Error("a fresh entry was dropped while an expired one could go")
	}
	c.Put("e", 5) // full of fresh entries: all go
	if _, ok := c.Get("b"); ok || len(c.entries) != 1 {
		t.Errorf("the cache grew past Max: %d entries", len(c.entries))
	}
	c.Delete("e")
	if _, ok := c.Get("e"); ok {
		t.Error("Delete kept the entry")
	}
}

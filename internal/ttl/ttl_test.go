package ttl

import (
	"fmt"
	"math/rand/v2"
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
	c.Put("d", 4)
	c.Get("b")    // b was used lately, c was not
	c.Put("e", 5) // full: the least recently used goes, and only it
	if _, ok := c.Get("c"); ok {
		t.Error("the least recently used entry stayed in a full cache")
	}
	for _, k := range []string{"b", "d", "e"} {
		if _, ok := c.Get(k); !ok {
			t.Errorf("%s was dropped: a full cache must drop one entry, not all", k)
		}
	}
	if c.Len() != 3 {
		t.Errorf("%d entries, want Max = 3", c.Len())
	}
	c.Delete("e")
	if _, ok := c.Get("e"); ok {
		t.Error("Delete kept the entry")
	}
}

// TestHitRateDegradesWithTheWorkingSet: with more active keys than the
// cache holds, Zipf-popular keys keep hitting. The cache this replaced
// emptied itself when full (seeded draws, so the rates are exact).
func TestHitRateDegradesWithTheWorkingSet(t *testing.T) {
	for _, tt := range []struct {
		keys    uint64
		minRate float64
	}{{10_000, 0.95}, {100_000, 0.8}, {1_000_000, 0.73}} { // the cache this replaced: 0.955, 0.784, 0.702
		c := Cache[uint64, struct{}]{TTL: time.Hour, Max: 10_000}
		rate := hitRate(&c, tt.keys, 200_000)
		if rate < tt.minRate {
			t.Errorf("%d Zipf-popular keys through a cache of 10,000: hit rate %.2f, want at least %.2f", tt.keys, rate, tt.minRate)
		}
		t.Logf("%d keys: hit rate %.3f", tt.keys, rate)
	}
}

// hitRate asks c for n keys drawn from keys with a Zipf popularity (s 1.1),
// putting each miss, and returns the share of hits.
func hitRate(c *Cache[uint64, struct{}], keys uint64, n int) float64 {
	z := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.1, 1, keys-1)
	hits := 0
	for range n {
		k := z.Uint64()
		if _, ok := c.Get(k); ok {
			hits++
		} else {
			c.Put(k, struct{}{})
		}
	}
	return float64(hits) / float64(n)
}

func BenchmarkHitRate(b *testing.B) {
	for _, keys := range []uint64{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprint(keys), func(b *testing.B) {
			var rate float64
			for b.Loop() {
				c := Cache[uint64, struct{}]{TTL: time.Hour, Max: 10_000}
				rate = hitRate(&c, keys, 100_000)
			}
			b.ReportMetric(rate*100, "hit%")
		})
	}
}

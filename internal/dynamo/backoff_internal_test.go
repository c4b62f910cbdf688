package dynamo

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestBackoffIsCappedExponentialWithFullJitter(t *testing.T) {
	b := backoff{base: 10 * time.Millisecond, cap: 75 * time.Millisecond}
	var bounds []int64
	top := b
	top.rand = func(n int64) int64 { bounds = append(bounds, n); return n - 1 } // the largest draw
	bottom := b
	bottom.rand = func(int64) int64 { return 0 }
	for _, tc := range []struct {
		name string
		n    int
		want time.Duration // the bound the draw is taken below
	}{
		{"first retry", 1, 10 * time.Millisecond},
		{"second doubles", 2, 20 * time.Millisecond},
		{"third doubles", 3, 40 * time.Millisecond},
		{"fourth is capped", 4, 75 * time.Millisecond},
		{"far retry stays capped (no shift overflow)", 200, 75 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bounds = nil
			if got, want := top.delay(tc.n), tc.want-1; got != want {
				t.Errorf("largest delay(%d) = %v, want %v", tc.n, got, want)
			}
			if len(bounds) != 1 || bounds[0] != int64(tc.want) {
				t.Errorf("drew below %v, want below %v", bounds, int64(tc.want))
			}
			if got := bottom.delay(tc.n); got != 0 {
				t.Errorf("smallest delay(%d) = %v, want 0 (full jitter starts at zero)", tc.n, got)
			}
		})
	}
}

func TestBackoffDefaultsToMathRand(t *testing.T) {
	b := backoff{base: time.Millisecond, cap: time.Millisecond}
	for range 100 {
		if d := b.delay(3); d < 0 || d >= time.Millisecond {
			t.Fatalf("delay = %v, want in [0, 1ms)", d)
		}
	}
}

func TestBackoffWaitEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	b := backoff{base: time.Hour, cap: time.Hour, rand: func(n int64) int64 { return n - 1 }}
	if err := b.wait(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("wait on an ended context = %v, want context.Canceled (and no hour's sleep)", err)
	}
	zero := backoff{base: time.Hour, cap: time.Hour, rand: func(int64) int64 { return 0 }}
	if err := zero.wait(t.Context(), 1); err != nil {
		t.Errorf("a zero draw: wait = %v, want nil at once", err)
	}
}

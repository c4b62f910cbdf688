package dynamo

import (
	"context"
	mathrand "math/rand/v2"
	"time"
)

// backoff is capped exponential backoff with full jitter, the one wait
// between this package's own retries (a transaction cancelled by
// contention, keys BatchGetItem left unprocessed). Full jitter ("Exponential
// Backoff And Jitter", AWS Architecture Blog) spreads callers that failed
// together, so they do not collide again on the same item at the same
// instant; the cap keeps a request within its function's time.
type backoff struct {
	base, cap time.Duration
	// rand returns a uniform number in [0, n); nil is math/rand/v2's.
	rand func(n int64) int64
}

// retries is the backoff of every retry loop here: waits below 25, 50,
// 100, 200, 400 ms, then 500.
var retries = backoff{base: 25 * time.Millisecond, cap: 500 * time.Millisecond}

// delay is the wait before retry n (1 for the first): uniform in
// [0, min(cap, base·2ⁿ⁻¹)).
func (b backoff) delay(n int) time.Duration {
	ceiling := b.cap
	if n >= 1 && n < 63 && b.base<<(n-1) > 0 && b.base<<(n-1) < b.cap {
		ceiling = b.base << (n - 1)
	}
	if ceiling <= 0 {
		return 0
	}
	rand := b.rand
	if rand == nil {
		rand = mathrand.Int64N
	}
	return time.Duration(rand(int64(ceiling)))
}

// wait sleeps before retry n, or returns ctx's error as soon as ctx ends.
func (b backoff) wait(ctx context.Context, n int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d := b.delay(n)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

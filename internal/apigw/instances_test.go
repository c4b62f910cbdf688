package apigw

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
)

// Overlapping invocations each get their own answer: an aws-lambda-go
// handler reuses its response buffer, so they must not share an instance.
func TestInstancesServeOverlappingInvocations(t *testing.T) {
	var started atomic.Int32
	in := &Instances{New: func() (lambda.Handler, error) {
		started.Add(1)
		return lambda.NewHandler(func(_ context.Context, n int) (string, error) { return strconv.Itoa(n * 2), nil }), nil
	}}
	var wg sync.WaitGroup
	for n := range 64 {
		wg.Go(func() {
			out, err := in.Invoke(context.Background(), []byte(strconv.Itoa(n)))
			if want := `"` + strconv.Itoa(n*2) + `"`; err != nil || string(out) != want {
				t.Errorf("invocation %d: %s %v, want %s", n, out, err, want)
			}
		})
	}
	wg.Wait()
	if s := started.Load(); s < 1 || s > 64 {
		t.Errorf("%d instances started for 64 invocations", s)
	}
	// idle instances are reused, not started again
	before := started.Load()
	for n := range 10 {
		if _, err := in.Invoke(context.Background(), []byte(strconv.Itoa(n))); err != nil {
			t.Fatal(err)
		}
	}
	if started.Load() != before {
		t.Errorf("sequential invocations started %d new instances", started.Load()-before)
	}
}

package apigw

import (
	"bytes"
	"context"
	"sync"

	"github.com/aws/aws-lambda-go/lambda"
)

// Instances serves invocations as Lambda does: each instance handles one
// invocation at a time, and a new one starts when all are busy. This is
// not only fidelity: an aws-lambda-go handler encodes every response into
// one buffer it reuses, so two invocations at once would corrupt each
// other's answers.
type Instances struct {
	New func() (lambda.Handler, error) // starts an instance (its init phase)

	mu   sync.Mutex
	idle []lambda.Handler
}

// Invoke implements lambda.Handler.
func (in *Instances) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	h, err := in.take()
	if err != nil {
		return nil, err
	}
	out, err := h.Invoke(ctx, payload)
	out = bytes.Clone(out) // the instance's buffer is reused by its next invocation
	in.Release(h)
	return out, err
}

// Release makes h an idle instance: the one a caller started ahead, or one
// done with its invocation.
func (in *Instances) Release(h lambda.Handler) {
	in.mu.Lock()
	in.idle = append(in.idle, h)
	in.mu.Unlock()
}

func (in *Instances) take() (lambda.Handler, error) {
	in.mu.Lock()
	if n := len(in.idle); n > 0 {
		h := in.idle[n-1]
		in.idle = in.idle[:n-1]
		in.mu.Unlock()
		return h, nil
	}
	in.mu.Unlock()
	return in.New()
}

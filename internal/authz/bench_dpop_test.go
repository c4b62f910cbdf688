package authz_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/testing/clientkey"
)

// BenchmarkAuthorizeDPoP: the warm decision on a manager token as Bearer
// and on a DPoP-bound one with a fresh proof each time, side by side. The
// DPoP decision adds the proof's signature check (ES256) and one
// conditional write of its jti (the embedded DynamoDB here, a round trip
// on AWS); dpop-jti-in-memory is the same without that write, to tell the
// proof's own cost from the store's. Proofs are made before the timer runs, as a client would.
func BenchmarkAuthorizeDPoP(b *testing.B) {
	for _, run := range []struct {
		name         string
		bound, inMem bool
	}{{"bearer", false, false}, {"dpop", true, false}, {"dpop-jti-in-memory", true, true}} {
		bound := run.bound
		b.Run(run.name, func(b *testing.B) {
			f := newFixture(b)
			a := f.withProofs()
			if run.inMem { // the proof's own cost, without the table's round trip
				a.Proofs = &memReplays{seen: map[string]bool{}}
			}
			c, _, err := f.svc.Create(context.Background(), "acme", module.CreateInput{Name: "manager", DisplayName: "Manager", ClientSecret: secret, Scopes: []string{module.ScopeManage}}, "")
			if err != nil {
				b.Fatal(err)
			}
			k := clientkey.New(b, "", jose.ES256)
			tok, scheme := f.issue(b, c, ""), "Bearer "
			if bound {
				tok, scheme = f.issueBound(b, c, k), "DPoP "
			}
			proofs := make([]string, b.N+1)
			if bound {
				for i := range proofs {
					proofs[i] = k.Proof(b, clientkey.ProofClaims("GET", issuer+resource, tok, f.clock.Now(), nil), nil)
				}
			}
			ctx := context.Background()
			decide := func(proof string) {
				if d, err := a.Authorize(ctx, dpopEvent("GET", resource, scheme+tok, proof)); err != nil || !d.IsAuthorized {
					b.Fatalf("refused: %v", err)
				}
			}
			decide(proofs[b.N])
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				decide(proofs[i])
			}
		})
	}
}

// memReplays is authz.Replays in one map: one instance only, for
// benchmarking the proof check alone.
type memReplays struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (m *memReplays) FirstUse(_ context.Context, clientID, jti string, _ time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := clientID + " " + jti
	first := !m.seen[k]
	m.seen[k] = true
	return first, nil
}

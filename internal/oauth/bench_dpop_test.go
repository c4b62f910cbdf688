package oauth_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/modules-service/modules/internal/oauth"
	"github.com/modules-service/modules/internal/signing"
	"github.com/modules-service/modules/internal/testing/clientkey"
)

// BenchmarkTokenDPoP: the warm token (a secret this instance verified
// before) without and with a DPoP proof, side by side, for each signing
// algorithm. With a proof the endpoint checks its signature (an ES256
// client key, as requests-oauth2client makes by default) and records its
// jti (one conditional write; dpop-jti-in-memory without it, to tell the
// proof's own cost from the store's). Proofs are signed before the timer runs,
// as a client would.
func BenchmarkTokenDPoP(b *testing.B) {
	for _, alg := range signing.Algorithms {
		for _, run := range []struct {
			name             string
			withProof, inMem bool
		}{{"bearer/", false, false}, {"dpop/", true, false}, {"dpop-jti-in-memory/", true, true}} {
			withProof := run.withProof
			b.Run(run.name+string(alg), func(b *testing.B) {
				s := newBenchStackFor(b, alg)
				e := s.endpoint()
				if run.inMem { // the proof's own cost, without the table's round trip
					e = s.endpointCounting(&memFirstUse{LimitStore: s.b.Limits(), seen: map[string]bool{}})
				}
				k := clientkey.New(b, "", jose.ES256)
				proofs := make([]string, b.N+1)
				if withProof {
					for i := range proofs {
						proofs[i] = k.Proof(b, clientkey.ProofClaims("POST", issuer+"/oauth2/token", "", time.Now(), nil), nil)
					}
				}
				serve := func(proof string) {
					r := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader("grant_type=client_credentials"))
					r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					r.SetBasicAuth(s.client.ClientID, plainSecret)
					if proof != "" {
						r.Header.Set("DPoP", proof)
					}
					w := httptest.NewRecorder()
					e.ServeHTTP(w, r)
					if w.Code != 200 {
						b.Fatalf("status %d: %s", w.Code, w.Body)
					}
				}
				serve(proofs[b.N])
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					serve(proofs[i])
				}
			})
		}
	}
}

// memFirstUse records jti in one map instead of the table.
type memFirstUse struct {
	oauth.LimitStore
	seen map[string]bool
}

func (m *memFirstUse) FirstUse(_ context.Context, clientID, jti string, _ time.Time) (bool, error) {
	k := clientID + " " + jti
	first := !m.seen[k]
	m.seen[k] = true
	return first, nil
}

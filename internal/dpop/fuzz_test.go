package dpop_test

import (
	"errors"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/modules-service/modules/internal/dpop"
	"github.com/modules-service/modules/internal/testing/clientkey"
)

// FuzzCheck: whatever a client sends as a proof, Check answers a Proof or
// ErrInvalid, never panics, and never accepts a proof it did not sign for
// the request (only the seed's own proof may pass).
func FuzzCheck(f *testing.F) {
	k := clientkey.New(f, "", jose.ES256)
	good := k.Proof(f, clientkey.ProofClaims("GET", apiURL, "tok", now, nil), nil)
	f.Add(good)
	f.Add("")
	f.Add("a.b.c")
	f.Add(good + "x")
	req := dpop.Request{Method: "GET", URLs: []string{apiURL}, AccessToken: "tok"}
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := dpop.Check(raw, req, now)
		switch {
		case err != nil && !errors.Is(err, dpop.ErrInvalid):
			t.Fatalf("an error that is not ErrInvalid: %v", err)
		case err == nil && p.JKT == "":
			t.Fatal("accepted without a thumbprint")
		}
	})
}

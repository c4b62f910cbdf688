package federation_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/modules-service/modules/internal/federation"
)

// noKeys is an issuer that publishes no key: nothing may verify.
type noKeys struct{}

func (noKeys) Find(context.Context, string, string) ([]jose.JSONWebKey, error) { return nil, nil }

// FuzzVerify: any client_assertion is read without panicking, and with no
// key published nothing is accepted; every outcome is a refusal.
func FuzzVerify(f *testing.F) {
	f.Add("eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwczovL2kiLCJzdWIiOiJzIiwiYXVkIjoiYSJ9.")
	f.Add("eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.eyJpc3MiOiJodHRwczovL2kiLCJzdWIiOiJzIiwiYXVkIjpbImEiXX0.c2ln")
	f.Add("a.b.c")
	creds := []federation.Credential{{Issuer: "https://i", Subject: "s", Audience: "a"}}
	v := &federation.Verifier{Keys: noKeys{}, Replays: &replays{}, Issuers: []string{"https://i"}, Now: time.Now}
	f.Fuzz(func(t *testing.T, raw string) {
		federation.Issuer(raw)
		if _, err := v.Verify(context.Background(), raw, "client1", creds); !errors.Is(err, federation.ErrRefused) {
			t.Fatalf("Verify(%q) = %v, want a refusal", raw, err)
		}
	})
}

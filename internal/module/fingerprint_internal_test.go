package module

import (
	"strings"
	"testing"

	"github.com/alexedwards/argon2id"

	"github.com/modules-service/modules/internal/secrethash"
)

// TestFingerprints: new records hold a keyed hash that depends on the key
// and the request; records written before it (argon2id) still match the
// same request until they expire.
func TestFingerprints(t *testing.T) {
	h := secrethash.Hasher{Params: argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}}
	s := &Service{Hasher: h, IdempotencyKey: []byte(strings.Repeat("k", 32))}
	in := CreateInput{Name: "billing", DisplayName: "Billing", ClientSecret: "Known-Secret-4711-xyz"}
	other := in
	other.ClientSecret = "Other-Secret-4711-xyz"

	fp := s.fingerprint(in)
	if !strings.HasPrefix(fp, "hmac-sha256:") || strings.Contains(fp, in.ClientSecret) {
		t.Fatalf("fingerprint %q", fp)
	}
	rekeyed := &Service{IdempotencyKey: []byte(strings.Repeat("j", 32))}
	if rekeyed.fingerprint(in) == fp {
		t.Error("the fingerprint does not depend on the key: anyone could compute it")
	}
	legacy, _ := h.Hash(canonical(in))
	for _, tt := range []struct {
		name, fingerprint string
		in                CreateInput
		same              bool
	}{
		{"keyed, same request", fp, in, true},
		{"keyed, other secret", fp, other, false},
		{"keyed, same request after trimming", fp, CreateInput{Name: " billing ", DisplayName: "Billing", ClientSecret: in.ClientSecret}, true},
		{"argon2id record, same request", legacy, in, true},
		{"argon2id record, other secret", legacy, other, false},
	} {
		got, err := s.sameRequest(tt.in, tt.fingerprint)
		if err != nil || got != tt.same {
			t.Errorf("%s: %v, %v; want %v", tt.name, got, err, tt.same)
		}
	}
}

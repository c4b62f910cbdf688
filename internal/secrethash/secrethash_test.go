package secrethash

import (
	"strings"
	"testing"

	"github.com/alexedwards/argon2id"
)

func TestHashIsPHCWithOWASPParameters(t *testing.T) {
	h := New()
	hash, err := h.Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q: want a PHC string with m=19456,t=2,p=1", hash)
	}
	params, salt, _, err := argon2id.DecodeHash(hash)
	if err != nil || params.Memory != 19*1024 || len(salt) != 16 {
		t.Errorf("decoded %+v, salt %d bytes, %v", params, len(salt), err)
	}
	if again, _ := h.Hash("correct horse battery"); again == hash {
		t.Error("two hashes of one secret are equal: the salt is not random")
	}
}

func TestVerify(t *testing.T) {
	h := Hasher{Params: argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}}
	hash, _ := h.Hash("pässwörd+%:")
	tests := []struct {
		name, secret string
		want         bool
	}{
		{"same", "pässwörd+%:", true},
		{"other", "pässwörd+%;", false},
		{"prefix", "pässwörd", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := h.Verify(tt.secret, hash); got != tt.want || err != nil {
				t.Errorf("Verify = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	// parameters travel in the hash: an OWASP hasher verifies a cheap hash
	if ok, _ := New().Verify("pässwörd+%:", hash); !ok {
		t.Error("a hasher with other parameters failed to verify")
	}
	if _, err := h.Verify("x", "not-a-hash"); err == nil {
		t.Error("Verify of a malformed hash returned no error")
	}
}

// BenchmarkHash measures one argon2id hash with the OWASP parameters; its
// time and memory set the create function's Lambda memory (README.md).
func BenchmarkHash(b *testing.B) {
	h := New()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

package signing_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/modules-service/modules/internal/signing"
)

// TestKeysRoundTrip: a key of each algorithm survives its secret's value,
// and its public part is published under its algorithm and nothing more.
func TestKeysRoundTrip(t *testing.T) {
	for _, alg := range signing.Algorithms {
		k, err := signing.Generate(alg)
		if err != nil {
			t.Fatal(err)
		}
		value, err := k.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		got, err := signing.Parse(value)
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		if got.ID != k.ID || got.Algorithm != alg {
			t.Errorf("%s: parsed kid %s, alg %s; want %s, %s", alg, got.ID, got.Algorithm, k.ID, alg)
		}
		pub, ok := signing.KeySet{Current: got}.Public().Key(k.ID)
		if !ok || pub.Algorithm != string(alg) || !pub.IsPublic() {
			t.Errorf("%s: published %+v, %v; want the public key for %s", alg, pub, ok, alg)
		}
	}
}

// value is a secret's value as some writer stored it.
func value(t *testing.T, alg string, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{"kid": "k1", "alg": alg, "privateKeyPem": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))})
	return string(b)
}

// TestParseRefusesWhatDoesNotFit: the algorithm and the key must agree,
// and a key must be as strong as a new one; a key stored before ES256
// existed has no alg and is RS256.
func TestParseRefusesWhatDoesNotFit(t *testing.T) {
	rsa2048, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	for _, tc := range []struct {
		name, value string
		want        jose.SignatureAlgorithm // empty: refused
	}{
		{"RSA without alg (stored before ES256)", value(t, "", rsa2048), signing.RS256},
		{"RSA for RS256", value(t, "RS256", rsa2048), signing.RS256},
		{"P-256 for ES256", value(t, "ES256", p256), signing.ES256},
		{"RSA for ES256", value(t, "ES256", rsa2048), ""},
		{"P-256 for RS256", value(t, "RS256", p256), ""},
		{"P-256 without alg", value(t, "", p256), ""},
		{"P-384 for ES256", value(t, "ES256", p384), ""},
		{"RSA-1024", value(t, "RS256", rsa1024), ""},
		{"the template's placeholder", "{}", ""},
	} {
		k, err := signing.Parse(tc.value)
		if tc.want == "" {
			if err == nil {
				t.Errorf("%s: parsed as %s, want refused", tc.name, k.Algorithm)
			}
			continue
		}
		if err != nil || k.Algorithm != tc.want {
			t.Errorf("%s: %s, %v; want %s", tc.name, k.Algorithm, err, tc.want)
		}
	}
}

func TestParseAlgorithm(t *testing.T) {
	for in, want := range map[string]jose.SignatureAlgorithm{"": signing.RS256, "RS256": signing.RS256, "ES256": signing.ES256} {
		if got, err := signing.ParseAlgorithm(in); err != nil || got != want {
			t.Errorf("ParseAlgorithm(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"HS256", "none", "es256", "RS512"} {
		if _, err := signing.ParseAlgorithm(in); err == nil || !strings.Contains(err.Error(), "RS256 or ES256") {
			t.Errorf("ParseAlgorithm(%q): %v; want an error naming the choices", in, err)
		}
	}
}

// TestParsePublicDuringAChange: the JWKS of a change of algorithm holds a
// key of each; one of an algorithm this service does not issue, or a
// private key, is refused.
func TestParsePublicDuringAChange(t *testing.T) {
	rs, _ := signing.Generate(signing.RS256)
	es, _ := signing.Generate(signing.ES256)
	published, err := signing.KeySet{Current: es, Previous: &rs}.Public().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	set, err := signing.ParsePublic(published)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []signing.Key{es, rs} {
		if pub, ok := set.Key(k.ID); !ok || pub.Algorithm != string(k.Algorithm) {
			t.Errorf("key %s: %+v, %v; want it published for %s", k.ID, pub, ok, k.Algorithm)
		}
	}
	for name, set := range map[string]jose.JSONWebKeySet{
		"RS512":   {Keys: []jose.JSONWebKey{{Key: rs.Private.Public(), KeyID: "x", Algorithm: "RS512", Use: "sig"}}},
		"private": {Keys: []jose.JSONWebKey{{Key: es.Private, KeyID: "x", Algorithm: "ES256", Use: "sig"}}},
	} {
		b, _ := json.Marshal(set)
		if _, err := signing.ParsePublic(string(b)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

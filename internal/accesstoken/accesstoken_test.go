package accesstoken_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/go-cmp/cmp"

	"github.com/modules-service/modules/internal/accesstoken"
	"github.com/modules-service/modules/internal/signing"
)

var now = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func issue(t *testing.T, key signing.Key) string {
	t.Helper()
	tok, err := accesstoken.Issue(key, "https://iss.example.test", "https://aud.example.test", "client-1", "acme", []string{"a", "b"}, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func parse(t *testing.T, tok string) *jwt.JSONWebToken {
	t.Helper()
	parsed, err := jwt.ParseSigned(tok, signing.Algorithms)
	if err != nil {
		t.Fatal(err)
	}
	return parsed
}

func publicOf(key signing.Key) jose.JSONWebKey {
	k, _ := signing.KeySet{Current: key}.Public().Key(key.ID)
	return k
}

// TestIssueSaysWhatGoJoseSays: the hand-assembled token carries exactly
// the header and claims go-jose's builder made of the same values (what a
// token says did not change with the way it is built), and verifies.
func TestIssueSaysWhatGoJoseSays(t *testing.T) {
	for _, alg := range signing.Algorithms {
		t.Run(string(alg), func(t *testing.T) {
			key, err := signing.Generate(alg)
			if err != nil {
				t.Fatal(err)
			}
			tok := issue(t, key)
			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key.Private, KeyID: key.ID}},
				(&jose.SignerOptions{}).WithType(accesstoken.Type))
			if err != nil {
				t.Fatal(err)
			}
			var c accesstoken.Claims
			if err := parse(t, tok).UnsafeClaimsWithoutVerification(&c); err != nil {
				t.Fatal(err)
			}
			want, err := jwt.Signed(signer).Claims(c).Serialize() // the same claims, jti included
			if err != nil {
				t.Fatal(err)
			}
			for i, part := range []string{"header", "claims"} {
				if diff := cmp.Diff(segment(t, want, i), segment(t, tok, i)); diff != "" {
					t.Errorf("%s (-go-jose +issued):\n%s", part, diff)
				}
			}
			claims := segment(t, tok, 1)
			wantClaims := map[string]any{"iss": "https://iss.example.test", "sub": "client-1", "aud": "https://aud.example.test",
				"exp": float64(now.Add(time.Hour).Unix()), "nbf": float64(now.Unix()), "iat": float64(now.Unix()), "jti": claims["jti"],
				"client_id": "client-1", "scope": "a b", "tenant_id": "acme"}
			if diff := cmp.Diff(wantClaims, claims); diff != "" {
				t.Errorf("claims (-want +issued):\n%s", diff)
			}
			got, err := accesstoken.Verify(parse(t, tok), publicOf(key), "https://iss.example.test", "https://aud.example.test", now)
			if err != nil {
				t.Fatal(err)
			}
			if exp := got.Expiry.Time(); !exp.Equal(now.Add(time.Hour)) {
				t.Errorf("exp %v, want an hour after %v", exp, now)
			}
			if len(got.ID) < 20 {
				t.Errorf("jti %q: want a random ID", got.ID)
			}
		})
	}
}

// segment decodes part i of a compact JWS as JSON.
func segment(t *testing.T, tok string, i int) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestVerifyHoldsTheKeysAlgorithm: a token verifies only under its own
// key's algorithm; a signature of either algorithm is really checked.
func TestVerifyHoldsTheKeysAlgorithm(t *testing.T) {
	rs, _ := signing.Generate(signing.RS256)
	es, _ := signing.Generate(signing.ES256)
	es2, _ := signing.Generate(signing.ES256)
	rsPub, esPub := publicOf(rs), publicOf(es)
	cases := []struct {
		name string
		tok  string
		key  jose.JSONWebKey
		ok   bool
	}{
		{"RS256 under its key", issue(t, rs), rsPub, true},
		{"ES256 under its key", issue(t, es), esPub, true},
		{"RS256 token, ES256 key", issue(t, rs), esPub, false},
		{"ES256 token, RS256 key", issue(t, es), rsPub, false},
		{"ES256 of another key", issue(t, es2), esPub, false},
		{"a published key of no known algorithm", issue(t, rs), jose.JSONWebKey{Key: rsPub.Key, KeyID: rs.ID, Algorithm: "RS512"}, false},
	}
	for _, tc := range cases {
		_, err := accesstoken.Verify(parse(t, tc.tok), tc.key, "https://iss.example.test", "https://aud.example.test", now)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

// TestIssueRefusesAKeyThatDoesNotFit: a key must say what it signs with,
// and be a key of that algorithm.
func TestIssueRefusesAKeyThatDoesNotFit(t *testing.T) {
	rs, _ := signing.Generate(signing.RS256)
	es, _ := signing.Generate(signing.ES256)
	noAlg := es
	noAlg.Algorithm, noAlg.ID = "", "no-alg"
	rsAsES := rs
	rsAsES.Algorithm, rsAsES.ID = signing.ES256, "rsa-named-es256"
	esAsRS := es
	esAsRS.Algorithm, esAsRS.ID = signing.RS256, "ec-named-rs256"
	for name, k := range map[string]signing.Key{"no algorithm": noAlg, "RSA named ES256": rsAsES, "ECDSA named RS256": esAsRS} {
		if tok, err := accesstoken.Issue(k, "i", "a", "c", "t", nil, now, time.Hour); err == nil {
			t.Errorf("%s: issued %s", name, tok)
		}
	}
}

// TestIssueBound: a DPoP-bound token carries cnf.jkt (RFC 9449 §6.1) and
// Verify hands it back; a bearer token has no cnf.
func TestIssueBound(t *testing.T) {
	key, err := signing.Generate(signing.ES256)
	if err != nil {
		t.Fatal(err)
	}
	for _, jkt := range []string{"", "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"} {
		tok, err := accesstoken.IssueBound(key, "https://iss.example.test", "https://aud.example.test", "client-1", "acme", nil, now, time.Hour, jkt)
		if err != nil {
			t.Fatal(err)
		}
		_, hasCnf := segment(t, tok, 1)["cnf"]
		if hasCnf != (jkt != "") {
			t.Errorf("jkt %q: cnf present %v", jkt, hasCnf)
		}
		got, err := accesstoken.Verify(parse(t, tok), publicOf(key), "https://iss.example.test", "https://aud.example.test", now)
		if err != nil {
			t.Fatal(err)
		}
		if got.JKT() != jkt {
			t.Errorf("JKT() = %q, want %q", got.JKT(), jkt)
		}
	}
}

package federation_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/modules-service/modules/internal/federation"
	"github.com/modules-service/modules/internal/testing/clientkey"
	"github.com/modules-service/modules/internal/testing/testenv"
)

// replays is an in-memory assertion.Replays.
type replays struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (r *replays) FirstUse(_ context.Context, clientID, jti string, _ time.Time) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	k := clientID + "\x00" + jti
	if r.seen[k] {
		return false, nil
	}
	r.seen[k] = true
	return true, nil
}

const sub, aud = "repo:acme/billing:ref:refs/heads/main", "modules:acme"

func TestVerify(t *testing.T) {
	clock := testenv.NewClock()
	k := clientkey.New(t, "k1", jose.RS256)
	p := clientkey.NewPlatform(t, k, clientkey.New(t, "k2", jose.ES256))
	other := clientkey.NewPlatform(t, clientkey.New(t, "k1", jose.ES256))
	creds := []federation.Credential{{Issuer: p.URL, Subject: sub, Audience: aud}, {Issuer: other.URL, Subject: sub, Audience: aud}}
	v := &federation.Verifier{Keys: &federation.Keys{Now: clock.Now}, Replays: &replays{}, Issuers: []string{p.URL}, Now: clock.Now}
	now := clock.Now()
	replayed := p.Token(t, k, sub, aud, now, nil)
	if _, err := v.Verify(context.Background(), replayed, "client1", creds); err != nil {
		t.Fatalf("a good token: %v", err)
	}
	attacker := clientkey.New(t, "k1", jose.RS256) // the platform's kid, another key
	tests := []struct {
		name, raw, why string
	}{
		{"accepted: aud an array of the one audience, no jti", p.Token(t, k, sub, []string{aud}, now, map[string]any{"jti": nil}), ""},
		{"accepted: an ES256 key, found without a kid", p.Token(t, clientkey.Key{Alg: jose.ES256, Priv: p.Key(1).Priv}, sub, aud, now, map[string]any{"jti": "es"}), ""},
		{"another subject", p.Token(t, k, "repo:acme/billing:pull_request", aud, now, nil), "no federated credential"},
		{"another audience", p.Token(t, k, sub, "sts.amazonaws.com", now, nil), "no federated credential"},
		{"aud naming another server too", p.Token(t, k, sub, []string{aud, "https://elsewhere"}, now, nil), "no federated credential"},
		{"an issuer not on the operator's list", other.Token(t, other.Key(0), sub, aud, now, nil), "not on the operator's list"},
		{"expired", p.Token(t, k, sub, aud, now.Add(-time.Hour), nil), "expired"},
		{"no exp", p.Token(t, k, sub, aud, now, map[string]any{"exp": nil}), "exp is required"},
		{"not yet valid", p.Token(t, k, sub, aud, now, map[string]any{"nbf": now.Add(5 * time.Minute).Unix()}), "not valid yet"},
		{"a replayed jti", replayed, "jti already used"},
		{"signed by another key under the platform's kid", p.Token(t, attacker, sub, aud, now, nil), "signature does not verify"},
		{"HMAC", hmacToken(t, p.URL), "not a signed JWT with an asymmetric algorithm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tt.raw, "client1", creds)
			switch {
			case tt.why == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.why != "" && (!errors.Is(err, federation.ErrRefused) || !strings.Contains(err.Error(), tt.why)):
				t.Fatalf("got %v, want a refusal saying %q", err, tt.why)
			}
		})
	}
}

func hmacToken(t *testing.T, iss string) string {
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte("0123456789abcdef0123456789abcdef")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := sig.Sign([]byte(`{"iss":"` + iss + `","sub":"` + sub + `","aud":"` + aud + `","exp":4102444800}`))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := obj.CompactSerialize()
	return raw
}

// TestUnknownKid: a token of a key the issuer has just published is
// accepted once its key set is fetched again, and unknown kids make at
// most one fetch a minute per issuer.
func TestUnknownKid(t *testing.T) {
	clock := testenv.NewClock()
	k := clientkey.New(t, "k1", jose.ES256)
	p := clientkey.NewPlatform(t, k)
	creds := []federation.Credential{{Issuer: p.URL, Subject: sub, Audience: aud}}
	v := &federation.Verifier{Keys: &federation.Keys{Now: clock.Now}, Replays: &replays{}, Issuers: []string{p.URL}, Now: clock.Now}
	verify := func(raw string) error { _, err := v.Verify(context.Background(), raw, "client1", creds); return err }
	if err := verify(p.Token(t, k, sub, aud, clock.Now(), map[string]any{"jti": "a"})); err != nil {
		t.Fatal(err)
	}
	if n := p.Fetches(); n != 1 {
		t.Fatalf("%d key fetches for the first token, want 1", n)
	}
	for i := range 5 {
		err := verify(p.Token(t, clientkey.New(t, "made-up", jose.ES256), sub, aud, clock.Now(), map[string]any{"jti": "m" + string(rune('0'+i))}))
		if err == nil || !strings.Contains(err.Error(), `kid "made-up" is none of the issuer's keys`) {
			t.Fatalf("a made-up kid: %v", err)
		}
	}
	if n := p.Fetches(); n != 1 {
		t.Errorf("%d key fetches after made-up kids within the first minute, want 1 (the first)", n)
	}
	rotated := clientkey.New(t, "k2", jose.EdDSA)
	p.Publish(rotated)
	if err := verify(p.Token(t, rotated, sub, aud, clock.Now(), map[string]any{"jti": "b"})); err == nil {
		t.Error("a new key's token accepted within a minute of the last fetch: the refetch bound is not kept")
	}
	clock.Add(federation.MinRefetch)
	if err := verify(p.Token(t, rotated, sub, aud, clock.Now(), map[string]any{"jti": "c"})); err != nil {
		t.Errorf("the new key's token a minute later: %v", err)
	}
	if n := p.Fetches(); n != 2 {
		t.Errorf("%d key fetches, want 2", n)
	}
	if err := verify(p.Token(t, k, sub, aud, clock.Now(), map[string]any{"jti": "d"})); err != nil || p.Fetches() != 2 {
		t.Errorf("a known kid: %v, %d fetches; want accepted from the cache", err, p.Fetches())
	}
}

// TestKeysAgeOut: keys are fetched again after MaxAge even for a known
// kid, so a key the issuer withdrew stops verifying within the hour.
func TestKeysAgeOut(t *testing.T) {
	clock := testenv.NewClock()
	p := clientkey.NewPlatform(t, clientkey.New(t, "k1", jose.ES256))
	keys := &federation.Keys{Now: clock.Now}
	for i, step := range []time.Duration{0, federation.MaxAge, time.Second} {
		clock.Add(step)
		if found, err := keys.Find(context.Background(), p.URL, "k1"); err != nil || len(found) != 1 {
			t.Fatalf("find %d: %v, %d keys", i, err, len(found))
		}
	}
	if n := p.Fetches(); n != 2 {
		t.Errorf("%d fetches over an hour and a second, want 2 (at start, after an hour)", n)
	}
}

// TestDiscovery: a discovery document that names another issuer, and an
// issuer URL that is not https off loopback, are never trusted.
func TestDiscovery(t *testing.T) {
	clock := testenv.NewClock()
	k := clientkey.New(t, "k1", jose.ES256)
	p := clientkey.NewPlatform(t, k)
	p.Impersonate("https://impostor.example")
	keys := &federation.Keys{Now: clock.Now}
	if _, err := keys.Find(context.Background(), p.URL, "k1"); err == nil || !strings.Contains(err.Error(), "names issuer") {
		t.Errorf("discovery naming another issuer: %v", err)
	}
	if _, err := keys.Find(context.Background(), "http://issuer.example.com", "k1"); err == nil || !strings.Contains(err.Error(), "not https") {
		t.Errorf("http off loopback: %v", err)
	}
}

func TestCheck(t *testing.T) {
	gh := "https://token.actions.githubusercontent.com"
	allowed := func(iss string) bool { return iss == gh }
	long := strings.Repeat("x", federation.MaxValue+1)
	c := federation.Credential{Issuer: gh, Subject: sub, Audience: aud}
	tests := []struct {
		name  string
		creds []federation.Credential
		want  string // "name code" of each fault
	}{
		{"good", []federation.Credential{c}, ""},
		{"too many", []federation.Credential{c, c, c, c, c, c}, "federatedCredentials too_many"},
		{"duplicate", []federation.Credential{c, c}, "federatedCredentials[1] duplicate"},
		{"not allowed", []federation.Credential{{Issuer: "https://oidc.eks.eu-west-1.amazonaws.com/id/X", Subject: sub, Audience: aud}}, "federatedCredentials[0].issuer invalid_value"},
		{"http", []federation.Credential{{Issuer: "http://token.actions.githubusercontent.com", Subject: sub, Audience: aud}}, "federatedCredentials[0].issuer not_https"},
		{"empty subject, long audience", []federation.Credential{{Issuer: gh, Subject: " ", Audience: long}}, "federatedCredentials[0].subject required,federatedCredentials[0].audience too_long"},
		{"query", []federation.Credential{{Issuer: gh + "?x", Subject: sub, Audience: aud}}, "federatedCredentials[0].issuer invalid_url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, f := range federation.Check(tt.creds, allowed) {
				got = append(got, f.Name+" "+string(f.Code))
			}
			if g := strings.Join(got, ","); g != tt.want {
				t.Errorf("faults %q, want %q", g, tt.want)
			}
		})
	}
}

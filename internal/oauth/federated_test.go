package oauth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/modules-service/modules/internal/federation"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/oauth"
	"github.com/modules-service/modules/internal/testing/clientkey"
	"github.com/modules-service/modules/internal/testing/testenv"
)

const workload, platformAud = "repo:acme/billing:environment:production", "modules:acme-billing"

// federatedModule creates a key-less module that trusts the platform's
// tokens for workload, on an endpoint whose operator allows issuers.
func federatedModule(t *testing.T, f *fixture, name string, p *clientkey.Platform, issuers ...string) module.Credentials {
	t.Helper()
	f.federated, f.svc.FederatedIssuers = issuers, issuers
	f.handler = f.instance()
	in := moduleInput(name, "Right-Secret-4711-xyz", "orders.read")
	in.TokenEndpointAuthMethods = []string{module.AuthPrivateKeyJWT}
	in.FederatedCredentials = []federation.Credential{{Issuer: p.URL, Subject: workload, Audience: platformAud}}
	c, _, err := f.svc.Create(context.Background(), "acme", in, "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestFederatedCredential: on both backends, a workload platform's token
// sent with client_id gets the module's client a token, with no argon2id
// run; every token that does not match, verify or come fresh from an
// allowed issuer is 401 invalid_client, its reason in the log.
func TestFederatedCredential(t *testing.T) {
	testenv.All(t, func(t *testing.T, b testenv.Backend) {
		f := newFixtureOn(t, b)
		p := clientkey.NewPlatform(t, clientkey.New(t, "gh1", jose.RS256))
		c := federatedModule(t, f, "federated", p, p.URL)
		now := f.clock.Now()
		good := p.Token(t, p.Key(0), workload, platformAud, now, nil)
		r := f.post(t, assertionForm(good, "client_id", c.ClientID), nil)
		if r.status != 200 {
			t.Fatalf("the platform's token: %d %s", r.status, r.raw)
		}
		if claims := f.verify(t, r.body["access_token"].(string)); claims["sub"] != c.ClientID || claims["client_id"] != c.ClientID {
			t.Errorf("access token of %v, want the module's client %s", claims["sub"], c.ClientID)
		}
		if n := f.verifier.n.Load(); n != 0 {
			t.Errorf("%d argon2id runs, want none", n)
		}
		tests := []struct {
			name, form, log string
		}{
			{"a replayed jti", assertionForm(good, "client_id", c.ClientID), "jti already used"},
			{"another subject", assertionForm(p.Token(t, p.Key(0), "repo:acme/billing:pull_request", platformAud, now, nil), "client_id", c.ClientID), "no federated credential"},
			{"another audience", assertionForm(p.Token(t, p.Key(0), workload, "sts.amazonaws.com", now, nil), "client_id", c.ClientID), "no federated credential"},
			{"expired", assertionForm(p.Token(t, p.Key(0), workload, platformAud, now.Add(-time.Hour), nil), "client_id", c.ClientID), "expired"},
			{"an unknown kid", assertionForm(p.Token(t, clientkey.New(t, "made-up", jose.RS256), workload, platformAud, now, nil), "client_id", c.ClientID), `kid \"made-up\" is none of the issuer's keys`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f.logs.Reset()
				r := f.post(t, tt.form, nil)
				if r.status != 401 || r.body["error"] != "invalid_client" {
					t.Fatalf("%d %s, want 401 invalid_client", r.status, r.raw)
				}
				if logs := f.logs.String(); !strings.Contains(logs, "federated assertion refused") || !strings.Contains(logs, tt.log) {
					t.Errorf("log %s, want the refusal saying %q", logs, tt.log)
				}
			})
		}
		t.Run("without client_id", func(t *testing.T) {
			r := f.post(t, assertionForm(p.Token(t, p.Key(0), workload, platformAud, now, nil)), nil)
			if r.status != 401 || r.body["error"] != "invalid_client" || !strings.Contains(r.raw, "send client_id") {
				t.Errorf("%d %s, want 401 invalid_client asking for client_id", r.status, r.raw)
			}
		})
		t.Run("an issuer the operator no longer lists", func(t *testing.T) {
			f.federated = []string{"https://token.actions.githubusercontent.com"}
			f.handler = f.instance()
			f.logs.Reset()
			r := f.post(t, assertionForm(p.Token(t, p.Key(0), workload, platformAud, now, nil), "client_id", c.ClientID), nil)
			if r.status != 401 || !strings.Contains(f.logs.String(), "not on the operator's list") {
				t.Errorf("%d %s, log %s; want 401 for an issuer off the list", r.status, r.raw, f.logs.String())
			}
		})
	})
}

// TestFederatedIssuerMustBeAllowed: a module may name only an issuer on
// the operator's list.
func TestFederatedIssuerMustBeAllowed(t *testing.T) {
	f := newFixture(t)
	f.svc.FederatedIssuers = []string{"https://token.actions.githubusercontent.com"}
	in := moduleInput("federated", "Right-Secret-4711-xyz")
	in.TokenEndpointAuthMethods = []string{module.AuthPrivateKeyJWT}
	in.FederatedCredentials = []federation.Credential{{Issuer: "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC", Subject: workload, Audience: platformAud}}
	_, _, err := f.svc.Create(context.Background(), "acme", in, "")
	if err == nil || !strings.Contains(err.Error(), "federatedCredentials[0].issuer: is not an issuer this deployment trusts") {
		t.Errorf("create: %v, want the issuer refused", err)
	}
}

// TestFailedFederatedAssertionsAreThrottled: refused platform tokens are
// counted per (client, source) as wrong secrets are and, past the limit,
// answered slow_down; the workload's good token from the same address is
// never held back.
func TestFailedFederatedAssertionsAreThrottled(t *testing.T) {
	f := newFixture(t)
	p := clientkey.NewPlatform(t, clientkey.New(t, "gh1", jose.ES256))
	c := federatedModule(t, f, "target", p, p.URL)
	statuses := map[int]int{}
	for range oauth.MaxPerSource + 2 {
		other := p.Token(t, p.Key(0), "repo:mallory/fork:ref:refs/heads/main", platformAud, f.clock.Now(), nil)
		r := f.post(t, assertionForm(other, "client_id", c.ClientID), nil, from("192.0.2.7"))
		statuses[r.status]++
	}
	if statuses[401] != oauth.MaxPerSource || statuses[429] != 2 {
		t.Errorf("answers to %d refused platform tokens from one source: %v, want %d × 401 then 429", oauth.MaxPerSource+2, statuses, oauth.MaxPerSource)
	}
	good := p.Token(t, p.Key(0), workload, platformAud, f.clock.Now(), nil)
	if r := f.post(t, assertionForm(good, "client_id", c.ClientID), nil, from("192.0.2.7")); r.status != 200 {
		t.Errorf("the workload's token from the same address: %d %s, want 200", r.status, r.raw)
	}
}

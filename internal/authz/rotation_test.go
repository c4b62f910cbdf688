package authz_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/modules-service/modules/internal/authz"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/oauth"
	"github.com/modules-service/modules/internal/secretsmanager"
	"github.com/modules-service/modules/internal/signing"
	"github.com/modules-service/modules/internal/testing/testenv"
)

// TestRotationOnSecretsManager: on Secrets Manager (moto and the stand-in), the rotation
// function rotates the signing key; an authorizer that started before the
// rotation, reading only the published public keys, accepts a token of the
// new key (after one refresh) and still one of the previous key.
func TestRotationOnSecretsManager(t *testing.T) {
	testenv.All(t, testRotationOnSecretsManager)
}

func testRotationOnSecretsManager(t *testing.T, b testenv.Backend) {
	ctx := context.Background()
	api := b.SM
	private, public := b.SigningKeySecrets(t)
	rotation := secretsmanager.Rotation{SM: api, PublicKeysSecret: public}
	rotate := func(token string) {
		t.Helper()
		for _, step := range []string{"createSecret", "setSecret", "testSecret", "finishSecret"} {
			if err := rotation.Rotate(ctx, secretsmanager.RotationEvent{SecretID: private, ClientRequestToken: token, Step: step}); err != nil {
				t.Fatalf("%s: %v", step, err)
			}
		}
	}
	rotate("00000000-0000-4000-8000-00000000000a") // the deployment's first key

	clock := testenv.NewClock()
	svc := b.Service()
	c, _, err := svc.Create(ctx, "acme", module.CreateInput{Name: "rotating", DisplayName: "Rotating", ClientSecret: secret}, "")
	if err != nil {
		t.Fatal(err)
	}
	dummy, _ := testenv.FastHasher.Hash("dummy")
	tokenInstance := func() *fixture { // a fresh token function instance: it loads the current key
		f := &fixture{}
		f.token = oauth.NewEndpoint(oauth.Config{Issuer: issuer}, oauth.Deps{
			Clients: b.Clients(), Hashes: b.Hashes, Limits: b.Limits(), Verifier: testenv.FastHasher, DummyHash: dummy,
			Keys: &signing.Cache[signing.KeySet]{Source: &secretsmanager.SigningKeys{SM: api, SecretID: private}, MaxAge: time.Hour},
		}).Handler()
		return f
	}
	before := tokenInstance().issue(t, c, "")
	a := &fixture{authz: &authz.Authorizer{Issuer: issuer, Clients: b.Clients(), Now: clock.Now,
		Keys: &signing.Cache[signing.PublicKeys]{Source: &secretsmanager.PublicKeys{SM: api, SecretID: public}, MaxAge: time.Hour, MinRefresh: time.Minute, Now: clock.Now}}}
	if !a.decide(t, "Bearer "+before).IsAuthorized {
		t.Fatal("a token of the first key was refused")
	}

	rotate("00000000-0000-4000-8000-00000000000b")
	after := tokenInstance().issue(t, c, "")
	if kid(t, after) == kid(t, before) {
		t.Fatal("the rotation did not change the signing key")
	}
	clock.Add(time.Minute + time.Second) // past the refresh bound of the last load
	if !a.decide(t, "Bearer "+after).IsAuthorized {
		t.Error("a token of the rotated-in key was refused by an authorizer started before the rotation")
	}
	if !a.decide(t, "Bearer "+before).IsAuthorized {
		t.Error("a token of the previous key was refused after the rotation")
	}
}

// kid reads a token's key ID without verifying it.
func kid(t *testing.T, tok string) string {
	t.Helper()
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(parsed.Headers) != 1 {
		t.Fatalf("parse %q: %v", tok, err)
	}
	return parsed.Headers[0].KeyID
}

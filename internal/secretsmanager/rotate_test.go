package secretsmanager_test

import (
	"context"
	"testing"

	"github.com/modules-service/modules/internal/secretsmanager"
	"github.com/modules-service/modules/internal/signing"
	"github.com/modules-service/modules/internal/testing/testenv"
)

// TestRotationKeepsPreviousKey runs the rotation steps against moto and the
// in-process stand-in the way
// Secrets Manager calls them, twice, and checks what the token function loads.
func TestRotationKeepsPreviousKey(t *testing.T) {
	testenv.All(t, testRotationKeepsPreviousKey)
}

func testRotationKeepsPreviousKey(t *testing.T, b testenv.Backend) {
	ctx := context.Background()
	api := b.SM
	name, public := b.SigningKeySecrets(t) // placeholders until rotation makes the first key
	keys := &secretsmanager.SigningKeys{SM: api, SecretID: name}
	published := &secretsmanager.PublicKeys{SM: api, SecretID: public}
	rotation := secretsmanager.Rotation{SM: api, PublicKeysSecret: public}
	if _, err := keys.Load(ctx); err == nil {
		t.Fatal("Load of the placeholder succeeded; want an error until the first rotation")
	}
	rotate := func(token string) {
		t.Helper()
		for _, step := range []string{"createSecret", "createSecret", "setSecret", "testSecret", "finishSecret", "finishSecret"} {
			if err := rotation.Rotate(ctx, secretsmanager.RotationEvent{SecretID: name, ClientRequestToken: token, Step: step}); err != nil {
				t.Fatalf("%s: %v", step, err)
			}
			if step == "setSecret" { // the pending key is published before it signs
				pub, err := published.Load(ctx)
				if err != nil {
					t.Fatal(err)
				}
				cur, _ := keys.Load(ctx)
				if _, ok := pub.Key(cur.Current.ID); cur.Current.ID != "" && !ok {
					t.Errorf("setSecret: the current key %s is not published", cur.Current.ID)
				}
				if n := len(pub.Set.Keys); n < 1 {
					t.Errorf("setSecret published %d keys", n)
				}
			}
		}
	}
	rotate("00000000-0000-4000-8000-000000000001")
	first, err := keys.Load(ctx)
	if err != nil || first.Previous != nil {
		t.Fatalf("after the first rotation: %+v, %v; want a current key and no previous", first, err)
	}
	// the operator changes AccessTokenAlgorithm: the next key is ES256
	rotation.Algorithm = signing.ES256
	rotate("00000000-0000-4000-8000-000000000002")
	second, err := keys.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if second.Current.ID == first.Current.ID {
		t.Fatalf("after the second rotation the current key is still %s", first.Current.ID)
	}
	if second.Previous == nil || second.Previous.ID != first.Current.ID {
		t.Fatalf("after the second rotation the previous key is %+v; want %s", second.Previous, first.Current.ID)
	}
	if first.Current.Algorithm != signing.RS256 || second.Current.Algorithm != signing.ES256 {
		t.Errorf("keys for %s then %s; want RS256 (the default) then ES256", first.Current.Algorithm, second.Current.Algorithm)
	}
	if jwks := second.JWKS(); len(jwks.Keys) != 2 {
		t.Errorf("JWKS has %d keys, want current and previous", len(jwks.Keys))
	}
	// verifiers read exactly the public parts of current and previous
	pub, err := published.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []signing.Key{second.Current, first.Current} { // both algorithms, while old tokens live
		if got, ok := pub.Key(k.ID); !ok || got.Algorithm != string(k.Algorithm) {
			t.Errorf("key %s (%s) is not published for its algorithm after the second rotation: %+v", k.ID, k.Algorithm, got)
		}
	}
	for _, k := range pub.Set.Keys {
		if !k.IsPublic() {
			t.Errorf("published key %s is not public", k.KeyID)
		}
	}
	if len(pub.Set.Keys) != 2 {
		t.Errorf("%d keys published, want current and previous", len(pub.Set.Keys))
	}
	if err := rotation.Rotate(ctx, secretsmanager.RotationEvent{SecretID: name, ClientRequestToken: "unknown", Step: "testSecret"}); err == nil {
		t.Error("a step for a version not being rotated succeeded")
	}
}

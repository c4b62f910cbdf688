package secretsmanager_test

import (
	"context"
	"testing"

	"github.com/modules-service/modules/internal/secretsmanager"
	"github.com/modules-service/modules/internal/testing/testenv"
)

// TestRetirePrevious: after a rotation the leaked key is the previous one,
// still published; RetirePrevious takes it out of what the token function
// loads and of the public keys, keeps the current key, and is idempotent.
func TestRetirePrevious(t *testing.T) {
	testenv.All(t, testRetirePrevious)
}

func testRetirePrevious(t *testing.T, b testenv.Backend) {
	ctx := context.Background()
	name, public := b.SigningKeySecrets(t)
	keys := &secretsmanager.SigningKeys{SM: b.SM, SecretID: name}
	published := &secretsmanager.PublicKeys{SM: b.SM, SecretID: public}
	rotation := secretsmanager.Rotation{SM: b.SM, PublicKeysSecret: public}
	rotate := func(token string) {
		t.Helper()
		for _, step := range []string{"createSecret", "setSecret", "testSecret", "finishSecret"} {
			if err := rotation.Rotate(ctx, secretsmanager.RotationEvent{SecretID: name, ClientRequestToken: token, Step: step}); err != nil {
				t.Fatalf("%s: %v", step, err)
			}
		}
	}
	rotate("00000000-0000-4000-8000-00000000000a")
	leaked, err := keys.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rotate("00000000-0000-4000-8000-00000000000b") // the leaked key becomes the previous one
	before, _ := keys.Load(ctx)
	if before.Previous == nil || before.Previous.ID != leaked.Current.ID {
		t.Fatalf("after the rotation the previous key is %+v; want the leaked %s", before.Previous, leaked.Current.ID)
	}

	got, err := rotation.RetirePrevious(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if got != "00000000-0000-4000-8000-00000000000a" {
		t.Errorf("retired version %q, want the first rotation's", got)
	}
	after, err := keys.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.Previous != nil {
		t.Errorf("the token function still loads a previous key %s", after.Previous.ID)
	}
	if after.Current.ID != before.Current.ID {
		t.Errorf("current key %s, want %s unchanged", after.Current.ID, before.Current.ID)
	}
	pub, err := published.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := pub.Key(leaked.Current.ID); ok {
		t.Errorf("the leaked key %s is still published", leaked.Current.ID)
	}
	if _, ok := pub.Key(after.Current.ID); !ok || len(pub.Set.Keys) != 1 {
		t.Errorf("published %d keys; want the current one alone", len(pub.Set.Keys))
	}

	again, err := rotation.RetirePrevious(ctx, name) // a second run: nothing left to retire
	if err != nil || again != "" {
		t.Errorf("second run: %q, %v; want nothing retired, no error", again, err)
	}
	rotate("00000000-0000-4000-8000-00000000000c") // rotation goes on as before
	next, _ := keys.Load(ctx)
	if next.Previous == nil || next.Previous.ID != after.Current.ID {
		t.Errorf("the next rotation's previous key is %+v; want %s", next.Previous, after.Current.ID)
	}
}

package secretsmanager_test

import (
	"context"
	"errors"
	"testing"

	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/secretsmanager"
	"github.com/modules-service/modules/internal/testing/testenv"
)

// TestStore runs the adapter against moto's Secrets Manager and the
// in-process stand-in.
func TestStore(t *testing.T) {
	testenv.All(t, testStore)
}

func testStore(t *testing.T, b testenv.Backend) {
	ctx := context.Background()
	s := &secretsmanager.Store{SM: b.SM}
	name := b.SecretPrefix + "/acme/client1"
	tags := map[string]string{module.TagTenant: "acme", module.TagModule: "m1"}
	if err := s.Put(ctx, name, "$argon2id$hash", tags); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, name, "again", tags); !errors.Is(err, module.ErrSecretExists) || errors.Is(err, derrors.ErrConflict) {
		t.Errorf("second Put: %v, want ErrSecretExists (a server fault, not a 409 quoting the path)", err)
	}
	if v, err := s.Get(ctx, name); err != nil || v != "$argon2id$hash" {
		t.Errorf("Get = %q, %v", v, err)
	}
	list, err := s.List(ctx, b.SecretPrefix+"/")
	if err != nil || len(list) != 1 {
		t.Fatalf("List = %+v, %v; want the one hash", list, err)
	}
	if got := list[0]; got.Name != name || got.Tags[module.TagModule] != "m1" || got.CreatedAt.IsZero() {
		t.Errorf("listed %q, module tag %q, created %v; want %q, m1 and a time", got.Name, got.Tags[module.TagModule], got.CreatedAt, name)
	}
	if err := s.Delete(ctx, name); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, name); err != nil {
		t.Errorf("deleting a deleted secret: %v, want nil", err)
	}
	if err := s.Delete(ctx, b.SecretPrefix+"/never"); err != nil {
		t.Errorf("deleting a missing secret: %v, want nil", err)
	}
	if _, err := s.Get(ctx, b.SecretPrefix+"/never"); !errors.Is(err, derrors.ErrNotFound) {
		t.Errorf("Get of a missing secret: %v, want ErrNotFound", err)
	}
	if list, _ := s.List(ctx, b.SecretPrefix+"/"); len(list) != 0 {
		t.Errorf("List after delete = %+v, want none", list)
	}
}

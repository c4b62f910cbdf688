package module_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/dynamo"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/testing/testenv"
)

// listless is a secret store whose List fails the test: the reaper must
// find orphans without listing every secret.
type listless struct {
	module.SecretStore
	t *testing.T
}

func (l listless) List(context.Context, string) ([]module.StoredSecret, error) {
	l.t.Error("Reap listed the secrets")
	return nil, errors.New("listed")
}

// reaperAt is the backend's service as the reaper runs it at now+d, with
// a secret store it cannot list and only the reaper's storage roles.
func reaperAt(t *testing.T, b testenv.Backend, d time.Duration) *module.Service {
	svc := b.Service()
	svc.Stores = module.Stores{Modules: b.Store(), Pending: b.Store()}
	svc.Secrets = listless{b.Secrets, t}
	svc.Now = func() time.Time { return time.Now().Add(d) }
	return svc
}

// TestReapSparesLiveAndYoungHashes: a create that died after storing its
// hash leaves it to the reaper, which deletes it once older than
// ReapGrace, without listing the secrets, and spares live hashes.
func TestReapSparesLiveAndYoungHashes(t *testing.T) {
	testenv.AllWithService(t, func(t *testing.T, ctx context.Context, svc *module.Service, b testenv.Backend) {
		live := mustCreate(t, svc, "acme", "alpha", "Alpha")
		dying := b.Service()
		dying.Stores = module.StoresOf(&dynamo.Store{DB: &faultyDB{StoreAPI: b.DB, TransactFn: func() error { return context.Canceled }}, Table: b.Table})
		dying.Secrets = &faultySecrets{SecretStore: b.Secrets, DeleteFn: fail} // the process dies: no compensation
		if _, _, err := dying.Create(ctx, "acme", input("beta", "Beta"), ""); err == nil {
			t.Fatal("the dying create succeeded")
		}
		if n, err := reaperAt(t, b, 0).Reap(ctx); err != nil || n != 0 {
			t.Errorf("Reap now = %d, %v; want 0 (all hashes live or young)", n, err)
		}
		if n, err := reaperAt(t, b, time.Hour).Reap(ctx); err != nil || n != 1 {
			t.Errorf("Reap an hour later = %d, %v; want 1", n, err)
		}
		if n, err := reaperAt(t, b, time.Hour).Reap(ctx); err != nil || n != 0 {
			t.Errorf("Reap again = %d, %v; want 0 (nothing left pending)", n, err)
		}
		assertConsistent(t, b, "acme", 1)
		if _, err := b.Service().Get(ctx, "acme", live.ID); err != nil {
			t.Errorf("the live module: %v", err)
		}
	})
}

// TestSlowCreateLosesToTheReaper: a create whose commit comes after the
// reaper claimed its pending record (it took longer than ReapGrace) is
// refused, with 503, and leaves neither a module without its hash nor a
// blocked name: the reaper's claim and the commit exclude each other in
// DynamoDB, whatever the clocks say.
func TestSlowCreateLosesToTheReaper(t *testing.T) {
	testenv.AllWithService(t, func(t *testing.T, ctx context.Context, svc *module.Service, b testenv.Backend) {
		reaped := 0
		slow := b.Service()
		slow.Stores = module.StoresOf(&dynamo.Store{DB: &faultyDB{StoreAPI: b.DB, TransactFn: func() error {
			var err error // the reaper runs while this create stalls before its commit
			reaped, err = reaperAt(t, b, time.Hour).Reap(ctx)
			return err
		}}, Table: b.Table})
		_, _, err := slow.Create(ctx, "acme", input("alpha", "Alpha"), "")
		if !errors.Is(err, derrors.ErrUnavailable) || reaped != 1 {
			t.Fatalf("Create = %v with %d reaped meanwhile; want 503 and the hash reaped", err, reaped)
		}
		assertConsistent(t, b, "acme", 0)
		mustCreate(t, svc, "acme", "alpha", "Alpha")
		assertConsistent(t, b, "acme", 1)
	})
}

// TestReapStopsBeforeItsDeadline: a run with little time left stops, and
// the next run goes on.
func TestReapStopsBeforeItsDeadline(t *testing.T) {
	b := testenv.Embedded(t)
	dying := b.Service()
	dying.Stores = module.StoresOf(&dynamo.Store{DB: &faultyDB{StoreAPI: b.DB, TransactFn: func() error { return context.Canceled }}, Table: b.Table})
	dying.Secrets = &faultySecrets{SecretStore: b.Secrets, DeleteFn: fail}
	_, _, _ = dying.Create(t.Context(), "acme", input("alpha", "Alpha"), "")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second) // under reapMargin
	defer cancel()
	if n, err := reaperAt(t, b, time.Hour).Reap(ctx); err != nil || n != 0 {
		t.Errorf("Reap with 5 s left = %d, %v; want 0 and no error", n, err)
	}
	if n, err := reaperAt(t, b, time.Hour).Reap(t.Context()); err != nil || n != 1 {
		t.Errorf("next Reap = %d, %v; want 1", n, err)
	}
}

var _ dynamo.StoreAPI = (*dynamodb.Client)(nil)

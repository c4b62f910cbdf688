package module_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"
	miniserver "github.com/truora/minidyn/server"

	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/dynamo"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/testing/testenv"
)

// faultySecrets fails the calls whose Fn returns an error.
type faultySecrets struct {
	module.SecretStore
	PutFn    func(name string) error
	DeleteFn func(name string) error
}

func (f *faultySecrets) Put(ctx context.Context, name, value string, tags map[string]string) error {
	if f.PutFn != nil {
		if err := f.PutFn(name); err != nil {
			return err
		}
	}
	return f.SecretStore.Put(ctx, name, value, tags)
}

func (f *faultySecrets) Delete(ctx context.Context, name string) error {
	if f.DeleteFn != nil {
		if err := f.DeleteFn(name); err != nil {
			return err
		}
	}
	return f.SecretStore.Delete(ctx, name)
}

// faultyDB fails TransactWriteItems when TransactFn says so.
type faultyDB struct {
	dynamo.StoreAPI
	TransactFn func() error
}

func (f *faultyDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if f.TransactFn != nil {
		if err := f.TransactFn(); err != nil {
			return nil, err
		}
	}
	return f.StoreAPI.TransactWriteItems(ctx, in, opts...)
}

// errInjected is a failure that certainly did not happen: DynamoDB refused
// the request as the client's fault. Unknown outcomes have their own tests
// (ambiguity_test.go).
var errInjected error = &smithy.GenericAPIError{Code: "ValidationException", Message: "injected failure", Fault: smithy.FaultClient}

func fail(string) error { return errInjected }

// afterReap runs the reaper as it would run once the grace period is over.
func afterReap(t *testing.T, b testenv.Backend) {
	t.Helper()
	later := b.Service()
	later.Now = func() time.Time { return time.Now().Add(module.ReapGrace + time.Minute) }
	if _, err := later.Reap(context.Background()); err != nil {
		t.Fatalf("reap: %v", err)
	}
}

// TestCreateFailuresLeaveNothingBehind fails each step of a create in turn
// and checks the invariants: no module without its hash, no name blocked
// without a module, and no hash without a module once the reaper has run.
func TestCreateFailuresLeaveNothingBehind(t *testing.T) {
	tests := []struct {
		name string
		// inject sets up the failure on a fresh backend and service.
		inject func(b testenv.Backend, s *faultySecrets, db *faultyDB)
		// orphan is true when a hash outlives the failed create until the reaper runs.
		orphan bool
	}{
		{"secret store refuses the hash", func(b testenv.Backend, s *faultySecrets, db *faultyDB) { s.PutFn = fail }, false},
		{"DynamoDB refuses the transaction", func(b testenv.Backend, s *faultySecrets, db *faultyDB) {
			db.TransactFn = func() error { return errInjected }
		}, false},
		{"DynamoDB answers 500 (minidyn emulation): outcome unknown, hash left", func(b testenv.Backend, s *faultySecrets, db *faultyDB) {
			db.TransactFn = func() error { // from the transaction on: the pending record is written
				b.Minidyn.EmulateFailure(miniserver.FailureConditionInternalServerError)
				return nil
			}
		}, true},
		{"DynamoDB refuses the pending record: nothing stored", func(b testenv.Backend, s *faultySecrets, db *faultyDB) {
			b.Minidyn.EmulateFailure(miniserver.FailureConditionInternalServerError)
		}, false},
		{"transaction fails and so does the compensation", func(b testenv.Backend, s *faultySecrets, db *faultyDB) {
			db.TransactFn = func() error { return errInjected }
			s.DeleteFn = fail
		}, true},
		{"process dies between hash and transaction", func(b testenv.Backend, s *faultySecrets, db *faultyDB) {
			// A crash is a transaction that never happens and a compensation that never runs.
			db.TransactFn = func() error { return context.Canceled }
			s.DeleteFn = fail
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			b := testenv.Embedded(t)
			secrets := &faultySecrets{SecretStore: b.Secrets}
			db := &faultyDB{StoreAPI: b.DB}
			svc := b.Service()
			svc.Secrets, svc.Stores = secrets, module.StoresOf(&dynamo.Store{DB: db, Table: b.Table})
			tt.inject(b, secrets, db)

			if _, _, err := svc.Create(ctx, "acme", input("alpha", "Alpha"), ""); err == nil {
				t.Fatal("Create succeeded despite the injected failure")
			}

			b.Minidyn.EmulateFailure(miniserver.FailureConditionNone)
			hashes, _ := b.Secrets.List(ctx, b.SecretPrefix+"/")
			if got := len(hashes) == 1; got != tt.orphan {
				t.Errorf("%d hashes after the failure, want orphan=%v", len(hashes), tt.orphan)
			}
			afterReap(t, b)
			if hashes, _ := b.Secrets.List(ctx, b.SecretPrefix+"/"); len(hashes) != 0 {
				t.Errorf("%d hashes after the reaper ran, want 0", len(hashes))
			}
			// the name was never blocked
			mustCreate(t, b.Service(), "acme", "alpha", "Alpha")
			assertConsistent(t, b, "acme", 1)
		})
	}
}

func TestDeleteFailures(t *testing.T) {
	ctx := context.Background()
	t.Run("transaction fails: module and hash stay", func(t *testing.T) {
		b := testenv.Embedded(t)
		m := mustCreate(t, b.Service(), "acme", "alpha", "Alpha")
		svc := b.Service()
		svc.Stores = module.StoresOf(&dynamo.Store{DB: &faultyDB{StoreAPI: b.DB, TransactFn: func() error { return errInjected }}, Table: b.Table})
		if err := svc.Delete(ctx, "acme", m.ID, 0); !errors.Is(err, errInjected) {
			t.Fatalf("Delete = %v, want the injected error", err)
		}
		afterReap(t, b)
		assertConsistent(t, b, "acme", 1)
	})
	t.Run("hash deletion fails: module gone, reaper removes the hash", func(t *testing.T) {
		b := testenv.Embedded(t)
		m := mustCreate(t, b.Service(), "acme", "alpha", "Alpha")
		svc := b.Service()
		svc.Secrets = &faultySecrets{SecretStore: b.Secrets, DeleteFn: fail}
		if err := svc.Delete(ctx, "acme", m.ID, 0); err != nil {
			t.Fatalf("Delete = %v: the module is gone, so the delete succeeded", err)
		}
		if hashes, _ := b.Secrets.List(ctx, b.SecretPrefix+"/"); len(hashes) != 1 {
			t.Fatalf("%d hashes, want the orphan", len(hashes))
		}
		afterReap(t, b)
		assertConsistent(t, b, "acme", 0)
		mustCreate(t, b.Service(), "acme", "alpha", "Alpha")
	})
}

func TestUpdateFailureKeepsOldNames(t *testing.T) {
	ctx := context.Background()
	b := testenv.Embedded(t)
	m := mustCreate(t, b.Service(), "acme", "alpha", "Alpha")
	svc := b.Service()
	svc.Stores = module.StoresOf(&dynamo.Store{DB: &faultyDB{StoreAPI: b.DB, TransactFn: func() error { return errInjected }}, Table: b.Table})
	if _, err := svc.Update(ctx, "acme", m.ID, module.Patch{"name": []byte(`"beta"`)}, 0); !errors.Is(err, errInjected) {
		t.Fatalf("Update = %v, want the injected error", err)
	}
	if got, _ := b.Service().Get(ctx, "acme", m.ID); got.Name != "alpha" || got.Version != 1 {
		t.Errorf("after a failed rename: %+v, want alpha at version 1", got)
	}
	mustCreate(t, b.Service(), "acme", "beta", "Beta") // the new name was never taken
	if _, _, err := b.Service().Create(ctx, "acme", input("alpha", "Other"), ""); conflictField(err) != "name" {
		t.Errorf("old name: %v, want still taken", err)
	}
}

// TestSweepSparesLiveAndYoungHashes: the full scan, for hashes stored
// before pending records existed (TestReapSparesLiveAndYoungHashes is the
// reaper's own).
func TestSweepSparesLiveAndYoungHashes(t *testing.T) {
	testenv.AllWithService(t, func(t *testing.T, ctx context.Context, svc *module.Service, b testenv.Backend) {
		mustCreate(t, svc, "acme", "alpha", "Alpha")
		// an orphan younger than the grace period: a create in flight
		if err := b.Secrets.Put(ctx, b.SecretPrefix+"/acme/inflight", "h", map[string]string{module.TagTenant: "acme", module.TagModule: "01inflight"}); err != nil {
			t.Fatal(err)
		}
		if n, err := svc.Sweep(ctx); err != nil || n != 0 {
			t.Errorf("Sweep now = %d, %v; want 0 (all hashes live or young)", n, err)
		}
		later := b.Service()
		later.Now = func() time.Time { return time.Now().Add(time.Hour) }
		if n, err := later.Sweep(ctx); err != nil || n != 1 {
			t.Errorf("Sweep an hour later = %d, %v; want 1", n, err)
		}
		assertConsistent(t, b, "acme", 1)
		if _, err := svc.Get(ctx, "acme", "nope"); !errors.Is(err, derrors.ErrNotFound) {
			t.Errorf("Get of a missing module: %v", err)
		}
	})
}

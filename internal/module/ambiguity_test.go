package module_test

import (
	"context"
	"errors"
	"testing"

	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/dynamo"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/testing/testenv"
)

// faultyService is the backend's service with its DynamoDB calls going
// through a flaky network.
func faultyService(t *testing.T, b testenv.Backend) (*module.Service, *testenv.Faults) {
	db, faults := b.Faulty(t)
	svc := b.Service()
	svc.Stores = module.StoresOf(&dynamo.Store{DB: db, Table: b.Table})
	return svc, faults
}

// TestAmbiguousCreate: every point where a create's outcome is unknown,
// at the wire, and the invariants after each: no module without its hash,
// no hash without a module once the reaper ran, no blocked name, and an
// idempotent retry that answers the real module or 503.
func TestAmbiguousCreate(t *testing.T) {
	tests := []struct {
		name      string
		faults    map[string][]testenv.Fault
		committed bool // the module exists afterwards
		answer    error
	}{
		{"transaction applied, answer lost", map[string][]testenv.Fault{"TransactWriteItems": {testenv.LoseResponse}}, true, nil},
		{"transaction applied, 500 instead of the answer", map[string][]testenv.Fault{"TransactWriteItems": {testenv.ServerError}}, true, nil},
		{"request never reached the database", map[string][]testenv.Fault{"TransactWriteItems": {testenv.DropRequest}}, false, derrors.ErrUnavailable},
		// throttling is a definite "did not happen": 503 (ErrThrottled), not 500
		{"DynamoDB throttles the transaction", map[string][]testenv.Fault{"TransactWriteItems": {testenv.Throttle}}, false, derrors.ErrThrottled},
		{"every try cancelled for ThrottlingError", map[string][]testenv.Fault{"TransactWriteItems": {
			testenv.ThrottleTransaction, testenv.ThrottleTransaction, testenv.ThrottleTransaction, testenv.ThrottleTransaction, testenv.ThrottleTransaction}}, false, derrors.ErrThrottled},
		{"the idempotency lookup is throttled", map[string][]testenv.Fault{"GetItem": {testenv.Throttle}}, false, derrors.ErrThrottled},
		{"transaction applied, answer and every read-back lost", map[string][]testenv.Fault{
			"TransactWriteItems": {testenv.LoseResponse}, "GetItem": {testenv.Pass /* the idempotency lookup */, testenv.LoseResponse, testenv.LoseResponse, testenv.LoseResponse},
		}, true, derrors.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testenv.All(t, func(t *testing.T, b testenv.Backend) {
				ctx := context.Background()
				svc, faults := faultyService(t, b)
				for op, f := range tt.faults {
					faults.Plan(op, f...)
				}
				c, _, err := svc.Create(ctx, "acme", input("alpha", "Alpha"), "retry-key-1")
				switch {
				case tt.answer == nil && err != nil:
					t.Fatalf("Create = %v, want the module: it was created", err)
				case tt.answer != nil && !errors.Is(err, tt.answer):
					t.Fatalf("Create = %v, want %v", err, tt.answer)
				case tt.answer == nil && c.ClientSecret != secret:
					t.Errorf("the credentials lack the secret: %+v", c)
				}
				// no hash was compensated away: every module has its hash
				afterReap(t, b)
				want := map[bool]int{true: 1, false: 0}[tt.committed]
				assertConsistent(t, b, "acme", want)
				// a retry with the same key settles it: the real module, or a new one
				again, replayed, err := b.Service().Create(ctx, "acme", input("alpha", "Alpha"), "retry-key-1")
				if err != nil || replayed != tt.committed {
					t.Fatalf("retry: replayed=%v, %v; want replayed=%v", replayed, err, tt.committed)
				}
				if tt.answer == nil && again.ID != c.ID {
					t.Errorf("retry answered module %s, the first answer was %s", again.ID, c.ID)
				}
				afterReap(t, b)
				assertConsistent(t, b, "acme", 1)
			})
		})
	}
}

// TestAmbiguousRenameAndDelete: an update and a delete whose outcome is
// unknown are read back, never guessed.
func TestAmbiguousRenameAndDelete(t *testing.T) {
	testenv.All(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		m := mustCreate(t, b.Service(), "acme", "alpha", "Alpha")
		svc, faults := faultyService(t, b)

		faults.Plan("TransactWriteItems", testenv.DropRequest)
		if _, err := svc.Update(ctx, "acme", m.ID, module.Patch{"name": []byte(`"beta"`)}, 0); !errors.Is(err, derrors.ErrUnavailable) {
			t.Errorf("rename that never arrived: %v, want 503", err)
		}
		if got, _ := b.Service().Get(ctx, "acme", m.ID); got.Name != "alpha" {
			t.Errorf("name %q, want alpha", got.Name)
		}

		faults.Plan("TransactWriteItems", testenv.LoseResponse)
		got, err := svc.Update(ctx, "acme", m.ID, module.Patch{"name": []byte(`"beta"`)}, 0)
		if err != nil || got.Name != "beta" || got.Version != 2 {
			t.Fatalf("rename applied, answer lost: %+v, %v; want beta at version 2", got, err)
		}
		mustCreate(t, b.Service(), "acme", "alpha", "Alpha 2") // the old name is free
		if _, _, err := b.Service().Create(ctx, "acme", input("beta", "Other"), ""); conflictField(err) != "name" {
			t.Errorf("new name: %v, want taken", err)
		}

		faults.Plan("TransactWriteItems", testenv.DropRequest)
		if err := svc.Delete(ctx, "acme", m.ID, 0); !errors.Is(err, derrors.ErrUnavailable) {
			t.Errorf("delete that never arrived: %v, want 503", err)
		}
		assertConsistent(t, b, "acme", 2) // module and hash both still there

		faults.Plan("TransactWriteItems", testenv.ServerError)
		if err := svc.Delete(ctx, "acme", m.ID, 0); err != nil {
			t.Errorf("delete applied, 500 instead of the answer: %v, want success", err)
		}
		assertConsistent(t, b, "acme", 1) // module and its hash gone
	})
}

//go:build !race

// Not under the race detector; and only with REAP_SCALE=1, as it takes a
// minute or more: REAP_SCALE=1 go test -run TestReapAtScale -v ./internal/module

package module_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/modules-service/modules/internal/dynamo"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/testing/testenv"
)

// countingDB counts GetItem calls.
type countingDB struct {
	dynamo.StoreAPI
	gets atomic.Int64
}

func (c *countingDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.gets.Add(1)
	return c.StoreAPI.GetItem(ctx, in, o...)
}

// TestReapAtScale: with 100,000 secret hashes of which 1,000 are orphans
// (a create died after storing each), the reaper removes exactly the
// orphans, reads nothing per live hash, and lists no secret; the full
// scan of old (Sweep) is timed for comparison within Lambda's 300 s.
func TestReapAtScale(t *testing.T) {
	if os.Getenv("REAP_SCALE") == "" {
		t.Skip("set REAP_SCALE=1 (takes minutes)")
	}
	secrets, orphans := 100_000, 1_000
	if os.Getenv("REAP_SCALE") == "small" {
		secrets, orphans = 10_000, 200
	}
	b := testenv.Embedded(t)
	ctx := t.Context()
	store := b.Store()
	created := time.Now().Add(-time.Hour).UTC()
	start := time.Now()
	for i := range secrets {
		name := fmt.Sprintf("%s/acme/client%06d", b.SecretPrefix, i)
		id := fmt.Sprintf("01module%018d", i)
		if err := b.Secrets.Put(ctx, name, "h", map[string]string{module.TagTenant: "acme", module.TagModule: id}); err != nil {
			t.Fatal(err)
		}
		if i%(secrets/orphans) == 0 { // an orphan: its pending record is left
			if err := store.AddPending(ctx, module.Pending{TenantID: "acme", ModuleID: id, SecretName: name, CreatedAt: created}); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("loaded %d hashes, %d pending records, in %v", secrets, orphans, time.Since(start).Round(time.Millisecond))

	db := &countingDB{StoreAPI: b.DB}
	reaper := b.Service()
	st := &dynamo.Store{DB: db, Table: b.Table}
	// the reaper's roles only: the module reads and the pending records
	reaper.Stores, reaper.Secrets = module.Stores{Modules: st, Pending: st}, listless{b.Secrets, t}
	run, cancel := context.WithTimeout(ctx, 300*time.Second) // Lambda's timeout
	defer cancel()
	start = time.Now()
	n, err := reaper.Reap(run)
	took := time.Since(start)
	if err != nil || n != orphans {
		t.Fatalf("Reap = %d, %v; want %d", n, err, orphans)
	}
	if got := db.gets.Load(); got != int64(orphans) {
		t.Errorf("Reap read %d modules, want one per orphan (%d)", got, orphans)
	}
	left, _ := b.Secrets.List(ctx, b.SecretPrefix+"/")
	if len(left) != secrets-orphans {
		t.Errorf("%d hashes left, want %d", len(left), secrets-orphans)
	}
	t.Logf("Reap: %d orphans of %d hashes removed in %v (%v per orphan; no secret listed)", n, secrets, took.Round(time.Millisecond), (took / time.Duration(orphans)).Round(time.Microsecond))

	db.gets.Store(0)
	sweeper := b.Service()
	sweeper.Stores = module.StoresOf(&dynamo.Store{DB: db, Table: b.Table})
	sweeper.Now = func() time.Time { return time.Now().Add(time.Hour) }
	run, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	start = time.Now()
	_, err = sweeper.Sweep(run)
	t.Logf("Sweep (the old reaper) for %v: %d of %d hashes checked (%v)", time.Since(start).Round(time.Millisecond), db.gets.Load(), secrets-orphans, err)
}

//go:build !race

// Not under the race detector, which makes minidyn take minutes to load
// 10,000 modules; infra/test.sh runs it on its own without -race.

package dynamo

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	miniserver "github.com/truora/minidyn/server"

	"github.com/modules-service/modules/internal/module"
)

// counting counts the items a store reads.
type counting struct {
	StoreAPI
	items atomic.Int64
}

func (c *counting) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := c.StoreAPI.Query(ctx, in, o...)
	if err == nil {
		c.items.Add(int64(len(out.Items)))
	}
	return out, err
}

func (c *counting) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	out, err := c.StoreAPI.GetItem(ctx, in, o...)
	if err == nil && out.Item != nil {
		c.items.Add(1)
	}
	return out, err
}

func (c *counting) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	out, err := c.StoreAPI.BatchGetItem(ctx, in, o...)
	if err == nil {
		for _, items := range out.Responses {
			c.items.Add(int64(len(items)))
		}
	}
	return out, err
}

// TestSearchReadsWhatItFinds: on a tenant of 10,000 modules, a search
// reads the guard items that match and the modules they point to, and a
// page sorted by name reads a page of order items and its modules; never
// the tenant's other modules. The tenant is loaded with the items Create
// writes, put in batches (10,000 transactions take minidyn minutes).
func TestSearchReadsWhatItFinds(t *testing.T) {
	ts := httptest.NewServer(miniserver.NewServer())
	t.Cleanup(ts.Close)
	db := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(ts.URL),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), DisableValidateResponseChecksum: true})
	ctx := context.Background()
	if err := CreateTable(ctx, db, "modules"); err != nil {
		t.Fatal(err)
	}
	const n = 10000
	var batch []types.WriteRequest
	flush := func() {
		for len(batch) > 0 {
			out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"modules": batch}})
			if err != nil {
				t.Fatal(err)
			}
			batch = out.UnprocessedItems["modules"]
		}
	}
	put := func(v any) {
		item, err := attributevalue.MarshalMap(v)
		if err != nil {
			t.Fatal(err)
		}
		if batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}}); len(batch) == 25 {
			flush()
		}
	}
	created := time.Now()
	for i := range n {
		name := fmt.Sprintf("module-%05d", i)
		m := module.Module{ID: fmt.Sprintf("01m%023d", i), TenantID: "big", ClientID: fmt.Sprintf("client%020d", i), Name: name,
			DisplayName: "Display " + name, NameKey: module.UniqueKey(name), DisplayKey: module.UniqueKey("Display " + name),
			Scopes: []string{}, Enabled: true, CreatedAt: created, UpdatedAt: created, Version: 1}
		// what a list by name or a search reads: the module, its name
		// guard, its order item by name (the display-name items match
		// nothing here, and a search queries their prefix all the same)
		put(toItem(m))
		put(guardItem{tenantPK("big"), nameSK(m.NameKey), m.ID})
		put(orderItems(m)[0])
	}
	flush()
	count := &counting{StoreAPI: db}
	svc := &module.Service{Stores: module.StoresOf(&Store{DB: count, Table: "modules"})}
	if _, err := svc.List(ctx, "big", module.ListQuery{Limit: 1}); err != nil { // reads the cursor key, once per instance
		t.Fatal(err)
	}
	count.items.Store(0)

	// module-00420 … module-00429: 10 modules, found by their name guards
	page, err := svc.List(ctx, "big", module.ListQuery{Limit: 100, Q: "module-0042", Sort: module.SortName})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range page.Items {
		names = append(names, m.Name)
	}
	sort.Strings(names) // found in the order of the folded names ("0" folds to "o", "1" to "l")
	if len(names) != 10 || names[0] != "module-00420" || names[9] != "module-00429" {
		t.Fatalf("search found %v; want module-00420 … module-00429", names)
	}
	if got := count.items.Load(); got != 20 {
		t.Errorf("a search finding 10 of %d modules read %d items, want 20 (10 guards, 10 modules)", n, got)
	}
	count.items.Store(0)
	page, err = svc.List(ctx, "big", module.ListQuery{Limit: 25, Sort: module.SortName})
	if err != nil || len(page.Items) != 25 || page.Items[0].Name != "module-00000" {
		t.Fatalf("page by name: %d %v", len(page.Items), err)
	}
	if got := count.items.Load(); got > 26+25 {
		t.Errorf("a page of 25 by name read %d items, want at most 51 (26 order items, 25 modules)", got)
	}
	t.Logf("a search finding 10 of %d modules read 20 items; a page of 25 by name read %d", n, count.items.Load())
}

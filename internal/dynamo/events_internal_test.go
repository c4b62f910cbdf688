package dynamo

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modules-service/modules/internal/audit"
)

// trails is a table of event partitions that answers Query as DynamoDB
// does for the audit trail's reads: backwards, Limit items evaluated per
// page, the filter applied after, a LastEvaluatedKey when more remain.
type trails struct {
	StoreAPI
	items map[string][]eventItem // by PK, newest first
	read  atomic.Int64           // items evaluated, in all
}

func (tr *trails) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	val := func(name string) string {
		if v, ok := in.ExpressionAttributeValues[name].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	pk, from, before, typ := val(":pk"), val(":from"), val(":before"), val(":type")
	start := ""
	if in.ExclusiveStartKey != nil {
		start = in.ExclusiveStartKey[attrSK].(*types.AttributeValueMemberS).Value
	}
	out := &dynamodb.QueryOutput{}
	for _, it := range tr.items[pk] {
		if start != "" && it.SK >= start || before != "" && it.SK > before || it.SK < from {
			continue
		}
		if before != "" && it.SK == before && *in.KeyConditionExpression == "PK = :pk AND SK < :before" {
			continue
		}
		if out.ScannedCount == *in.Limit {
			return out, nil // more remain: LastEvaluatedKey is the last one evaluated
		}
		out.ScannedCount++
		tr.read.Add(1)
		out.LastEvaluatedKey = key(pk, it.SK)
		if typ == "" || it.Type == typ {
			av, err := attributevalue.MarshalMap(it)
			if err != nil {
				return nil, err
			}
			out.Items = append(out.Items, av)
		}
	}
	out.LastEvaluatedKey = nil
	return out, nil
}

// TestMergedTrailsPageAcrossTheReadBudget: when most of two long trails is
// expired, pages end early at the read budget with a cursor, and paging on
// returns every live event of both trails exactly once, newest first.
func TestMergedTrailsPageAcrossTheReadBudget(t *testing.T) {
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	past, future := at.Add(-time.Hour).Unix(), at.Add(24*time.Hour).Unix()
	db := &trails{items: map[string][]eventItem{}}
	var want []string
	for i := range 3000 {
		prefix, typ := eventsPrefix, string(audit.ModuleUpdated)
		if i%3 == 0 {
			prefix, typ = credEventsPrefix, string(audit.ClientThrottled)
		}
		id := audit.NewID(at.Add(time.Duration(i) * time.Millisecond))
		// the first thousand were written before the trail was sharded,
		// all to the unsuffixed partition that is now shard 0
		pk := tenantTrailPK(prefix, "acme", 0)
		if i >= 1000 {
			pk = tenantTrailPK(prefix, "acme", shardOf(id))
		}
		it := eventItem{PK: pk, SK: id, Type: typ, TTL: past}
		if i%1100 == 0 || i >= 1500 && i < 1530 { // far apart, and a run
			it.TTL = future
			want = append(want, it.SK)
		}
		db.items[pk] = append(db.items[pk], it)
	}
	for pk := range db.items {
		slices.Reverse(db.items[pk])
	}
	slices.Reverse(want)
	s := &Store{DB: db, Table: "modules"}
	var got []string
	before, short := "", 0
	for page := 0; ; page++ {
		if page > 100 {
			t.Fatal("more than 100 pages")
		}
		evs, next, err := s.Events(context.Background(), "acme", "", "", before, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			got = append(got, e.ID)
		}
		if next == "" {
			break
		}
		if len(evs) < 10 {
			short++
		}
		before = next
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged through %d events, want %d: %s", len(got), len(want), firstDifference(got, want))
	}
	if short == 0 {
		t.Error("no page ended at the read budget: the test does not test it")
	}
}

// TestShardedTrailReadsAboutAPage: a tenant's trail spread over its
// shards pages in time order, every event once, and a page reads about
// as many items as it returns, not a page per shard.
func TestShardedTrailReadsAboutAPage(t *testing.T) {
	db := &trails{items: map[string][]eventItem{}}
	var want []string
	shards := map[string]bool{}
	for i := range 2000 {
		id := fmt.Sprintf("%026d", i) // time-ordered, as event IDs are
		pk := tenantTrailPK(eventsPrefix, "acme", shardOf(id))
		db.items[pk] = append(db.items[pk], eventItem{PK: pk, SK: id, Type: string(audit.ModuleUpdated)})
		want, shards[pk] = append(want, id), true
	}
	if len(shards) != trailShards {
		t.Fatalf("2,000 events went to %d shards, want %d", len(shards), trailShards)
	}
	for pk := range db.items {
		slices.Reverse(db.items[pk])
	}
	slices.Reverse(want)
	s := &Store{DB: db, Table: "modules"}
	const limit = 50
	var got []string
	worst := int64(0)
	for before := ""; ; {
		db.read.Store(0)
		evs, next, err := s.Events(context.Background(), "acme", "", "", before, "", limit)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			got = append(got, e.ID)
		}
		worst = max(worst, db.read.Load())
		if next == "" {
			break
		}
		if len(evs) != limit {
			t.Fatalf("a page of %d events, want %d", len(evs), limit)
		}
		before = next
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged through %d events, want %d: %s", len(got), len(want), firstDifference(got, want))
	}
	// one page per shard would be 8 × 51 = 408
	if worst > 2*(limit+1) {
		t.Errorf("a page of %d read up to %d items, want at most %d", limit, worst, 2*(limit+1))
	}
	t.Logf("pages of %d over %d shards read at most %d items", limit, trailShards, worst)
}

func firstDifference(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("at %d got %s, want %s", i, got[i], want[i])
		}
	}
	return "one is a prefix of the other"
}

package dynamo

import (
	"context"
	"fmt"
	"slices"
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
		pk, typ := "EVENTS#acme", string(audit.ModuleUpdated)
		if i%3 == 0 {
			pk, typ = "CREDEVENTS#acme", string(audit.ClientThrottled)
		}
		it := eventItem{PK: pk, SK: audit.NewID(at.Add(time.Duration(i) * time.Millisecond)), Type: typ, TTL: past}
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

func firstDifference(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("at %d got %s, want %s", i, got[i], want[i])
		}
	}
	return "one is a prefix of the other"
}

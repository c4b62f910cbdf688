package dynamo

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// paged answers Query with pages of perPage items of ten (SK "0" … "9"),
// from ExclusiveStartKey, with a LastEvaluatedKey while more remain, as
// DynamoDB does; it counts its calls.
type paged struct {
	StoreAPI
	perPage int
	fail    error
	calls   int
}

func (p *paged) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	p.calls++
	if p.fail != nil {
		return nil, p.fail
	}
	start := 0
	if in.ExclusiveStartKey != nil {
		fmt.Sscan(in.ExclusiveStartKey[attrSK].(*types.AttributeValueMemberS).Value, &start)
		start++
	}
	out := &dynamodb.QueryOutput{}
	end := min(start+p.perPage, 10)
	for i := start; i < end; i++ {
		out.Items = append(out.Items, key("P", fmt.Sprint(i)))
	}
	if end < 10 {
		out.LastEvaluatedKey = key("P", fmt.Sprint(end-1))
	}
	return out, nil
}

func TestEachFollowsPagesAndStopsWhenTold(t *testing.T) {
	type item struct {
		SK string `dynamodbav:"SK"`
	}
	for _, tc := range []struct {
		name      string
		perPage   int
		start     string // ExclusiveStartKey's sort key, if any
		want      int    // items wanted before fn says stop (0: all)
		wantItems string
		wantCalls int
	}{
		{"every page", 3, "", 0, "0123456789", 4},
		{"one page holds all", 20, "", 0, "0123456789", 1},
		{"stops within a page, asks no further", 3, "", 4, "0123", 2},
		{"stops at a page's end, asks no further", 3, "", 3, "012", 1},
		{"starts after the given key", 4, "5", 0, "6789", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := &paged{perPage: tc.perPage}
			in := &dynamodb.QueryInput{TableName: aws.String("t"), Limit: aws.Int32(int32(tc.perPage))}
			if tc.start != "" {
				in.ExclusiveStartKey = key("P", tc.start)
			}
			got := ""
			err := eachQueried(t.Context(), db, in, func(it item) (bool, error) {
				got += it.SK
				return tc.want == 0 || len(got) < tc.want, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.wantItems || db.calls != tc.wantCalls {
				t.Errorf("read %q in %d calls, want %q in %d", got, db.calls, tc.wantItems, tc.wantCalls)
			}
		})
	}
	t.Run("errors stop it", func(t *testing.T) {
		boom := errors.New("boom")
		if err := eachQueried(t.Context(), &paged{fail: boom}, &dynamodb.QueryInput{}, func(item) (bool, error) { return true, nil }); !errors.Is(err, boom) {
			t.Errorf("a failed Query: %v, want %v", err, boom)
		}
		calls := 0
		err := eachQueried(t.Context(), &paged{perPage: 3}, &dynamodb.QueryInput{}, func(item) (bool, error) { calls++; return true, boom })
		if !errors.Is(err, boom) || calls != 1 {
			t.Errorf("fn failing: %v after %d items, want %v after 1", err, calls, boom)
		}
	})
}

package dynamo_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modules-service/modules/internal/dynamo"
	"github.com/modules-service/modules/internal/testing/testenv"
)

// TestStandInsRefuseWhatDynamoDBRefuses: the tests' DynamoDB clients, on
// both backends, refuse a key or an item beyond DynamoDB's limits as
// DynamoDB does, so that no test passes on a write only AWS would refuse.
func TestStandInsRefuseWhatDynamoDBRefuses(t *testing.T) {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	item := func(pk, sk string, extra int) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"PK": s(pk), "SK": s(sk), "v": s(strings.Repeat("x", extra))}
	}
	testenv.All(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		tests := []struct {
			name string
			call func() error
			ok   bool
		}{
			{"keys at the limits", func() error {
				_, err := b.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &b.Table, Item: item(strings.Repeat("p", dynamo.MaxPartitionKey), strings.Repeat("s", dynamo.MaxSortKey), 10)})
				return err
			}, true},
			{"sort key one byte over", func() error {
				_, err := b.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &b.Table, Item: item("p", strings.Repeat("s", dynamo.MaxSortKey+1), 10)})
				return err
			}, false},
			{"partition key one byte over, in a transaction", func() error {
				_, err := b.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
					{Put: &types.Put{TableName: &b.Table, Item: item(strings.Repeat("p", dynamo.MaxPartitionKey+1), "s", 10)}}}})
				return err
			}, false},
			{"item over 400 KB", func() error {
				_, err := b.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &b.Table, Item: item("p", "s", dynamo.MaxItem)})
				return err
			}, false},
			{"a read by a long key", func() error {
				_, err := b.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &b.Table, Key: map[string]types.AttributeValue{"PK": s("p"), "SK": s(strings.Repeat("s", dynamo.MaxSortKey+1))}})
				return err
			}, false},
			{"a query by a long prefix", func() error {
				_, err := b.DB.Query(ctx, &dynamodb.QueryInput{TableName: &b.Table, KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :p)"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s("p"), ":p": s(strings.Repeat("s", dynamo.MaxSortKey+1))}})
				return err
			}, false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := tt.call()
				if tt.ok && err != nil {
					t.Errorf("refused: %v", err)
				}
				if !tt.ok && (err == nil || !strings.Contains(err.Error(), "ValidationException")) {
					t.Errorf("= %v, want a ValidationException as DynamoDB answers", err)
				}
			})
		}
	})
}

// TestAssertionIDsAreUsedOnce: a client assertion's jti is recorded once
// across instances (two Limits on one table), per client, and any jti the
// client chose, however long or odd, fits a key.
func TestAssertionIDsAreUsedOnce(t *testing.T) {
	testenv.All(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		one, other := b.Limits(), b.Limits()
		expires := time.Now().Add(time.Minute)
		for _, tt := range []struct {
			instance *dynamo.Limits
			client   string
			jti      string
			want     bool
		}{
			{one, "client-a", "jti-1", true},
			{other, "client-a", "jti-1", false}, // a replay to another instance
			{one, "client-a", "jti-1", false},
			{one, "client-b", "jti-1", true}, // another client's jti is its own
			{one, "client-a", strings.Repeat("é#", 128), true},
			{other, "client-a", strings.Repeat("é#", 128), false},
		} {
			first, err := tt.instance.FirstUse(ctx, tt.client, tt.jti, expires)
			if err != nil || first != tt.want {
				t.Errorf("FirstUse(%s, %.12q…) = %v, %v; want %v", tt.client, tt.jti, first, err, tt.want)
			}
		}
	})
}

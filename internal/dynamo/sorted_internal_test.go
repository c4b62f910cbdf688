//go:build !race

package dynamo

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// sortedTable is an in-memory table for the scale tests: items kept
// sorted by key, read by GetItem, BatchGetItem and the one Query shape the
// store asks ("PK = :pk AND begins_with(SK, :prefix)", Limit,
// ExclusiveStartKey), and a PutItem for the cursor key. minidyn loads
// 100,000 modules in tens of minutes; this in a second. Anything else it
// is asked panics (the nil StoreAPI), failing the test loudly.
type sortedTable struct {
	StoreAPI
	keys  []string // "<PK>\x00<SK>", sorted
	items map[string]map[string]types.AttributeValue
}

func (t *sortedTable) load(item map[string]types.AttributeValue) {
	if t.items == nil {
		t.items = map[string]map[string]types.AttributeValue{}
	}
	k := itemKey(item)
	if _, ok := t.items[k]; !ok {
		t.keys = append(t.keys, k)
	}
	t.items[k] = item
}

// sortKeys must follow the last load.
func (t *sortedTable) sortKeys() { sort.Strings(t.keys) }

func itemKey(item map[string]types.AttributeValue) string {
	return item[attrPK].(*types.AttributeValueMemberS).Value + "\x00" + item[attrSK].(*types.AttributeValueMemberS).Value
}

func (t *sortedTable) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return &dynamodb.GetItemOutput{Item: t.items[itemKey(in.Key)]}, nil
}

func (t *sortedTable) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	k := itemKey(in.Item)
	if _, ok := t.items[k]; ok {
		return nil, fmt.Errorf("sortedTable: PutItem over %q", k)
	}
	t.items[k] = in.Item
	t.keys = append(t.keys, k)
	t.sortKeys()
	return &dynamodb.PutItemOutput{}, nil
}

func (t *sortedTable) BatchGetItem(_ context.Context, in *dynamodb.BatchGetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	out := &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{}}
	for table, ka := range in.RequestItems {
		for _, k := range ka.Keys {
			if item, ok := t.items[itemKey(k)]; ok {
				out.Responses[table] = append(out.Responses[table], item)
			}
		}
	}
	return out, nil
}

func (t *sortedTable) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	if got := *in.KeyConditionExpression; got != "PK = :pk AND begins_with(SK, :prefix)" {
		return nil, fmt.Errorf("sortedTable: key condition %q", got)
	}
	pk := in.ExpressionAttributeValues[":pk"].(*types.AttributeValueMemberS).Value
	prefix := pk + "\x00" + in.ExpressionAttributeValues[":prefix"].(*types.AttributeValueMemberS).Value
	i, _ := slices.BinarySearch(t.keys, prefix)
	if in.ExclusiveStartKey != nil {
		after := itemKey(in.ExclusiveStartKey)
		j, found := slices.BinarySearch(t.keys, after)
		if found {
			j++
		}
		i = max(i, j)
	}
	out := &dynamodb.QueryOutput{}
	for ; i < len(t.keys) && strings.HasPrefix(t.keys[i], prefix); i++ {
		if in.Limit != nil && len(out.Items) == int(*in.Limit) {
			out.LastEvaluatedKey = map[string]types.AttributeValue{attrPK: out.Items[len(out.Items)-1][attrPK], attrSK: out.Items[len(out.Items)-1][attrSK]}
			break
		}
		out.Items = append(out.Items, t.items[t.keys[i]])
	}
	return out, nil
}

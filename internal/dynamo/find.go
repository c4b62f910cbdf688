package dynamo

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modules-service/modules/internal/module"
)

// Two indexes of a tenant's names live in its partition, one item per
// module and kind each: the guards (NAME#<UniqueKey>, DISPLAY#<UniqueKey>),
// which make names unique and which a search by prefix reads a page at a
// time (module/search.go), and the
// order items (ORDER#name#<SortKey> <id>, ORDER#displayName#…), which a
// list sorted by name reads. Both lead to the modules; neither makes a
// list read the tenant's other modules.

// guardPrefix is the sort key prefix of one kind of guard.
func guardPrefix(by module.Sort) string {
	if by == module.SortDisplayName {
		return displayGuard
	}
	return nameGuard
}

// guardSK is the sort key of the guard of one kind for key.
func guardSK(by module.Sort, key string) string {
	if by == module.SortDisplayName {
		return displaySK(key)
	}
	return nameSK(key)
}

// ListBy implements module.Reader: a page of order items, then their modules.
func (s *Store) ListBy(ctx context.Context, tenantID string, by module.Sort, after string, limit int) ([]module.Module, bool, error) {
	if after != "" {
		after = orderSK(by, after)
	}
	items, more, err := query[guardItem](ctx, s, tenantPK(tenantID), orderSK(by, ""), after, limit)
	if err != nil {
		return nil, false, fmt.Errorf("query order items: %w", err)
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ModuleID
	}
	mods, err := s.modules(ctx, tenantID, ids)
	return mods, more, err
}

// FindGuards implements module.Reader: a page of the guards of one kind
// whose key starts with prefix.
func (s *Store) FindGuards(ctx context.Context, tenantID string, by module.Sort, prefix, after string, limit int) ([]module.Guard, bool, error) {
	if after != "" {
		after = guardSK(by, after)
	}
	// A query longer than a hashed guard's readable head begins with that
	// head; the service keeps the modules whose keys start with it whole.
	begins, _ := searchPrefix(guardPrefix(by), prefix)
	items, more, err := query[guardItem](ctx, s, tenantPK(tenantID), begins, after, limit)
	if err != nil {
		return nil, false, fmt.Errorf("query guards: %w", err)
	}
	guards := make([]module.Guard, len(items))
	for i, it := range items {
		guards[i] = module.Guard{Key: strings.TrimPrefix(it.SK, guardSK(by, "")), ModuleID: it.ModuleID}
	}
	return guards, more, nil
}

// Modules implements module.Reader.
func (s *Store) Modules(ctx context.Context, tenantID string, ids []string) ([]module.Module, error) {
	return s.modules(ctx, tenantID, ids)
}

// query reads the items of partition pk whose sort key starts with
// prefix, in sort-key order, from after the sort key after (if any): up to
// limit (at least 1) of them and whether more follow. It asks for one item
// more than limit, so a last page says it is the last.
func query[T any](ctx context.Context, s *Store, pk, prefix, after string, limit int) ([]T, bool, error) {
	in := &dynamodb.QueryInput{
		TableName:              &s.Table,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(pk), ":prefix": str(prefix),
		},
		ConsistentRead: aws.Bool(true),
	}
	in.Limit = aws.Int32(int32(limit + 1))
	if after != "" {
		in.ExclusiveStartKey = key(pk, after)
	}
	var items []T
	err := eachQueried(ctx, s.DB, in, func(it T) (bool, error) {
		items = append(items, it)
		return len(items) <= limit, nil
	})
	if err != nil {
		return nil, false, err
	}
	if len(items) > limit {
		return items[:limit], true, nil
	}
	return items, false, nil
}

// batchGetMax is BatchGetItem's limit of keys per call; maxBatchAttempts
// bounds the retries of keys it leaves unprocessed.
const batchGetMax, maxBatchAttempts = 100, 6

// modules reads the modules of ids, in the order of ids, with strongly
// consistent BatchGetItem calls. A guard whose module is gone (a delete
// commits both, so only an in-flight one) is skipped.
func (s *Store) modules(ctx context.Context, tenantID string, ids []string) ([]module.Module, error) {
	byID := make(map[string]module.Module, len(ids))
	for start := 0; start < len(ids); start += batchGetMax {
		keys := make([]map[string]types.AttributeValue, 0, batchGetMax)
		for _, id := range ids[start:min(start+batchGetMax, len(ids))] {
			keys = append(keys, key(tenantPK(tenantID), moduleSK(id)))
		}
		req := map[string]types.KeysAndAttributes{s.Table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
		for attempt := 0; len(req) > 0; attempt++ {
			if attempt == maxBatchAttempts {
				return nil, fmt.Errorf("batch get modules: keys still unprocessed after %d attempts", attempt)
			}
			if attempt > 0 { // unprocessed keys: throttled, back off
				if err := retries.wait(ctx, attempt); err != nil {
					return nil, err
				}
			}
			out, err := s.DB.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, fmt.Errorf("batch get modules: %w", err)
			}
			for _, raw := range out.Responses[s.Table] {
				var it moduleItem
				if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
					return nil, fmt.Errorf("decode module: %w", err)
				}
				byID[it.ID] = it.module()
			}
			req = out.UnprocessedKeys
		}
	}
	mods := make([]module.Module, 0, len(ids))
	for _, id := range ids {
		if m, ok := byID[id]; ok {
			mods = append(mods, m)
		}
	}
	return mods, nil
}

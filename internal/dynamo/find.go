package dynamo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modules-service/modules/internal/module"
)

// Two indexes of a tenant's names live in its partition, one item per
// module and kind each: the guards (NAME#<UniqueKey>, DISPLAY#<UniqueKey>),
// which make names unique and which a search by prefix reads, and the
// order items (ORDER#name#<SortKey> <id>, ORDER#displayName#…), which a
// list sorted by name reads. Both lead to the modules; neither makes a
// list read the tenant's other modules.

// ListBy implements module.Store: a page of order items, then their modules.
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

// Find implements module.Store: the guards of both kinds whose key starts
// with prefix, then their modules.
func (s *Store) Find(ctx context.Context, tenantID, prefix string) ([]module.Module, error) {
	seen := map[string]bool{}
	var ids []string
	cut := false
	for _, by := range []module.Sort{module.SortName, module.SortDisplayName} {
		begins, shorter := searchPrefix(guardPrefix(by), prefix)
		cut = cut || shorter
		guards, _, err := query[guardItem](ctx, s, tenantPK(tenantID), begins, "", 0)
		if err != nil {
			return nil, fmt.Errorf("query guards: %w", err)
		}
		for _, g := range guards {
			if !seen[g.ModuleID] {
				seen[g.ModuleID] = true
				ids = append(ids, g.ModuleID)
			}
		}
	}
	mods, err := s.modules(ctx, tenantID, ids)
	if err != nil || !cut {
		return mods, err
	}
	// The query was longer than a hashed guard's readable head: keep the
	// modules whose keys start with it whole.
	return slices.DeleteFunc(mods, func(m module.Module) bool {
		name, display := m.GuardKeys()
		return !strings.HasPrefix(name, prefix) && !strings.HasPrefix(display, prefix)
	}), nil
}

func guardPrefix(by module.Sort) string {
	if by == module.SortDisplayName {
		return displayGuard
	}
	return nameGuard
}

// query reads the items of partition pk whose sort key starts with
// prefix, in sort-key order, from after the sort key after (if any): up to
// limit of them and whether more follow, or with limit 0 all of them. It
// asks for one item more than limit, so a last page says it is the last.
func query[T any](ctx context.Context, s *Store, pk, prefix, after string, limit int) ([]T, bool, error) {
	in := &dynamodb.QueryInput{
		TableName:              &s.Table,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(pk), ":prefix": str(prefix),
		},
		ConsistentRead: aws.Bool(true),
	}
	if limit > 0 {
		in.Limit = aws.Int32(int32(limit + 1))
	}
	if after != "" {
		in.ExclusiveStartKey = key(pk, after)
	}
	var items []T
	for limit == 0 || len(items) <= limit {
		out, err := s.DB.Query(ctx, in)
		if err != nil {
			return nil, false, err
		}
		for _, raw := range out.Items {
			var it T
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return nil, false, fmt.Errorf("decode item: %w", err)
			}
			items = append(items, it)
		}
		if out.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	if limit > 0 && len(items) > limit {
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
				select {
				case <-ctx.Done():
					return nil, ctx.Err()
				case <-time.After(time.Duration(attempt*attempt*20) * time.Millisecond):
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

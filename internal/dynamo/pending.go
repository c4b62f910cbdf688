package dynamo

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modules-service/modules/internal/module"
)

// Pending items (module.Pending) live in a fixed set of partitions per
// day, so the reaper finds them with a few queries and never lists the
// secrets:
//
//	pending  PENDING#<yyyy-mm-dd>#<shard>  SECRET#<secretName>  (ttl)
//
// The day is the record's creation day (UTC); the shard, one of
// pendingShards, spreads a day's creates over partitions.
const pendingShards = 16

func pendingPK(day time.Time, shard int) string {
	return fmt.Sprintf("PENDING#%s#%02d", day.UTC().Format(time.DateOnly), shard)
}

func pendingKey(p module.Pending) map[string]types.AttributeValue {
	h := fnv.New32a()
	h.Write([]byte(p.SecretName))
	return key(pendingPK(p.CreatedAt, int(h.Sum32()%pendingShards)), "SECRET#"+p.SecretName)
}

type pendingItem struct {
	PK         string    `dynamodbav:"PK"`
	SK         string    `dynamodbav:"SK"`
	TenantID   string    `dynamodbav:"tenantId"`
	ModuleID   string    `dynamodbav:"moduleId"`
	SecretName string    `dynamodbav:"secretName"`
	CreatedAt  time.Time `dynamodbav:"createdAt"`
	TTL        int64     `dynamodbav:"ttl"`
}

func toPendingItem(p module.Pending) pendingItem {
	k := pendingKey(p)
	return pendingItem{PK: k[attrPK].(*types.AttributeValueMemberS).Value, SK: k[attrSK].(*types.AttributeValueMemberS).Value,
		TenantID: p.TenantID, ModuleID: p.ModuleID, SecretName: p.SecretName, CreatedAt: p.CreatedAt.UTC(), TTL: p.CreatedAt.Add(module.PendingKeep).Unix()}
}

// notReaped is the condition of a create's commit on its pending item:
// there, and not claimed by the reaper, which deletes the hash once it
// has claimed it and then the item.
func notReaped() cond {
	return where("attribute_exists(PK) AND attribute_not_exists(reaping)", module.ErrPendingReaped, nil)
}

// AddPending implements module.PendingStore.
func (s *Store) AddPending(ctx context.Context, p module.Pending) error {
	av, err := attributevalue.MarshalMap(toPendingItem(p))
	if err != nil {
		return fmt.Errorf("encode pending item: %w", err)
	}
	if _, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.Table, Item: av}); err != nil {
		return fmt.Errorf("put pending item: %w", err)
	}
	return nil
}

// PendingBefore implements module.PendingStore: pendingShards queries a day.
func (s *Store) PendingBefore(ctx context.Context, since, before time.Time, fn func(module.Pending) error) error {
	for day := since.UTC().Truncate(24 * time.Hour); !day.After(before); day = day.Add(24 * time.Hour) {
		for shard := range pendingShards {
			in := &dynamodb.QueryInput{
				TableName:                 &s.Table,
				KeyConditionExpression:    aws.String("PK = :pk"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pendingPK(day, shard))},
				ConsistentRead:            aws.Bool(true),
			}
			var stop error // fn's, returned as it is
			err := eachQueried(ctx, s.DB, in, func(it pendingItem) (bool, error) {
				if it.CreatedAt.Before(before) {
					stop = fn(module.Pending{TenantID: it.TenantID, ModuleID: it.ModuleID, SecretName: it.SecretName, CreatedAt: it.CreatedAt.UTC()})
				}
				return stop == nil, nil
			})
			if stop != nil {
				return stop
			}
			if err != nil {
				return fmt.Errorf("query pending items: %w", err)
			}
		}
	}
	return nil
}

// ClaimPending implements module.PendingStore: it marks the item reaping, if it
// still exists, so that a create can no longer commit against it.
func (s *Store) ClaimPending(ctx context.Context, p module.Pending) (bool, error) {
	_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.Table, Key: pendingKey(p),
		UpdateExpression:          aws.String("SET reaping = :t"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}},
		ReturnValues:              types.ReturnValueNone})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim pending item: %w", err)
	}
	return true, nil
}

// DropPending implements module.PendingStore.
func (s *Store) DropPending(ctx context.Context, p module.Pending) error {
	if _, err := s.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.Table, Key: pendingKey(p)}); err != nil {
		return fmt.Errorf("delete pending item: %w", err)
	}
	return nil
}

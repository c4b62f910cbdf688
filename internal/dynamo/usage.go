package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modules-service/modules/internal/audit"
	"github.com/modules-service/modules/internal/module"
)

// Used moves the lastUsedAt of the module forward to at, when it is
// absent or more than module.UsedEvery older; otherwise, or when the module is
// gone, it writes nothing. The token function's IAM policy lets it update
// only this attribute of a module item (template.yaml).
func (c *Clients) Used(ctx context.Context, tenantID, moduleID string, at time.Time) error {
	_, err := c.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &c.Table,
		Key:                      key(tenantPK(tenantID), moduleSK(moduleID)),
		UpdateExpression:         aws.String("SET #used = :at"),
		ConditionExpression:      aws.String("attribute_exists(PK) AND (attribute_not_exists(#used) OR #used < :before)"),
		ExpressionAttributeNames: map[string]string{"#used": "lastUsedAt"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			// Whole seconds in UTC: RFC 3339 strings of one length, which
			// compare as the times do.
			":at": str(stamp(at)), ":before": str(stamp(at.Add(-module.UsedEvery))),
		},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("record use of module %s: %w", moduleID, err)
	}
	return nil
}

func stamp(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }

// Record writes a credential event (audit.ClientThrottled, …) to its
// tenant's and its module's credential trail in one transaction: the
// partitions the token function may write (events.go). It commits as every
// other write does (txn.commit): with a ClientRequestToken, retried on
// contention, and an unknown outcome wraps module.ErrOutcomeUnknown. Any
// other type of event is refused.
func (c *Clients) Record(ctx context.Context, ev audit.Event) error {
	if !ev.Type.Credential() {
		return fmt.Errorf("record event %s: not a credential event", ev.Type)
	}
	items, err := eventItems(credEventsPrefix, ev)
	if err != nil {
		return err
	}
	var tx txn
	for _, it := range items {
		tx.put(it, cond{}) // an event ID is new: no condition
	}
	if err := tx.commit(ctx, c.DB, c.Table); err != nil {
		return fmt.Errorf("record event %s: %w", ev.Type, err)
	}
	return nil
}

package dynamo

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modules-service/modules/internal/audit"
)

// The audit trail lives in partitions of its own, so a module list never
// reads past it and the token function's IAM policy can allow writing
// events (dynamodb:LeadingKeys EVENTS#*) without allowing it to touch a
// module. Each event is written twice, in the transaction of its change:
//
//	tenant trail  EVENTS#<tenantId>             <eventId>   (ttl)
//	module trail  EVENTS#<tenantId>#<moduleId>  <eventId>   (ttl)
//
// Event IDs are time-ordered, so a Query backwards reads newest first, and
// a deleted module's events stay in its tenant's trail until they expire.
func trailPK(tenantID, moduleID string) string {
	if moduleID == "" {
		return "EVENTS#" + tenantID
	}
	return "EVENTS#" + tenantID + "#" + moduleID
}

type eventItem struct {
	PK         string      `dynamodbav:"PK"`
	SK         string      `dynamodbav:"SK"`
	Type       string      `dynamodbav:"type"`
	Time       time.Time   `dynamodbav:"time"`
	TenantID   string      `dynamodbav:"tenantId"`
	ModuleID   string      `dynamodbav:"moduleId"`
	ModuleName string      `dynamodbav:"moduleName"`
	Actor      audit.Actor `dynamodbav:"actor"`
	RequestID  string      `dynamodbav:"requestId,omitempty"`
	SourceIP   string      `dynamodbav:"sourceIp,omitempty"`
	UserAgent  string      `dynamodbav:"userAgent,omitempty"`
	Outcome    string      `dynamodbav:"outcome"`
	Reason     string      `dynamodbav:"reason,omitempty"`
	// Changes is the JSON of audit.Event.Changes: values of any type,
	// empty lists included, kept exactly.
	Changes string `dynamodbav:"changes,omitempty"`
	TTL     int64  `dynamodbav:"ttl,omitempty"`
}

// eventItems are the two copies of ev.
func eventItems(ev audit.Event) ([2]eventItem, error) {
	it := eventItem{SK: ev.ID, Type: string(ev.Type), Time: ev.Time, TenantID: ev.TenantID, ModuleID: ev.ModuleID,
		ModuleName: ev.ModuleName, Actor: ev.Actor, RequestID: ev.RequestID, SourceIP: ev.SourceIP,
		UserAgent: ev.UserAgent, Outcome: ev.Outcome, Reason: ev.Reason}
	if len(ev.Changes) > 0 {
		b, err := json.Marshal(ev.Changes)
		if err != nil {
			return [2]eventItem{}, fmt.Errorf("encode changes: %w", err)
		}
		it.Changes = string(b)
	}
	if !ev.Expires.IsZero() {
		it.TTL = ev.Expires.Unix()
	}
	tenant, mod := it, it
	tenant.PK, mod.PK = trailPK(ev.TenantID, ""), trailPK(ev.TenantID, ev.ModuleID)
	return [2]eventItem{tenant, mod}, nil
}

func (it eventItem) event() (audit.Event, error) {
	ev := audit.Event{ID: it.SK, Type: audit.Type(it.Type), Time: it.Time.UTC(), TenantID: it.TenantID,
		ModuleID: it.ModuleID, ModuleName: it.ModuleName, Actor: it.Actor, RequestID: it.RequestID,
		SourceIP: it.SourceIP, UserAgent: it.UserAgent, Outcome: it.Outcome, Reason: it.Reason}
	if it.Changes != "" {
		if err := json.Unmarshal([]byte(it.Changes), &ev.Changes); err != nil {
			return audit.Event{}, fmt.Errorf("decode changes of event %s: %w", it.SK, err)
		}
	}
	if it.TTL != 0 {
		ev.Expires = time.Unix(it.TTL, 0).UTC()
	}
	return ev, nil
}

// addEvent adds both copies of ev to the transaction; an event ID is new,
// so neither has a condition.
func (t *txn) addEvent(ev audit.Event) {
	items, err := eventItems(ev)
	if err != nil && t.err == nil {
		t.err = err
	}
	for _, it := range items {
		t.put(it, cond{})
	}
}

// maxEventReads bounds the items one page of a filtered trail reads: a
// rare type in a long trail answers a short (even empty) page with a
// cursor rather than reading the whole trail in one request.
const maxEventReads = 1000

// Events implements module.Store.
func (s *Store) Events(ctx context.Context, tenantID, moduleID string, t audit.Type, before, from string, limit int) ([]audit.Event, string, error) {
	pk := trailPK(tenantID, moduleID)
	in := &dynamodb.QueryInput{
		TableName:                 &s.Table,
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(limit + 1)),
	}
	if from != "" {
		in.KeyConditionExpression = aws.String("PK = :pk AND SK >= :from")
		in.ExpressionAttributeValues[":from"] = str(from)
	}
	if t != "" {
		in.Limit = aws.Int32(int32(max(limit+1, 250))) // most items read may not match
		in.FilterExpression = aws.String("#type = :type")
		in.ExpressionAttributeNames = map[string]string{"#type": "type"}
		in.ExpressionAttributeValues[":type"] = str(string(t))
	}
	if before != "" {
		in.ExclusiveStartKey = key(pk, before)
	}
	now := time.Now()
	var events []audit.Event
	last, read := "", 0
	for {
		out, err := s.DB.Query(ctx, in)
		if err != nil {
			return nil, "", fmt.Errorf("query events: %w", err)
		}
		read += int(out.ScannedCount)
		for _, raw := range out.Items {
			var it eventItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return nil, "", fmt.Errorf("decode event: %w", err)
			}
			ev, err := it.event()
			if err != nil {
				return nil, "", err
			}
			if !ev.Expires.IsZero() && ev.Expires.Before(now) {
				continue // TTL deletes lazily
			}
			if len(events) == limit {
				return events, last, nil // one more exists: the page ends at last
			}
			events, last = append(events, ev), ev.ID
		}
		if out.LastEvaluatedKey == nil {
			return events, "", nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
		if read >= maxEventReads {
			sk, _ := out.LastEvaluatedKey[attrSK].(*types.AttributeValueMemberS)
			if sk == nil {
				return nil, "", fmt.Errorf("query events: last evaluated key has no sort key")
			}
			return events, sk.Value, nil
		}
	}
}

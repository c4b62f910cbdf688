package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Limits keeps the token endpoint's brute-force counters and the sources
// each client authenticated from, under their own partition key prefix so
// that the token function's IAM policy can allow writes there and nowhere
// else (template.yaml, dynamodb:LeadingKeys):
//
//	attempts per source  LIMIT#<clientId>  SRC#<window>#<source>  (ttl)
//	failures per client  LIMIT#<clientId>  ALL#<window>           (ttl)
//	known-good source    LIMIT#<clientId>  KNOWN#<source>         (ttl)
//	once per window      LIMIT#<clientId>  ONCE#<window>#<what>   (ttl)
//
// Every method takes a client ID that passed module.CheckClientID and a
// source from oauth's source rule, so keys stay far below DynamoDB's limits.
type Limits struct {
	DB    ClientAPI
	Table string
}

// counterTTL is how long a window's counter outlives the start of its
// window; windows are minutes long, so an hour leaves nothing behind.
const counterTTL = time.Hour

func limitPK(clientID string) string { return "LIMIT#" + clientID }

// counterSK is the counter of one source, or of every source when source
// is empty.
func counterSK(source string, window time.Time) string {
	w := strconv.FormatInt(window.Unix(), 10)
	if source == "" {
		return "ALL#" + w
	}
	return "SRC#" + w + "#" + source
}

// Add adds delta to a window's counter in one atomic UpdateItem and returns
// the new value. An empty source is the client's counter across sources.
func (l *Limits) Add(ctx context.Context, clientID, source string, window time.Time, delta int) (int, error) {
	out, err := l.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &l.Table,
		Key:                      key(limitPK(clientID), counterSK(source, window)),
		UpdateExpression:         aws.String("ADD #n :d SET #ttl = :ttl"),
		ExpressionAttributeNames: map[string]string{"#n": "n", "#ttl": attrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":d": num(int64(delta)), ":ttl": num(window.Add(counterTTL).Unix()),
		},
		ReturnValues: types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return 0, fmt.Errorf("count attempt of %s: %w", clientID, err)
	}
	return count(out.Attributes), nil
}

// Count reads a window's counter (eventually consistent: a detection
// threshold, not the per-source limit, reads it).
func (l *Limits) Count(ctx context.Context, clientID, source string, window time.Time) (int, error) {
	out, err := l.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &l.Table, Key: key(limitPK(clientID), counterSK(source, window))})
	if err != nil {
		return 0, fmt.Errorf("read counter of %s: %w", clientID, err)
	}
	return count(out.Item), nil
}

// LastSuccess returns when clientID last authenticated from source, as
// remembered by Remember; the zero time when never (or expired).
func (l *Limits) LastSuccess(ctx context.Context, clientID, source string) (time.Time, error) {
	out, err := l.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &l.Table, Key: key(limitPK(clientID), "KNOWN#"+source)})
	if err != nil {
		return time.Time{}, fmt.Errorf("read known source of %s: %w", clientID, err)
	}
	n, ok := out.Item["at"].(*types.AttributeValueMemberN)
	if !ok {
		return time.Time{}, nil
	}
	sec, _ := strconv.ParseInt(n.Value, 10, 64)
	return time.Unix(sec, 0), nil
}

// Remember records that clientID authenticated from source at at, kept
// until expires. The write happens only when the stored time is older than
// a day, so a busy client costs one write per source per day.
func (l *Limits) Remember(ctx context.Context, clientID, source string, at, expires time.Time) error {
	_, err := l.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &l.Table,
		Key:                      key(limitPK(clientID), "KNOWN#"+source),
		UpdateExpression:         aws.String("SET #at = :at, #ttl = :ttl"),
		ConditionExpression:      aws.String("attribute_not_exists(#at) OR #at < :dayAgo"),
		ExpressionAttributeNames: map[string]string{"#at": "at", "#ttl": attrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":at": num(at.Unix()), ":ttl": num(expires.Unix()), ":dayAgo": num(at.Add(-24 * time.Hour).Unix()),
		},
	})
	var cond *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &cond) {
		return fmt.Errorf("remember source of %s: %w", clientID, err)
	}
	return nil
}

func count(item map[string]types.AttributeValue) int {
	n, ok := item["n"].(*types.AttributeValueMemberN)
	if !ok {
		return 0
	}
	v, _ := strconv.Atoi(n.Value)
	return v
}

// Once reports whether this is the first call for (clientID, what, window):
// one conditional put, so of any number of instances exactly one hears
// true. It keeps the credential events to one per kind and window.
func (l *Limits) Once(ctx context.Context, clientID, what string, window time.Time) (bool, error) {
	_, err := l.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &l.Table,
		Key:                      key(limitPK(clientID), "ONCE#"+strconv.FormatInt(window.Unix(), 10)+"#"+what),
		UpdateExpression:         aws.String("SET #ttl = :ttl"),
		ConditionExpression:      aws.String("attribute_not_exists(PK)"),
		ExpressionAttributeNames: map[string]string{"#ttl": attrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":ttl": num(window.Add(counterTTL).Unix()),
		},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("mark %s of %s: %w", what, clientID, err)
	}
	return true, nil
}

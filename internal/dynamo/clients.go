package dynamo

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/module"
)

// ClientAPI is the part of the DynamoDB client that the token endpoint and
// the authorizer call: they only ever read client pointers and count
// failures.
type ClientAPI interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Clients reads client pointers and counts failed authentications.
type Clients struct {
	DB    ClientAPI
	Table string
}

// Client returns the client pointer of clientID, or derrors.ErrNotFound.
// An eventually consistent read is enough: a pointer is at most a second
// stale, well inside the caches' own bound.
func (c *Clients) Client(ctx context.Context, clientID string) (module.Client, error) {
	out, err := c.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &c.Table, Key: key(clientPK(clientID), clientSK)})
	if err != nil {
		return module.Client{}, fmt.Errorf("get client %s: %w", clientID, err)
	}
	if out.Item == nil {
		return module.Client{}, derrors.ErrNotFound
	}
	var it ClientItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return module.Client{}, fmt.Errorf("decode client %s: %w", clientID, err)
	}
	return module.Client{ClientID: it.ClientID, TenantID: it.TenantID, ModuleID: it.ModuleID,
		Enabled: it.Enabled, Scopes: nonNil(it.Scopes), SecretName: it.SecretName}, nil
}

// Failures returns how many authentications of clientID failed in the
// window starting at window.
func (c *Clients) Failures(ctx context.Context, clientID string, window time.Time) (int, error) {
	out, err := c.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &c.Table, Key: failureKey(clientID, window)})
	if err != nil {
		return 0, fmt.Errorf("get failures of %s: %w", clientID, err)
	}
	return count(out.Item), nil
}

// AddFailure counts one failed authentication in the window atomically and
// returns the new count. The item expires (TTL) when the window is over.
func (c *Clients) AddFailure(ctx context.Context, clientID string, window, expires time.Time) (int, error) {
	out, err := c.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &c.Table,
		Key:                      failureKey(clientID, window),
		UpdateExpression:         aws.String("ADD #n :one SET #ttl = :ttl"),
		ExpressionAttributeNames: map[string]string{"#n": "failures", "#ttl": attrTTL},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": num(1), ":ttl": num(expires.Unix()),
		},
		ReturnValues: types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return 0, fmt.Errorf("count failure of %s: %w", clientID, err)
	}
	return count(out.Attributes), nil
}

// failureKey puts the counters beside the client pointer:
// CLIENT#<clientId> / FAILURES#<window start, unix seconds>.
func failureKey(clientID string, window time.Time) map[string]types.AttributeValue {
	return key(clientPK(clientID), "FAILURES#"+strconv.FormatInt(window.Unix(), 10))
}

func count(item map[string]types.AttributeValue) int {
	n, ok := item["failures"].(*types.AttributeValueMemberN)
	if !ok {
		return 0
	}
	v, _ := strconv.Atoi(n.Value)
	return v
}

package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/module"
)

// ClientAPI is the part of the DynamoDB client that the token endpoint and
// the authorizer call: they read client pointers, and the token endpoint
// counts attempts (Limits), moves lastUsedAt and records credential
// events (usage.go).
type ClientAPI interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Clients is the client side of the table: it reads client pointers,
// records when a module was last used, and writes credential events.
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
		ModuleName: it.ModuleName, Enabled: it.Enabled, Scopes: nonNil(it.Scopes), SecretName: it.SecretName,
		AuthMethods: it.AuthMethods, JWKS: rawKeys(it.JWKS), FederatedCredentials: fromFederated(it.Federated), DPoPBound: it.DPoPBound}, nil
}

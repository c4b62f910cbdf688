// Command authorizer is the HTTP API's Lambda authorizer (payload 2.0,
// simple responses): it admits this service's access tokens and the
// portal identity provider's tokens, and hands functions the caller's
// tenant, kind, client ID and scopes.
package main

import (
	"context"
	"log"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/modules-service/modules/internal/authz"
	"github.com/modules-service/modules/internal/config"
	"github.com/modules-service/modules/internal/dynamo"
	"github.com/modules-service/modules/internal/secretsmanager"
	"github.com/modules-service/modules/internal/signing"
)

func main() {
	cfg, err := config.FromEnv(config.EnvTable, config.EnvSigningKey)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	aws, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatalf("load AWS config: %v", err)
	}
	keys := &signing.Cache{Source: &secretsmanager.SigningKeys{SM: sm.NewFromConfig(aws), SecretID: cfg.SigningKeySecret}, MaxAge: 15 * time.Minute, MinRefresh: time.Minute}
	if _, err := keys.Get(ctx); err != nil { // once per cold start
		log.Fatalf("load signing keys: %v", err)
	}
	a := &authz.Authorizer{
		Issuer: cfg.Issuer, Audience: cfg.Audience, Keys: keys, ClientTTL: cfg.ClientCacheTTL,
		Clients: &dynamo.Clients{DB: dynamodb.NewFromConfig(aws), Table: cfg.Table},
		Log:     config.Logger(),
	}
	if i := cfg.IdP; i.Issuer != "" {
		a.IdP = &authz.IdP{Issuer: i.Issuer, JWKSURL: i.JWKSURL, Audience: i.Audience, TenantClaim: i.TenantClaim, RoleClaim: i.RoleClaim, ManagerRole: i.ManagerRole}
	}
	lambda.Start(a.Authorize)
}

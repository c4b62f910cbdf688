// Command token is the Lambda function behind POST /oauth2/token,
// GET /.well-known/jwks.json and GET /.well-known/oauth-authorization-server.
// It only reads: client pointers, secret hashes and the signing key; its one
// write is the failed-authentication counter.
package main

import (
	"context"
	"log"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/modules-service/modules/internal/config"
	"github.com/modules-service/modules/internal/dynamo"
	"github.com/modules-service/modules/internal/oauth"
	"github.com/modules-service/modules/internal/secrethash"
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
	smc := sm.NewFromConfig(aws)
	clients := &dynamo.Clients{DB: dynamodb.NewFromConfig(aws), Table: cfg.Table}
	keys := &signing.Cache{Source: &secretsmanager.SigningKeys{SM: smc, SecretID: cfg.SigningKeySecret}, MaxAge: 15 * time.Minute, MinRefresh: time.Minute}
	if _, err := keys.Get(ctx); err != nil { // once per cold start, not on the first request
		log.Fatalf("load signing key: %v", err)
	}
	ep := oauth.NewEndpoint(oauth.Config{Issuer: cfg.Issuer, Audience: cfg.Audience, Lifetime: cfg.TokenLifetime}, oauth.Deps{
		Clients: clients, Failures: clients, Hashes: &secretsmanager.Store{SM: smc},
		Verifier: secrethash.New(), DummyHash: oauth.DummyHash, Keys: keys, Log: config.Logger(),
	})
	lambda.Start(httpadapter.NewV2(ep.Handler()).ProxyWithContext)
}

// Command create-module is the Lambda function behind POST /tenants/{tenantId}/modules.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/modules-service/modules/internal/config"
	"github.com/modules-service/modules/internal/dynamo"
	"github.com/modules-service/modules/internal/httpapi"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/secrethash"
	"github.com/modules-service/modules/internal/secretsmanager"
)

func main() {
	cfg, err := config.FromEnv(config.EnvTable, config.EnvSecretPrefix)
	if err != nil {
		log.Fatal(err)
	}
	aws, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatalf("load AWS config: %v", err)
	}
	logger := config.Logger()
	svc := &module.Service{
		Store:        &dynamo.Store{DB: dynamodb.NewFromConfig(aws), Table: cfg.Table},
		Secrets:      &secretsmanager.Store{SM: sm.NewFromConfig(aws)},
		Hasher:       secrethash.New(),
		SecretPrefix: cfg.SecretPrefix,
		Log:          logger,
	}
	lambda.Start(httpadapter.NewV2(httpapi.CreateModule(logger, svc)).ProxyWithContext)
}

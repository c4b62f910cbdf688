// Command update-module is the Lambda function behind PATCH /tenants/{tenantId}/modules/{moduleId}.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/modules-service/modules/internal/config"
	"github.com/modules-service/modules/internal/dynamo"
	"github.com/modules-service/modules/internal/httpapi"
	"github.com/modules-service/modules/internal/module"
)

func main() {
	cfg, err := config.FromEnv(config.EnvTable)
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
		SecretPrefix: cfg.SecretPrefix,
		Log:          logger,
	}
	lambda.Start(httpadapter.NewV2(httpapi.UpdateModule(logger, svc)).ProxyWithContext)
}

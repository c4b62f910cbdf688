// Command list-modules is the Lambda function behind GET /tenants/{tenantId}/modules
// and GET /tenants/{tenantId}/modules/{moduleId}. It holds no Secrets Manager
// client and no permission for it.
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
	ctx := context.Background()
	aws, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatalf("load AWS config: %v", err)
	}
	logger := config.Logger()
	svc := &module.Service{Store: &dynamo.Store{DB: dynamodb.NewFromConfig(aws), Table: cfg.Table}, Log: logger}
	if err := svc.Warm(ctx); err != nil { // the cursor key, once per cold start
		log.Fatalf("warm up: %v", err)
	}
	lambda.Start(httpadapter.NewV2(httpapi.ListModules(logger, svc)).ProxyWithContext)
}

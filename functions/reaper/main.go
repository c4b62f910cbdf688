// Command reaper runs on a schedule and deletes secret hashes whose module
// does not exist (see module.Service.Reap).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/modules-service/modules/internal/config"
	"github.com/modules-service/modules/internal/dynamo"
	"github.com/modules-service/modules/internal/module"
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
		SecretPrefix: cfg.SecretPrefix,
		Log:          logger,
	}
	lambda.Start(func(ctx context.Context) (int, error) {
		n, err := svc.Reap(ctx)
		logger.InfoContext(ctx, "reaped orphan secret hashes", "count", n)
		return n, err
	})
}

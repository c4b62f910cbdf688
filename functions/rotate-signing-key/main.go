// Command rotate-signing-key is the Secrets Manager rotation function of
// the token-signing key: it creates the first key when the stack is
// deployed and a new one on every scheduled rotation.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/modules-service/modules/internal/secretsmanager"
)

func main() {
	aws, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatalf("load AWS config: %v", err)
	}
	api := sm.NewFromConfig(aws)
	lambda.Start(func(ctx context.Context, e secretsmanager.RotationEvent) error {
		return secretsmanager.Rotate(ctx, api, e)
	})
}

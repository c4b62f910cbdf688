// Command admin holds operator tasks against a deployed stack (or moto, with
// AWS_ENDPOINT_URL). It uses the default AWS SDK configuration.
//
//	go run ./infra/admin create-manager --tenant acme --table <TableName> --secret-prefix <stack>/modules
//
// create-manager makes a tenant's first manager (a module with the
// modules:manage scope) and prints its credentials once.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/modules-service/modules/internal/config"
	"github.com/modules-service/modules/internal/wiring"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "create-manager" {
		fmt.Fprintln(os.Stderr, "usage: admin create-manager --tenant ID [--table NAME] [--secret-prefix PREFIX] [--client-id ID]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet("create-manager", flag.ExitOnError)
	tenant := fs.String("tenant", "", "tenant ID (required)")
	table := fs.String("table", os.Getenv(config.EnvTable), "DynamoDB table: the stack's TableName output")
	prefix := fs.String("secret-prefix", os.Getenv(config.EnvSecretPrefix), "secret name prefix: <stack name>/modules")
	clientID := fs.String("client-id", "", "client ID to use (default: generated)")
	_ = fs.Parse(os.Args[2:])
	if *tenant == "" || *table == "" || *prefix == "" {
		fmt.Fprintln(os.Stderr, "admin: --tenant, --table and --secret-prefix are required")
		os.Exit(2)
	}
	ctx := context.Background()
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "admin: load AWS config:", err)
		os.Exit(1)
	}
	env := wiring.FromAWS(config.Config{Table: *table, SecretPrefix: *prefix}, awsCfg)
	c, err := env.Service().CreateManager(ctx, *tenant, *clientID, "")
	if err != nil {
		fmt.Fprintln(os.Stderr, "admin:", err)
		os.Exit(1)
	}
	fmt.Printf("manager of tenant %q created\n  client_id     %s\n  client_secret %s\n(shown once: store it now; it can never be displayed again)\n", *tenant, c.ClientID, c.ClientSecret)
}

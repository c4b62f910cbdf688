// Command admin holds operator tasks against a deployed stack (or moto, with
// AWS_ENDPOINT_URL). It uses the default AWS SDK configuration.
//
//	go run ./infra/admin create-manager --tenant acme --table <TableName> --secret-prefix <stack>/modules
//	go run ./infra/admin migrate-guards --table <TableName>
//	go run ./infra/admin sweep-secrets --table <TableName> --secret-prefix <stack>/modules
//
// create-manager makes a tenant's first manager (a module with the
// modules:manage scope) and prints its credentials once. migrate-guards,
// run once after upgrading to look-alike-aware names, moves the name guards
// of modules stored before to their new keys (docs/api.md, "Rules").
// sweep-secrets, run once after upgrading to pending records, lists every
// secret hash and deletes those older than 15 minutes whose module does
// not exist: the orphans from before, which the reaper cannot find.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/modules-service/modules/internal/config"
	"github.com/modules-service/modules/internal/wiring"
)

const usage = `usage:
  admin create-manager --tenant ID [--table NAME] [--secret-prefix PREFIX] [--client-id ID] [--json]
  admin migrate-guards [--table NAME]
  admin sweep-secrets [--table NAME] [--secret-prefix PREFIX]`

func main() {
	if len(os.Args) < 2 {
		fail(2, usage)
	}
	cmd := os.Args[1]
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	table := fs.String("table", os.Getenv(config.EnvTable), "DynamoDB table: the stack's TableName output")
	prefix := fs.String("secret-prefix", os.Getenv(config.EnvSecretPrefix), "secret name prefix: <stack name>/modules")
	tenant := fs.String("tenant", "", "tenant ID (create-manager)")
	clientID := fs.String("client-id", "", "client ID to use (create-manager; default: generated)")
	asJSON := fs.Bool("json", false, "print the credentials as one JSON object (create-manager), for scripts")
	_ = fs.Parse(os.Args[2:])
	ctx := context.Background()
	awsCfg, note, err := wiring.ToolAWSConfig(ctx)
	if err != nil {
		fail(1, "admin: "+err.Error())
	}
	if note != "" {
		fmt.Fprintln(os.Stderr, "admin:", note)
	}
	env := wiring.FromAWS(config.Config{Table: *table, SecretPrefix: *prefix}, awsCfg)
	switch {
	case cmd == "create-manager" && (*tenant == "" || *table == "" || *prefix == ""):
		fail(2, "admin create-manager: --tenant, --table and --secret-prefix are required")
	case cmd == "create-manager":
		c, err := env.Service().CreateManager(ctx, *tenant, *clientID, "")
		if err != nil {
			fail(1, "admin: "+err.Error()+"\n"+hint)
		}
		if *asJSON {
			_ = json.NewEncoder(os.Stdout).Encode(map[string]string{"tenant": *tenant, "clientId": c.ClientID, "clientSecret": c.ClientSecret})
			return
		}
		fmt.Printf("manager of tenant %q created\n  client_id     %s\n  client_secret %s\n(shown once: store it now; it can never be displayed again)\n", *tenant, c.ClientID, c.ClientSecret)
	case cmd == "migrate-guards" && *table == "":
		fail(2, "admin migrate-guards: --table is required")
	case cmd == "migrate-guards":
		migrated, left, err := env.Service().MigrateGuards(ctx)
		fmt.Printf("%d modules migrated\n", migrated)
		for _, l := range left {
			fmt.Println("left (rename one of the look-alikes, then run again):", l)
		}
		if err != nil {
			fail(1, "admin: "+err.Error()+"\n"+hint)
		}
	case cmd == "sweep-secrets" && (*table == "" || *prefix == ""):
		fail(2, "admin sweep-secrets: --table and --secret-prefix are required")
	case cmd == "sweep-secrets":
		n, err := env.Service().Sweep(ctx)
		fmt.Printf("%d orphaned secret hashes deleted\n", n)
		if err != nil {
			fail(1, "admin: "+err.Error()+"\n"+hint)
		}
	default:
		fail(2, usage)
	}
}

// hint is what to check when a command fails on AWS.
const hint = `check that --table is the stack's TableName output and --secret-prefix is "<stack name>/modules",
that AWS_REGION is the stack's region, and that your credentials may write the table and create secrets
(against moto or ministack: that AWS_ENDPOINT_URL points at it and it is running)`

func fail(code int, msg string) {
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(code)
}

// Command admin holds operator tasks against a deployed stack (or moto, with
// AWS_ENDPOINT_URL). It uses the default AWS SDK configuration.
//
//	go run ./infra/admin create-manager --tenant acme --table <TableName> --secret-prefix <stack>/modules
//	go run ./infra/admin migrate-guards --table <TableName>
//	go run ./infra/admin sweep-secrets --table <TableName> --secret-prefix <stack>/modules
//	go run ./infra/admin retire-previous-key [--rotate] --signing-key-secret <SigningKeySecret> --public-keys-secret <PublicKeysSecret>
//
// create-manager makes a tenant's first manager (a module with the
// modules:manage scope) and prints its credentials once. migrate-guards,
// run once after upgrading to look-alike-aware names, moves the name guards
// of modules stored before to their new keys (docs/api.md, "Rules").
// sweep-secrets, run once after upgrading to pending records, lists every
// secret hash and deletes those older than 15 minutes whose module does
// not exist: the orphans from before, which the reaper cannot find.
// retire-previous-key withdraws the previous token-signing key at once, for
// a key that leaked; with --rotate it rotates first and waits for the new
// key, for a leaked current key (docs/operations.md, "A signing key leaked").
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
  admin sweep-secrets [--table NAME] [--secret-prefix PREFIX]
  admin retire-previous-key [--rotate] --signing-key-secret ARN --public-keys-secret ARN`

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
	signingKey := fs.String("signing-key-secret", "", "the stack's SigningKeySecret output (retire-previous-key)")
	publicKeys := fs.String("public-keys-secret", "", "the stack's PublicKeysSecret output (retire-previous-key)")
	rotate := fs.Bool("rotate", false, "rotate the signing key first and wait for the new one: the current key leaked (retire-previous-key)")
	_ = fs.Parse(os.Args[2:])
	ctx := context.Background()
	awsCfg, note, err := wiring.ToolAWSConfig(ctx)
	if err != nil {
		fail(1, "admin: "+err.Error())
	}
	if note != "" {
		fmt.Fprintln(os.Stderr, "admin:", note)
	}
	env := wiring.FromAWS(config.Config{Table: *table, SecretPrefix: *prefix, SigningKeySecret: *signingKey, PublicKeysSecret: *publicKeys}, awsCfg)
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
	case cmd == "retire-previous-key" && (*signingKey == "" || *publicKeys == ""):
		fail(2, "admin retire-previous-key: --signing-key-secret and --public-keys-secret are required (the stack's outputs)")
	case cmd == "retire-previous-key":
		version, err := wiring.RetirePreviousKey(ctx, env, *rotate)
		if err != nil {
			fail(1, "admin: "+err.Error()+"\n"+keyHint)
		}
		if version == "" {
			fmt.Println("no previous key to retire; the public keys hold the current key alone")
			return
		}
		fmt.Printf("retired signing key version %s: no longer published; authorizers refuse its tokens within KeyCacheSeconds\n", version)
	default:
		fail(2, usage)
	}
}

// keyHint is what to check when retire-previous-key fails on AWS.
const keyHint = `check that both ARNs are the stack's SigningKeySecret and PublicKeysSecret outputs, that AWS_REGION is the
stack's region, and that your credentials may DescribeSecret, GetSecretValue, UpdateSecretVersionStage and PutSecretValue on them
(and RotateSecret on the signing key, with --rotate)`

// hint is what to check when a command fails on AWS.
const hint = `check that --table is the stack's TableName output and --secret-prefix is "<stack name>/modules",
that AWS_REGION is the stack's region, and that your credentials may write the table and create secrets
(against moto or ministack: that AWS_ENDPOINT_URL points at it and it is running)`

func fail(code int, msg string) {
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(code)
}

// Package wiring builds each Lambda function's handler from its
// dependencies. The function mains and the local gateway (infra/local) both
// use it, so the code that runs locally is wired exactly as in Lambda.
//
// This departs from "each main wires" on purpose: with the local gateway as
// a second caller, wiring in the mains would be written twice.
package wiring

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/modules-service/modules/internal/awserr"
	"github.com/modules-service/modules/internal/config"
	"github.com/modules-service/modules/internal/dynamo"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/oauth"
	"github.com/modules-service/modules/internal/secrethash"
	"github.com/modules-service/modules/internal/secretsmanager"
	"github.com/modules-service/modules/internal/signing"
)

// DynamoDB is what the stores need of a DynamoDB client.
type DynamoDB interface {
	dynamo.StoreAPI
	dynamo.ClientAPI
}

// Secrets is what the functions need of a secret store.
type Secrets interface {
	module.SecretStore
	oauth.HashStore
}

// Env is everything a function may be built from.
type Env struct {
	Config   config.Config
	DynamoDB DynamoDB
	Secrets  Secrets
	// SigningKeys are the private keys: only the token function reads them.
	SigningKeys signing.Source[signing.KeySet]
	// PublicKeys are what the authorizer verifies with.
	PublicKeys signing.Source[signing.PublicKeys]
	// Clients is the one client-pointer cache of an instance (or of the
	// local gateway), shared by the token endpoint and the authorizer.
	Clients *module.ClientCache
	// Rotation is the Secrets Manager client of the rotation function;
	// nil where there is no Secrets Manager (the embedded local mode).
	Rotation secretsmanager.RotationAPI
	Log      *slog.Logger
}

// Function is one Lambda function of template.yaml, named by its folder
// under functions/.
type Function struct {
	Name     string
	Required []string // environment it fails without
	New      func(ctx context.Context, e Env) (lambda.Handler, error)
}

// The functions of the service. Each main names its own, so that its
// binary links only what that function uses.
var (
	CreateModule     = Function{"create-module", []string{config.EnvTable, config.EnvSecretPrefix, config.EnvIdempotencyKey}, createModule}
	ListModules      = Function{"list-modules", []string{config.EnvTable}, listModules}
	UpdateModule     = Function{"update-module", []string{config.EnvTable}, updateModule}
	DeleteModule     = Function{"delete-module", []string{config.EnvTable, config.EnvSecretPrefix}, deleteModule}
	Token            = Function{"token", []string{config.EnvTable, config.EnvSigningKey}, token}
	Authorizer       = Function{"authorizer", []string{config.EnvTable, config.EnvPublicKeys}, authorizer}
	Reaper           = Function{"reaper", []string{config.EnvTable, config.EnvSecretPrefix}, reaper}
	RotateSigningKey = Function{"rotate-signing-key", []string{config.EnvPublicKeys}, rotateSigningKey}
	Portal           = Function{"portal", nil, portalPage}
)

// All lists every function, for the local gateway and its tests.
func All() []Function {
	return []Function{CreateModule, ListModules, UpdateModule, DeleteModule, Token, Authorizer, Reaper, RotateSigningKey, Portal}
}

// Main is the whole of a function's main: read the environment, build the
// AWS clients once, build the handler (its warm-up included) and start.
func Main(f Function) {
	memoryMB, _ := strconv.Atoi(os.Getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"))
	TuneGC(memoryMB)
	cfg, err := config.FromEnv(f.Required...)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	// Lambda passes region and credentials in the environment: skipping the
	// shared config files and IMDS saves about 1.5 ms of every cold start.
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithSharedConfigFiles([]string{}),
		awsconfig.WithSharedCredentialsFiles([]string{}), awsconfig.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	if err != nil {
		log.Fatalf("load AWS config: %v", err)
	}
	h, err := f.New(ctx, FromAWS(cfg, awsCfg))
	if err != nil {
		log.Fatalf("%s: %v", f.Name, err)
	}
	lambda.Start(h) // a lambda.Handler is passed through as is
}

// FromAWS builds an Env on the AWS services, whose throttling answers as
// derrors.ErrThrottled (awserr).
func FromAWS(cfg config.Config, awsCfg aws.Config) Env {
	awserr.Use(&awsCfg)
	smc := sm.NewFromConfig(awsCfg)
	db := dynamodb.NewFromConfig(awsCfg)
	return Env{
		Config:      cfg,
		DynamoDB:    db,
		Secrets:     &secretsmanager.Store{SM: smc},
		SigningKeys: &secretsmanager.SigningKeys{SM: smc, SecretID: cfg.SigningKeySecret},
		PublicKeys:  &secretsmanager.PublicKeys{SM: smc, SecretID: cfg.PublicKeysSecret},
		Clients:     ClientCache(cfg, db),
		Rotation:    smc,
		Log:         config.Logger(),
	}
}

// ClientCache is the client-pointer cache on db, bounded by the
// configured ClientCacheTTL, and in size as the token function's caches
// are, by the function's memory.
func ClientCache(cfg config.Config, db dynamo.ClientAPI) *module.ClientCache {
	return module.NewClientCacheOf(&dynamo.Clients{DB: db, Table: cfg.Table}, cfg.ClientCacheTTL, nil, cacheEntries())
}

// cacheEntries is each cache's bound in this function: oauth.CacheEntries
// of the memory Lambda gives it (the default bound outside Lambda).
func cacheEntries() int {
	memoryMB, _ := strconv.Atoi(os.Getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"))
	return oauth.CacheEntries(memoryMB)
}

// Service is the module service on the Env with everything a create,
// a delete, the reaper or an operator's command needs: every storage role,
// the secret store and the production hasher.
func (e Env) Service() *module.Service {
	s := e.ReadService()
	s.Stores = module.StoresOf(e.store())
	s.Secrets, s.Hasher = e.Secrets, secrethash.New()
	return s
}

// ReadService is the module service of list-modules and update-module:
// the storage roles they use (module reads, the trail, cursors, and
// update's writes) and no secret store or hasher: they hold no Secrets
// Manager permission and so are never given a client for it, nor the
// pending records or idempotency records they never touch.
func (e Env) ReadService() *module.Service {
	st := e.store()
	return &module.Service{
		Stores:           module.Stores{Modules: st, Writes: st, Trail: st, Cursors: st},
		SecretPrefix:     e.Config.SecretPrefix,
		AuditRetention:   e.Config.AuditRetention,
		FederatedIssuers: e.Config.FederatedIssuers,
		Log:              e.Log,
	}
}

func (e Env) store() *dynamo.Store { return &dynamo.Store{DB: e.DynamoDB, Table: e.Config.Table} }

// loadKeys loads a key set once, at init rather than on the first request,
// and refreshes it after maxAge (KeyCacheSeconds) or, on an unknown kid, at
// most once a minute (or maxAge, if shorter).
func loadKeys[T any](ctx context.Context, src signing.Source[T], maxAge time.Duration) (*signing.Cache[T], error) {
	if maxAge <= 0 {
		maxAge = config.DefaultKeyCache
	}
	c := &signing.Cache[T]{Source: src, MaxAge: maxAge, MinRefresh: min(time.Minute, maxAge)}
	if _, err := c.Get(ctx); err != nil {
		return nil, fmt.Errorf("load keys: %w", err)
	}
	return c, nil
}

// Lookup returns the function built from the folder functions/<name>.
func Lookup(name string) (Function, bool) {
	for _, f := range All() {
		if f.Name == name {
			return f, true
		}
	}
	return Function{}, false
}

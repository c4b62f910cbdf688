package lambdarie

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/modules-service/modules/internal/config"
	"github.com/modules-service/modules/internal/dynamo"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/secrethash"
	"github.com/modules-service/modules/internal/secretsmanager"
	"github.com/modules-service/modules/internal/signing"
)

// The client that events/token-*.json authenticate as.
const (
	ExampleClientID = "example-client-id"
	ExampleSecret   = "Example-Secret-0123456789"
)

// Fixture is what the functions need on an AWS endpoint (moto): a fresh
// table, a signing key secret and the example client of events/.
type Fixture struct {
	Environ       []string // the functions' environment variables (os.Environ form)
	SigningSecret string
	// SigningKey is SigningSecret's key, for tokens the token function
	// would not issue (an expired one).
	SigningKey signing.Key
}

// NewFixture sets the fixture up on the AWS endpoint at url.
func NewFixture(ctx context.Context, url string) (*Fixture, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion("us-east-1"),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")))
	if err != nil {
		return nil, err
	}
	id := strings.ToLower(rand.Text()[:8])
	table, prefix := "rie-"+id, "rie-"+id+"/modules"
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(url) })
	smc := sm.NewFromConfig(cfg, func(o *sm.Options) { o.BaseEndpoint = aws.String(url) })
	if err := dynamo.CreateTable(ctx, db, table); err != nil {
		return nil, err
	}
	key, err := signing.Generate(signing.RS256)
	if err != nil {
		return nil, err
	}
	value, err := key.Marshal()
	if err != nil {
		return nil, err
	}
	public, err := signing.KeySet{Current: key}.Public().Marshal()
	if err != nil {
		return nil, err
	}
	f := &Fixture{SigningSecret: "rie-" + id + "-signing-key", SigningKey: key}
	publicSecret := f.SigningSecret + "-public"
	idemSecret := f.SigningSecret + "-idempotency"
	for name, v := range map[string]string{f.SigningSecret: value, publicSecret: public, idemSecret: rand.Text() + rand.Text()} {
		if _, err := smc.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(v)}); err != nil {
			return nil, fmt.Errorf("create %s: %w", name, err)
		}
	}
	svc := &module.Service{Stores: module.StoresOf(&dynamo.Store{DB: db, Table: table}), Secrets: &secretsmanager.Store{SM: smc}, Hasher: secrethash.New(), SecretPrefix: prefix}
	if _, _, err := svc.Create(ctx, "acme", module.CreateInput{Name: "example", DisplayName: "Example", ClientSecret: ExampleSecret,
		Scopes: []string{"orders.read"}, ClientID: ExampleClientID}, ""); err != nil {
		return nil, fmt.Errorf("create the example client: %w", err)
	}
	// The environment Lambda gives a function, not this machine's: a host
	// variable such as AWS_CA_BUNDLE would make every SDK configuration
	// load parse a certificate bundle (4 ms) that Lambda never has.
	f.Environ = append([]string{"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=en_US.UTF-8", "TZ=:UTC", "HOME=" + os.TempDir()}, "AWS_ENDPOINT_URL="+url, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1",
		config.EnvTable+"="+table, config.EnvSecretPrefix+"="+prefix, config.EnvSigningKey+"="+f.SigningSecret,
		config.EnvPublicKeys+"="+publicSecret, config.EnvIdempotencyKey+"="+idemSecret, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=1024")
	return f, nil
}

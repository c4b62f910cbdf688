// Package testenv gives tests real backends: the embedded minidyn DynamoDB
// server with an in-process secret store, and, when MOTO_ENDPOINT is set, a
// moto server speaking the real DynamoDB and Secrets Manager wire protocols.
// With CI=true a missing moto server fails the test instead of skipping it.
package testenv

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	miniserver "github.com/truora/minidyn/server"

	"github.com/modules-service/modules/internal/awserr"
	"github.com/modules-service/modules/internal/dynamo"
	"github.com/modules-service/modules/internal/inmem"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/secrethash"
	"github.com/modules-service/modules/internal/secretsmanager"
)

// Backend is one DynamoDB table and one secret store, fresh for a test.
type Backend struct {
	Name    string
	DB      *dynamodb.Client
	Table   string
	Secrets module.SecretStore
	Hashes  interface {
		Get(ctx context.Context, name string) (string, error)
	}
	SecretPrefix string
	// Endpoint is the DynamoDB endpoint the backend's clients reach.
	Endpoint string
	// SM is Secrets Manager: moto's, or on the embedded backend the
	// in-process SecretsManager (module tests there use inmem.Secrets).
	SM interface {
		secretsmanager.API
		secretsmanager.RotationAPI
	}
	// Minidyn is the embedded server, for failure emulation; nil on moto.
	Minidyn *miniserver.Server
}

// Clients returns the client-pointer reader of the backend.
func (b Backend) Clients() *dynamo.Clients { return &dynamo.Clients{DB: b.DB, Table: b.Table} }

// Limits returns the brute-force counters of the backend.
func (b Backend) Limits() *dynamo.Limits { return &dynamo.Limits{DB: b.DB, Table: b.Table} }

// Store returns the DynamoDB store of the backend.
func (b Backend) Store() *dynamo.Store { return &dynamo.Store{DB: b.DB, Table: b.Table} }

// Service returns a module service on the backend with a fast hasher.
func (b Backend) Service() *module.Service {
	return &module.Service{Stores: module.StoresOf(b.Store()), Secrets: b.Secrets, Hasher: FastHasher, SecretPrefix: b.SecretPrefix, IdempotencyKey: IdempotencyKey}
}

// IdempotencyKey keys the fingerprints of the tests' idempotent creates.
var IdempotencyKey = []byte("test idempotency key, 32 bytes at least")

// FastHasher is argon2id with tiny parameters, so that tests creating
// hundreds of modules stay quick. The OWASP parameters have their own tests.
var FastHasher = secrethash.Hasher{Params: argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}}

// Embedded starts a minidyn server for the test and creates a table on it.
func Embedded(t testing.TB) Backend {
	t.Helper()
	srv := miniserver.NewServer()
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	secrets := &inmem.Secrets{}
	b := Backend{Name: "embedded", Minidyn: srv, Secrets: secrets, Hashes: secrets, SecretPrefix: "modules", Endpoint: ts.URL, SM: NewSecretsManager()}
	b.DB = dynamodb.NewFromConfig(awsConfig(t), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(ts.URL)
		o.HTTPClient = keyLimits{freshConnections}
		o.RetryMaxAttempts = 1                   // emulated failures should surface, not be retried
		o.DisableValidateResponseChecksum = true // minidyn sends no CRC32 header
	})
	b.Table = "modules"
	if err := dynamo.CreateTable(context.Background(), b.DB, b.Table); err != nil {
		t.Fatal(err)
	}
	return b
}

// MotoEndpoint is the moto server at MOTO_ENDPOINT. Without one answering
// there the test skips, or fails when CI=true: .ci/run always starts one.
func MotoEndpoint(t testing.TB) string {
	t.Helper()
	endpoint := os.Getenv("MOTO_ENDPOINT")
	if endpoint == "" || !reachable(endpoint) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but no moto server answers at MOTO_ENDPOINT=%q: .ci/run starts one", endpoint)
		}
		t.Skipf("no moto server (set MOTO_ENDPOINT, or run make test)")
	}
	return endpoint
}

// UseMoto points code that configures itself from the environment (as the
// functions do) at the moto server, with the static test credentials.
func UseMoto(t *testing.T) {
	t.Helper()
	t.Setenv("AWS_ENDPOINT_URL", MotoEndpoint(t))
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
}

// Moto returns a backend on the moto server at MOTO_ENDPOINT, with its own
// table and secret prefix. Without one it skips, or fails when CI=true.
func Moto(t testing.TB) Backend {
	t.Helper()
	endpoint := MotoEndpoint(t)
	cfg := awsConfig(t)
	id := strings.ToLower(rand.Text()[:10])
	b := Backend{Name: "moto", Table: "modules-" + id, SecretPrefix: "modules-" + id, Endpoint: endpoint}
	b.DB = dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.HTTPClient = keyLimits{freshConnections}
	})
	client := sm.NewFromConfig(cfg, func(o *sm.Options) { o.BaseEndpoint = aws.String(endpoint); o.HTTPClient = freshConnections })
	b.SM = client
	store := &secretsmanager.Store{SM: client}
	b.Secrets, b.Hashes = store, store
	if err := dynamo.CreateTable(context.Background(), b.DB, b.Table); err != nil {
		t.Fatal(err)
	}
	return b
}

// freshConnections opens a connection per request. Reused keep-alive
// connections to the stand-ins occasionally broke mid-response, and the
// SDK's retry of a transaction that had in fact committed then failed its
// own condition: DynamoDB deduplicates such retries by ClientRequestToken,
// minidyn and moto do not.
var freshConnections = awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) { tr.DisableKeepAlives = true })

// All runs f against every backend: embedded always, moto when available.
func All(t *testing.T, f func(t *testing.T, b Backend)) {
	t.Run("embedded", func(t *testing.T) { f(t, Embedded(t)) })
	t.Run("moto", func(t *testing.T) { f(t, Moto(t)) })
}

// SigningKeySecrets creates the signing key's two secrets as the template
// does, each holding the placeholder "{}" until the first rotation, and
// returns their names.
func (b Backend) SigningKeySecrets(t testing.TB) (private, public string) {
	t.Helper()
	private, public = b.SecretPrefix+"-signing-key", b.SecretPrefix+"-public-keys"
	for _, name := range []string{private, public} {
		if _, err := b.SM.CreateSecret(context.Background(), &sm.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	return private, public
}

// AllWithService is All for a test of the module service: f gets the
// test's context and a fresh service on each backend.
func AllWithService(t *testing.T, f func(t *testing.T, ctx context.Context, svc *module.Service, b Backend)) {
	All(t, func(t *testing.T, b Backend) { f(t, t.Context(), b.Service(), b) })
}

func awsConfig(t testing.TB) aws.Config {
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")))
	if err != nil {
		t.Fatal(err)
	}
	awserr.Use(&cfg) // as wiring.FromAWS: throttling is derrors.ErrThrottled
	return cfg
}

func reachable(endpoint string) bool {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(endpoint + "/moto-api/")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

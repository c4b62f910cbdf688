package wiring

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/modules-service/modules/internal/config"
	"github.com/modules-service/modules/internal/secretsmanager"
	"github.com/modules-service/modules/internal/signing"
	"github.com/modules-service/modules/internal/testing/testenv"
)

// BenchmarkTokenInit is the token function's start-up after the AWS
// configuration is loaded: building its handler, with the signing key read
// from Secrets Manager (the in-process stand-in, so the parse and checks
// of the key without the network round trip Lambda adds) and with a key
// already in memory, for each algorithm.
func BenchmarkTokenInit(b *testing.B) {
	ctx := context.Background()
	backend := testenv.Embedded(b)
	for _, alg := range signing.Algorithms {
		key, err := signing.Generate(alg)
		if err != nil {
			b.Fatal(err)
		}
		value, _ := key.Marshal()
		fake := testenv.NewSecretsManager()
		if _, err := fake.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("signing-key"), SecretString: aws.String(value)}); err != nil {
			b.Fatal(err)
		}
		cfg := config.Config{Table: backend.Table, SigningKeySecret: "signing-key", KeyCacheTTL: config.DefaultKeyCache}
		env := Env{Config: cfg, DynamoDB: backend.DB, Secrets: &secretsmanager.Store{SM: fake}, Clients: ClientCache(cfg, backend.DB),
			Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
		for name, keys := range map[string]signing.Source[signing.KeySet]{
			"key read":    &secretsmanager.SigningKeys{SM: fake, SecretID: "signing-key"},
			"no key read": signing.Fixed(signing.KeySet{Current: key}),
		} {
			env.SigningKeys = keys
			b.Run(string(alg)+"/"+name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := token(ctx, env); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

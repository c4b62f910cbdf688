package wiring

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/modules-service/modules/internal/config"
	"github.com/modules-service/modules/internal/secretsmanager"
	"github.com/modules-service/modules/internal/signing"
	"github.com/modules-service/modules/internal/testing/testenv"
)

// TestInvocationLines: the reaper and the rotation, built as their mains
// build them, answer their events and write one line each whose outcome is
// the metric their alarms watch (done, the step, or failed).
func TestInvocationLines(t *testing.T) {
	b := testenv.Embedded(t)
	var logs bytes.Buffer
	fake := testenv.NewSecretsManager()
	ctx := context.Background()
	for _, name := range []string{"key", "public"} {
		if _, err := fake.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	e := Env{Config: config.Config{Table: b.Table, SecretPrefix: b.SecretPrefix, PublicKeysSecret: "public"},
		DynamoDB: b.DB, Secrets: &secretsmanager.Store{SM: fake}, Rotation: fake, Log: slog.New(slog.NewJSONHandler(&logs, nil))}
	reap, err := Reaper.New(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := reap.Invoke(ctx, []byte(`{}`)); err != nil || string(out) != "0" {
		t.Errorf("reaper: %s, %v; want 0 deleted", out, err)
	}
	rotate, err := RotateSigningKey.New(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []string{"createSecret", "noSuchStep"} {
		ev, _ := json.Marshal(secretsmanager.RotationEvent{SecretID: "key", ClientRequestToken: "v2", Step: step})
		_, err := rotate.Invoke(ctx, ev)
		if (err != nil) != (step == "noSuchStep") {
			t.Errorf("rotation step %s: %v", step, err)
		}
	}
	var outcomes []string
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %s", l)
		}
		outcomes = append(outcomes, m["function"].(string)+"="+m["outcome"].(string))
	}
	if got := strings.Join(outcomes, " "); got != "reaper=done rotate-signing-key=createSecret rotate-signing-key=failed" {
		t.Errorf("lines: %s", got)
	}
}

// TestEveryFunctionBuilds: each function of All builds, its start-up reads
// (idempotency key, signing keys, cursor key) done, from the environment
// its main would have, and FromAWS wires every client without a call.
func TestEveryFunctionBuilds(t *testing.T) {
	b := testenv.Embedded(t)
	ctx := context.Background()
	fake := testenv.NewSecretsManager()
	if _, err := fake.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("idem"), SecretString: aws.String(strings.Repeat("k", 32))}); err != nil {
		t.Fatal(err)
	}
	key, err := signing.Generate(signing.RS256)
	if err != nil {
		t.Fatal(err)
	}
	set := signing.KeySet{Current: key}
	cfg := config.Config{Table: b.Table, SecretPrefix: b.SecretPrefix, IdempotencyKey: "idem", PublicKeysSecret: "public",
		IdP: config.IdP{Issuer: "https://idp.example.test", JWKSURL: "https://idp.example.test/jwks", Audience: "portal",
			TenantClaim: "tenant", RoleClaim: "roles", ManagerRole: "tenant-manager"}, PortalClientID: "portal"}
	e := Env{Config: cfg, DynamoDB: b.DB, Secrets: &secretsmanager.Store{SM: fake},
		SigningKeys: signing.Fixed(set), PublicKeys: signing.Fixed(set.Public()),
		Clients: ClientCache(cfg, b.DB), Rotation: fake, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	for _, f := range All() {
		h, err := f.New(ctx, e)
		if err != nil || h == nil {
			t.Errorf("%s: %v", f.Name, err)
		}
		if got, ok := Lookup(f.Name); !ok || got.Name != f.Name {
			t.Errorf("Lookup(%s) = %v, %v", f.Name, got.Name, ok)
		}
	}
	if _, ok := Lookup("no-such-function"); ok {
		t.Error("Lookup of an unknown function succeeded")
	}
	rotation, _ := Lookup("rotate-signing-key")
	e.Config.TokenAlgorithm = "HS256"
	if _, err := rotation.New(ctx, e); err == nil || !strings.Contains(err.Error(), config.EnvTokenAlgorithm) {
		t.Errorf("rotation with %s=HS256: %v; want a start-up error naming the variable", config.EnvTokenAlgorithm, err)
	}
	onAWS := FromAWS(cfg, aws.Config{Region: "us-east-1"})
	deps := reflect.ValueOf(onAWS)
	for i := range deps.NumField() {
		if f := deps.Field(i); f.Kind() != reflect.Struct && f.IsNil() { // Config is a value
			t.Errorf("FromAWS left %s out", deps.Type().Field(i).Name)
		}
	}
}

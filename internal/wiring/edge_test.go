package wiring

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/modules-service/modules/internal/config"
	"github.com/modules-service/modules/internal/edge"
	"github.com/modules-service/modules/internal/secretsmanager"
	"github.com/modules-service/modules/internal/testing/testenv"
)

// TestEdgeOrigin: the token function reads CloudFront's origin secret at
// init when EDGE_ORIGIN_SECRET names one, fails to start when it cannot,
// and trusts no viewer address when none is named.
func TestEdgeOrigin(t *testing.T) {
	ctx := context.Background()
	fake := testenv.NewSecretsManager()
	const value = "0123456789abcdefghijklmnopqrstuvwxyzABCD"
	for name, v := range map[string]string{"origin": value, "short": "too-short"} {
		if _, err := fake.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(v)}); err != nil {
			t.Fatal(err)
		}
	}
	env := func(secret string) Env {
		return Env{Config: config.Config{EdgeOriginSecret: secret}, Secrets: &secretsmanager.Store{SM: fake}}
	}
	r := httptest.NewRequest("POST", "/oauth2/token", nil)
	r.Header.Set(edge.OriginSecretHeader, value)

	o, err := edgeOrigin(ctx, env("origin"))
	if err != nil || !o.Verified(r) {
		t.Errorf("a configured origin secret: %v, verifies the request %v; want it read and verifying", err, o.Verified(r))
	}
	if o, err := edgeOrigin(ctx, env("")); err != nil || o.Verified(r) {
		t.Errorf("none configured: %v, verifies %v; want the zero Origin", err, o.Verified(r))
	}
	for _, name := range []string{"short", "missing"} {
		if _, err := edgeOrigin(ctx, env(name)); err == nil {
			t.Errorf("%s: %v, want an error at init", name, err)
		}
	}
}

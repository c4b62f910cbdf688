package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/modules-service/modules/internal/config"
)

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		require []string
		check   func(config.Config) bool
		problem string // in the error; "" when none
	}{
		{"client cache unset: the template's default", map[string]string{}, nil,
			func(c config.Config) bool { return c.ClientCacheTTL == config.DefaultClientCache }, ""},
		{"client cache 0 means no cache", map[string]string{config.EnvClientCacheTTL: "0"}, nil,
			func(c config.Config) bool { return c.ClientCacheTTL == 0 }, ""},
		{"client cache in seconds", map[string]string{config.EnvClientCacheTTL: "5"}, nil,
			func(c config.Config) bool { return c.ClientCacheTTL == 5*time.Second }, ""},
		{"key cache unset: the template's default", map[string]string{}, nil,
			func(c config.Config) bool { return c.KeyCacheTTL == config.DefaultKeyCache }, ""},
		{"key cache in seconds", map[string]string{config.EnvKeyCacheTTL: "2"}, nil,
			func(c config.Config) bool { return c.KeyCacheTTL == 2*time.Second }, ""},
		{"key cache not a number", map[string]string{config.EnvKeyCacheTTL: "15m"}, nil, nil, config.EnvKeyCacheTTL + " must be a whole number"},
		{"negative lifetime", map[string]string{config.EnvTokenLifetime: "-1"}, nil, nil, config.EnvTokenLifetime + " must be a whole number"},
		{"required names each missing variable", map[string]string{config.EnvTable: "t"}, []string{config.EnvTable, config.EnvPublicKeys, config.EnvIdempotencyKey}, nil,
			config.EnvPublicKeys + " is not set; " + config.EnvIdempotencyKey + " is not set"},
		{"issuer trailing slash trimmed", map[string]string{config.EnvIssuer: "https://api.example.com/"}, nil,
			func(c config.Config) bool { return c.Issuer == "https://api.example.com" }, ""},
		{"federated issuers unset: none", map[string]string{}, nil,
			func(c config.Config) bool { return len(c.FederatedIssuers) == 0 }, ""},
		{"federated issuers, comma-separated", map[string]string{config.EnvFederatedIssuers: "https://token.actions.githubusercontent.com, https://oidc.eks.eu-west-1.amazonaws.com/id/ABC,http://127.0.0.1:8080"}, nil,
			func(c config.Config) bool {
				return strings.Join(c.FederatedIssuers, " ") == "https://token.actions.githubusercontent.com https://oidc.eks.eu-west-1.amazonaws.com/id/ABC http://127.0.0.1:8080"
			}, ""},
		{"federated issuer over http off loopback", map[string]string{config.EnvFederatedIssuers: "http://issuer.example.com"}, nil, nil, config.EnvFederatedIssuers + `: "http://issuer.example.com" is not an https issuer URL`},
		{"federated issuer with a query", map[string]string{config.EnvFederatedIssuers: "https://issuer.example.com?x=1"}, nil, nil, config.EnvFederatedIssuers},
		{"IdP half configured", map[string]string{config.EnvIdPIssuer: "https://idp.example.com"}, nil, nil, "IDP_JWKS_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, name := range []string{config.EnvTable, config.EnvClientCacheTTL, config.EnvKeyCacheTTL, config.EnvTokenLifetime, config.EnvIssuer, config.EnvIdPIssuer, config.EnvPublicKeys, config.EnvIdempotencyKey, config.EnvFederatedIssuers} {
				t.Setenv(name, tt.env[name])
			}
			c, err := config.FromEnv(tt.require...)
			switch {
			case tt.problem == "" && err != nil:
				t.Fatalf("FromEnv: %v", err)
			case tt.problem != "" && (err == nil || !strings.Contains(err.Error(), tt.problem)):
				t.Fatalf("FromEnv error %v, want one containing %q", err, tt.problem)
			case tt.check != nil && !tt.check(c):
				t.Errorf("config %+v", c)
			}
		})
	}
}

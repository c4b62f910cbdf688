package wiring

import (
	"context"
	"fmt"
	"net/http"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/modules-service/modules/internal/authz"
	"github.com/modules-service/modules/internal/config"
	"github.com/modules-service/modules/internal/dynamo"
	"github.com/modules-service/modules/internal/edge"
	"github.com/modules-service/modules/internal/httpapi"
	"github.com/modules-service/modules/internal/oauth"
	"github.com/modules-service/modules/internal/obs"
	"github.com/modules-service/modules/internal/openapi/document"
	"github.com/modules-service/modules/internal/portal"
	"github.com/modules-service/modules/internal/secrethash"
	"github.com/modules-service/modules/internal/secretsmanager"
	"github.com/modules-service/modules/internal/signing"
)

// proxied adapts an http.Handler to a payload 2.0 Lambda handler.
func proxied(h http.Handler) lambda.Handler {
	return lambda.NewHandler(httpadapter.NewV2(h).ProxyWithContext)
}

// createModule reads the key of idempotency fingerprints once, at init.
func createModule(ctx context.Context, e Env) (lambda.Handler, error) {
	key, err := e.Secrets.Get(ctx, e.Config.IdempotencyKey)
	if err != nil {
		return nil, fmt.Errorf("read the idempotency key: %w", err)
	}
	if len(key) < 32 {
		return nil, fmt.Errorf("the idempotency key secret %s holds fewer than 32 bytes", e.Config.IdempotencyKey)
	}
	svc := e.Service()
	svc.IdempotencyKey = []byte(key)
	return proxied(httpapi.CreateModule(e.Log, svc)), nil
}

// listModules and updateModule never touch Secrets Manager.
func listModules(ctx context.Context, e Env) (lambda.Handler, error) {
	svc := e.ReadService()
	if err := svc.Warm(ctx); err != nil { // the cursor key, once per cold start
		return nil, err
	}
	return proxied(httpapi.ListModules(e.Log, svc)), nil
}

func updateModule(_ context.Context, e Env) (lambda.Handler, error) {
	return proxied(httpapi.UpdateModule(e.Log, e.ReadService())), nil
}

func deleteModule(_ context.Context, e Env) (lambda.Handler, error) {
	return proxied(httpapi.DeleteModule(e.Log, e.Service())), nil
}

func token(ctx context.Context, e Env) (lambda.Handler, error) {
	keys, err := loadKeys(ctx, e.SigningKeys, e.Config.KeyCacheTTL)
	if err != nil {
		return nil, err
	}
	c := e.Config
	origin, err := edgeOrigin(ctx, e)
	if err != nil {
		return nil, err
	}
	ep := oauth.NewEndpoint(oauth.Config{Issuer: c.Issuer, Audience: c.Audience, Lifetime: c.TokenLifetime}, oauth.Deps{
		Clients: e.Clients, Limits: &dynamo.Limits{DB: e.DynamoDB, Table: c.Table}, Hashes: e.Secrets,
		Verifier: secrethash.New(), DummyHash: oauth.DummyHash, Keys: keys, Log: e.Log,
		Usage: &dynamo.Clients{DB: e.DynamoDB, Table: c.Table}, AuditRetention: c.AuditRetention, Origin: origin,
		CacheEntries: cacheEntries(), FederatedIssuers: c.FederatedIssuers,
	})
	return proxied(ep.Handler()), nil
}

// edgeOrigin reads CloudFront's origin secret once, at init; none
// configured: the zero Origin, which trusts no viewer-address header.
func edgeOrigin(ctx context.Context, e Env) (edge.Origin, error) {
	if e.Config.EdgeOriginSecret == "" {
		return edge.Origin{}, nil
	}
	v, err := e.Secrets.Get(ctx, e.Config.EdgeOriginSecret)
	if err != nil {
		return edge.Origin{}, fmt.Errorf("read the edge origin secret: %w", err)
	}
	if len(v) < 32 {
		return edge.Origin{}, fmt.Errorf("the edge origin secret %s holds fewer than 32 bytes", e.Config.EdgeOriginSecret)
	}
	return edge.NewOrigin(v), nil
}

// newAuthorizer builds the Lambda authorizer with its keys loaded.
func newAuthorizer(ctx context.Context, e Env) (*authz.Authorizer, error) {
	keys, err := loadKeys(ctx, e.PublicKeys, e.Config.KeyCacheTTL)
	if err != nil {
		return nil, err
	}
	c := e.Config
	a := &authz.Authorizer{Issuer: c.Issuer, Audience: c.Audience, Keys: keys, Clients: e.Clients, Log: e.Log,
		Proofs: &dynamo.Proofs{DB: e.DynamoDB, Table: c.Table}}
	if i := c.IdP; i.Issuer != "" {
		a.IdP = &authz.IdP{Issuer: i.Issuer, JWKSURL: i.JWKSURL, Audience: i.Audience, TenantClaim: i.TenantClaim, RoleClaim: i.RoleClaim, ManagerRole: i.ManagerRole}
	}
	return a, nil
}

func authorizer(ctx context.Context, e Env) (lambda.Handler, error) {
	a, err := newAuthorizer(ctx, e)
	if err != nil {
		return nil, err
	}
	return lambda.NewHandler(a.Authorize), nil
}

func reaper(_ context.Context, e Env) (lambda.Handler, error) {
	svc := e.Service()
	return lambda.NewHandler(func(ctx context.Context) (int, error) {
		ctx, line := obs.Start(ctx, "reaper")
		n, err := svc.Reap(ctx)
		line.Count(obs.MetricReaped, float64(n))
		line.SetOutcome(outcome(err, "done"))
		if err != nil {
			line.Fail("reap", err)
		}
		line.End(ctx, e.Log, "reaped orphan secret hashes")
		return n, err
	}), nil
}

func rotateSigningKey(_ context.Context, e Env) (lambda.Handler, error) {
	alg, err := signing.ParseAlgorithm(e.Config.TokenAlgorithm)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", config.EnvTokenAlgorithm, err)
	}
	rotation := secretsmanager.Rotation{SM: e.Rotation, PublicKeysSecret: e.Config.PublicKeysSecret, Algorithm: alg}
	return lambda.NewHandler(func(ctx context.Context, ev secretsmanager.RotationEvent) error {
		ctx, line := obs.Start(ctx, "rotate-signing-key")
		err := rotation.Rotate(ctx, ev)
		line.SetOutcome(outcome(err, ev.Step)) // a step, or failed: the alarm's metric
		if err != nil {
			line.Fail("rotation", err)
		}
		line.End(ctx, e.Log, "rotation step")
		return err
	}), nil
}

// outcome is the metric outcome of an invocation: ok, or failed.
func outcome(err error, ok string) string {
	if err != nil {
		return "failed"
	}
	return ok
}

func portalPage(_ context.Context, e Env) (lambda.Handler, error) {
	c := portal.Config{}
	if e.Config.IdP.Issuer != "" && e.Config.PortalClientID != "" {
		c = portal.Config{IdPIssuer: e.Config.IdP.Issuer, ClientID: e.Config.PortalClientID, TenantClaim: e.Config.IdP.TenantClaim}
	}
	// The portal function serves the API document too: static, public and
	// embedded like the page, so it needs no IAM and no key at init.
	mux := http.NewServeMux()
	mux.Handle(document.Route, document.Handler())
	mux.Handle("/", portal.Handler(c))
	return proxied(obs.Middleware(e.Log, "portal", mux)), nil
}

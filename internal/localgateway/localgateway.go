// Package localgateway runs the whole API on a developer's machine the way
// API Gateway and Lambda run it: routes, functions and authorizer from
// template.yaml, each function invoked through its Lambda handler with
// payload 2.0 event JSON. DynamoDB is minidyn's server in process and
// secrets live in memory, unless real AWS services are asked for.
package localgateway

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/go-jose/go-jose/v4"
	"golang.org/x/time/rate"

	"github.com/modules-service/modules/internal/accesstoken"
	"github.com/modules-service/modules/internal/apigw"
	"github.com/modules-service/modules/internal/config"
	"github.com/modules-service/modules/internal/dynamo"
	"github.com/modules-service/modules/internal/inmem"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/samtemplate"
	"github.com/modules-service/modules/internal/signing"
	"github.com/modules-service/modules/internal/wiring"
)

// Options configure the local gateway.
type Options struct {
	Template string // path of template.yaml
	// Issuer of tokens: the URL the gateway is reached at.
	Issuer string
	// DataDir, when set in embedded mode, keeps the table, the secret
	// hashes and the signing key across restarts.
	DataDir string
	// AWS uses the AWS services the SDK's default configuration finds
	// (AWS_ENDPOINT_URL for moto or LocalStack, or real credentials)
	// instead of the embedded ones.
	AWS          bool
	Table        string
	SecretPrefix string
	// SigningKeySecret names the signing-key secret in AWS mode, and
	// PublicKeysSecret the public keys the rotation publishes from it;
	// empty: a key generated at start.
	SigningKeySecret string
	PublicKeysSecret string
	// TokenAlgorithm of the generated or kept signing key, as the
	// template's AccessTokenAlgorithm; empty: RS256. A kept key of the
	// other algorithm is replaced and stays published as the previous one.
	TokenAlgorithm string
	ClientCacheTTL time.Duration
	// CORSOrigins replaces the origins CORS allows. Empty: the template's
	// PortalOrigins and any http://localhost:<port> or
	// http://127.0.0.1:<port> (a frontend's dev server).
	CORSOrigins []string
	// IdP is the portal's identity provider, as the Idp* parameters set it;
	// with PortalClientID the page signs in there.
	IdP            config.IdP
	PortalClientID string
	// FederatedIssuers is the template's FederatedIssuers: the issuers
	// modules' federated credentials may name.
	FederatedIssuers []string
	// NoPortalSession turns POST /portal/session off, so that the page asks
	// for a manager's client credentials as it does deployed.
	NoPortalSession bool
	// NoThrottle turns API Gateway's route throttling and the web ACL's
	// per-address limits off, so that load measurements find the
	// functions' capacity rather than the template's TokenRateLimit.
	NoThrottle bool
	// NoEdgeLimit turns only the per-address limits off (the web ACL's
	// rate-based rules, docs/security.md "One address cannot spend everyone's
	// budget"): for a tool that sends much from one address to test
	// something else, as schemathesis does.
	NoEdgeLimit bool
	// MemoryLimitMiB, when set, runs the process with the functions' GOGC
	// (wiring.SetGC) under a soft limit of this many MiB for the whole
	// process: in Lambda the limit is 90 % of one instance's memory
	// (wiring.TuneGC), but this process holds every instance it started,
	// and at GOGC 400 a burst of fresh instances' argon2id verifications
	// (19 MiB each) would leave a heap goal near that limit for as long as
	// the warm path takes to allocate it again (docs/performance.md, "The garbage
	// collector in a function"). 0 leaves Go's defaults.
	MemoryLimitMiB int
	Bootstrap      Bootstrap
	Log            *slog.Logger
}

// Stack is a running local API.
type Stack struct {
	Handler  http.Handler
	Manager  Manager
	Template samtemplate.Template
	Mode     string
	// DynamoDB is the client the functions use, on the stack's table
	// (Options.Table): for the operator commands and the tests.
	DynamoDB wiring.DynamoDB
	service  *module.Service
	// what the portal session mints a bootstrap manager's token with
	issuer, audience string
	keys             signing.Source[signing.KeySet]
	signIn           *signIn // nil without the session route
	closeOnce        sync.Once
	closers          []func()
}

// Start builds the stack.
func Start(ctx context.Context, o Options) (*Stack, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.MemoryLimitMiB > 0 {
		wiring.SetGC(int64(o.MemoryLimitMiB) << 20)
	}
	tpl, err := samtemplate.Load(o.Template)
	if err != nil {
		return nil, err
	}
	s := &Stack{Template: tpl}
	env, err := s.env(ctx, o)
	if err != nil {
		s.Close()
		return nil, err
	}
	if err := ensureIdempotencyKey(ctx, env); err != nil {
		s.Close()
		return nil, err
	}
	s.service, s.DynamoDB = env.Service(), env.DynamoDB
	if s.Manager, err = bootstrap(ctx, env, s.service, o.Bootstrap); err != nil {
		s.Close()
		return nil, fmt.Errorf("bootstrap manager: %w", err)
	}
	gw := &apigw.Gateway{Log: o.Log, CORS: cors(tpl.CORS)}
	if !o.NoThrottle && !o.NoEdgeLimit {
		gw.RateRules = rateRules(tpl.RateRules)
	}
	switch {
	case len(o.CORSOrigins) > 0:
		gw.CORS.AllowOrigins = o.CORSOrigins
	case gw.CORS != nil:
		gw.CORS.AllowLoopback = true // plus any dev server on loopback
	}
	for _, f := range tpl.Functions {
		fn, ok := wiring.Lookup(f.Folder)
		if !ok {
			s.Close()
			return nil, fmt.Errorf("template function %s: no functions/%s to serve it", f.LogicalID, f.Folder)
		}
		if !f.Authorizer && len(f.Routes) == 0 {
			continue // the reaper and the rotation: not behind the gateway
		}
		// The first instance starts here, so a function that cannot
		// initialise fails the start; more start when requests overlap.
		first, err := fn.New(ctx, env)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("%s: %w", f.LogicalID, err)
		}
		initCtx := context.WithoutCancel(ctx)
		h := &apigw.Instances{New: func() (lambda.Handler, error) { return fn.New(initCtx, env) }}
		h.Release(first)
		if f.Authorizer {
			gw.Authorizer = apigw.LambdaAuthorizer{Handler: h}
		}
		for _, r := range f.Routes {
			route := apigw.Route{Key: r.Key(), Function: h, Authorized: r.Authorized}
			if r.Throttle != nil && !o.NoThrottle {
				route.Limit = rate.NewLimiter(rate.Limit(r.Throttle.Rate), r.Throttle.Burst)
			}
			gw.Routes = append(gw.Routes, route)
		}
	}
	s.issuer, s.audience = env.Config.Issuer, accesstoken.Audience(env.Config.Audience, env.Config.Issuer)
	s.keys = env.SigningKeys
	s.Handler = s.local(gw.Handler(), !o.NoPortalSession)
	return s, nil
}

// env builds the functions' environment: embedded or on AWS.
func (s *Stack) env(ctx context.Context, o Options) (wiring.Env, error) {
	cfg := config.Config{Table: o.Table, SecretPrefix: o.SecretPrefix, Issuer: o.Issuer, ClientCacheTTL: o.ClientCacheTTL, IdP: o.IdP, PortalClientID: o.PortalClientID, FederatedIssuers: o.FederatedIssuers,
		SigningKeySecret: o.SigningKeySecret, PublicKeysSecret: o.PublicKeysSecret, IdempotencyKey: o.Table + "/idempotency-key", TokenAlgorithm: o.TokenAlgorithm}
	env := wiring.Env{Config: cfg, Log: o.Log}
	alg, err := signing.ParseAlgorithm(o.TokenAlgorithm)
	if err != nil {
		return env, err
	}
	if o.AWS {
		s.Mode = "AWS services (default SDK configuration)"
		awsCfg, note, err := wiring.ToolAWSConfig(ctx)
		if err != nil {
			return env, fmt.Errorf("load AWS config: %w", err)
		}
		if note != "" {
			o.Log.Info(note)
		}
		env = wiring.FromAWS(cfg, awsCfg)
		env.Log = o.Log
		if err := dynamo.CreateTable(ctx, env.DynamoDB.(dynamo.TableAPI), o.Table); err != nil {
			return env, err
		}
		switch {
		case o.SigningKeySecret == "":
			k, err := signing.Generate(alg)
			if err != nil {
				return env, err
			}
			env.SigningKeys, env.PublicKeys = fixedKeys(signing.KeySet{Current: k})
		case o.PublicKeysSecret == "":
			return env, errors.New("with a signing-key secret, name the public keys secret the rotation publishes to as well")
		}
		return env, nil
	}
	db, err := startEmbeddedDB(ctx, o.Table)
	if err != nil {
		return env, err
	}
	s.closers = append(s.closers, db.Close)
	secrets := &inmem.Secrets{}
	env.DynamoDB, env.Secrets, env.Clients = db.client, secrets, wiring.ClientCache(cfg, db.client)
	keys, err := s.persist(o, alg, db, secrets)
	if err != nil {
		return env, err
	}
	env.SigningKeys, env.PublicKeys = fixedKeys(keys)
	s.Mode = "embedded (minidyn DynamoDB server in process, in-memory secrets)"
	if o.DataDir != "" {
		s.Mode += ", data kept in " + o.DataDir
	} else {
		s.Mode += ", data lost on exit (use --data-dir to keep it)"
	}
	return env, nil
}

// ensureIdempotencyKey creates the create function's fingerprint key the
// first time, as the template's generated secret does in AWS; with a data
// directory it is kept with the other secrets.
func ensureIdempotencyKey(ctx context.Context, env wiring.Env) error {
	err := env.Secrets.Put(ctx, env.Config.IdempotencyKey, rand.Text()+rand.Text(), nil)
	if err != nil && !errors.Is(err, module.ErrSecretExists) {
		return fmt.Errorf("create the idempotency key: %w", err)
	}
	return nil
}

// fixedKeys are a key set and its public part, as the rotation function
// would publish it.
func fixedKeys(set signing.KeySet) (signing.Source[signing.KeySet], signing.Source[signing.PublicKeys]) {
	return signing.Fixed(set), signing.Fixed(set.Public())
}

// persist loads the data directory, if any, and arranges for it to be
// saved every few seconds and on Close. It returns the signing keys: the
// kept key, or a new one of alg that the kept one, of another algorithm,
// stays published beside until the next restart.
func (s *Stack) persist(o Options, alg jose.SignatureAlgorithm, db *embeddedDB, secrets *inmem.Secrets) (signing.KeySet, error) {
	if o.DataDir == "" {
		k, err := signing.Generate(alg)
		return signing.KeySet{Current: k}, err
	}
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return signing.KeySet{}, err
	}
	var stored string
	keyFile := filepath.Join(o.DataDir, "signing-key.json")
	if err := readJSON(keyFile, &stored); err != nil {
		return signing.KeySet{}, err
	}
	var keys signing.KeySet
	key, err := signing.Parse(stored)
	if stored == "" || (err == nil && key.Algorithm != alg) {
		if stored != "" {
			previous := key
			keys.Previous = &previous
		}
		if key, err = signing.Generate(alg); err == nil {
			stored, err = key.Marshal()
		}
		if err == nil {
			err = writeJSON(keyFile, stored)
		}
	}
	keys.Current = key
	if err != nil {
		return signing.KeySet{}, fmt.Errorf("signing key in %s: %w", keyFile, err)
	}
	snap := inmem.Snapshot{}
	if err := readJSON(filepath.Join(o.DataDir, "secrets.json"), &snap); err != nil {
		return signing.KeySet{}, err
	}
	secrets.Import(snap)
	if err := db.load(o.DataDir, o.Table); err != nil {
		return signing.KeySet{}, fmt.Errorf("load %s: %w", o.DataDir, err)
	}
	save := func() {
		err := errors.Join(db.save(o.DataDir, o.Table), writeJSON(filepath.Join(o.DataDir, "secrets.json"), secrets.Export()))
		if err != nil {
			o.Log.Error("save data directory", "error", err.Error())
		}
	}
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				save()
			case <-stop:
				return
			}
		}
	}()
	// Closers run last-in first-out: save before the database stops.
	s.closers = append(s.closers, func() { close(stop); save() })
	return keys, nil
}

// Close saves what is to be kept and stops the embedded services.
func (s *Stack) Close() {
	s.closeOnce.Do(func() {
		for i := len(s.closers) - 1; i >= 0; i-- {
			s.closers[i]()
		}
	})
}

func cors(c samtemplate.CORS) *apigw.CORS {
	if len(c.AllowOrigins) == 0 {
		return nil
	}
	return &apigw.CORS{AllowOrigins: c.AllowOrigins, AllowMethods: c.AllowMethods, AllowHeaders: c.AllowHeaders,
		ExposeHeaders: c.ExposeHeaders, AllowCredentials: c.AllowCredentials, MaxAge: c.MaxAge}
}

// rateRules are the web ACL's rules as the gateway applies them, each with
// its own counts; the address is the loopback connection's peer
// (127.0.0.2, 127.0.0.3, ... are different addresses).
func rateRules(rules []samtemplate.RateRule) []*apigw.RateRule {
	var out []*apigw.RateRule
	for _, r := range rules {
		out = append(out, &apigw.RateRule{Name: r.Name, Scope: r.Matches, Limit: r.Limit,
			Window: time.Duration(r.WindowSeconds) * time.Second, Status: r.Status, RetryAfter: r.RetryAfter})
	}
	return out
}

// CreateManager makes another tenant's first manager on the running stack.
func (s *Stack) CreateManager(ctx context.Context, b Bootstrap) (Manager, error) {
	return CreateManager(ctx, s.service, b)
}

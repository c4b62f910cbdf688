package oauth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modules-service/modules/internal/dynamo"
	"github.com/modules-service/modules/internal/edge"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/oauth"
	"github.com/modules-service/modules/internal/openapi"
	"github.com/modules-service/modules/internal/signing"
	"github.com/modules-service/modules/internal/testing/testenv"
)

const issuer = "https://auth.example.test"

// Secrets with the characters RFC 6749 §2.3.1's form-urlencoding is about.
const (
	plainSecret  = "Known-Secret-4711-xyz"
	trickySecret = "a+b%c:d ü€ =&?/#x-1234"
)

// countingVerifier counts argon2id verifications.
type countingVerifier struct {
	oauth.Verifier
	n atomic.Int64
}

func (c *countingVerifier) Verify(secret, hash string) (bool, error) {
	c.n.Add(1)
	return c.Verifier.Verify(secret, hash)
}

type fixture struct {
	backend  testenv.Backend
	svc      *module.Service
	clock    *testenv.Clock
	verifier *countingVerifier
	keys     signing.KeySet
	dummy    string
	log      *slog.Logger
	logs     *testenv.Logs // what f.log wrote
	handler  http.Handler
	origin   edge.Origin // CloudFront's origin secret; zero: no edge
	// federated is the operator's list of federated issuers (federate).
	federated []string
}

// clientTTL is the fixture's client cache bound (ClientCacheSeconds).
const clientTTL = 30 * time.Second

func newFixture(t testing.TB) *fixture { return newFixtureOn(t, testenv.Embedded(t)) }

// newFixtureOn builds the token endpoint on a backend; f.instance() builds
// another warm instance on the same stores.
func newFixtureOn(t testing.TB, b testenv.Backend) *fixture {
	t.Helper()
	f := &fixture{backend: b, clock: testenv.NewClock(), logs: &testenv.Logs{}}
	f.log = slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.svc = f.backend.Service()
	f.svc.Now = f.clock.Now // one clock, so trails order as things happened
	f.verifier = &countingVerifier{Verifier: testenv.FastHasher}
	dummy, _ := testenv.FastHasher.Hash("dummy secret nobody has")
	cur, err := signing.Generate(signing.RS256)
	if err != nil {
		t.Fatal(err)
	}
	prev, _ := signing.Generate(signing.RS256)
	f.keys = signing.KeySet{Current: cur, Previous: &prev}
	f.dummy = dummy
	f.handler = f.instance()
	return f
}

// instance is one more warm instance of the token function: its own caches,
// the fixture's stores, clock and verifier.
func (f *fixture) instance() http.Handler { return f.instanceOn(f.backend.DB) }

// instanceOn is an instance whose table calls go through db.
func (f *fixture) instanceOn(db dynamo.ClientAPI) http.Handler {
	clients := &dynamo.Clients{DB: db, Table: f.backend.Table}
	return oauth.NewEndpoint(oauth.Config{Issuer: issuer}, oauth.Deps{
		Clients: module.NewClientCache(clients, clientTTL, f.clock.Now), Hashes: f.backend.Hashes, Limits: &dynamo.Limits{DB: db, Table: f.backend.Table},
		Verifier: f.verifier, DummyHash: f.dummy, Log: f.log,
		Usage: clients, AuditRetention: 400 * 24 * time.Hour,
		Keys: &signing.Cache[signing.KeySet]{Source: signing.Fixed(f.keys), MaxAge: time.Hour, MinRefresh: time.Minute},
		Now:  f.clock.Now, Origin: f.origin, FederatedIssuers: f.federated,
	}).Handler()
}

// module creates a module with the given secret and scopes.
func (f *fixture) module(t testing.TB, name, secret string, scopes ...string) module.Credentials {
	t.Helper()
	c, _, err := f.svc.Create(context.Background(), "acme", module.CreateInput{Name: name, DisplayName: name, ClientSecret: secret, Scopes: scopes}, "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type result struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// post sends a token request; basic, when not nil, is {id, secret}.
func (f *fixture) post(t testing.TB, form string, basic []string, mutate ...func(*http.Request)) result {
	t.Helper()
	return f.postTo(t, f.handler, form, basic, mutate...)
}

// from sets the request's source address.
func from(addr string) func(*http.Request) {
	return func(r *http.Request) { r.RemoteAddr = addr + ":40000" }
}

// postTo sends a token request to one instance.
func (f *fixture) postTo(t testing.TB, h http.Handler, form string, basic []string, mutate ...func(*http.Request)) result {
	t.Helper()
	r := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader(form))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic != nil {
		r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(basic[0])+":"+url.QueryEscape(basic[1]))))
	}
	for _, m := range mutate {
		m(r)
	}
	w := httptest.NewRecorder()
	reqHeader, method, uri := r.Header.Clone(), r.Method, r.URL.RequestURI()
	h.ServeHTTP(w, r)
	raw, _ := io.ReadAll(w.Result().Body)
	if method == "POST" { // the document has no GET route: API Gateway answers that
		if err := openapi.Check(openapi.Exchange{Method: method, URL: uri, Header: reqHeader, Body: []byte(form),
			Status: w.Code, RespHeader: w.Result().Header, RespBody: raw}); err != nil {
			t.Errorf("contract: %v", err)
		}
	}
	res := result{status: w.Code, header: w.Result().Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &res.body)
	return res
}

func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

func moduleInput(name, secret string, scopes ...string) module.CreateInput {
	return module.CreateInput{Name: name, DisplayName: name, ClientSecret: secret, Scopes: scopes}
}

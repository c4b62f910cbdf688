package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/modules-service/modules/internal/apigw"
	"github.com/modules-service/modules/internal/caller"
	"github.com/modules-service/modules/internal/dynamo"
	"github.com/modules-service/modules/internal/httpapi"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/openapi"
	"github.com/modules-service/modules/internal/testing/testenv"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Bearer tokens the fake authorizer knows, and the context it hands on.
var callers = map[string]map[string]any{
	"manager-acme":   caller.Caller{TenantID: "acme", Kind: caller.Manager}.Context(),
	"manager-globex": caller.Caller{TenantID: "globex", Kind: caller.Manager}.Context(),
	"client-acme":    caller.Caller{TenantID: "acme", Kind: caller.Client, ClientID: "c1"}.Context(),
}

// stack is the management API on the embedded backend, each function
// invoked through its Lambda handler with API Gateway's event JSON.
type stack struct {
	backend testenv.Backend
	svc     *module.Service
	gateway http.Handler
	logs    *testenv.Logs
}

func newStack(t *testing.T) *stack {
	t.Helper()
	s := &stack{backend: testenv.Embedded(t), logs: &testenv.Logs{}}
	log := slog.New(slog.NewJSONHandler(s.logs, nil))
	s.svc = s.backend.Service()
	s.svc.Log = log
	fn := func(h http.Handler) lambda.Handler { // one invocation per instance, as Lambda
		return &apigw.Instances{New: func() (lambda.Handler, error) { return lambda.NewHandler(httpadapter.NewV2(h).ProxyWithContext), nil }}
	}
	list, create := fn(httpapi.ListModules(log, s.svc)), fn(httpapi.CreateModule(log, s.svc))
	gw := &apigw.Gateway{
		Routes: []apigw.Route{
			{Key: httpapi.RouteCreate, Function: create, Authorized: true},
			{Key: httpapi.RouteValidate, Function: create, Authorized: true},
			{Key: httpapi.RouteList, Function: list, Authorized: true},
			{Key: httpapi.RouteGet, Function: list, Authorized: true},
			{Key: httpapi.RouteEvents, Function: list, Authorized: true},
			{Key: httpapi.RouteModuleEvents, Function: list, Authorized: true},
			{Key: httpapi.RouteUpdate, Function: fn(httpapi.UpdateModule(log, s.svc)), Authorized: true},
			{Key: httpapi.RouteDelete, Function: fn(httpapi.DeleteModule(log, s.svc)), Authorized: true},
		},
		Authorizer: apigw.AuthorizerFunc(func(_ context.Context, e events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
			c, ok := callers[strings.TrimPrefix(e.IdentitySource[0], "Bearer ")]
			return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: ok, Context: c}, nil
		}),
		Log: log,
	}
	s.gateway = gw.Handler()
	return s
}

// req describes one request; token "" sends no Authorization header.
type req struct {
	method, path, body, token string
	header                    map[string]string
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("response %d is not a JSON object: %s", r.status, r.body)
	}
	return v
}

func (s *stack) do(t *testing.T, q req) resp {
	t.Helper()
	r := httptest.NewRequest(q.method, q.path, strings.NewReader(q.body))
	if q.body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if q.token != "" {
		r.Header.Set("Authorization", "Bearer "+q.token)
	}
	for k, v := range q.header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	reqHeader := r.Header.Clone()
	s.gateway.ServeHTTP(w, r)
	body, _ := io.ReadAll(w.Result().Body)
	if err := openapi.Check(openapi.Exchange{Method: q.method, URL: q.path, Header: reqHeader, Body: []byte(q.body),
		Status: w.Code, RespHeader: w.Result().Header, RespBody: body}); err != nil {
		t.Errorf("contract: %v", err)
	}
	return resp{status: w.Code, header: w.Result().Header, body: body}
}

// create makes a module in acme and returns its JSON.
func (s *stack) create(t *testing.T, name, display string) map[string]any {
	t.Helper()
	r := s.do(t, req{method: "POST", path: "/tenants/acme/modules", token: "manager-acme",
		body: `{"name":"` + name + `","displayName":"` + display + `","clientSecret":"` + secret + `"}`})
	if r.status != http.StatusCreated {
		t.Fatalf("create %s: %d %s", name, r.status, r.body)
	}
	return r.json(t)
}

const secret = "Known-Secret-4711-xyz"

// httptestServe calls the list function directly, without the gateway and
// so without any authorizer context.
func httptestServe(t *testing.T, s *stack, method, path string) resp {
	t.Helper()
	w := httptest.NewRecorder()
	httpapi.ListModules(slog.New(slog.NewJSONHandler(s.logs, nil)), s.svc).ServeHTTP(w, httptest.NewRequest(method, path, nil))
	body, _ := io.ReadAll(w.Result().Body)
	return resp{status: w.Code, header: w.Result().Header, body: body}
}

// withAuthorizer puts the authorizer context where the Lambda adapter does.
func withAuthorizer(r *http.Request, lambdaCtx map[string]any) *http.Request {
	e, err := apigw.Event(r, apigw.Request{Authorizer: lambdaCtx})
	if err != nil {
		panic(err)
	}
	var accessor core.RequestAccessorV2
	req, err := accessor.EventToRequestWithContext(context.Background(), e)
	if err != nil {
		panic(err)
	}
	return req
}

// only makes a diff compare just the members the test names.
func only(want map[string]any) cmp.Option {
	return cmpopts.IgnoreMapEntries(func(k string, _ any) bool { _, named := want[k]; return !named })
}

// TestThrottlingIs503: DynamoDB at its capacity answers a create, a list,
// an update, a delete, a read and the audit trail's reads with 503
// problem+json and Retry-After (the OpenAPI document says so), not 500,
// and leaves nothing half-written.
func TestThrottlingIs503(t *testing.T) {
	s := newStack(t)
	id := s.create(t, "billing", "Billing")["id"].(string)
	db, faults := s.backend.Faulty(t)
	s.svc.Stores = module.StoresOf(&dynamo.Store{DB: db, Table: s.backend.Table})
	for _, tt := range []struct {
		op string
		q  req
	}{
		{"TransactWriteItems", req{method: "POST", path: "/tenants/acme/modules", token: "manager-acme",
			body: `{"name":"orders","displayName":"Orders","clientSecret":"` + secret + `"}`}},
		{"Query", req{method: "GET", path: "/tenants/acme/modules", token: "manager-acme"}},
		{"TransactWriteItems", req{method: "PATCH", path: "/tenants/acme/modules/" + id, token: "manager-acme", body: `{"displayName":"Invoices"}`}},
		{"TransactWriteItems", req{method: "DELETE", path: "/tenants/acme/modules/" + id, token: "manager-acme"}},
		{"GetItem", req{method: "GET", path: "/tenants/acme/modules/" + id, token: "manager-acme"}},
		{"Query", req{method: "GET", path: "/tenants/acme/events", token: "manager-acme"}},
		{"Query", req{method: "GET", path: "/tenants/acme/modules/" + id + "/events", token: "manager-acme"}},
	} {
		faults.Plan(tt.op, testenv.Throttle)
		s.logs.Reset()
		r := s.do(t, tt.q)
		if !strings.Contains(s.logs.String(), `"ProviderThrottles":1`) {
			t.Errorf("%s %s: the request's line does not count ProviderThrottles: %s", tt.q.method, tt.q.path, s.logs.String())
		}
		if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" || r.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s %s with %s throttled: %d %s (Retry-After %q); want 503 problem+json with Retry-After", tt.q.method, tt.q.path, tt.op, r.status, r.body, r.header.Get("Retry-After"))
		}
	}
	list := s.do(t, req{method: "GET", path: "/tenants/acme/modules", token: "manager-acme"}).json(t)
	items := list["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["displayName"] != "Billing" {
		t.Errorf("after the throttled writes: %v; want billing alone, unchanged", items)
	}
	stored, err := s.backend.Secrets.List(context.Background(), s.backend.SecretPrefix)
	if err != nil || len(stored) != 1 {
		t.Errorf("%d secrets stored (%v), want 1: the throttled create left its hash", len(stored), err)
	}
}

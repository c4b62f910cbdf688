package apigw

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/time/rate"
)

func TestEventIsPayload20(t *testing.T) {
	r := httptest.NewRequest("POST", "/tenants/acme/modules?limit=5&tag=a&tag=b", strings.NewReader(`{"name":"x"}`))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Add("X-Multi", "one")
	r.Header.Add("X-Multi", "two")
	r.Header.Set("Cookie", "a=1; b=2")
	r.RemoteAddr = "192.0.2.7:5555"
	e, err := Event(r, Request{RouteKey: "POST /tenants/{tenantId}/modules", PathParams: map[string]string{"tenantId": "acme"},
		Authorizer: map[string]any{"tenantId": "acme"}})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"version", e.Version, "2.0"},
		{"routeKey", e.RouteKey, "POST /tenants/{tenantId}/modules"},
		{"rawPath", e.RawPath, "/tenants/acme/modules"},
		{"rawQueryString", e.RawQueryString, "limit=5&tag=a&tag=b"},
		{"repeated query joined with commas", e.QueryStringParameters["tag"], "a,b"},
		{"header names lowercased", e.Headers["content-type"], "application/json"},
		{"repeated headers joined with commas", e.Headers["x-multi"], "one,two"},
		{"cookies in their own list", strings.Join(e.Cookies, "|"), "a=1|b=2"},
		{"no cookie header", e.Headers["cookie"], ""},
		{"path parameters", e.PathParameters["tenantId"], "acme"},
		{"text body as is", e.Body, `{"name":"x"}`},
		{"text body not base64", e.IsBase64Encoded, false},
		{"method", e.RequestContext.HTTP.Method, "POST"},
		{"source IP", e.RequestContext.HTTP.SourceIP, "192.0.2.7"},
		{"stage", e.RequestContext.Stage, "$default"},
		{"authorizer context", e.RequestContext.Authorizer.Lambda["tenantId"], "acme"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	if e.RequestContext.RequestID == "" || e.RequestContext.TimeEpoch == 0 {
		t.Error("request context lacks a request ID or time")
	}
}

func TestBinaryBodiesAreBase64(t *testing.T) {
	for _, tc := range []struct {
		contentType string
		body        string
		base64      bool
	}{
		{"application/octet-stream", "\x00\x01", true},
		{"application/json", "\xff\xfe", true}, // not UTF-8
		{"application/x-www-form-urlencoded", "grant_type=client_credentials", false},
		{"text/plain; charset=utf-8", "héllo", false},
	} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(tc.body))
		r.Header.Set("Content-Type", tc.contentType)
		e, _ := Event(r, Request{})
		if e.IsBase64Encoded != tc.base64 {
			t.Errorf("%s: isBase64Encoded %v, want %v", tc.contentType, e.IsBase64Encoded, tc.base64)
		}
		if got := e.Body; tc.base64 {
			b, _ := base64.StdEncoding.DecodeString(got)
			if string(b) != tc.body {
				t.Errorf("%s: body %q does not decode to the request body", tc.contentType, got)
			}
		}
	}
}

func TestWriteResponse(t *testing.T) {
	w := httptest.NewRecorder()
	err := WriteResponse(w, events.APIGatewayV2HTTPResponse{
		StatusCode:        201,
		Headers:           map[string]string{"Content-Type": "application/json", "ETag": `"1"`},
		MultiValueHeaders: map[string][]string{"X-Many": {"a", "b"}},
		Cookies:           []string{"s=1; Path=/"},
		Body:              base64.StdEncoding.EncodeToString([]byte(`{"ok":true}`)),
		IsBase64Encoded:   true,
	})
	if err != nil {
		t.Fatal(err)
	}
	h := w.Result().Header
	got := map[string]any{"status": w.Code, "body": w.Body.String(), "ETag": h.Get("ETag"), "X-Many": h.Values("X-Many"), "Set-Cookie": h.Get("Set-Cookie")}
	want := map[string]any{"status": 201, "body": `{"ok":true}`, "ETag": `"1"`, "X-Many": []string{"a", "b"}, "Set-Cookie": "s=1; Path=/"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
}

func TestGatewayAnswersLikeAPIGateway(t *testing.T) {
	g := &Gateway{Routes: []Route{{Key: "GET /private", Authorized: true}}, Authorizer: AuthorizerFunc(nil)}
	h := g.Handler()
	for _, tc := range []struct {
		method, path, auth string
		status             int
	}{
		{"GET", "/nowhere", "", http.StatusNotFound},
		{"POST", "/private", "", http.StatusNotFound},
		{"GET", "/private", "", http.StatusUnauthorized},
	} {
		r := httptest.NewRequest(tc.method, tc.path, nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.status || !strings.Contains(w.Body.String(), `"message"`) {
			t.Errorf("%s %s: %d %s, want %d with API Gateway's message body", tc.method, tc.path, w.Code, w.Body, tc.status)
		}
	}
}

// TestAuthorizerAnswers: what API Gateway answers for each outcome of a
// Lambda authorizer with simple responses: allowed runs the function;
// isAuthorized false is 403 {"message":"Forbidden"}; the error
// "Unauthorized" (exactly) is 401 {"message":"Unauthorized"}; any other
// error is 500. The refusals are API Gateway's own bodies, without
// WWW-Authenticate, and the function never runs.
func TestAuthorizerAnswers(t *testing.T) {
	fn := lambda.NewHandler(func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Body: "ran"}, nil
	})
	for _, tc := range []struct {
		name     string
		decision events.APIGatewayV2CustomAuthorizerSimpleResponse
		err      error
		status   int
		body     string
	}{
		{"allowed", events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: true}, nil, http.StatusOK, "ran"},
		{"denied", events.APIGatewayV2CustomAuthorizerSimpleResponse{}, nil, http.StatusForbidden, `{"message":"Forbidden"}` + "\n"},
		{"error Unauthorized", events.APIGatewayV2CustomAuthorizerSimpleResponse{}, errors.New("Unauthorized"), http.StatusUnauthorized, `{"message":"Unauthorized"}` + "\n"},
		{"another error", events.APIGatewayV2CustomAuthorizerSimpleResponse{}, errors.New("unauthorized"), http.StatusInternalServerError, `{"message":"Internal Server Error"}` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			authorizer := lambda.NewHandler(func(context.Context, events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
				return tc.decision, tc.err
			})
			g := &Gateway{Routes: []Route{{Key: "GET /private", Authorized: true, Function: fn}}, Authorizer: LambdaAuthorizer{Handler: authorizer}}
			r := httptest.NewRequest("GET", "/private", nil)
			r.Header.Set("Authorization", "Bearer x")
			w := httptest.NewRecorder()
			g.Handler().ServeHTTP(w, r)
			if w.Code != tc.status || w.Body.String() != tc.body {
				t.Errorf("%d %q, want %d %q", w.Code, w.Body, tc.status, tc.body)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != "" {
				t.Errorf("WWW-Authenticate %q; API Gateway's own responses have none", got)
			}
		})
	}
}

// TestRouteThrottling: past the burst, a route answers 429 as API Gateway
// does, before the authorizer runs; other routes are not affected.
func TestRouteThrottling(t *testing.T) {
	var authorized int
	g := &Gateway{Routes: []Route{
		{Key: "GET /limited", Authorized: true, Limit: rate.NewLimiter(rate.Every(time.Hour), 3)},
		{Key: "GET /other", Authorized: true},
	}, Authorizer: AuthorizerFunc(func(context.Context, events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
		authorized++
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{}, nil
	})}
	h := g.Handler()
	call := func(path string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", path, nil)
		r.Header.Set("Authorization", "Bearer x")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	for i := range 3 {
		if w := call("/limited"); w.Code != http.StatusForbidden {
			t.Fatalf("request %d within the burst: %d, want the authorizer's 403", i, w.Code)
		}
	}
	if w := call("/limited"); w.Code != http.StatusTooManyRequests || w.Body.String() != "{\"message\":\"Too Many Requests\"}\n" {
		t.Errorf("past the burst: %d %s, want 429 Too Many Requests", w.Code, w.Body)
	}
	if authorized != 3 {
		t.Errorf("the authorizer ran %d times, want 3 (not for the throttled request)", authorized)
	}
	if w := call("/other"); w.Code != http.StatusForbidden {
		t.Errorf("another route: %d, want 403", w.Code)
	}
}

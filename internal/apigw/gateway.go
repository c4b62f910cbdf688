package apigw

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"golang.org/x/time/rate"

	"github.com/modules-service/modules/internal/obs"
)

// Route is one route of an HTTP API: "METHOD /path/{param}", the function
// that serves it, and whether the Lambda authorizer runs first.
type Route struct {
	Key        string
	Function   lambda.Handler
	Authorized bool
	// Limit is the route's throttling (a token bucket across all callers,
	// as API Gateway's route settings); nil: none.
	Limit *rate.Limiter
}

// Authorizer decides on a request as an HTTP API Lambda authorizer with
// simple responses does (payload 2.0).
type Authorizer interface {
	Authorize(ctx context.Context, e events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error)
}

// AuthorizerFunc adapts a Lambda handler to Authorizer.
type AuthorizerFunc func(ctx context.Context, e events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error)

// Authorize implements Authorizer.
func (f AuthorizerFunc) Authorize(ctx context.Context, e events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
	return f(ctx, e)
}

// Gateway serves Routes over HTTP the way API Gateway would.
type Gateway struct {
	Routes     []Route
	Authorizer Authorizer
	CORS       *CORS // nil: no CORS configuration
	// RateRules are the web ACL's rate-based rules in front of the API,
	// applied before everything else; none: no web ACL.
	RateRules []*RateRule
	Log       *slog.Logger
}

var paramPattern = regexp.MustCompile(`\{([A-Za-z0-9_]+)\+?\}`)

// Handler returns the gateway as an http.Handler.
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range g.Routes {
		var params []string
		for _, m := range paramPattern.FindAllStringSubmatch(rt.Key, -1) {
			params = append(params, m[1])
		}
		mux.HandleFunc(strings.Replace(rt.Key, "+}", "...}", 1), func(w http.ResponseWriter, r *http.Request) {
			g.serve(w, r, rt, params)
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeMessage(w, http.StatusNotFound, "Not Found")
	})
	var h http.Handler = mux
	if g.CORS != nil {
		h = g.CORS.wrap(mux)
	}
	if len(g.RateRules) > 0 {
		h = rateLimited(g.RateRules, h)
	}
	return h
}

// serve answers one request as API Gateway would, and writes its access
// log line (the stand-in of the template's ApiAccessLogs): request ID,
// method, route, status and duration; never a header, query or body.
func (g *Gateway) serve(w http.ResponseWriter, r *http.Request, rt Route, params []string) {
	start, sw := time.Now(), &obs.Recorder{ResponseWriter: w}
	requestID := ""
	defer func() {
		g.log().InfoContext(r.Context(), "gateway", "requestId", requestID, "method", r.Method, "route", rt.Key,
			"status", sw.Status, "durationMs", float64(time.Since(start).Microseconds())/1000)
	}()
	w = sw
	if rt.Limit != nil && !rt.Limit.Allow() { // before the authorizer, as API Gateway does
		writeMessage(w, http.StatusTooManyRequests, "Too Many Requests")
		return
	}
	req := Request{RouteKey: rt.Key, PathParams: map[string]string{}}
	for _, p := range params {
		req.PathParams[p] = r.PathValue(p)
	}
	e, err := Event(r, req)
	if err != nil {
		writeMessage(w, http.StatusBadRequest, "Bad Request")
		return
	}
	requestID = e.RequestContext.RequestID
	if rt.Authorized {
		ok, status := g.authorize(r.Context(), &e)
		if !ok {
			writeMessage(w, status, http.StatusText(status))
			return
		}
	}
	resp, err := Invoke(r.Context(), rt.Function, e)
	if err != nil {
		g.log().ErrorContext(r.Context(), "function failed", "route", rt.Key, "error", err.Error())
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	if err := WriteResponse(w, resp); err != nil {
		g.log().ErrorContext(r.Context(), "write response", "route", rt.Key, "error", err.Error())
	}
}

// authorize runs the authorizer with the Authorization header as identity
// source. As API Gateway does: no identity source is 401 without calling
// the authorizer, a denial is 403, the authorizer's error "Unauthorized"
// (exactly that message) is 401, any other failure is 500.
func (g *Gateway) authorize(ctx context.Context, e *events.APIGatewayV2HTTPRequest) (bool, int) {
	auth := e.Headers["authorization"]
	if auth == "" || g.Authorizer == nil {
		return false, http.StatusUnauthorized
	}
	ae := events.APIGatewayV2CustomAuthorizerV2Request{
		Version: "2.0", Type: "REQUEST",
		RouteArn:       fmt.Sprintf("arn:aws:execute-api:us-east-1:000000000000:local/$default/%s", strings.Replace(e.RouteKey, " ", "", 1)),
		IdentitySource: []string{auth},
		RouteKey:       e.RouteKey, RawPath: e.RawPath, RawQueryString: e.RawQueryString,
		Cookies: e.Cookies, Headers: e.Headers, QueryStringParameters: e.QueryStringParameters,
		RequestContext: e.RequestContext, PathParameters: e.PathParameters,
	}
	resp, err := g.Authorizer.Authorize(ctx, ae)
	if err != nil && err.Error() == "Unauthorized" {
		return false, http.StatusUnauthorized
	}
	if err != nil {
		g.log().ErrorContext(ctx, "authorizer failed", "error", err.Error())
		return false, http.StatusInternalServerError
	}
	if !resp.IsAuthorized {
		return false, http.StatusForbidden
	}
	e.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: resp.Context}
	return true, 0
}

// Invoke calls a Lambda handler with the event's JSON, as the Lambda
// runtime does, and decodes its response.
func Invoke(ctx context.Context, h lambda.Handler, e events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	payload, err := json.Marshal(e)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	out, err := h.Invoke(ctx, payload)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return resp, fmt.Errorf("decode function response: %w", err)
	}
	return resp, nil
}

func (g *Gateway) log() *slog.Logger {
	if g.Log != nil {
		return g.Log
	}
	return slog.Default()
}

// writeMessage answers as API Gateway does for its own errors.
func writeMessage(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

// LambdaAuthorizer calls an authorizer's Lambda handler with the event's
// JSON, as API Gateway does.
type LambdaAuthorizer struct{ Handler lambda.Handler }

// Authorize implements Authorizer.
func (l LambdaAuthorizer) Authorize(ctx context.Context, e events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
	var resp events.APIGatewayV2CustomAuthorizerSimpleResponse
	payload, err := json.Marshal(e)
	if err != nil {
		return resp, err
	}
	out, err := l.Handler.Invoke(ctx, payload)
	if err != nil {
		return resp, err
	}
	return resp, json.Unmarshal(out, &resp)
}

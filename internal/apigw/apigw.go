// Package apigw does what API Gateway HTTP APIs do around a Lambda
// function: it turns an HTTP request into a payload format 2.0 event and a
// function's response back into HTTP. The local gateway and the handler
// tests use it, so both exercise the same event JSON a deployed function gets.
package apigw

import (
	"crypto/rand"
	"encoding/base64"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// Request describes how a request was routed.
type Request struct {
	RouteKey   string            // "POST /tenants/{tenantId}/modules"
	PathParams map[string]string // values of the route's {params}
	Authorizer map[string]any    // the Lambda authorizer's context, nil when none ran
}

// maxBody is the largest body API Gateway passes to a function (10 MB).
const maxBody = 10 << 20

// Event builds the payload 2.0 event API Gateway sends for r.
func Event(r *http.Request, rt Request) (events.APIGatewayV2HTTPRequest, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return events.APIGatewayV2HTTPRequest{}, err
	}
	now := time.Now()
	e := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       rt.RouteKey,
		RawPath:        r.URL.EscapedPath(),
		RawQueryString: r.URL.RawQuery,
		Headers:        map[string]string{},
		PathParameters: rt.PathParams,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			AccountID:    "000000000000",
			APIID:        "local",
			DomainName:   r.Host,
			DomainPrefix: strings.Split(r.Host, ".")[0],
			RequestID:    rand.Text(),
			RouteKey:     rt.RouteKey,
			Stage:        "$default",
			Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP(r),
				UserAgent: r.UserAgent(),
			},
		},
	}
	if rt.Authorizer != nil {
		e.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: rt.Authorizer}
	}
	// Payload 2.0 joins repeated headers and query parameters with commas,
	// lowercases header names and moves cookies to their own list.
	for name, values := range r.Header {
		name = strings.ToLower(name)
		if name == "cookie" {
			for _, v := range values {
				for _, c := range strings.Split(v, ";") {
					e.Cookies = append(e.Cookies, strings.TrimSpace(c))
				}
			}
			continue
		}
		e.Headers[name] = strings.Join(values, ",")
	}
	if q := r.URL.Query(); len(q) > 0 {
		e.QueryStringParameters = map[string]string{}
		for k, v := range q {
			e.QueryStringParameters[k] = strings.Join(v, ",")
		}
	}
	if len(body) > 0 {
		if isText(r.Header.Get("Content-Type"), body) {
			e.Body = string(body)
		} else {
			e.Body, e.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	return e, nil
}

// isText tells whether API Gateway would pass the body as text rather than
// base64.
func isText(contentType string, body []byte) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	textual := strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "json") ||
		strings.HasSuffix(mt, "xml") || mt == "application/x-www-form-urlencoded" || mt == "application/javascript"
	return textual && utf8.Valid(body)
}

func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// WriteResponse writes a function's response as API Gateway would.
func WriteResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) error {
	h := w.Header()
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		h.Del(k)
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return err
		}
	}
	if h.Get("Content-Type") == "" && len(body) > 0 {
		h.Set("Content-Type", "application/json")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}

package testenv

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Fault is what the network does to one DynamoDB call.
type Fault int

// The faults, each one a point where a write's outcome becomes unknown.
const (
	// Pass lets a call through untouched, to plan faults for later ones.
	Pass Fault = iota
	// LoseResponse lets the request reach the server, which applies it, and
	// then loses the answer (the connection is reset).
	LoseResponse
	// ServerError lets the request reach the server, which applies it, and
	// hands the client a 500 instead of the answer.
	ServerError
	// DropRequest fails the connection before the request reaches the
	// server: nothing is applied, but the client cannot know that.
	DropRequest
	// Throttle answers as DynamoDB at its capacity
	// (ProvisionedThroughputExceededException), without reaching the server.
	Throttle
	// ThrottleTransaction answers a transaction as cancelled for
	// ThrottlingError, without reaching the server.
	ThrottleTransaction
)

// refusals are the answers of the faults that never reach the server.
var refusals = map[Fault]string{
	Throttle:            `{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"injected: the request rate is too high"}`,
	ThrottleTransaction: `{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","message":"injected","CancellationReasons":[{"Code":"None"},{"Code":"ThrottlingError","Message":"injected"}]}`,
}

// Faults sits between the SDK and the database like a flaky network, at
// the wire: the next calls of an operation meet the faults planned for it,
// in order; every other call passes.
type Faults struct {
	next http.RoundTripper
	mu   sync.Mutex
	plan map[string][]Fault
}

// Plan makes the next calls of op ("TransactWriteItems", "GetItem", …)
// meet faults, one each.
func (f *Faults) Plan(op string, faults ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.plan[op] = append(f.plan[op], faults...)
}

// RoundTrip implements http.RoundTripper.
func (f *Faults) RoundTrip(req *http.Request) (*http.Response, error) {
	op := req.Header.Get("X-Amz-Target")
	op = op[strings.LastIndex(op, ".")+1:]
	f.mu.Lock()
	var fault Fault
	if p := f.plan[op]; len(p) > 0 {
		fault, f.plan[op] = p[0], p[1:]
	}
	f.mu.Unlock()
	reset := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	if fault == DropRequest {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	if fault == Pass {
		return f.pass(req, op)
	}
	if body, ok := refusals[fault]; ok {
		return answer(req, http.StatusBadRequest, body), nil
	}
	resp, err := f.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, resp.Body) // the server has answered: it applied the write
	resp.Body.Close()
	if fault == LoseResponse {
		return nil, reset
	}
	return answer(req, http.StatusInternalServerError, `{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"injected after commit"}`), nil
}

// answer is a DynamoDB JSON-protocol response with status and body.
func answer(req *http.Request, status int, body string) *http.Response {
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}}, Body: io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)), Request: req}
}

// pass forwards a call untouched, with its answer read whole. A read that
// the stand-in's connection breaks (moto's server sometimes closes one
// mid-answer) is asked again, as the SDK's retries would, which are off
// here; a write is not, as its outcome would then be unknown for real.
func (f *Faults) pass(req *http.Request, op string) (*http.Response, error) {
	reads := map[string]bool{"GetItem": true, "Query": true, "Scan": true}
	for attempt := 1; ; attempt++ {
		r := req
		if attempt > 1 {
			r = req.Clone(req.Context())
			if req.GetBody != nil {
				r.Body, _ = req.GetBody()
			}
		}
		resp, err := f.next.RoundTrip(r)
		if err == nil {
			var body []byte
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			resp.Body = io.NopCloser(bytes.NewReader(body))
			if err == nil {
				return resp, nil
			}
		}
		if !reads[op] || attempt == 3 {
			return nil, err
		}
	}
}

// Faulty returns a DynamoDB client of the backend whose calls go through
// faults. The SDK's own retries are off: DynamoDB would answer a retry of
// a committed transaction from its ClientRequestToken, the emulators do
// not, so a retry would turn a lost answer into a false conflict here.
func (b Backend) Faulty(t testing.TB) (*dynamodb.Client, *Faults) {
	t.Helper()
	f := &Faults{plan: map[string][]Fault{}, next: freshTransport()}
	db := dynamodb.NewFromConfig(awsConfig(t), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(b.Endpoint)
		o.HTTPClient = keyLimits{&http.Client{Transport: f}}
		o.RetryMaxAttempts = 1
		o.DisableValidateResponseChecksum = true
	})
	return db, f
}

func freshTransport() http.RoundTripper {
	return &http.Transport{DisableKeepAlives: true, DialContext: (&net.Dialer{}).DialContext}
}

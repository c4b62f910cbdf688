// Package openapi checks requests and responses against the OpenAPI 3.1
// document of the HTTP API (document/openapi.yaml), so that tests fail
// when the code and the document drift apart.
package openapi

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/modules-service/modules/internal/openapi/document"
)

// Document is document/openapi.yaml, the document the API serves at
// GET /openapi.json.
var Document = document.YAML

var (
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
)

// Load parses and validates the document once.
func Load() (*openapi3.T, routers.Router, error) {
	once.Do(func() {
		loader := openapi3.NewLoader()
		if doc, err = loader.LoadFromData(Document); err != nil {
			return
		}
		if err = doc.Validate(loader.Context); err != nil {
			return
		}
		// servers is relative ("/": the API that serves the document), which
		// kin-openapi's router cannot match against an absolute URL; paths
		// start at the root of any address, so route without servers.
		routed := *doc
		routed.Servers = nil
		router, err = legacy.NewRouter(&routed)
	})
	return doc, router, err
}

// Exchange is one request and its response, as a test saw them.
type Exchange struct {
	Method, URL string
	Header      http.Header // request headers
	Body        []byte      // request body
	Status      int
	RespHeader  http.Header
	RespBody    []byte
}

// Check validates the response against the document, and the request too
// when the response is a success: a 2xx for a request the document forbids
// means the two have drifted. Requests that are meant to be refused are
// not checked, only the refusal.
func Check(e Exchange) error {
	_, r, err := Load()
	if err != nil {
		return fmt.Errorf("openapi.yaml: %w", err)
	}
	req, err := http.NewRequest(e.Method, "http://127.0.0.1:3000"+e.URL, bytes.NewReader(e.Body))
	if err != nil {
		return err
	}
	req.Header = e.Header.Clone()
	route, params, err := r.FindRoute(req)
	if err != nil {
		return fmt.Errorf("%s %s is not in openapi.yaml: %w", e.Method, e.URL, err)
	}
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	ctx := context.Background()
	if e.Status >= 200 && e.Status < 300 {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			return fmt.Errorf("request %s %s answered %d does not match openapi.yaml: %w", e.Method, e.URL, e.Status, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 e.Status,
		Header:                 e.RespHeader,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	out.SetBodyBytes(e.RespBody)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return fmt.Errorf("response %d to %s %s does not match openapi.yaml: %w", e.Status, e.Method, e.URL, err)
	}
	return nil
}

package localgateway_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/modules-service/modules/internal/localgateway"
	"github.com/modules-service/modules/internal/openapi"
)

// TestOpenAPIDocumentServed: GET /openapi.json through the gateway, with
// no Authorization, is the API document with relative servers, and a
// client generator can take its paths from it.
func TestOpenAPIDocumentServed(t *testing.T) {
	_, base := serve(t, localgateway.Options{})
	resp, err := http.Get(base + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", resp.StatusCode, body)
	}
	if err := openapi.Check(openapi.Exchange{Method: http.MethodGet, URL: "/openapi.json", Header: http.Header{},
		Status: resp.StatusCode, RespHeader: resp.Header, RespBody: body}); err != nil {
		t.Error(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(body)
	if err != nil {
		t.Fatalf("not an OpenAPI document: %v", err)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "/" {
		t.Errorf("servers %v, want [/]", doc.Servers)
	}
	for _, p := range []string{"/tenants/{tenantId}/modules", "/oauth2/token", "/openapi.json"} {
		if doc.Paths.Find(p) == nil {
			t.Errorf("path %s missing from the served document", p)
		}
	}
}

package openapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/modules-service/modules/internal/openapi/document"
)

// TestServedDocument: GET /openapi.json is the YAML document, unchanged,
// with servers relative to whichever address serves it; and the exchange
// itself conforms to the document (which also checks that exchanges still
// find their route with a relative server).
func TestServedDocument(t *testing.T) {
	rec := httptest.NewRecorder()
	document.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, want 200", rec.Code)
	}
	if got := rec.Header().Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type %q, want application/json", got)
	}
	if err := Check(Exchange{Method: http.MethodGet, URL: "/openapi.json", Header: http.Header{}, Status: rec.Code,
		RespHeader: rec.Header(), RespBody: rec.Body.Bytes()}); err != nil {
		t.Error(err)
	}

	served, err := openapi3.NewLoader().LoadFromData(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("the served JSON is no OpenAPI document: %v", err)
	}
	if got := served.Servers; len(got) != 1 || got[0].URL != "/" {
		t.Errorf("servers %v, want one, relative: /", got)
	}
	yamlDoc, _, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(yamlDoc)
	b, _ := json.Marshal(served)
	var x, y any
	_ = json.Unmarshal(a, &x)
	_ = json.Unmarshal(b, &y)
	if !reflect.DeepEqual(x, y) {
		t.Error("the served JSON differs from openapi.yaml")
	}
	if served.Paths.Find("/openapi.json").Get.Security == nil || len(*served.Paths.Find("/openapi.json").Get.Security) != 0 {
		t.Error("GET /openapi.json must say security: [] (no authentication)")
	}
}

// TestCheckRoutesRelative: with servers relative, an exchange on an
// unknown path is still refused, so the check did not turn permissive.
func TestCheckRoutesRelative(t *testing.T) {
	err := Check(Exchange{Method: http.MethodGet, URL: "/nowhere", Header: http.Header{}, Status: 200, RespHeader: http.Header{}})
	if err == nil {
		t.Error("GET /nowhere passed the check; want not in openapi.yaml")
	}
}

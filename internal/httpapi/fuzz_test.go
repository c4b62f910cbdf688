package httpapi

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/module"
)

// FuzzDecode: no body, however malformed, makes decode fail with anything
// but a client error (which would otherwise be a 500).
func FuzzDecode(f *testing.F) {
	f.Add("application/json", `{"name":"billing","displayName":"Billing","clientSecret":"Known-Secret-4711-xyz"}`)
	f.Add("application/json; charset=utf-8", `{"name":`)
	f.Add("application/merge-patch+json", `[]`)
	f.Add("text/plain", `{}`)
	f.Add("application/json", `{"scopes":{"a":1}}`)
	f.Add("application/json", `{} {}`)
	f.Fuzz(func(t *testing.T, contentType, body string) {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		var in module.CreateInput
		err := decode(r, &in, "application/json")
		if err == nil {
			return
		}
		known := false
		for _, e := range statusOf {
			known = known || errors.Is(err, e.kind)
		}
		if !known {
			t.Fatalf("decode error of no known kind: %v", err)
		}
		if de, ok := errors.AsType[*derrors.Error](err); ok && len(body) > 8 && strings.Contains(de.Detail, body) {
			t.Fatalf("error detail quotes the body: %s", de.Detail)
		}
	})
}

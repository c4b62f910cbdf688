package httpapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modules-service/modules/internal/derrors"
)

// TestEveryKindHasItsType: each kind of the status table answers its own
// problem type, and an unknown error the server error's, whatever it wraps.
func TestEveryKindHasItsType(t *testing.T) {
	seen := map[string]error{}
	for _, e := range statusOf {
		w := httptest.NewRecorder()
		writeError(w, httptest.NewRequest("GET", "/", nil), derrors.New(e.kind, "detail"))
		typ := derrors.Type(e.kind)
		if !strings.Contains(w.Body.String(), `"type":"`+typ+`"`) || typ == derrors.Type(nil) {
			t.Errorf("%v: %s, want the type %s of its own", e.kind, w.Body, typ)
		}
		if other, ok := seen[typ]; ok {
			t.Errorf("%v and %v share the type %s", e.kind, other, typ)
		}
		seen[typ] = e.kind
	}
	w := httptest.NewRecorder()
	writeError(w, httptest.NewRequest("GET", "/", nil), errors.New("disk on fire"))
	if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), `"type":"urn:modules:problem:server-error"`) || strings.Contains(w.Body.String(), "fire") {
		t.Errorf("unknown error: %d %s", w.Code, w.Body)
	}
}

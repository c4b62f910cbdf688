package openapi

import "testing"

func TestDocumentIsValid(t *testing.T) {
	doc, _, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Errorf("openapi %s, want 3.1", doc.OpenAPI)
	}
	for _, p := range []string{"/tenants/{tenantId}/modules", "/tenants/{tenantId}/modules/{moduleId}", "/oauth2/token", "/.well-known/jwks.json", "/.well-known/oauth-authorization-server"} {
		if doc.Paths.Find(p) == nil {
			t.Errorf("path %s missing", p)
		}
	}
}

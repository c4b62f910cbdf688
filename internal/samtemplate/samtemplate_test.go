package samtemplate_test

import (
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/modules-service/modules/internal/samtemplate"
	"github.com/modules-service/modules/internal/wiring"
)

// TestTemplateAndCodeAgree fails when template.yaml names a function the
// local gateway cannot serve, when a folder under functions/ is missing
// from the template, or when a function has nothing that invokes it.
func TestTemplateAndCodeAgree(t *testing.T) {
	tpl, err := samtemplate.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	for _, f := range wiring.All() {
		served[f.Name] = true
	}
	inTemplate := map[string]bool{}
	for _, f := range tpl.Functions {
		inTemplate[f.Folder] = true
		if !served[f.Folder] {
			t.Errorf("template function %s (functions/%s) has no constructor in internal/wiring", f.LogicalID, f.Folder)
		}
		if _, err := os.Stat("../../functions/" + f.Folder + "/main.go"); err != nil {
			t.Errorf("template function %s has no functions/%s/main.go", f.LogicalID, f.Folder)
		}
		if len(f.Routes) == 0 && !f.Scheduled && !f.Rotation && !f.Authorizer {
			t.Errorf("function %s has no route, schedule, rotation or authorizer role: nothing invokes it", f.LogicalID)
		}
	}
	dirs, _ := os.ReadDir("../../functions")
	for _, d := range dirs {
		if !inTemplate[d.Name()] {
			t.Errorf("functions/%s is not in template.yaml", d.Name())
		}
	}
	for name := range served {
		if !inTemplate[name] {
			t.Errorf("internal/wiring builds %s, which template.yaml lacks", name)
		}
	}
}

func TestRoutes(t *testing.T) {
	tpl, err := samtemplate.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range tpl.Functions {
		for _, r := range f.Routes {
			got[f.Folder+" "+r.Key()] = r.Authorized
		}
	}
	want := map[string]bool{
		"create-module POST /tenants/{tenantId}/modules":                 true,
		"create-module POST /tenants/{tenantId}/modules/validation":      true,
		"list-modules GET /tenants/{tenantId}/modules":                   true,
		"list-modules GET /tenants/{tenantId}/modules/{moduleId}":        true,
		"list-modules GET /tenants/{tenantId}/events":                    true,
		"list-modules GET /tenants/{tenantId}/modules/{moduleId}/events": true,
		"update-module PATCH /tenants/{tenantId}/modules/{moduleId}":     true,
		"delete-module DELETE /tenants/{tenantId}/modules/{moduleId}":    true,
		"token POST /oauth2/token":                                       false,
		"portal GET /portal/{proxy+}":                                    false,
		"portal GET /openapi.json":                                       false,
		"token GET /.well-known/jwks.json":                               false,
		"token GET /.well-known/oauth-authorization-server":              false,
		"token GET /.well-known/openid-configuration":                    false,
	}
	if len(got) != len(want) {
		t.Errorf("routes %v, want %v", got, want)
	}
	for k, auth := range want {
		if a, ok := got[k]; !ok || a != auth {
			t.Errorf("route %s: present %v, authorized %v; want authorized %v", k, ok, a, auth)
		}
	}
	if tpl.Authorizer != "AuthorizerFunction" {
		t.Errorf("authorizer %q", tpl.Authorizer)
	}
	for _, h := range []string{"etag", "location"} {
		if !slices.Contains(tpl.CORS.ExposeHeaders, h) {
			t.Errorf("CORS exposes %v; want %s among them", tpl.CORS.ExposeHeaders, h)
		}
	}
	if len(tpl.CORS.AllowOrigins) == 0 || slices.Contains(tpl.CORS.AllowOrigins, "*") {
		t.Errorf("CORS allows origins %v; want those of the parameter, no wildcard", tpl.CORS.AllowOrigins)
	}
}

// TestRouteThrottling: the token route has its own limits, every other
// route the API's defaults, both from the parameters' defaults.
func TestRouteThrottling(t *testing.T) {
	tpl, err := samtemplate.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := func(name string) string { return tpl.Parameters[name] }
	for _, f := range tpl.Functions {
		for _, r := range f.Routes {
			rate, burst := p("ManagementRateLimit"), p("ManagementBurstLimit")
			if r.Key() == "POST /oauth2/token" {
				rate, burst = p("TokenRateLimit"), p("TokenBurstLimit")
			}
			if r.Throttle == nil || fmt.Sprint(r.Throttle.Rate) != rate || fmt.Sprint(r.Throttle.Burst) != burst {
				t.Errorf("%s: throttle %+v, want rate %s burst %s", r.Key(), r.Throttle, rate, burst)
			}
		}
	}
	bad := []byte("Resources:\n  Api:\n    Type: AWS::Serverless::HttpApi\n    Properties:\n      DefaultRouteSettings: {ThrottlingRateLimit: fast}\n")
	if _, err := samtemplate.Parse(bad); err == nil {
		t.Error("a non-numeric rate was accepted")
	}
}

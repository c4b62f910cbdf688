package samtemplate_test

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/modules-service/modules/internal/samtemplate"
)

// TestRateRulesAreReadWithTheirNumbers: the web ACL's two rate-based rules,
// as the local gateway emulates them, with the parameters' defaults.
func TestRateRulesAreReadWithTheirNumbers(t *testing.T) {
	tpl, err := samtemplate.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := tpl.Parameters
	want := []samtemplate.RateRule{
		{Name: "token-per-address", Limit: atoi(t, p["EdgeTokenLimit"]), WindowSeconds: atoi(t, p["EdgeWindowSeconds"]),
			Path: "/oauth2/token", Status: 429, RetryAfter: p["EdgeWindowSeconds"]},
		{Name: "management-per-address", Limit: atoi(t, p["EdgeManagementLimit"]), WindowSeconds: atoi(t, p["EdgeWindowSeconds"]),
			Path: "/oauth2/token", Negated: true, Status: 429, RetryAfter: p["EdgeWindowSeconds"]},
	}
	if diff := cmp.Diff(want, tpl.RateRules); diff != "" {
		t.Errorf("rate rules (-want +got):\n%s", diff)
	}
	if p["EdgeRateLimiting"] != "enabled" {
		t.Errorf("EdgeRateLimiting defaults to %q, want enabled", p["EdgeRateLimiting"])
	}
}

// TestOneAddressCannotEmptyARouteBucket: each route's per-address limit is
// below its route's burst, so that the requests one address may send in a
// window never empty the bucket every caller shares (README.md, "One
// address cannot spend everyone's budget").
func TestOneAddressCannotEmptyARouteBucket(t *testing.T) {
	tpl, err := samtemplate.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range tpl.Functions {
		for _, r := range f.Routes {
			var rule *samtemplate.RateRule
			for i, rr := range tpl.RateRules {
				if rr.Matches(strings.NewReplacer("{tenantId}", "acme", "{moduleId}", "m1", "{proxy+}", "index.html").Replace(r.Path)) {
					rule = &tpl.RateRules[i]
					break
				}
			}
			switch {
			case rule == nil:
				t.Errorf("%s: no per-address limit", r.Key())
			case r.Throttle == nil:
				t.Errorf("%s: no route throttle", r.Key())
			case rule.Limit >= r.Throttle.Burst:
				t.Errorf("%s: one address may send %d per window (%s), the route's whole burst of %d", r.Key(), rule.Limit, rule.Name, r.Throttle.Burst)
			}
		}
	}
}

// TestEdgeWebAclTemplateIsTheSame: infra/edge-web-acl.yaml, the web ACL for
// stacks outside us-east-1, holds template.yaml's rules and parameters.
func TestEdgeWebAclTemplateIsTheSame(t *testing.T) {
	type doc struct {
		Parameters map[string]yaml.Node `yaml:"Parameters"`
		Resources  map[string]struct {
			Type       string    `yaml:"Type"`
			Properties yaml.Node `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	read := func(path string) doc {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var d doc
		if err := yaml.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	text := func(n yaml.Node) string {
		b, err := yaml.Marshal(&n)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	main, edge := read("../../template.yaml"), read("../../infra/edge-web-acl.yaml")
	if diff := cmp.Diff(text(main.Resources["EdgeWebAcl"].Properties), text(edge.Resources["EdgeWebAcl"].Properties)); diff != "" {
		t.Errorf("EdgeWebAcl differs (-template.yaml +infra/edge-web-acl.yaml):\n%s", diff)
	}
	for _, name := range []string{"EdgeTokenLimit", "EdgeManagementLimit", "EdgeWindowSeconds"} {
		if diff := cmp.Diff(text(main.Parameters[name]), text(edge.Parameters[name])); diff != "" {
			t.Errorf("parameter %s differs (-template.yaml +infra/edge-web-acl.yaml):\n%s", name, diff)
		}
	}
}

func TestRateRulesTheGatewayCannotEmulateAreRefused(t *testing.T) {
	for name, rule := range map[string]string{
		"not rate-based":       `{Name: r, Statement: {ByteMatchStatement: {}}}`,
		"forwarded IP":         `{Name: r, Statement: {RateBasedStatement: {Limit: 10, EvaluationWindowSec: 60, AggregateKeyType: FORWARDED_IP, ScopeDownStatement: {ByteMatchStatement: {FieldToMatch: {UriPath: {}}, PositionalConstraint: EXACTLY, SearchString: /x}}}}}`,
		"scope on a header":    `{Name: r, Statement: {RateBasedStatement: {Limit: 10, EvaluationWindowSec: 60, AggregateKeyType: IP, ScopeDownStatement: {ByteMatchStatement: {FieldToMatch: {SingleHeader: {Name: a}}, PositionalConstraint: EXACTLY, SearchString: /x}}}}}`,
		"contains":             `{Name: r, Statement: {RateBasedStatement: {Limit: 10, EvaluationWindowSec: 60, AggregateKeyType: IP, ScopeDownStatement: {ByteMatchStatement: {FieldToMatch: {UriPath: {}}, PositionalConstraint: CONTAINS, SearchString: /x}}}}}`,
		"a limit not a number": `{Name: r, Statement: {RateBasedStatement: {Limit: many, EvaluationWindowSec: 60, AggregateKeyType: IP, ScopeDownStatement: {ByteMatchStatement: {FieldToMatch: {UriPath: {}}, PositionalConstraint: EXACTLY, SearchString: /x}}}}}`,
	} {
		tpl := "Resources:\n  Acl:\n    Type: AWS::WAFv2::WebACL\n    Properties:\n      Rules: [" + rule + "]\n"
		if _, err := samtemplate.Parse([]byte(tpl)); err == nil {
			t.Errorf("%s: parsed, want an error", name)
		}
	}
}

func TestRateRuleMatches(t *testing.T) {
	exact := samtemplate.RateRule{Path: "/oauth2/token"}
	not := samtemplate.RateRule{Path: "/oauth2/token", Negated: true}
	prefix := samtemplate.RateRule{Path: "/tenants/", Prefix: true}
	for _, tc := range []struct {
		rule samtemplate.RateRule
		path string
		want bool
	}{
		{exact, "/oauth2/token", true}, {exact, "/oauth2/token/", false}, {exact, "/tenants/a/modules", false},
		{not, "/oauth2/token", false}, {not, "/tenants/a/modules", true}, {not, "/nowhere", true},
		{prefix, "/tenants/a/modules", true}, {prefix, "/portal/", false},
	} {
		if got := tc.rule.Matches(tc.path); got != tc.want {
			t.Errorf("%+v matches %s: %v, want %v", tc.rule, tc.path, got, tc.want)
		}
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return n
}

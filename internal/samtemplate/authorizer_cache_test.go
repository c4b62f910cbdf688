package samtemplate_test

import (
	"os"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestAuthorizerDecisionsAreNotCached: every Lambda authorizer of the
// template has API Gateway's result cache off (ReauthorizeEvery: 0). A
// DPoP proof is good for one request; a cached allow keyed on the
// Authorization header would let the next request through with no proof,
// or with a replayed one, and would keep a disabled module's token
// working past ClientCacheSeconds.
func TestAuthorizerDecisionsAreNotCached(t *testing.T) {
	b, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources map[string]struct {
			Type       string `yaml:"Type"`
			Properties struct {
				Auth struct {
					Authorizers map[string]struct {
						FunctionArn any `yaml:"FunctionArn"`
						Identity    *struct {
							ReauthorizeEvery *int `yaml:"ReauthorizeEvery"`
						} `yaml:"Identity"`
					} `yaml:"Authorizers"`
				} `yaml:"Auth"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for name, r := range doc.Resources {
		for aname, a := range r.Properties.Auth.Authorizers {
			if a.FunctionArn == nil {
				continue // a JWT authorizer: no function, no cache of ours
			}
			n++
			// SAM's default for a missing ReauthorizeEvery is 300 s.
			if a.Identity == nil || a.Identity.ReauthorizeEvery == nil || *a.Identity.ReauthorizeEvery != 0 {
				t.Errorf("%s's authorizer %s caches decisions: set Identity.ReauthorizeEvery: 0", name, aname)
			}
		}
	}
	if n == 0 {
		t.Error("no Lambda authorizer found in the template")
	}
}

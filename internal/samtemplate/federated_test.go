package samtemplate_test

import (
	"os"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/modules-service/modules/internal/config"
)

// TestFederatedIssuersParameter: the operator's list of federated issuers
// is a parameter, empty by default (federation off), that reaches every
// function as FEDERATED_ISSUERS: create and update check modules against
// it, the token function verifies against it.
func TestFederatedIssuersParameter(t *testing.T) {
	raw, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Parameters map[string]struct {
			Type    string  `yaml:"Type"`
			Default *string `yaml:"Default"`
		} `yaml:"Parameters"`
		Globals struct {
			Function struct {
				Environment struct {
					Variables map[string]yaml.Node `yaml:"Variables"`
				} `yaml:"Environment"`
			} `yaml:"Function"`
		} `yaml:"Globals"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	p, ok := doc.Parameters["FederatedIssuers"]
	if !ok || p.Type != "String" || p.Default == nil || *p.Default != "" {
		t.Errorf("parameter FederatedIssuers %+v: want a String defaulting to empty", p)
	}
	v := doc.Globals.Function.Environment.Variables[config.EnvFederatedIssuers]
	if v.Tag != "!Ref" || v.Value != "FederatedIssuers" {
		t.Errorf("Globals set %s to %s %q, want !Ref FederatedIssuers", config.EnvFederatedIssuers, v.Tag, v.Value)
	}
}

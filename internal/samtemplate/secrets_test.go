package samtemplate_test

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// hashes is the resource of the per-module secret hashes.
const hashes = "!Sub arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${AWS::StackName}/modules/*"

// TestWhoMayReadWhichSecret lists, for every function, the secrets it may
// read. It fails when that set changes unnoticed: only token and rotation
// may read the private signing key, only token the secret hashes, and the
// authorizer only the published public keys.
func TestWhoMayReadWhichSecret(t *testing.T) {
	want := map[string][]string{
		"TokenFunction":            {"!If [EdgeEnabled, !Ref EdgeOriginSecret, !Ref AWS::NoValue]", "!Ref SigningKeySecret", hashes},
		"RotateSigningKeyFunction": {"!Ref PublicKeysSecret", "!Ref SigningKeySecret"},
		"AuthorizerFunction":       {"!Ref PublicKeysSecret"},
		"CreateModuleFunction":     {"!Ref IdempotencyKeySecret"},
	}
	fns := functions(t)
	for name, f := range fns {
		got := f.resources("secretsmanager:GetSecretValue")
		if w := want[name]; !reflect.DeepEqual(got, w) && (len(got) > 0 || len(w) > 0) {
			t.Errorf("%s may read %v, want %v", name, got, w)
		}
	}
	// The authorizer may do nothing at all with the signing key, and its
	// environment names no private-key location.
	a := fns["AuthorizerFunction"]
	for _, st := range a.statements {
		if slices.Contains(st.resources, "!Ref SigningKeySecret") {
			t.Errorf("the authorizer's policy allows %v on the signing key", st.actions)
		}
	}
	for k, v := range a.env {
		if strings.Contains(v, "SigningKeySecret") || k == "SIGNING_KEY_SECRET" {
			t.Errorf("the authorizer's environment names the signing key: %s=%s", k, v)
		}
	}
}

type statement struct{ actions, resources []string }

type function struct {
	statements []statement
	env        map[string]string // the function's own and the Globals' variables
}

func (f function) resources(action string) []string {
	var out []string
	for _, st := range f.statements {
		if slices.Contains(st.actions, action) || slices.Contains(st.actions, "secretsmanager:*") {
			out = append(out, st.resources...)
		}
	}
	sort.Strings(out)
	return out
}

// functions reads every function's policy statements and environment.
func functions(t *testing.T) map[string]function {
	t.Helper()
	b, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Globals struct {
			Function struct {
				Environment struct {
					Variables map[string]yaml.Node `yaml:"Variables"`
				} `yaml:"Environment"`
			} `yaml:"Function"`
		} `yaml:"Globals"`
		Resources map[string]struct {
			Type       string `yaml:"Type"`
			Properties struct {
				Policies []struct {
					Statement []struct {
						Action   yaml.Node `yaml:"Action"`
						Resource yaml.Node `yaml:"Resource"`
					} `yaml:"Statement"`
				} `yaml:"Policies"`
				Environment struct {
					Variables map[string]yaml.Node `yaml:"Variables"`
				} `yaml:"Environment"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]function{}
	for name, r := range doc.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		f := function{env: map[string]string{}}
		for _, vars := range []map[string]yaml.Node{doc.Globals.Function.Environment.Variables, r.Properties.Environment.Variables} {
			for k, v := range vars {
				f.env[k] = scalar(v)
			}
		}
		for _, p := range r.Properties.Policies {
			for _, st := range p.Statement {
				f.statements = append(f.statements, statement{list(st.Action), list(st.Resource)})
			}
		}
		out[name] = f
	}
	if len(out) == 0 {
		t.Fatal("no functions in template.yaml")
	}
	return out
}

func list(n yaml.Node) []string {
	if n.Kind == yaml.SequenceNode {
		var out []string
		for _, c := range n.Content {
			out = append(out, scalar(*c))
		}
		return out
	}
	return []string{scalar(n)}
}

func scalar(n yaml.Node) string {
	if n.Kind == yaml.SequenceNode && strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") { // !If [a, b, c]
		var args []string
		for _, c := range n.Content {
			args = append(args, scalar(*c))
		}
		return fmt.Sprintf("%s [%s]", n.Tag, strings.Join(args, ", "))
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") { // an intrinsic function, not a YAML type
		return fmt.Sprintf("%s %s", n.Tag, n.Value)
	}
	return n.Value
}

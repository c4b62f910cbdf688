package samtemplate_test

import (
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/modules-service/modules/internal/samtemplate"
)

// grant is one DynamoDB action beyond reading that a function may take on
// the table, on the items whose partition key matches Prefix
// (dynamodb:LeadingKeys; "*" when the statement names none), limited to
// Attributes (dynamodb:Attributes; empty when it names none) and to
// ReturnValues (dynamodb:ReturnValues, empty when unlimited).
type grant struct {
	Action, Prefix, Attributes, ReturnValues string
}

func (g grant) String() string {
	return fmt.Sprintf("%s %s [%s] %s", g.Action, g.Prefix, g.Attributes, g.ReturnValues)
}

// moduleAttributes are the module item's attributes but lastUsedAt, which
// only the token function writes (internal/dynamo/items.go;
// TestCodeWritesWhatThePolicyAllows holds the item to this list).
const moduleAttributes = "PK SK id tenantId clientId name displayName userLogin scopes enabled secretName authMethods jwks federated dpopBound nameKey displayKey version createdAt updatedAt"

// whoWritesWhat is docs/security.md's table "Who writes what": every function's
// writes (and condition checks: TransactWriteItems is authorised per
// contained action), by action and key prefix. A function not listed
// writes nothing.
var whoWritesWhat = map[string][]grant{
	"CreateModuleFunction": {
		{Action: "DeleteItem", Prefix: "PENDING#*"},
		{Action: "PutItem", Prefix: "CLIENT#*"},
		{Action: "PutItem", Prefix: "EVENTS#*"},
		{Action: "PutItem", Prefix: "PENDING#*"},
		{Action: "PutItem", Prefix: "TENANT#*"},
	},
	"ListModulesFunction": {
		{Action: "PutItem", Prefix: "CONFIG"},
	},
	"UpdateModuleFunction": {
		{Action: "ConditionCheckItem", Prefix: "TENANT#*"},
		{Action: "DeleteItem", Prefix: "TENANT#*"},
		{Action: "PutItem", Prefix: "CLIENT#*"},
		{Action: "PutItem", Prefix: "EVENTS#*"},
		{Action: "PutItem", Prefix: "TENANT#*", Attributes: "PK SK moduleId"},
		{Action: "UpdateItem", Prefix: "TENANT#*", Attributes: moduleAttributes},
	},
	"DeleteModuleFunction": {
		{Action: "ConditionCheckItem", Prefix: "TENANT#*"},
		{Action: "DeleteItem", Prefix: "CLIENT#*"},
		{Action: "DeleteItem", Prefix: "TENANT#*"},
		{Action: "PutItem", Prefix: "EVENTS#*"},
		{Action: "PutItem", Prefix: "PENDING#*"},
	},
	"ReaperFunction": {
		{Action: "DeleteItem", Prefix: "PENDING#*"},
		{Action: "UpdateItem", Prefix: "PENDING#*"},
	},
	"AuthorizerFunction": {
		{Action: "UpdateItem", Prefix: "DPOP#*", Attributes: "PK SK ttl", ReturnValues: "NONE"},
	},
	"TokenFunction": {
		{Action: "PutItem", Prefix: "CREDEVENTS#*"},
		{Action: "UpdateItem", Prefix: "LIMIT#*"},
		{Action: "UpdateItem", Prefix: "TENANT#*", Attributes: "PK SK lastUsedAt", ReturnValues: "NONE"},
	},
}

// reads are the DynamoDB actions that change nothing.
var reads = []string{"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"}

// TestWhoWritesWhat holds every function's DynamoDB policy to
// whoWritesWhat: a widened prefix, a new action, a dropped attribute or
// return-values limit, a wildcard, a managed or SAM policy template all
// fail it: each writer writes only its own partitions.
func TestWhoWritesWhat(t *testing.T) {
	got := map[string][]grant{}
	for name, policies := range policyNodes(t) {
		for _, p := range policies {
			var doc struct {
				Statement []struct {
					Effect    string               `yaml:"Effect"`
					Action    yaml.Node            `yaml:"Action"`
					NotAction yaml.Node            `yaml:"NotAction"`
					Resource  yaml.Node            `yaml:"Resource"`
					Condition map[string]yaml.Node `yaml:"Condition"`
				} `yaml:"Statement"`
			}
			if p.Kind != yaml.MappingNode || len(p.Content) != 2 || p.Content[0].Value != "Statement" {
				t.Errorf("%s: a policy other than an inline Statement (a managed policy or a SAM policy template) at line %d: its rights are not checked", name, p.Line)
				continue
			}
			if err := p.Decode(&doc); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, st := range doc.Statement {
				if st.NotAction.Kind != 0 {
					t.Errorf("%s: NotAction (line %d) allows what it does not name", name, st.NotAction.Line)
				}
				if st.Effect != "Allow" {
					continue // a Deny only narrows
				}
				var writes []string
				for _, a := range list(st.Action) {
					la := strings.ToLower(a) // IAM compares actions ignoring case
					anyWrite, _ := path.Match(la, "dynamodb:putitem")
					switch {
					case strings.ContainsAny(a, "*?") && (strings.HasPrefix(la, "dynamodb:") || anyWrite):
						t.Errorf("%s: wildcard action %s", name, a)
					case !strings.HasPrefix(la, "dynamodb:"), slices.Contains(reads, a):
					default:
						writes = append(writes, a[len("dynamodb:"):])
					}
				}
				if len(writes) == 0 {
					continue
				}
				if r := list(st.Resource); !slices.Equal(r, []string{"!GetAtt Table.Arn"}) {
					t.Errorf("%s: %v on %v; want the table, !GetAtt Table.Arn, only", name, writes, r)
				}
				prefixes, g := []string{"*"}, grant{}
				for op, n := range st.Condition {
					var keys map[string]yaml.Node
					if err := n.Decode(&keys); err != nil {
						t.Fatalf("%s: condition %s: %v", name, op, err)
					}
					for key, v := range keys {
						switch {
						case key == "dynamodb:LeadingKeys" && (op == "ForAllValues:StringLike" || op == "ForAllValues:StringEquals"):
							prefixes = list(v)
						case key == "dynamodb:Attributes" && op == "ForAllValues:StringEquals":
							g.Attributes = strings.Join(list(v), " ")
						case key == "dynamodb:ReturnValues" && (op == "StringEquals" || op == "StringEqualsIfExists"):
							g.ReturnValues = strings.Join(list(v), " ")
						default:
							t.Errorf("%s: condition %s on %s: not one this test understands (ForAnyValue or an IfExists on keys may allow more than it seems)", name, op, key)
						}
					}
				}
				for _, a := range writes {
					for _, p := range prefixes {
						g.Action, g.Prefix = a, p
						got[name] = append(got[name], g)
					}
				}
			}
		}
	}
	lines := func(m map[string][]grant) map[string][]string {
		out := map[string][]string{}
		for name, gs := range m {
			for _, g := range gs {
				out[name] = append(out[name], g.String())
			}
			slices.Sort(out[name])
		}
		return out
	}
	if diff := cmp.Diff(lines(whoWritesWhat), lines(got)); diff != "" {
		t.Errorf("DynamoDB writes by function (-docs/security.md's table +template.yaml):\n%s", diff)
	}
}

// TestWhoWritesWhatIsDocumented: docs/security.md's table names the same
// prefixes and actions as whoWritesWhat, row by row.
func TestWhoWritesWhatIsDocumented(t *testing.T) {
	b, err := os.ReadFile("../../docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(b), "## Who writes what")
	if !ok {
		t.Fatal(`docs/security.md has no section "## Who writes what"`)
	}
	table, _, _ = strings.Cut(table, "\n#")
	rows := map[string]string{}
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		for _, fn := range strings.Split(cells[1], ",") {
			rows[strings.Trim(strings.TrimSpace(fn), "`")] = cells[2]
		}
	}
	tpl, err := samtemplate.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	folders := map[string]string{}
	for _, f := range tpl.Functions {
		folders[f.LogicalID] = f.Folder
	}
	for fn, grants := range whoWritesWhat {
		folder := folders[fn]
		row, ok := rows[folder]
		if !ok {
			t.Errorf("docs/security.md's table has no row for %s", folder)
			continue
		}
		for _, g := range grants {
			if cell := "`" + g.Action + "` `" + g.Prefix + "`"; !strings.Contains(row, cell) {
				t.Errorf("docs/security.md's row for %s does not say %s", folder, cell)
			}
		}
		delete(rows, folder)
	}
	for fn, row := range rows {
		if !strings.Contains(row, "nothing") {
			t.Errorf("docs/security.md's row for %s says %q; the template lets it write nothing", fn, strings.TrimSpace(row))
		}
	}
}

// policyNodes reads every function's Policies entries, unparsed.
func policyNodes(t *testing.T) map[string][]yaml.Node {
	t.Helper()
	b, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources map[string]struct {
			Type       string `yaml:"Type"`
			Properties struct {
				Policies yaml.Node `yaml:"Policies"`
				Role     yaml.Node `yaml:"Role"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string][]yaml.Node{}
	for name, r := range doc.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		if r.Properties.Role.Kind != 0 {
			t.Errorf("%s has a Role of its own: its rights are not checked", name)
		}
		switch p := r.Properties.Policies; p.Kind {
		case 0:
			out[name] = nil
		case yaml.SequenceNode:
			for _, c := range p.Content {
				out[name] = append(out[name], *c)
			}
		default:
			t.Errorf("%s: Policies is not a list of statements (line %d)", name, p.Line)
		}
	}
	return out
}

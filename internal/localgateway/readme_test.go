package localgateway_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modules-service/modules/internal/localgateway"
)

// wizardBlock is the first ```sh block after README.md's wizard heading:
// the test runs what a reader pastes, not a copy of it.
func wizardBlock(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	i := strings.Index(s, "### A frontend's wizard, with curl")
	if i < 0 {
		t.Fatal("README.md has no wizard section")
	}
	_, rest, ok := strings.Cut(s[i:], "```sh\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("the wizard section has no ```sh block")
	}
	return block
}

// TestREADMEWizard runs README.md's wizard as pasted, against the local
// gateway with the credentials file make run writes, twice (the second
// run replays the create and patches nothing new), and checks it ends
// with the technical client's access token.
func TestREADMEWizard(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is missing (.ci/run installs it)", tool)
			}
			t.Skipf("%s is missing", tool)
		}
	}
	stack, base := serve(t, localgateway.Options{Bootstrap: localgateway.Bootstrap{Tenant: "demo"}})
	m := stack.Manager
	creds := filepath.Join(t.TempDir(), "credentials.json")
	b, _ := json.Marshal(map[string]string{"api": base, "tenant": m.TenantID, "clientId": m.ClientID, "clientSecret": m.ClientSecret})
	if err := os.WriteFile(creds, b, 0o600); err != nil {
		t.Fatal(err)
	}
	block := wizardBlock(t)
	for run := 1; run <= 2; run++ {
		out, err := runWizard(block, creds)
		if err != nil {
			t.Fatalf("run %d: %v\n%s", run, err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		last := lines[len(lines)-1]
		if strings.Count(last, ".") != 2 || !strings.Contains(string(out), `"redirectUris":["https://billing.example.com/callback"]`) || !strings.HasPrefix(lines[0], "client_id ") {
			t.Errorf("run %d: want the client ID, User Login on, and a JWT last:\n%s", run, out)
		}
	}

	// A failed step shows the error body and ends the block there, with no
	// later step running on empty variables.
	for _, tc := range []struct {
		name   string
		creds  map[string]string
		status string // what the shown body says
	}{
		{"wrong manager secret: step 0", map[string]string{"clientSecret": "not-the-secret"}, `"error":"invalid_client"`},
		{"another tenant: step 1", map[string]string{"tenant": "someone-else"}, `"status":403`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := map[string]string{"api": base, "tenant": m.TenantID, "clientId": m.ClientID, "clientSecret": m.ClientSecret}
			for k, v := range tc.creds {
				c[k] = v
			}
			f := filepath.Join(t.TempDir(), "credentials.json")
			b, _ := json.Marshal(c)
			if err := os.WriteFile(f, b, 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := runWizard(block, f)
			if err == nil {
				t.Fatalf("the block succeeded; want it to fail:\n%s", out)
			}
			if !strings.Contains(string(out), tc.status) {
				t.Errorf("output does not show the error body (%s):\n%s", tc.status, out)
			}
			if strings.Contains(string(out), "client_id ") || strings.Contains(string(out), "userLogin") {
				t.Errorf("the block went on after the failed step:\n%s", out)
			}
		})
	}
}

// runWizard runs the block with plain bash, no -e: stopping at a failed
// step is the block's own doing, as it is when pasted into a shell.
func runWizard(block, creds string) ([]byte, error) {
	cmd := exec.Command("bash", "-c", block)
	cmd.Env = append(os.Environ(), "CREDS="+creds)
	return cmd.CombinedOutput()
}

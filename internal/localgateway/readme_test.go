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
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", block)
		cmd.Env = append(os.Environ(), "CREDS="+creds)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("run %d: %v\n%s", run, err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		last := lines[len(lines)-1]
		if strings.Count(last, ".") != 2 || !strings.Contains(string(out), `"redirectUris":["https://billing.example.com/callback"]`) || !strings.HasPrefix(lines[0], "client_id ") {
			t.Errorf("run %d: want the client ID, User Login on, and a JWT last:\n%s", run, out)
		}
	}
}

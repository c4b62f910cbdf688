//go:build !deployed

package localgateway_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/modules-service/modules/internal/localgateway"
)

// TestGeneratedClientWizard runs infra/tsclient/run.ts, compiled by
// infra/tsclient.sh (TSCLIENT_JS names the JavaScript), with node against
// the local gateway: the whole wizard through the client generated from the
// API document (validate, create, read, update, list, events), then the
// same names again, which the validation refuses with both fields' codes
// translated. The token goes to node in its environment, not its arguments.
func TestGeneratedClientWizard(t *testing.T) {
	script := os.Getenv("TSCLIENT_JS")
	if script == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TSCLIENT_JS is not set: infra/test.sh compiles the generated client's wizard (infra/tsclient.sh) and sets it")
		}
		t.Skip("TSCLIENT_JS is not set (infra/tsclient.sh writes bin/tsclient/out/run.js)")
	}
	stack, base := serve(t, localgateway.Options{Bootstrap: localgateway.Bootstrap{Tenant: "demo"}})
	m := stack.Manager
	tok := token(t, base, m.ClientID, m.ClientSecret, oauth2.AuthStyleInHeader)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Env = append(os.Environ(), "API="+base, "TENANT="+m.TenantID, "TOKEN="+tok)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "ok wizard: created ") {
		t.Fatalf("node %s: %v\n%s", script, err, out)
	}
	t.Logf("%s", out)
}

package samtemplate_test

import (
	"os"
	"strings"
	"testing"
)

// overrides reads parameter_overrides of [env.deploy.parameters] from
// samconfig.toml (one line per key there), as Name=Value pairs.
func overrides(t *testing.T, env string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile("../../samconfig.toml")
	if err != nil {
		t.Fatal(err)
	}
	section := ""
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			section = line
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || section != "["+env+".deploy.parameters]" || strings.TrimSpace(k) != "parameter_overrides" {
			continue
		}
		out := map[string]string{}
		for _, pair := range strings.Fields(strings.Trim(strings.TrimSpace(v), `"`)) {
			name, value, _ := strings.Cut(pair, "=")
			out[name] = value
		}
		return out
	}
	t.Fatalf("samconfig.toml has no parameter_overrides in [%s.deploy.parameters]", env)
	return nil
}

// TestSamconfigDefaultIsProduction: a bare `sam deploy` (the default
// environment) keeps the table's deletion protection and lets no
// localhost page call the API; the loose settings live in dev and local.
func TestSamconfigDefaultIsProduction(t *testing.T) {
	for _, env := range []string{"default", "prod", "staging"} {
		o := overrides(t, env)
		if o["DeletionProtection"] != "true" {
			t.Errorf("[%s] DeletionProtection=%q, want true", env, o["DeletionProtection"])
		}
		if strings.Contains(o["PortalOrigins"], "localhost") || strings.Contains(o["PortalOrigins"], "127.0.0.1") {
			t.Errorf("[%s] PortalOrigins=%s, want no loopback origin", env, o["PortalOrigins"])
		}
	}
	for _, env := range []string{"dev", "local"} {
		if o := overrides(t, env); o["DeletionProtection"] != "false" {
			t.Errorf("[%s] DeletionProtection=%q, want false (a throwaway stack)", env, o["DeletionProtection"])
		}
	}
}

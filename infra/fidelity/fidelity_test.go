// Package fidelity runs every built bootstrap under the AWS Lambda Runtime
// Interface Emulator, with moto as its AWS endpoint, and feeds it the
// events/ files: the Lambda layer of the tests. infra/test.sh runs it after
// `sam build` with FIDELITY=1; a plain `go test ./...` skips it.
//
// The functions deploy as arm64. Where qemu-aarch64-static exists the
// arm64 binaries of `sam build` run under it (FIDELITY_RUNNER); otherwise
// infra/test.sh builds the same code for the host (make lambdas).
package fidelity

import (
	"context"
	"debug/elf"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modules-service/modules/internal/samtemplate"
	"github.com/modules-service/modules/internal/testing/lambdarie"
)

const (
	exampleModuleID = "01kbx7m3q9example0000000000"
	exampleSecretID = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:modules-signing-key-AbCdEf"
)

type env struct {
	rie, runner, buildDir string
	fixture               *lambdarie.Fixture
}

func setup(t *testing.T) env {
	if os.Getenv("FIDELITY") != "1" {
		t.Skip("the Lambda fidelity layer runs from infra/test.sh (FIDELITY=1)")
	}
	e := env{rie: os.Getenv("RIE_BIN"), runner: os.Getenv("FIDELITY_RUNNER"), buildDir: os.Getenv("FIDELITY_BUILD_DIR")}
	moto := os.Getenv("MOTO_ENDPOINT")
	if moto == "" || e.rie == "" || e.buildDir == "" {
		t.Fatal("FIDELITY=1 needs MOTO_ENDPOINT, RIE_BIN and FIDELITY_BUILD_DIR")
	}
	var err error
	if e.fixture, err = lambdarie.NewFixture(context.Background(), moto); err != nil {
		t.Fatal(err)
	}
	return e
}

// step is one event and what must come back.
type step struct {
	event  string
	status int                    // for HTTP events
	check  func(out []byte) error // for the others, or extra checks
}

func TestEveryBootstrapUnderTheEmulator(t *testing.T) {
	e := setup(t)
	tpl, err := samtemplate.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var (
		moduleID, clientToken string
		report                strings.Builder
	)
	subst := func(name string, b []byte) []byte {
		s := string(b)
		if moduleID != "" {
			s = strings.ReplaceAll(s, exampleModuleID, moduleID)
		}
		if clientToken != "" && name == "authorizer-bearer.json" {
			s = regexp.MustCompile(`Bearer eyJ[A-Za-z0-9_.-]*`).ReplaceAllString(s, "Bearer "+clientToken)
		}
		return []byte(strings.ReplaceAll(s, exampleSecretID, e.fixture.SigningSecret))
	}
	// Functions in the order their events depend on each other.
	plan := []struct {
		logicalID string
		steps     []step
	}{
		{"TokenFunction", []step{
			{event: "token-basic.json", status: 200, check: func(b []byte) error {
				var r struct {
					AccessToken string `json:"access_token"`
				}
				if err := json.Unmarshal(b, &r); err != nil || r.AccessToken == "" {
					return fmt.Errorf("no access token in %s", b)
				}
				clientToken = r.AccessToken
				return nil
			}},
			{event: "token-post.json", status: 200},
			{event: "jwks.json", status: 200},
			{event: "metadata.json", status: 200},
		}},
		{"CreateModuleFunction", []step{{event: "create-module.json", status: 201, check: func(b []byte) error {
			var m struct{ ID string }
			if err := json.Unmarshal(b, &m); err != nil || m.ID == "" {
				return fmt.Errorf("no module in %s", b)
			}
			moduleID = m.ID
			return nil
		}}, {event: "create-module.json", status: 201}}}, // the retry: idempotent
		{"ListModulesFunction", []step{{event: "list-modules.json", status: 200}, {event: "get-module.json", status: 200},
			{event: "list-events.json", status: 200, check: func(b []byte) error {
				if !strings.Contains(string(b), `"type":"module.created"`) {
					return fmt.Errorf("the tenant's trail lacks the create: %.300s", b)
				}
				return nil
			}}}},
		{"UpdateModuleFunction", []step{{event: "update-module.json", status: 200}}},
		{"AuthorizerFunction", []step{
			{event: "authorizer-bearer.json", check: authorized(true)},
			{event: "authorizer-forged.json", check: authorized(false)},
		}},
		{"DeleteModuleFunction", []step{{event: "delete-module.json", status: 204}}},
		{"ReaperFunction", []step{{event: "reaper-schedule.json", check: func(b []byte) error {
			if _, err := strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
				return fmt.Errorf("reaper answered %s, want a count", b)
			}
			return nil
		}}}},
		{"PortalFunction", []step{{event: "portal-get.json", status: 200, check: func(b []byte) error {
			if !strings.Contains(string(b), "<title>Modules</title>") {
				return fmt.Errorf("not the Modules page: %.200s", b)
			}
			return nil
		}}}},
		{"RotateSigningKeyFunction", []step{{event: "rotate-create-secret.json", check: func(b []byte) error {
			if strings.TrimSpace(string(b)) != "null" {
				return fmt.Errorf("rotation step answered %s", b)
			}
			return nil
		}}}},
	}
	if len(plan) != len(tpl.Functions) {
		t.Fatalf("the plan covers %d functions, template.yaml has %d", len(plan), len(tpl.Functions))
	}
	fmt.Fprintf(&report, "%-26s %12s %10s %12s\n", "function", "binary (B)", "init (ms)", "1st inv (ms)")
	for _, p := range plan {
		bootstrap := filepath.Join(e.buildDir, p.logicalID, "bootstrap")
		info, err := os.Stat(bootstrap)
		if err != nil {
			t.Fatalf("%s: %v (run sam build or make lambdas)", p.logicalID, err)
		}
		checkArch(t, bootstrap, e.runner)
		m, err := lambdarie.Start(e.rie, e.runner, bootstrap, e.fixture.Environ)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(m.Close)
		for _, s := range p.steps {
			raw, err := os.ReadFile("../../events/" + s.event)
			if err != nil {
				t.Fatal(err)
			}
			if s.event == "rotate-create-secret.json" {
				// Secrets Manager first makes the pending version, then calls the function.
				raw = rotationEvent(t, e, raw)
			}
			out, err := m.Invoke(subst(s.event, raw))
			if err != nil {
				t.Fatal(err)
			}
			if s.status != 0 {
				var resp struct {
					StatusCode      int    `json:"statusCode"`
					Body            string `json:"body"`
					IsBase64Encoded bool   `json:"isBase64Encoded"`
				}
				if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != s.status {
					t.Fatalf("%s %s: %s\nemulator log:\n%s", p.logicalID, s.event, out, m.Output())
				}
				out = []byte(resp.Body)
				if resp.IsBase64Encoded {
					out, _ = base64.StdEncoding.DecodeString(resp.Body)
				}
			}
			if s.check != nil {
				if err := s.check(out); err != nil {
					t.Fatalf("%s %s: %v\nemulator log:\n%s", p.logicalID, s.event, err, m.Output())
				}
			}
		}
		initMs, invokes, err := m.WaitReports(len(p.steps), 2*time.Second)
		firstMs := 0.0
		if len(invokes) > 0 {
			firstMs = invokes[0]
		}
		if err != nil {
			t.Errorf("%s: %v", p.logicalID, err)
		}
		fmt.Fprintf(&report, "%-26s %12d %10.1f %12.1f\n", p.logicalID, info.Size(), initMs, firstMs)
	}
	t.Log("\n" + report.String())
	if path := os.Getenv("FIDELITY_REPORT"); path != "" {
		_ = os.WriteFile(path, []byte(report.String()), 0o644)
	}
}

func authorized(want bool) func([]byte) error {
	return func(b []byte) error {
		var d struct {
			IsAuthorized bool           `json:"isAuthorized"`
			Context      map[string]any `json:"context"`
		}
		if err := json.Unmarshal(b, &d); err != nil || d.IsAuthorized != want {
			return fmt.Errorf("authorizer answered %s, want isAuthorized %v", b, want)
		}
		if want && d.Context["tenantId"] != "acme" {
			return fmt.Errorf("context %v, want tenant acme", d.Context)
		}
		return nil
	}
}

// rotationEvent points the event at the test's signing-key secret. The
// version named by ClientRequestToken does not exist yet, as when Secrets
// Manager starts a rotation.
func rotationEvent(t *testing.T, e env, raw []byte) []byte {
	var ev map[string]string
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	ev["SecretId"] = e.fixture.SigningSecret
	b, _ := json.Marshal(ev)
	return b
}

// checkArch fails early when a binary cannot run here.
func checkArch(t *testing.T, path, runner string) {
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer f.Close()
	if f.Machine == elf.EM_AARCH64 && runner == "" && hostMachine() != elf.EM_AARCH64 {
		t.Fatalf("%s is arm64: set FIDELITY_RUNNER=qemu-aarch64-static or build for the host (make lambdas)", path)
	}
}

func hostMachine() elf.Machine {
	f, err := elf.Open("/proc/self/exe")
	if err != nil {
		return 0
	}
	defer f.Close()
	return f.Machine
}

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
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modules-service/modules/internal/accesstoken"
	"github.com/modules-service/modules/internal/config"
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
			s = bearerToken.ReplaceAllString(s, "Bearer "+clientToken)
		}
		if name == "authorizer-expired.json" {
			s = bearerToken.ReplaceAllString(s, "Bearer "+expiredToken(t, e))
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
		}}, {event: "create-module.json", status: 201}, // the retry: idempotent
			{event: "validate-module.json", status: 200, check: func(b []byte) error {
				if strings.Contains(string(b), `"id"`) || strings.Contains(string(b), "Example-Secret") {
					return fmt.Errorf("a preview with an ID or the secret: %s", b)
				}
				return nil
			}}}},
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
			{event: "authorizer-expired.json", check: unauthorizedError},
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
		}}, {event: "openapi-get.json", status: 200, check: func(b []byte) error {
			if !strings.Contains(string(b), `"servers":[{`) || !strings.Contains(string(b), `"/openapi.json":{`) {
				return fmt.Errorf("not the API document: %.200s", b)
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
		m, size := e.start(t, p.logicalID)
		for _, s := range p.steps {
			raw := readEvent(t, s.event)
			if s.event == "rotate-create-secret.json" {
				// Secrets Manager first makes the pending version, then calls the function.
				raw = rotationEvent(t, e, raw, "")
			}
			out := invoke(t, m, p.logicalID+" "+s.event, subst(s.event, raw), s.status)
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
		fmt.Fprintf(&report, "%-26s %12d %10.1f %12.1f\n", p.logicalID, size, initMs, firstMs)
	}
	t.Log("\n" + report.String())
	if path := os.Getenv("FIDELITY_REPORT"); path != "" {
		_ = os.WriteFile(path, []byte(report.String()), 0o644)
	}
}

// invoke sends event to the emulator; with a status, the event is API
// Gateway's and the answer's body is returned, its status checked.
func invoke(t *testing.T, m *lambdarie.Emulator, what string, event []byte, status int) []byte {
	t.Helper()
	out, err := m.Invoke(event)
	if err != nil {
		t.Fatal(err)
	}
	if status == 0 {
		return out
	}
	var resp struct {
		StatusCode      int    `json:"statusCode"`
		Body            string `json:"body"`
		IsBase64Encoded bool   `json:"isBase64Encoded"`
	}
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != status {
		t.Fatalf("%s: %s, want status %d\nemulator log:\n%s", what, out, status, m.Output())
	}
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			t.Fatalf("%s: body: %v", what, err)
		}
		return b
	}
	return []byte(resp.Body)
}

// TestChangeOfAlgorithmUnderTheEmulator takes the built bootstraps through
// a change of AccessTokenAlgorithm from RS256 to ES256, as an operator
// does it (redeploy, then rotate): a token from the RS256 key, a whole
// rotation by the rotation function with ACCESS_TOKEN_ALGORITHM=ES256, then
// fresh instances, as Lambda starts after a rotation: the token function
// signs with ES256 and publishes both keys, and the authorizer takes the
// new token and the one from before the change.
func TestChangeOfAlgorithmUnderTheEmulator(t *testing.T) {
	e := setup(t)
	before := e.token(t)
	if alg := tokenAlg(t, before); alg != "RS256" {
		t.Fatalf("the fixture's key signs %s, want RS256", alg)
	}

	rot, _ := e.start(t, "RotateSigningKeyFunction", config.EnvTokenAlgorithm+"=ES256")
	raw := readEvent(t, "rotate-create-secret.json")
	for _, step := range []string{"createSecret", "setSecret", "testSecret", "finishSecret"} {
		ev := rotationEvent(t, e, raw, step)
		if out := invoke(t, rot, "rotation "+step, ev, 0); strings.TrimSpace(string(out)) != "null" {
			t.Fatalf("rotation %s answered %s\nemulator log:\n%s", step, out, rot.Output())
		}
	}

	after := e.token(t)
	if alg := tokenAlg(t, after); alg != "ES256" {
		t.Fatalf("after the rotation the token function signs %s, want ES256", alg)
	}
	tok, _ := e.start(t, "TokenFunction")
	var jwks struct {
		Keys []struct{ Kty, Alg, Crv string }
	}
	if err := json.Unmarshal(invoke(t, tok, "jwks.json", readEvent(t, "jwks.json"), 200), &jwks); err != nil {
		t.Fatal(err)
	}
	var published []string
	for _, k := range jwks.Keys {
		published = append(published, k.Kty+"/"+k.Alg+"/"+k.Crv)
	}
	slices.Sort(published)
	if want := []string{"EC/ES256/P-256", "RSA/RS256/"}; !slices.Equal(published, want) {
		t.Errorf("JWKS during the change publishes %v, want %v", published, want)
	}

	authz, _ := e.start(t, "AuthorizerFunction")
	bearer := readEvent(t, "authorizer-bearer.json")
	for name, token := range map[string]string{"RS256 token from before the change": before, "ES256 token": after} {
		ev := bearerToken.ReplaceAll(bearer, []byte("Bearer "+token))
		if err := authorized(true)(invoke(t, authz, name, ev, 0)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// start runs the function's built bootstrap under the emulator, with the
// fixture's environment and extra variables; it returns the binary's size.
func (e env) start(t *testing.T, logicalID string, extra ...string) (*lambdarie.Emulator, int64) {
	t.Helper()
	bootstrap := filepath.Join(e.buildDir, logicalID, "bootstrap")
	info, err := os.Stat(bootstrap)
	if err != nil {
		t.Fatalf("%s: %v (run sam build or make lambdas)", logicalID, err)
	}
	checkArch(t, bootstrap, e.runner)
	m, err := lambdarie.Start(e.rie, e.runner, bootstrap, append(slices.Clone(e.fixture.Environ), extra...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m, info.Size()
}

// token is an access token for the example client from a fresh instance of
// the token function.
func (e env) token(t *testing.T) string {
	t.Helper()
	m, _ := e.start(t, "TokenFunction")
	defer m.Close()
	var r struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(invoke(t, m, "token-basic.json", readEvent(t, "token-basic.json"), 200), &r); err != nil || r.AccessToken == "" {
		t.Fatalf("no access token: %v", err)
	}
	return r.AccessToken
}

// tokenAlg is the alg of a compact JWS's protected header.
func tokenAlg(t *testing.T, token string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatalf("token header: %v", err)
	}
	var h struct{ Alg string }
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatalf("token header: %v", err)
	}
	return h.Alg
}

func readEvent(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../events/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
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

// expiredToken is the example client's access token as the token function
// would have issued it two hours ago, expired an hour ago.
func expiredToken(t *testing.T, e env) string {
	t.Helper()
	const iss = "https://a1b2c3d4e5.execute-api.eu-central-1.amazonaws.com" // the events' domain
	tok, err := accesstoken.Issue(e.fixture.SigningKey, iss, iss, lambdarie.ExampleClientID, "acme", []string{"orders.read"}, time.Now().Add(-2*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// unauthorizedError: the invocation failed with the error message
// "Unauthorized", which API Gateway answers 401 (an expired token).
func unauthorizedError(b []byte) error {
	var e struct {
		ErrorMessage string `json:"errorMessage"`
	}
	if err := json.Unmarshal(b, &e); err != nil || e.ErrorMessage != "Unauthorized" {
		return fmt.Errorf("authorizer answered %s, want the error \"Unauthorized\"", b)
	}
	return nil
}

// rotationEvent points the event at the test's signing-key secret and,
// unless step is empty, sets its step. The version named by
// ClientRequestToken does not exist in a fresh fixture, as when Secrets
// Manager starts a rotation; every step of one rotation names it.
func rotationEvent(t *testing.T, e env, raw []byte, step string) []byte {
	var ev map[string]string
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	ev["SecretId"] = e.fixture.SigningSecret
	if step != "" {
		ev["Step"] = step
	}
	b, _ := json.Marshal(ev)
	return b
}

// bearerToken is the example token in events/authorizer-bearer.json.
var bearerToken = regexp.MustCompile(`Bearer eyJ[A-Za-z0-9_.-]*`)

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

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
	"bytes"
	"context"
	"crypto/rand"
	"debug/elf"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/modules-service/modules/internal/dynamo"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/samtemplate"
	"github.com/modules-service/modules/internal/secrethash"
	"github.com/modules-service/modules/internal/secretsmanager"
	"github.com/modules-service/modules/internal/signing"
)

const (
	exampleModuleID = "01kbx7m3q9example0000000000"
	exampleClientID = "example-client-id"
	exampleSecret   = "Example-Secret-0123456789"
	exampleSecretID = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:modules-signing-key-AbCdEf"
)

type env struct {
	moto, rie, runner, buildDir string
	vars                        []string
	signingSecret               string
}

func setup(t *testing.T) env {
	if os.Getenv("FIDELITY") != "1" {
		t.Skip("the Lambda fidelity layer runs from infra/test.sh (FIDELITY=1)")
	}
	e := env{moto: os.Getenv("MOTO_ENDPOINT"), rie: os.Getenv("RIE_BIN"), runner: os.Getenv("FIDELITY_RUNNER"), buildDir: os.Getenv("FIDELITY_BUILD_DIR")}
	if e.moto == "" || e.rie == "" || e.buildDir == "" {
		t.Fatal("FIDELITY=1 needs MOTO_ENDPOINT, RIE_BIN and FIDELITY_BUILD_DIR")
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")))
	if err != nil {
		t.Fatal(err)
	}
	id := strings.ToLower(rand.Text()[:8])
	table, prefix := "fidelity-"+id, "fidelity-"+id+"/modules"
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(e.moto) })
	smc := sm.NewFromConfig(cfg, func(o *sm.Options) { o.BaseEndpoint = aws.String(e.moto) })
	if err := dynamo.CreateTable(ctx, db, table); err != nil {
		t.Fatal(err)
	}
	key, _ := signing.Generate()
	value, _ := key.Marshal()
	e.signingSecret = "fidelity-" + id + "-signing-key"
	if _, err := smc.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String(e.signingSecret), SecretString: aws.String(value)}); err != nil {
		t.Fatal(err)
	}
	// the client the token events authenticate as
	svc := &module.Service{Store: &dynamo.Store{DB: db, Table: table}, Secrets: &secretsmanager.Store{SM: smc}, Hasher: secrethash.New(), SecretPrefix: prefix}
	if _, _, err := svc.Create(ctx, "acme", module.CreateInput{Name: "example", DisplayName: "Example", ClientSecret: exampleSecret, Scopes: []string{"orders.read"}, ClientID: exampleClientID}, ""); err != nil {
		t.Fatal(err)
	}
	e.vars = append(os.Environ(), "AWS_ENDPOINT_URL="+e.moto, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1",
		"TABLE_NAME="+table, "SECRET_PREFIX="+prefix, "SIGNING_KEY_SECRET="+e.signingSecret, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=1024")
	return e
}

// emulator is one function running under aws-lambda-rie.
type emulator struct {
	cmd  *exec.Cmd
	url  string
	mu   sync.Mutex
	logs bytes.Buffer
}

func (m *emulator) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.logs.Write(p)
}
func (m *emulator) output() string { m.mu.Lock(); defer m.mu.Unlock(); return m.logs.String() }

func start(t *testing.T, e env, bootstrap string) *emulator {
	t.Helper()
	port, apiPort := freePort(t), freePort(t)
	args := []string{"--runtime-interface-emulator-address", "127.0.0.1:" + port, "--runtime-api-address", "127.0.0.1:" + apiPort}
	if e.runner != "" {
		args = append(args, e.runner)
	}
	m := &emulator{url: "http://127.0.0.1:" + port + "/2015-03-31/functions/function/invocations"}
	m.cmd = exec.Command(e.rie, append(args, bootstrap)...)
	m.cmd.Env, m.cmd.Stdout, m.cmd.Stderr = e.vars, m, m
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.cmd.Process.Kill(); _ = m.cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
			c.Close()
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("emulator did not listen:\n%s", m.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (m *emulator) invoke(t *testing.T, event []byte) []byte {
	t.Helper()
	resp, err := http.Post(m.url, "application/json", bytes.NewReader(event))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}

var (
	initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)
	// The emulator initialises on the first invoke, so REPORT's Duration
	// includes init; RTDONE's duration is the invocation alone.
	invokeDone = regexp.MustCompile(`INVOKE RTDONE\(status: \w+, produced bytes: \d+, duration: ([0-9.]+)ms\)`)
)

// measure returns the first init duration and the first invocation's duration.
func (m *emulator) measure() (initMs, firstMs float64) {
	out := m.output()
	if x := initReport.FindStringSubmatch(out); x != nil {
		initMs, _ = strconv.ParseFloat(x[1], 64)
	}
	if x := invokeDone.FindStringSubmatch(out); x != nil {
		firstMs, _ = strconv.ParseFloat(x[1], 64)
	}
	return
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
		return []byte(strings.ReplaceAll(s, exampleSecretID, e.signingSecret))
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
		{"ListModulesFunction", []step{{event: "list-modules.json", status: 200}, {event: "get-module.json", status: 200}}},
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
		m := start(t, e, bootstrap)
		for _, s := range p.steps {
			raw, err := os.ReadFile("../../events/" + s.event)
			if err != nil {
				t.Fatal(err)
			}
			if s.event == "rotate-create-secret.json" {
				// Secrets Manager first makes the pending version, then calls the function.
				raw = rotationEvent(t, e, raw)
			}
			out := m.invoke(t, subst(s.event, raw))
			if s.status != 0 {
				var resp struct {
					StatusCode      int    `json:"statusCode"`
					Body            string `json:"body"`
					IsBase64Encoded bool   `json:"isBase64Encoded"`
				}
				if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != s.status {
					t.Fatalf("%s %s: %s\nemulator log:\n%s", p.logicalID, s.event, out, m.output())
				}
				out = []byte(resp.Body)
				if resp.IsBase64Encoded {
					out, _ = base64.StdEncoding.DecodeString(resp.Body)
				}
			}
			if s.check != nil {
				if err := s.check(out); err != nil {
					t.Fatalf("%s %s: %v\nemulator log:\n%s", p.logicalID, s.event, err, m.output())
				}
			}
		}
		initMs, firstMs := m.measure()
		if initMs == 0 {
			t.Errorf("%s: no INIT REPORT in the emulator's log", p.logicalID)
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
	ev["SecretId"] = e.signingSecret
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

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/modules-service/modules/bench/loadgen"
)

// system is one token endpoint under test.
type system struct {
	name   string
	alg    string // the access tokens' JWS algorithm, checked on a token
	ours   bool
	cmd    *exec.Cmd
	target vegeta.Target
	cold   loadgen.Run // the cold burst right after start
}

// keycloakVersion is the one infra/bench-peers.sh fetches.
const keycloakVersion = "26.7.3"

// startOurs starts the local gateway with a signing key of alg and a
// module whose credentials the load uses.
func startOurs(o options, alg string) (*system, error) {
	base, port := loopback()
	const managerID, managerSecret = "bench-manager", "bench-manager-secret-0123456789"
	args := []string{"--addr", "127.0.0.1:" + port, "--token-alg", alg, "--no-throttle", "--credentials-file", "",
		"--bootstrap-tenant", "bench", "--bootstrap-client-id", managerID}
	cmd := o.command(o.gateway, append(args, strings.Fields(o.gatewayFlags)...)...)
	cmd.Env = append(os.Environ(), "BOOTSTRAP_CLIENT_SECRET="+managerSecret) // never on a command line
	s := &system{name: "this service " + alg, alg: alg, ours: true, cmd: cmd}
	if err := startLogged(cmd, filepath.Join(o.logs, "ours-"+alg+".log")); err != nil {
		return nil, err
	}
	if err := loadgen.WaitFor(base+"/.well-known/jwks.json", 30*time.Second); err != nil {
		return s, err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := loadgen.Post(base+"/oauth2/token", "grant_type=client_credentials", 200, &tok,
		"Authorization", loadgen.Basic(managerID, managerSecret), "Content-Type", "application/x-www-form-urlencoded"); err != nil {
		return s, err
	}
	var m struct {
		ClientID string `json:"clientId"`
	}
	if err := loadgen.Post(base+"/tenants/bench/modules", `{"name":"bench-client","displayName":"Bench client","clientSecret":"`+secret+`","scopes":["orders.read"]}`,
		201, &m, "Authorization", "Bearer "+tok.AccessToken, "Content-Type", "application/json"); err != nil {
		return s, err
	}
	s.target = loadgen.TokenTarget(base+"/oauth2/token", m.ClientID, secret)
	return s, nil
}

// startKeycloak starts Keycloak in development mode with its in-memory
// database, and a realm with a confidential client that may use the client
// credentials grant (a service account), its access tokens signed with
// alg: RS256 with the realm's generated RSA key, ES256 with a generated
// P-256 key (an ecdsa-generated key provider) named in the client's
// access.token.signed.response.alg.
func startKeycloak(o options, alg string) (*system, error) {
	base, port := loopback()
	const admin, adminPassword = "admin", "bench-admin-password-0123456789"
	cmd := o.command(filepath.Join(o.keycloak, "bin/kc.sh"), "start-dev", "--http-host", "127.0.0.1", "--http-port", port, "--db", "dev-mem")
	cmd.Env = append(os.Environ(), "JAVA_HOME="+o.javaHome, "KC_BOOTSTRAP_ADMIN_USERNAME="+admin, "KC_BOOTSTRAP_ADMIN_PASSWORD="+adminPassword)
	s := &system{name: "Keycloak " + keycloakVersion + " " + alg, alg: alg, cmd: cmd}
	if err := startLogged(cmd, filepath.Join(o.logs, "keycloak-"+alg+".log")); err != nil {
		return nil, err
	}
	// The first start on a fresh unpacking builds Keycloak for its
	// configuration (Quarkus augmentation): 4 minutes on a busy 2 vCPU.
	if err := loadgen.WaitFor(base+"/realms/master", 10*time.Minute); err != nil {
		return s, err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := loadgen.Post(base+"/realms/master/protocol/openid-connect/token", "grant_type=password&client_id=admin-cli&username="+admin+"&password="+adminPassword,
		200, &tok, "Content-Type", "application/x-www-form-urlencoded"); err != nil {
		return s, err
	}
	client := `{"clientId":"bench-client","secret":"` + secret + `","publicClient":false,"serviceAccountsEnabled":true,` +
		`"standardFlowEnabled":false,"directAccessGrantsEnabled":false,"clientAuthenticatorType":"client-secret",` +
		`"attributes":{"access.token.signed.response.alg":"` + alg + `"}}`
	calls := []struct{ path, body string }{{"/admin/realms", `{"id":"bench","realm":"bench","enabled":true}`}}
	if alg == "ES256" {
		calls = append(calls, struct{ path, body string }{"/admin/realms/bench/components",
			`{"name":"ecdsa-p256","providerId":"ecdsa-generated","providerType":"org.keycloak.keys.KeyProvider","parentId":"bench",` +
				`"config":{"priority":["200"],"enabled":["true"],"active":["true"],"ecdsaEllipticCurveKey":["P-256"]}}`})
	}
	calls = append(calls, struct{ path, body string }{"/admin/realms/bench/clients", client})
	for _, c := range calls {
		if err := loadgen.Post(base+c.path, c.body, 201, nil, "Authorization", "Bearer "+tok.AccessToken, "Content-Type", "application/json"); err != nil {
			return s, err
		}
	}
	s.target = loadgen.TokenTarget(base+"/realms/bench/protocol/openid-connect/token", "bench-client", secret)
	return s, nil
}

// startHydra starts Ory Hydra with its in-memory SQLite database and JWT
// access tokens (signed, as ours and Keycloak's are), and a client for the
// client credentials grant.
func startHydra(o options) (*system, error) {
	base, port := loopback()
	admin, adminPort := loopback()
	cmd := o.command(o.hydra, "serve", "all", "--dev")
	cmd.Env = append(os.Environ(), "DSN=memory", "SECRETS_SYSTEM=bench-system-secret-0123456789abcdef", "URLS_SELF_ISSUER="+base,
		"SERVE_PUBLIC_HOST=127.0.0.1", "SERVE_PUBLIC_PORT="+port, "SERVE_ADMIN_HOST=127.0.0.1", "SERVE_ADMIN_PORT="+adminPort,
		"STRATEGIES_ACCESS_TOKEN=jwt", "LOG_LEVEL=warn")
	s := &system{name: "Ory Hydra v2.3.0", alg: "RS256", cmd: cmd} // its default for JWT access tokens
	if err := startLogged(cmd, filepath.Join(o.logs, "hydra.log")); err != nil {
		return nil, err
	}
	if err := loadgen.WaitFor(admin+"/health/ready", time.Minute); err != nil {
		return s, err
	}
	var c struct {
		ClientID string `json:"client_id"`
	}
	if err := loadgen.Post(admin+"/admin/clients", `{"client_secret":"`+secret+`","grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_basic"}`,
		201, &c, "Content-Type", "application/json"); err != nil {
		return s, err
	}
	s.target = loadgen.TokenTarget(base+"/oauth2/token", c.ClientID, secret)
	return s, nil
}

// loopback is a free port on 127.0.0.1 and its base URL.
func loopback() (base, port string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	_, port, _ = net.SplitHostPort(l.Addr().String())
	return "http://127.0.0.1:" + port, port
}

// startLogged starts cmd in a process group of its own (so that stop ends
// a JVM a script started too), its output to a log file.
func startLogged(cmd *exec.Cmd, log string) error {
	f, err := os.Create(log)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	go func() { _ = cmd.Wait(); f.Close() }()
	return nil
}

func stop(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	for i := 0; i < 100 && syscall.Kill(cmd.Process.Pid, 0) == nil; i++ {
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}

// command runs name with args, on the systems' CPUs when they are set.
func (o options) command(name string, args ...string) *exec.Cmd {
	if o.systemCPUs == 0 {
		return exec.Command(name, args...)
	}
	return exec.Command("taskset", append([]string{"-c", fmt.Sprintf("0-%d", o.systemCPUs-1), name}, args...)...)
}

// checkAlg asks s for a token and fails unless its JWS header names s's
// algorithm: a comparison "on the same algorithm" must be one.
func checkAlg(s *system) error {
	req, err := s.target.Request()
	if err != nil {
		return err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := loadgen.Do(req, 200, &tok); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	head, _, _ := strings.Cut(tok.AccessToken, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return fmt.Errorf("%s: access token header: %w", s.name, err)
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return fmt.Errorf("%s: access token header: %w", s.name, err)
	}
	if h.Alg != s.alg {
		return fmt.Errorf("%s: access token signed %s, want %s", s.name, h.Alg, s.alg)
	}
	return nil
}

// Command local runs the whole API on 127.0.0.1:3000 like `sam local
// start-api`, without Docker: routes, functions and authorizer come from
// template.yaml; see internal/localgateway and README.md.
//
//	go run ./infra/local [--addr 127.0.0.1:3000] [--data-dir .local] [--aws]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/modules-service/modules/internal/config"
	"github.com/modules-service/modules/internal/localgateway"
	"github.com/modules-service/modules/internal/obs"
)

func main() {
	flag.CommandLine.Init("local", flag.ExitOnError) // not go run's build-cache path
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: make run ARGS=\"[flags]\"   or   go run ./infra/local [flags]")
		flag.PrintDefaults()
		fmt.Fprintln(flag.CommandLine.Output(), "environment:\n  BOOTSTRAP_CLIENT_SECRET\n    \tclient secret of the bootstrap manager (default: generated); no flag takes a secret")
	}
	var o localgateway.Options
	credsFile := flag.String("credentials-file", ".local/credentials.json", "write the API URL, tenant and bootstrap manager's credentials here as JSON (mode 0600) for scripts; empty: do not")
	addr := flag.String("addr", "127.0.0.1:3000", "address to listen on")
	flag.StringVar(&o.Template, "template", "template.yaml", "SAM template to read routes and functions from")
	flag.StringVar(&o.DataDir, "data-dir", "", "keep the embedded table, secret hashes and signing key here across restarts")
	flag.BoolVar(&o.AWS, "aws", os.Getenv("AWS_ENDPOINT_URL") != "", "use the AWS services of the default SDK configuration (on by default when AWS_ENDPOINT_URL is set)")
	flag.StringVar(&o.Table, "table", "modules-local", "DynamoDB table (created if missing)")
	flag.StringVar(&o.SecretPrefix, "secret-prefix", "modules-local/modules", "name prefix of secret hashes")
	flag.StringVar(&o.SigningKeySecret, "signing-key-secret", "", "with --aws: the signing-key secret; empty: a key generated at start")
	flag.StringVar(&o.PublicKeysSecret, "public-keys-secret", "", "with --signing-key-secret: the secret its rotation publishes the public keys to")
	flag.StringVar(&o.TokenAlgorithm, "token-alg", "RS256", "access-token signing algorithm, RS256 or ES256, as the template's AccessTokenAlgorithm")
	flag.IntVar(&o.MemoryLimitMiB, "memory-limit", 256, "run the handlers with the functions' collector setting (GOGC 400) under a soft memory limit of this many MiB for the whole process, which holds every instance; 0: Go's defaults")
	flag.BoolVar(&o.NoThrottle, "no-throttle", false, "turn API Gateway's route throttling (TokenRateLimit, ManagementRateLimit) and the per-address limits (EdgeTokenLimit, EdgeManagementLimit) off, for load measurements")
	flag.BoolVar(&o.NoEdgeLimit, "no-edge-limit", false, "turn only the per-address limits of the web ACL (EdgeTokenLimit, EdgeManagementLimit) off, for tools that send much from one address")
	flag.DurationVar(&o.ClientCacheTTL, "client-cache", config.DefaultClientCache, "how long the token endpoint and the authorizer trust what they read of a module (0: no cache), as ClientCacheSeconds")
	flag.StringVar(&o.Bootstrap.Tenant, "bootstrap-tenant", envOr("BOOTSTRAP_TENANT", "demo"), "tenant whose first manager is ensured at start")
	flag.StringVar(&o.Bootstrap.ClientID, "bootstrap-client-id", os.Getenv("BOOTSTRAP_CLIENT_ID"), "client ID of that manager (default: generated)")
	var level slog.Level
	flag.TextVar(&level, "log-level", slog.LevelInfo, "DEBUG, INFO, WARN or ERROR: one line per request at INFO")
	origins := flag.String("cors-origins", "", "comma-separated origins allowed by CORS, replacing the default: the template's PortalOrigins and any http://localhost:<port> or http://127.0.0.1:<port>")
	flag.Parse()
	// The manager's secret comes from the environment only, never from a
	// flag: a command line is readable by every user of the machine (ps,
	// /proc/<pid>/cmdline), a process's environment by its owner only.
	o.Bootstrap.ClientSecret = os.Getenv("BOOTSTRAP_CLIENT_SECRET")
	if *origins != "" {
		o.CORSOrigins = strings.Split(*origins, ",")
	}

	// Readable lines for a person: the EMF metadata that CloudWatch reads
	// out of the functions' lines is left out here.
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == "_aws" || a.Key == obs.MetricRequests || a.Key == obs.MetricDuration {
			return slog.Attr{}
		}
		return a
	}}))
	o.Log, o.Issuer = log, "http://"+*addr
	// The port first: a second make run on a taken port must fail before it
	// makes a manager, prints credentials or touches the credentials file,
	// or the running gateway's credentials would be lost.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "local: cannot listen on %s: %v\n%s", *addr, err, taken(*addr, *credsFile))
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stack, err := localgateway.Start(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
	defer stack.Close()
	srv := &http.Server{Addr: *addr, Handler: stack.Handler, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	printBanner(o, stack, *addr)
	if *credsFile != "" {
		if err := writeCredentials(*credsFile, "http://"+*addr, stack.Manager); err != nil {
			fmt.Fprintln(os.Stderr, "local:", err)
		}
	}
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "local:", err)
		stack.Close()
		os.Exit(1)
	}
}

// taken says what holds addr's port, as far as this machine tells, and
// how to reach the gateway that probably runs there.
func taken(addr, credsFile string) string {
	_, port, _ := net.SplitHostPort(addr)
	msg := ""
	if pid, cmd := holder(port); pid != "" {
		msg = fmt.Sprintf("  process %s (%s) holds port %s\n", pid, cmd, port)
	}
	if credsFile != "" {
		if _, err := os.Stat(credsFile); err == nil {
			msg += fmt.Sprintf("  if it is another make run, its credentials are in %s, untouched\n", credsFile)
		}
	}
	return msg + fmt.Sprintf("  stop it, or run on another port: make run ARGS='--addr 127.0.0.1:<port>'\n")
}

// holder finds the process listening on a TCP port through /proc (Linux;
// elsewhere, or without the right to look, it says nothing).
func holder(port string) (pid, cmd string) {
	p, err := strconv.Atoi(port)
	if err != nil {
		return "", ""
	}
	inodes := map[string]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, _ := os.ReadFile(table)
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			// local address HEX:PORT, state 0A is LISTEN, inode at 9
			if len(f) > 9 && f[3] == "0A" && strings.HasSuffix(f[1], fmt.Sprintf(":%04X", p)) {
				inodes["socket:["+f[9]+"]"] = true
			}
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, fd := range procs {
		if target, err := os.Readlink(fd); err == nil && inodes[target] {
			pid = strings.Split(fd, "/")[2]
			c, _ := os.ReadFile("/proc/" + pid + "/comm")
			return pid, strings.TrimSpace(string(c))
		}
	}
	return "", ""
}

func printBanner(o localgateway.Options, s *localgateway.Stack, addr string) {
	m := s.Manager
	// The link is the one way into the page as the bootstrap manager
	// without a secret; it goes to the terminal only, never to a log line.
	if link := s.SignInURL("http://" + loopbackAddr(addr)); link != "" {
		fmt.Printf("Modules page: open %s\n  (signs this browser in as the bootstrap manager; the link works once, a reload keeps the session)\n", link)
	} else {
		fmt.Printf("Modules page on http://%s/portal/\n", addr)
	}
	fmt.Printf("Modules API on http://%s (%s)\n", addr, s.Mode)
	fmt.Printf("  issuer        %s\n  token         POST http://%s/oauth2/token\n", o.Issuer, addr)
	fmt.Printf("bootstrap manager of tenant %q\n  client_id     %s\n", m.TenantID, m.ClientID)
	switch {
	case o.Bootstrap.ClientSecret != "":
		// Given, not generated: not repeated into the terminal or a log
		// file that captures it (the benchmarks keep theirs).
		fmt.Println("  client_secret (from BOOTSTRAP_CLIENT_SECRET)")
	case m.ClientSecret != "" && m.Created:
		fmt.Printf("  client_secret %s\n  (shown once; a secret can never be displayed again)\n", m.ClientSecret)
	case m.ClientSecret == "":
		fmt.Println("  client_secret (existing manager: shown when it was created)")
	}
}

// writeCredentials saves what a script needs to call the API as the
// bootstrap manager (README.md's wizard reads it with jq). An existing
// manager's secret is unknown: the file is then left as it is, and a
// lost secret is recovered as docs/development.md, "Running locally", says.
func writeCredentials(path, api string, m localgateway.Manager) error {
	if m.ClientSecret == "" {
		fmt.Printf("  (%s left as it is: this manager's secret was shown when it was created)\n", path)
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, _ := json.Marshal(map[string]string{"api": api, "tenant": m.TenantID, "clientId": m.ClientID, "clientSecret": m.ClientSecret})
	// 0600 even over an older, looser file: see WritePrivateFile.
	if err := localgateway.WritePrivateFile(path, append(b, '\n')); err != nil {
		return err
	}
	fmt.Printf("  credentials   %s (for scripts)\n", path)
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// loopbackAddr is addr as a browser on this machine reaches it: a wildcard
// address (":3000", "0.0.0.0:3000") as 127.0.0.1, since the gateway
// answers loopback names only.
func loopbackAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err == nil && (host == "" || ip != nil && ip.IsUnspecified()) {
		return net.JoinHostPort("127.0.0.1", port)
	}
	return addr
}

// Command local runs the whole API on 127.0.0.1:3000 like `sam local
// start-api`, without Docker: routes, functions and authorizer come from
// template.yaml; see internal/localstack and README.md.
//
//	go run ./infra/local [--addr 127.0.0.1:3000] [--data-dir .local] [--aws]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/modules-service/modules/internal/config"
	"github.com/modules-service/modules/internal/localstack"
)

func main() {
	var o localstack.Options
	addr := flag.String("addr", "127.0.0.1:3000", "address to listen on")
	flag.StringVar(&o.Template, "template", "template.yaml", "SAM template to read routes and functions from")
	flag.StringVar(&o.DataDir, "data-dir", "", "keep the embedded table, secret hashes and signing key here across restarts")
	flag.BoolVar(&o.AWS, "aws", os.Getenv("AWS_ENDPOINT_URL") != "", "use the AWS services of the default SDK configuration (on by default when AWS_ENDPOINT_URL is set)")
	flag.StringVar(&o.Table, "table", "modules-local", "DynamoDB table (created if missing)")
	flag.StringVar(&o.SecretPrefix, "secret-prefix", "modules-local/modules", "name prefix of secret hashes")
	flag.StringVar(&o.SigningKeySecret, "signing-key-secret", "", "with --aws: the signing-key secret; empty: a key generated at start")
	flag.StringVar(&o.PublicKeysSecret, "public-keys-secret", "", "with --signing-key-secret: the secret its rotation publishes the public keys to")
	flag.DurationVar(&o.ClientCacheTTL, "client-cache", config.DefaultClientCache, "how long the token endpoint and the authorizer trust what they read of a module (0: no cache), as ClientCacheSeconds")
	flag.StringVar(&o.Bootstrap.Tenant, "bootstrap-tenant", envOr("BOOTSTRAP_TENANT", "demo"), "tenant whose first manager is ensured at start")
	flag.StringVar(&o.Bootstrap.ClientID, "bootstrap-client-id", os.Getenv("BOOTSTRAP_CLIENT_ID"), "client ID of that manager (default: generated)")
	flag.StringVar(&o.Bootstrap.ClientSecret, "bootstrap-client-secret", os.Getenv("BOOTSTRAP_CLIENT_SECRET"), "client secret of that manager (default: generated)")
	origins := flag.String("cors-origins", "", "comma-separated origins allowed by CORS, replacing the default: the template's PortalOrigins and any http://localhost:<port> or http://127.0.0.1:<port>")
	flag.Parse()
	if *origins != "" {
		o.CORSOrigins = strings.Split(*origins, ",")
	}

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	o.Log, o.Issuer = log, "http://"+*addr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stack, err := localstack.Start(ctx, o)
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
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "local:", err)
		stack.Close()
		os.Exit(1)
	}
}

func printBanner(o localstack.Options, s *localstack.Stack, addr string) {
	m := s.Manager
	fmt.Printf("Modules page on http://%s/portal/ (signed in as the bootstrap manager)\n", addr)
	fmt.Printf("Modules API on http://%s (%s)\n", addr, s.Mode)
	fmt.Printf("  issuer        %s\n  token         POST http://%s/oauth2/token\n", o.Issuer, addr)
	fmt.Printf("bootstrap manager of tenant %q\n  client_id     %s\n", m.TenantID, m.ClientID)
	switch {
	case m.ClientSecret != "" && m.Created:
		fmt.Printf("  client_secret %s\n  (shown once; a secret can never be displayed again)\n", m.ClientSecret)
	case m.ClientSecret == "":
		fmt.Println("  client_secret (existing manager: shown when it was created)")
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

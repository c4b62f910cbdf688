//go:build deployed

package localgateway_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/modules-service/modules/internal/config"
	"github.com/modules-service/modules/internal/localgateway"
	"github.com/modules-service/modules/internal/wiring"
)

// deployment is .aws-sam/local-deploy.json, written by `make deploy-local`.
type deployment struct {
	Endpoint, Host, Stack, TableName, SecretPrefix, Tenant string
	ManagerClientID                                        string `json:"managerClientId"`
	ManagerClientSecret                                    string `json:"managerClientSecret"`
	SigningKeySecret                                       string `json:"signingKeySecret"`
	ClientCacheSeconds                                     int    `json:"clientCacheSeconds"`
	TokenLifetimeSeconds                                   int    `json:"tokenLifetimeSeconds"`
	EdgeOriginSecret                                       string `json:"edgeOriginSecret"` // empty: no edge
}

// deployed reads the deployment named by DEPLOYED and points the AWS SDK
// and every HTTP client of the test at the emulator.
func deployed(t *testing.T) deployment {
	t.Helper()
	path := os.Getenv("DEPLOYED")
	if path == "" {
		t.Fatal("-tags deployed needs DEPLOYED=<path of local-deploy.json> (make deploy-local writes .aws-sam/local-deploy.json)")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d deployment
	if err := json.Unmarshal(raw, &d); err != nil || d.Host == "" || d.Endpoint == "" {
		t.Fatalf("%s: %v %+v", path, err, d)
	}
	for k, v := range map[string]string{"AWS_ENDPOINT_URL": d.Endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1"} {
		t.Setenv(k, v)
	}
	return d
}

// The API's host, <api>.execute-api.localhost:<port>, is the emulator on
// loopback (as a browser resolves *.localhost): tests call the base URL
// https://<that host> would be in AWS, and the Host header follows.
func init() {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	http.DefaultTransport.(*http.Transport).DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, port, err := net.SplitHostPort(addr); err == nil && strings.HasSuffix(host, ".localhost") {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
		return dialer.DialContext(ctx, network, addr)
	}
}

// open points one end-to-end test at the deployed stack. New tenants'
// managers are made as an operator does (infra/admin create-manager),
// against the stack's table and secrets.
func open(t *testing.T) target {
	d := deployed(t)
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	svc := wiring.FromAWS(config.Config{Table: d.TableName, SecretPrefix: d.SecretPrefix}, awsCfg).Service()
	host, _, _ := strings.Cut(d.Host, ":")
	return target{base: "http://" + d.Host, origin: "https://" + host, unauthorized: 500, bound: time.Duration(d.ClientCacheSeconds) * time.Second,
		manager: func(t *testing.T, tenant string) localgateway.Manager {
			t.Helper()
			m, err := localgateway.CreateManager(context.Background(), svc, localgateway.Bootstrap{Tenant: tenant})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}}
}

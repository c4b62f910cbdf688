//go:build !deployed

package localgateway_test

import (
	"context"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/modules-service/modules/internal/localgateway"
)

// open starts the local gateway for one end-to-end test, with the portal
// origin of samconfig.toml's local environment.
func open(t *testing.T) target {
	const bound = 300 * time.Millisecond
	s, base := serve(t, localgateway.Options{ClientCacheTTL: bound, CORSOrigins: []string{"http://localhost:5173"}})
	return target{base: base, origin: base, unauthorized: 401, bound: bound, manager: func(t *testing.T, tenant string) localgateway.Manager {
		t.Helper()
		m, err := s.CreateManager(context.Background(), localgateway.Bootstrap{Tenant: tenant})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}}
}

// The local gateway makes the bootstrap manager it is given, and its
// credentials get a token.
func TestBootstrapManager(t *testing.T) {
	s, base := serve(t, localgateway.Options{Bootstrap: localgateway.Bootstrap{Tenant: "acme", ClientID: "acme-manager", ClientSecret: "acme-manager-secret-1"}})
	if s.Manager.ClientID != "acme-manager" || s.Manager.TenantID != "acme" || !s.Manager.Created {
		t.Fatalf("bootstrap manager %+v", s.Manager)
	}
	token(t, base, "acme-manager", "acme-manager-secret-1", oauth2.AuthStyleInHeader)
}

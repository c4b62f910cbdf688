package dynamo_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/modules-service/modules/internal/federation"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/testing/testenv"
)

// The federated credentials are stored on the module item and the client
// pointer, and a patch that removes them removes them from both.
func TestFederatedCredentialsAreStored(t *testing.T) {
	testenv.AllWithService(t, func(t *testing.T, ctx context.Context, svc *module.Service, b testenv.Backend) {
		svc.FederatedIssuers = []string{"https://token.actions.githubusercontent.com"}
		creds := []federation.Credential{{Issuer: "https://token.actions.githubusercontent.com", Subject: "repo:acme/billing:ref:refs/heads/main", Audience: "modules"}}
		c, _, err := svc.Create(ctx, "acme", module.CreateInput{Name: "billing", DisplayName: "Billing", ClientSecret: "Known-Secret-4711-xyz",
			TokenEndpointAuthMethods: []string{module.AuthPrivateKeyJWT}, FederatedCredentials: creds}, "")
		if err != nil {
			t.Fatal(err)
		}
		got, err := svc.Get(ctx, "acme", c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(creds, got.FederatedCredentials); diff != "" {
			t.Errorf("module's credentials (-want +got):\n%s", diff)
		}
		client, err := b.Clients().Client(ctx, c.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(creds, client.FederatedCredentials); diff != "" || !client.Federated() {
			t.Errorf("client pointer's credentials (-want +got):\n%s (Federated %v)", diff, client.Federated())
		}
		patch := module.Patch{"federatedCredentials": []byte("null"), "tokenEndpointAuthMethods": []byte("null")}
		if u, err := svc.Update(ctx, "acme", c.ID, patch, 0); err != nil {
			t.Fatal(err)
		} else if len(u.FederatedCredentials) != 0 {
			t.Errorf("Update returned %v, want none", u.FederatedCredentials)
		}
		got, _ = svc.Get(ctx, "acme", c.ID)
		client, _ = b.Clients().Client(ctx, c.ClientID)
		if len(got.FederatedCredentials) != 0 || got.FederatedCredentials == nil || len(client.FederatedCredentials) != 0 {
			t.Errorf("after removing them: module %#v, pointer %#v; want [] and none", got.FederatedCredentials, client.FederatedCredentials)
		}
	})
}

package module_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/modules-service/modules/internal/federation"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/testing/testenv"
)

// TestFederatedIssuerDroppedByTheOperator: a module keeps a credential
// whose issuer the operator has since dropped and stays editable (the
// token endpoint refuses that issuer's tokens), but no credential of that
// issuer can be added; private_key_jwt with federated credentials and no
// key is a valid module.
func TestFederatedIssuerDroppedByTheOperator(t *testing.T) {
	ctx := context.Background()
	svc := testenv.Embedded(t).Service()
	const gh, eks = "https://token.actions.githubusercontent.com", "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC"
	svc.FederatedIssuers = []string{gh, eks}
	kept := federation.Credential{Issuer: eks, Subject: "system:serviceaccount:billing:exporter", Audience: "modules"}
	c, _, err := svc.Create(ctx, "acme", module.CreateInput{Name: "exporter", DisplayName: "Exporter", ClientSecret: "Known-Secret-4711-xyz",
		TokenEndpointAuthMethods: []string{module.AuthPrivateKeyJWT}, FederatedCredentials: []federation.Credential{kept}}, "")
	if err != nil {
		t.Fatalf("a key-less private_key_jwt module with a federated credential: %v", err)
	}
	svc.FederatedIssuers = []string{gh}
	if _, err := svc.Update(ctx, "acme", c.ID, module.Patch{"displayName": json.RawMessage(`"Exporter (EKS)"`)}, 0); err != nil {
		t.Errorf("renaming a module whose issuer was dropped: %v", err)
	}
	added := kept
	added.Subject = "system:serviceaccount:billing:other"
	b, _ := json.Marshal([]federation.Credential{kept, added})
	_, err = svc.Update(ctx, "acme", c.ID, module.Patch{"federatedCredentials": b}, 0)
	if err == nil || !strings.Contains(err.Error(), "federatedCredentials[1].issuer") || strings.Contains(err.Error(), "federatedCredentials[0]") {
		t.Errorf("adding a credential of a dropped issuer: %v, want federatedCredentials[1].issuer refused alone", err)
	}
}

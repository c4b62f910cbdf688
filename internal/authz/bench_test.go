package authz_test

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/modules-service/modules/internal/module"
)

// BenchmarkAuthorizeOwnToken is the warm decision on this service's own
// manager token: signature check, claims, the module read from the warm
// client cache, and the rights it hands on.
func BenchmarkAuthorizeOwnToken(b *testing.B) {
	f := newFixture(b)
	c, _, err := f.svc.Create(context.Background(), "acme", module.CreateInput{Name: "manager", DisplayName: "Manager", ClientSecret: secret, Scopes: []string{module.ScopeManage}}, "")
	if err != nil {
		b.Fatal(err)
	}
	auth := "Bearer " + f.issue(b, c, "")
	e := events.APIGatewayV2CustomAuthorizerV2Request{Version: "2.0", Type: "REQUEST",
		Headers: map[string]string{"authorization": auth}, IdentitySource: []string{auth}}
	ctx := context.Background()
	if d, err := f.authz.Authorize(ctx, e); err != nil || !d.IsAuthorized {
		b.Fatalf("refused: %v", err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if d, _ := f.authz.Authorize(ctx, e); !d.IsAuthorized {
			b.Fatal("refused")
		}
	}
}

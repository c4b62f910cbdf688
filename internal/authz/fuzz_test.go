package authz_test

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// FuzzAuthorize: no Authorization header, however malformed, is allowed or
// makes the authorizer fail.
func FuzzAuthorize(f *testing.F) {
	f.Add("Bearer eyJhbGciOiJub25lIn0.e30.")
	f.Add("Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6IngifQ.eyJpc3MiOiJodHRwczovL2FwaS5leGFtcGxlLnRlc3QifQ.AAAA")
	f.Add("Bearer a.b.c.d.e")
	f.Add("Basic YTpi")
	f.Add("Bearer ")
	fx := newFixture(f)
	f.Fuzz(func(t *testing.T, header string) {
		d, err := fx.authz.Authorize(context.Background(), events.APIGatewayV2CustomAuthorizerV2Request{Headers: map[string]string{"authorization": header}})
		if err != nil || d.IsAuthorized {
			t.Fatalf("header %q: authorized=%v err=%v", header, d.IsAuthorized, err)
		}
	})
}

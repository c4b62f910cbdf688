//go:build deployed

package localgateway_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/modules-service/modules/internal/edge"
	"github.com/modules-service/modules/internal/oauth"
)

// TestDeployedViewerAddress: the deployed token function, through the
// emulator's API Gateway and the Lambda adapter, counts a request that
// carries the stack's origin secret under its CloudFront-Viewer-Address.
// Every request here comes from one TCP peer, 127.0.0.1, as all of
// CloudFront's viewers behind one edge server would: a guesser's viewer is
// throttled, the owner's is not. (ministack sends no traffic through
// CloudFront, so the test sends what CloudFront would.)
func TestDeployedViewerAddress(t *testing.T) {
	d := deployed(t)
	if d.EdgeOriginSecret == "" {
		t.Skip("the stack has no edge (EdgeRateLimiting=disabled)")
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out, err := sm.NewFromConfig(awsCfg).GetSecretValue(context.Background(), &sm.GetSecretValueInput{SecretId: aws.String(d.EdgeOriginSecret)})
	if err != nil {
		t.Fatal(err)
	}
	origin := aws.ToString(out.SecretString)

	tg := open(t)
	acme, manager, _ := tg.managerToken(t, "edge")
	created := call(t, "POST", tg.base+"/tenants/"+acme+"/modules", manager, `{"name":"edge","displayName":"Edge","clientSecret":"`+secret+`"}`)
	if created.status != 201 {
		t.Fatalf("create: %d %v", created.status, created.body)
	}
	clientID := created.body["clientId"].(string)
	viaEdge := func(viewer, clientSecret string) int {
		req, _ := http.NewRequest("POST", tg.base+"/oauth2/token", strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(edge.OriginSecretHeader, origin)
		req.Header.Set(edge.ViewerAddressHeader, viewer+":40000")
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(clientSecret))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := range oauth.MaxPerSource + 1 {
		if st, want := viaEdge("198.51.100.7", "guess-guess-guess-guess"), map[bool]int{true: 401, false: 429}[i < oauth.MaxPerSource]; st != want {
			t.Fatalf("guess %d from viewer 198.51.100.7: %d, want %d", i, st, want)
		}
	}
	if st := viaEdge("203.0.113.9", secret); st != 200 {
		t.Errorf("the owner from viewer 203.0.113.9 through the same peer: %d, want 200", st)
	}
}

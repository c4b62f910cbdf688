//go:build deployed

package localgateway_test

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"golang.org/x/oauth2"
)

// jwtHeaderAndClaims decodes a token's header and claims, unverified: the
// deployed authorizer is what verifies it here.
func jwtHeaderAndClaims(t *testing.T, tok string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(raw, dst) != nil {
			t.Fatalf("JWT part %d: %v", i, err)
		}
	}
	return header, claims
}

// TestDeployedKeyRotation rotates the signing key through Secrets Manager,
// as its schedule does: tokens signed before still pass the authorizer,
// new tokens carry the new kid (within KeyCacheSeconds) and the algorithm
// of the stack's AccessTokenAlgorithm (WANT_TOKEN_ALG, default RS256), the
// JWKS lists both keys, and the secret's stages are AWS's.
func TestDeployedKeyRotation(t *testing.T) {
	d := deployed(t)
	base := "http://" + d.Host
	modules := base + "/tenants/" + d.Tenant + "/modules"
	before := token(t, base, d.ManagerClientID, d.ManagerClientSecret, oauth2.AuthStyleInHeader)
	h, _ := jwtHeaderAndClaims(t, before)
	oldKid, _ := h["kid"].(string)
	if a := call(t, "GET", modules, before, ""); a.status != 200 {
		t.Fatalf("before rotation: %d", a.status)
	}

	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	client := sm.NewFromConfig(awsCfg)
	if _, err := client.RotateSecret(context.Background(), &sm.RotateSecretInput{SecretId: aws.String(d.SigningKeySecret)}); err != nil {
		t.Fatalf("RotateSecret: %v", err)
	}
	var after, newKid string
	for deadline := time.Now().Add(30 * time.Second); newKid == "" || newKid == oldKid; time.Sleep(250 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("30 s after RotateSecret new tokens still carry kid %s", oldKid)
		}
		after = token(t, base, d.ManagerClientID, d.ManagerClientSecret, oauth2.AuthStyleInHeader)
		h, _ := jwtHeaderAndClaims(t, after)
		newKid, _ = h["kid"].(string)
	}
	wantAlg := cmp.Or(os.Getenv("WANT_TOKEN_ALG"), "RS256")
	if h, _ := jwtHeaderAndClaims(t, after); h["alg"] != wantAlg {
		t.Errorf("token after the rotation signed with %v, want %s", h["alg"], wantAlg)
	}
	for name, tok := range map[string]string{"signed before the rotation": before, "signed after": after} {
		if a := call(t, "GET", modules, tok, ""); a.status != 200 {
			t.Errorf("token %s: %d, want 200", name, a.status)
		}
	}
	var kids []string
	for _, k := range call(t, "GET", base+"/.well-known/jwks.json", "", "").body["keys"].([]any) {
		kids = append(kids, k.(map[string]any)["kid"].(string))
	}
	if !slices.Contains(kids, oldKid) || !slices.Contains(kids, newKid) {
		t.Errorf("JWKS kids %v, want %s (previous) and %s (current)", kids, oldKid, newKid)
	}
	desc, err := client.DescribeSecret(context.Background(), &sm.DescribeSecretInput{SecretId: aws.String(d.SigningKeySecret)})
	if err != nil {
		t.Fatal(err)
	}
	var current, previous, pending int
	for _, stages := range desc.VersionIdsToStages {
		for _, s := range stages {
			switch s {
			case "AWSCURRENT":
				current++
			case "AWSPREVIOUS":
				previous++
			case "AWSPENDING":
				pending++
			}
		}
	}
	if current != 1 || previous != 1 || pending != 0 || !aws.ToBool(desc.RotationEnabled) {
		t.Errorf("after rotation: %d AWSCURRENT, %d AWSPREVIOUS, %d AWSPENDING, rotation enabled %v; want 1, 1, 0, true",
			current, previous, pending, aws.ToBool(desc.RotationEnabled))
	}
}

// TestDeployedTokenLifetime: tokens live as long as the stack's
// TokenLifetimeSeconds says; after a redeploy that changes it, the new
// value (WANT_TOKEN_LIFETIME, when the deployment layer sets it).
func TestDeployedTokenLifetime(t *testing.T) {
	d := deployed(t)
	want := d.TokenLifetimeSeconds
	if v := os.Getenv("WANT_TOKEN_LIFETIME"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n != want {
			t.Fatalf("the stack's TokenLifetimeSeconds is %d, want %s", want, v)
		}
	}
	req, _ := http.NewRequest("POST", "http://"+d.Host+"/oauth2/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(d.ManagerClientID, d.ManagerClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != 200 {
		t.Fatalf("token: %d %v", resp.StatusCode, err)
	}
	if tok.ExpiresIn != want {
		t.Errorf("expires_in %d, want %d", tok.ExpiresIn, want)
	}
	_, claims := jwtHeaderAndClaims(t, tok.AccessToken)
	if exp, iat := claims["exp"].(float64), claims["iat"].(float64); int(exp-iat) != want {
		t.Errorf("exp - iat = %v, want %d", exp-iat, want)
	}
}

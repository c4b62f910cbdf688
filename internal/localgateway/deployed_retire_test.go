//go:build deployed

package localgateway_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TestDeployedKeyRetirement runs docs/operations.md's command for a leaked
// current key, as written (infra/admin retire-previous-key --rotate, with
// the stack's outputs): a token signed by the leaked key is refused by the
// deployed authorizer within KeyCacheSeconds, the JWKS no longer lists the
// key, and new tokens pass.
func TestDeployedKeyRetirement(t *testing.T) {
	d := deployed(t)
	var extra struct {
		PublicKeysSecret string `json:"publicKeysSecret"`
		KeyCacheSeconds  int    `json:"keyCacheSeconds"`
	}
	raw, _ := os.ReadFile(os.Getenv("DEPLOYED"))
	if err := json.Unmarshal(raw, &extra); err != nil || extra.PublicKeysSecret == "" || extra.KeyCacheSeconds == 0 {
		t.Fatalf("%s lacks publicKeysSecret or keyCacheSeconds (make deploy-local writes them): %v", os.Getenv("DEPLOYED"), err)
	}
	base := "http://" + d.Host
	modules := base + "/tenants/" + d.Tenant + "/modules"
	leaked := token(t, base, d.ManagerClientID, d.ManagerClientSecret, oauth2.AuthStyleInHeader)
	h, _ := jwtHeaderAndClaims(t, leaked)
	leakedKid, _ := h["kid"].(string)
	if a := call(t, "GET", modules, leaked, ""); a.status != 200 {
		t.Fatalf("before: %d", a.status)
	}

	cmd := exec.Command("go", "run", "./infra/admin", "retire-previous-key", "--rotate",
		"--signing-key-secret", d.SigningKeySecret, "--public-keys-secret", extra.PublicKeysSecret)
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("retire-previous-key: %v\n%s", err, out)
	}
	retired := time.Now()
	t.Logf("%s", out)

	bound := time.Duration(extra.KeyCacheSeconds) * time.Second
	for status := 200; status == 200; status = call(t, "GET", modules, leaked, "").status {
		if time.Since(retired) > bound+5*time.Second { // a request's own time on the emulator beside the cache
			t.Fatalf("a token of the retired key still passes %s after retire-previous-key (KeyCacheSeconds %d)", time.Since(retired).Round(time.Millisecond), extra.KeyCacheSeconds)
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("the retired key's token refused %s after the command (KeyCacheSeconds %d)", time.Since(retired).Round(time.Millisecond), extra.KeyCacheSeconds)
	if a := call(t, "GET", modules, leaked, ""); a.status != 403 {
		t.Errorf("the retired key's token: %d, want 403", a.status)
	}

	var fresh string
	for deadline := time.Now().Add(bound + 10*time.Second); ; time.Sleep(250 * time.Millisecond) {
		fresh = token(t, base, d.ManagerClientID, d.ManagerClientSecret, oauth2.AuthStyleInHeader)
		if h, _ := jwtHeaderAndClaims(t, fresh); h["kid"] != leakedKid {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("new tokens still carry the retired kid %s", leakedKid)
		}
	}
	if a := call(t, "GET", modules, fresh, ""); a.status != 200 {
		t.Errorf("a token of the new key: %d, want 200", a.status)
	}
	jwks := func() (kids []string) {
		for _, k := range call(t, "GET", base+"/.well-known/jwks.json", "", "").body["keys"].([]any) {
			kids = append(kids, k.(map[string]any)["kid"].(string))
		}
		return kids
	}
	for kids := jwks(); slices.Contains(kids, leakedKid) || len(kids) != 1; kids = jwks() {
		if time.Since(retired) > bound+5*time.Second { // instances that loaded between rotation and retirement
			t.Fatalf("JWKS kids %v %s after the command; want the new key alone, not %s", kids, time.Since(retired).Round(time.Millisecond), leakedKid)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

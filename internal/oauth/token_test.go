package oauth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"

	"github.com/google/go-cmp/cmp"

	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/oauth"
	"github.com/modules-service/modules/internal/secrethash"

	"github.com/modules-service/modules/internal/testing/testenv"
)

func TestTokenRequests(t *testing.T) {
	f := newFixture(t)
	c := f.module(t, "billing", trickySecret, "orders.read", "orders.write")
	id := c.ClientID
	tests := []struct {
		name      string
		form      string
		basic     []string
		mutate    func(*http.Request)
		status    int
		errCode   string
		challenge bool
		scope     string
	}{
		{name: "client_secret_basic with a secret needing form-urlencoding", form: form("grant_type", "client_credentials"), basic: []string{id, trickySecret}, status: 200, scope: "orders.read orders.write"},
		{name: "client_secret_post", form: form("grant_type", "client_credentials", "client_id", id, "client_secret", trickySecret), status: 200, scope: "orders.read orders.write"},
		{name: "basic plus client_id in body", form: form("grant_type", "client_credentials", "client_id", id), basic: []string{id, trickySecret}, status: 200},
		{name: "one requested scope", form: form("grant_type", "client_credentials", "scope", "orders.read"), basic: []string{id, trickySecret}, status: 200, scope: "orders.read"},
		{name: "empty scope counts as absent", form: "grant_type=client_credentials&scope=", basic: []string{id, trickySecret}, status: 200, scope: "orders.read orders.write"},
		{name: "unknown parameters are ignored", form: form("grant_type", "client_credentials", "audience", "x", "foo", "bar"), basic: []string{id, trickySecret}, status: 200},
		{name: "scope the module lacks", form: form("grant_type", "client_credentials", "scope", "orders.read admin"), basic: []string{id, trickySecret}, status: 400, errCode: "invalid_scope"},
		{name: "both methods at once", form: form("grant_type", "client_credentials", "client_secret", trickySecret), basic: []string{id, trickySecret}, status: 400, errCode: "invalid_request"},
		{name: "basic and a different client_id", form: form("grant_type", "client_credentials", "client_id", "other"), basic: []string{id, trickySecret}, status: 400, errCode: "invalid_request"},
		{name: "credentials in the query string", form: form("grant_type", "client_credentials"), basic: []string{id, trickySecret}, mutate: func(r *http.Request) { r.URL.RawQuery = "client_secret=x" }, status: 400, errCode: "invalid_request"},
		{name: "client_id in the query string", form: form("grant_type", "client_credentials", "client_secret", trickySecret), mutate: func(r *http.Request) { r.URL.RawQuery = "client_id=" + id }, status: 400, errCode: "invalid_request"},
		{name: "JSON body", form: `{"grant_type":"client_credentials"}`, basic: []string{id, trickySecret}, mutate: func(r *http.Request) { r.Header.Set("Content-Type", "application/json") }, status: 400, errCode: "invalid_request"},
		{name: "repeated parameter", form: "grant_type=client_credentials&grant_type=client_credentials", basic: []string{id, trickySecret}, status: 400, errCode: "invalid_request"},
		{name: "empty grant_type counts as absent", form: "grant_type=", basic: []string{id, trickySecret}, status: 400, errCode: "invalid_request"},
		{name: "no grant_type", form: "", basic: []string{id, trickySecret}, status: 400, errCode: "invalid_request"},
		{name: "other grant type", form: form("grant_type", "password"), basic: []string{id, trickySecret}, status: 400, errCode: "unsupported_grant_type"},
		{name: "no credentials", form: form("grant_type", "client_credentials"), status: 401, errCode: "invalid_client", challenge: true},
		{name: "wrong secret, basic", form: form("grant_type", "client_credentials"), basic: []string{id, trickySecret + "x"}, status: 401, errCode: "invalid_client", challenge: true},
		{name: "wrong secret, post", form: form("grant_type", "client_credentials", "client_id", id, "client_secret", "nope-nope-nope-nope"), status: 401, errCode: "invalid_client", challenge: true},
		{name: "a Basic secret no form encoder makes is read as sent", form: form("grant_type", "client_credentials"), mutate: func(r *http.Request) {
			r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(id+":"+"a%zz")))
		}, status: 401, errCode: "invalid_client", challenge: true},
		{name: "Basic without colon", form: form("grant_type", "client_credentials"), mutate: func(r *http.Request) {
			r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(id)))
		}, status: 400, errCode: "invalid_request"},
		{name: "Bearer instead of Basic", form: form("grant_type", "client_credentials"), mutate: func(r *http.Request) { r.Header.Set("Authorization", "Bearer x") }, status: 400, errCode: "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mutate []func(*http.Request)
			if tt.mutate != nil {
				mutate = append(mutate, tt.mutate)
			}
			r := f.post(t, tt.form, tt.basic, mutate...)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.raw)
			}
			if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Pragma") != "no-cache" {
				t.Errorf("Cache-Control %q, Pragma %q; want no-store, no-cache", r.header.Get("Cache-Control"), r.header.Get("Pragma"))
			}
			if got := r.header.Get("WWW-Authenticate") != ""; got != tt.challenge {
				t.Errorf("WWW-Authenticate %q, want challenge=%v", r.header.Get("WWW-Authenticate"), tt.challenge)
			}
			if tt.errCode != "" {
				if r.body["error"] != tt.errCode || r.body["access_token"] != nil {
					t.Errorf("body %s, want error %s", r.raw, tt.errCode)
				}
				return
			}
			got := map[string]any{"token_type": r.body["token_type"], "expires_in": r.body["expires_in"], "refresh_token": r.body["refresh_token"]}
			if diff := cmp.Diff(map[string]any{"token_type": "Bearer", "expires_in": 3600.0, "refresh_token": nil}, got); diff != "" {
				t.Errorf("body (-want +got; no refresh token):\n%s", diff)
			}
			if tok, _ := r.body["access_token"].(string); tok == "" {
				t.Errorf("body %s: no access_token", r.raw)
			}
			if tt.scope != "" && r.body["scope"] != tt.scope {
				t.Errorf("scope %v, want %q", r.body["scope"], tt.scope)
			}
		})
	}
}

func TestTokenIsAnRFC9068JWT(t *testing.T) {
	f := newFixture(t)
	c := f.module(t, "billing", plainSecret, "orders.read")
	r := f.post(t, form("grant_type", "client_credentials"), []string{c.ClientID, plainSecret})
	parts := strings.Split(r.body["access_token"].(string), ".")
	if len(parts) != 3 {
		t.Fatalf("token %v is not a JWS compact serialisation", r.body["access_token"])
	}
	var header, claims map[string]any
	h, _ := base64.RawURLEncoding.DecodeString(parts[0])
	p, _ := base64.RawURLEncoding.DecodeString(parts[1])
	_ = json.Unmarshal(h, &header)
	_ = json.Unmarshal(p, &claims)
	if header["typ"] != "at+jwt" || header["alg"] != "RS256" || header["kid"] != f.keys.Current.ID {
		t.Errorf("header %v: want typ at+jwt, alg RS256, the current kid", header)
	}
	now := float64(f.clock.Now().Unix())
	for k, want := range map[string]any{"iss": issuer, "sub": c.ClientID, "client_id": c.ClientID, "aud": issuer, "tenant_id": "acme", "scope": "orders.read", "iat": now, "exp": now + 3600} {
		got := claims[k]
		if arr, ok := got.([]any); ok && len(arr) == 1 {
			got = arr[0]
		}
		if got != want {
			t.Errorf("claim %s = %v, want %v", k, got, want)
		}
	}
	if jti, _ := claims["jti"].(string); len(jti) < 16 {
		t.Errorf("jti %q: want a random ID", jti)
	}
}

// TestFailuresLookAndCostTheSame: unknown client, wrong secret, disabled and
// deleted modules give byte-identical responses and one argon2id each.
func TestFailuresLookAndCostTheSame(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	wrong := f.module(t, "wrong", plainSecret)
	disabled := f.module(t, "disabled", plainSecret)
	deleted := f.module(t, "deleted", plainSecret)
	if _, err := f.svc.Update(ctx, "acme", disabled.ID, module.Patch{"enabled": []byte("false")}, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Delete(ctx, "acme", deleted.ID, 0); err != nil {
		t.Fatal(err)
	}
	cases := map[string][]string{
		"unknown client": {"nobody-has-this-id", plainSecret},
		"wrong secret":   {wrong.ClientID, plainSecret + "x"},
		"disabled":       {disabled.ClientID, plainSecret},
		"deleted":        {deleted.ClientID, plainSecret},
	}
	var first string
	for name, cred := range cases {
		before := f.verifier.n.Load()
		r := f.post(t, form("grant_type", "client_credentials"), cred)
		if r.status != 401 {
			t.Errorf("%s: status %d", name, r.status)
		}
		if first == "" {
			first = r.raw
		} else if r.raw != first {
			t.Errorf("%s: body %s differs from %s", name, r.raw, first)
		}
		if n := f.verifier.n.Load() - before; n != 1 {
			t.Errorf("%s: %d argon2id verifications, want exactly 1", name, n)
		}
	}
}

func TestWarmInstanceCachesVerification(t *testing.T) {
	f := newFixture(t)
	c := f.module(t, "billing", plainSecret)
	ok := func() int {
		return f.post(t, form("grant_type", "client_credentials"), []string{c.ClientID, plainSecret}).status
	}
	if ok() != 200 {
		t.Fatal("first request failed")
	}
	before := f.verifier.n.Load()
	for range 5 {
		if ok() != 200 {
			t.Fatal("repeated request failed")
		}
	}
	if n := f.verifier.n.Load() - before; n != 0 {
		t.Errorf("%d argon2id runs for repeated valid requests, want 0", n)
	}
	// a wrong secret is not served from the cache
	if r := f.post(t, form("grant_type", "client_credentials"), []string{c.ClientID, plainSecret + "!"}); r.status != 401 {
		t.Errorf("wrong secret after a cached success: %d", r.status)
	}
	// disabling stops tokens within the client cache bound
	if _, err := f.svc.Update(context.Background(), "acme", c.ID, module.Patch{"enabled": []byte("false")}, 0); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(clientTTL + time.Second)
	if got := ok(); got != 401 {
		t.Errorf("disabled module, after the client cache bound: %d, want 401", got)
	}
}

func TestOnlyPost(t *testing.T) {
	f := newFixture(t)
	r := f.post(t, "", nil, func(r *http.Request) { r.Method = "GET" })
	if r.status != 405 || r.header.Get("Allow") != "POST" || r.body["error"] != "invalid_request" {
		t.Errorf("GET: %d %v %s", r.status, r.header, r.raw)
	}
}

func TestDummyHashMatchesProductionParameters(t *testing.T) {
	params, _, _, err := argon2id.DecodeHash(oauth.DummyHash)
	if err != nil || *params != secrethash.OWASP {
		t.Errorf("DummyHash parameters %+v (%v), want %+v", params, err, secrethash.OWASP)
	}
}

// TestProviderThrottlingIs503: DynamoDB at its capacity, on the client
// pointer, the known-source read or a counter's write, answers 503
// temporarily_unavailable with Retry-After (RFC 6749's code for it), never
// a 500 and never a verdict on the client; the next request, unthrottled,
// gets its token.
func TestProviderThrottlingIs503(t *testing.T) {
	testenv.All(t, func(t *testing.T, b testenv.Backend) {
		f := newFixtureOn(t, b)
		c := f.module(t, "billing", plainSecret)
		good := []string{c.ClientID, plainSecret}
		for _, tt := range []struct {
			op    string
			fault []testenv.Fault
		}{
			{"GetItem", []testenv.Fault{testenv.Throttle}},               // the client pointer
			{"GetItem", []testenv.Fault{testenv.Pass, testenv.Throttle}}, // the known source
			{"UpdateItem", []testenv.Fault{testenv.Throttle}},            // the reservation
		} {
			db, faults := b.Faulty(t)
			faults.Plan(tt.op, tt.fault...)
			f.logs.Reset()
			r := f.postTo(t, f.instanceOn(db), basicGrant, good, from("198.51.100.7"))
			if !strings.Contains(f.logs.String(), `"ProviderThrottles":1`) {
				t.Errorf("%s %v: the request's line does not count ProviderThrottles: %s", tt.op, tt.fault, f.logs.String())
			}
			if r.status != 503 || r.body["error"] != "temporarily_unavailable" || r.header.Get("Retry-After") == "" {
				t.Errorf("%s %v: %d %s, Retry-After %q; want 503 temporarily_unavailable with Retry-After", tt.op, tt.fault, r.status, r.raw, r.header.Get("Retry-After"))
			}
			if r := f.postTo(t, f.instanceOn(db), basicGrant, good, from("198.51.100.7")); r.status != 200 {
				t.Errorf("%s %v, then unthrottled: %d %s; want 200", tt.op, tt.fault, r.status, r.raw)
			}
		}
	})
}

// TestBasicAsClientsSendIt: curl -u, Python requests, fetch with btoa and
// Java's HttpClient put the secret in Basic as it is; x/oauth2 and the RFC
// (§2.3.1) form-urlencode it first. Every secret the rules accept gets its
// token either way, one attempt never makes more than two verifications,
// and a wrong secret still answers 401.
func TestBasicAsClientsSendIt(t *testing.T) {
	f := newFixture(t)
	for i, secret := range []string{
		trickySecret,           // spaces, ':', non-ASCII: read as sent
		"Known+Secret%41-4711", // reads two ways: decoded first, then as sent
		"Known+Secret+4711-xy", // '+' alone: a space to a form decoder
		"100%-sure-secret-42",  // a '%' no form encoder makes
		"pass:word:with:colons",
		"Ünïcödé-sëcrét-2026-ok", // Latin-1 too: requests sends it so

	} {
		c := f.module(t, fmt.Sprintf("module-%d", i), secret)
		styles := map[string]string{
			"as sent, UTF-8 (curl, fetch, Java)":   basicHeader(c.ClientID, secret),
			"form-urlencoded (RFC 6749, x/oauth2)": basicHeader(url.QueryEscape(c.ClientID), url.QueryEscape(secret)),
		}
		if l1, ok := toLatin1(secret); ok {
			styles["as sent, Latin-1 (Python requests)"] = basicHeader(c.ClientID, l1)
		}
		for style, header := range styles {
			for _, h := range []http.Handler{f.instance(), f.handler} { // cold, then warm
				before := f.verifier.n.Load()
				r := f.postTo(t, h, basicGrant, nil, from("203.0.113.9"), func(r *http.Request) { r.Header.Set("Authorization", header) })
				if r.status != 200 {
					t.Errorf("secret %q %s: %d %s, want 200", secret, style, r.status, r.raw)
				}
				if n := f.verifier.n.Load() - before; n > 2 {
					t.Errorf("secret %q %s: %d verifications, want at most 2", secret, style, n)
				}
			}
			wrong := f.postTo(t, f.instance(), basicGrant, nil, from("203.0.113.9"), func(r *http.Request) { r.Header.Set("Authorization", header+"AA") })
			if wrong.status != 400 && wrong.status != 401 {
				t.Errorf("secret %q %s, header altered: %d, want 400 or 401", secret, style, wrong.status)
			}
		}
	}
}

// toLatin1 is s in ISO 8859-1 bytes, if every character has one.
func toLatin1(s string) (string, bool) {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xFF {
			return "", false
		}
		b = append(b, byte(r))
	}
	return string(b), true
}

func basicHeader(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// TestCacheEntriesFollowMemory: a function's caches grow with its memory,
// never below the default.
func TestCacheEntriesFollowMemory(t *testing.T) {
	for _, tt := range []struct{ memoryMB, want int }{{0, oauth.DefaultCacheEntries}, {128, oauth.DefaultCacheEntries}, {1024, 65536}, {3008, 192512}} {
		if got := oauth.CacheEntries(tt.memoryMB); got != tt.want {
			t.Errorf("CacheEntries(%d) = %d, want %d", tt.memoryMB, got, tt.want)
		}
	}
}

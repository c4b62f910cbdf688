package localgateway_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/modules-service/modules/internal/localgateway"
	"github.com/modules-service/modules/internal/oauth"
	"github.com/modules-service/modules/internal/samtemplate"
	"github.com/modules-service/modules/internal/testing/testenv"
)

// from is an HTTP client whose connections leave from a loopback address
// of its own, so the gateway sees it as another source.
func from(addr string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(addr)}}
	// Long enough for a burst of fresh instances, each running argon2id (19
	// MiB), under -race on a busy machine: a request that gave up would go
	// on in the gateway and write counters into the next test.
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}, Timeout: 3 * time.Minute}
}

// tokenStatus asks for a token with Basic credentials and returns the status.
func tokenStatus(t *testing.T, c *http.Client, base, id, secret string) int {
	t.Helper()
	return askToken(t, c, base, id, secret).StatusCode
}

// askToken asks for a token with Basic credentials; a 429 must say when
// to come back. The body is closed.
func askToken(t *testing.T, c *http.Client, base, id, secret string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/oauth2/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == 429 && resp.Header.Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After")
	}
	return resp
}

// TestClientAuthenticationUnderAttack drives the token endpoint through
// the local gateway from several loopback sources, as docs/security.md
// "Client authentication under attack" describes it.
func TestClientAuthenticationUnderAttack(t *testing.T) {
	const bound = 300 * time.Millisecond
	// a soft memory limit, as make run sets: a burst of fresh instances each
	// runs argon2id (19 MiB), which under -race took 6.7 GB without it
	s, base := serve(t, localgateway.Options{ClientCacheTTL: bound, Bootstrap: localgateway.Bootstrap{Tenant: "acme"}, MemoryLimitMiB: 512})
	mgr := token(t, base, s.Manager.ClientID, s.Manager.ClientSecret, 0)
	create := func(name string) (id, clientID string) {
		a := call(t, "POST", base+"/tenants/acme/modules", mgr, `{"name":"`+name+`","displayName":"`+name+`","clientSecret":"`+secret+`"}`)
		if a.status != 201 {
			t.Fatalf("create %s: %d %v", name, a.status, a.body)
		}
		return a.body["id"].(string), a.body["clientId"].(string)
	}
	owner, guesser := from("127.0.0.1"), from("127.0.0.2")

	t.Run("the guesser is throttled, the owner is not", func(t *testing.T) {
		_, id := create("billing")
		var got []int
		start := time.Now()
		for range 30 {
			got = append(got, tokenStatus(t, guesser, base, id, "guess-guess-guess-guess"))
			if st := tokenStatus(t, owner, base, id, secret); st != 200 {
				t.Fatalf("owner after %d guesses: %d", len(got), st)
			}
		}
		// past its limit the guesser may only take the slow path's slots:
		// one every SlowEvery, the first SlowEvery after it was needed
		slots := int(time.Since(start) / oauth.SlowEvery)
		late := 0
		for i, st := range got {
			switch {
			case i < oauth.MaxPerSource && st != 401:
				t.Errorf("guess %d: %d, want 401 (all: %v)", i, st, got)
			case i >= oauth.MaxPerSource && st == 401:
				late++
			case i >= oauth.MaxPerSource && st != 429:
				t.Errorf("guess %d: %d, want 429 (all: %v)", i, st, got)
			}
		}
		if late > slots {
			t.Errorf("%d guesses past the limit were verified in %v, want at most %d (all: %v)", late, time.Since(start), slots, got)
		}
	})

	t.Run("parallel guesses are counted before verifying", func(t *testing.T) {
		_, id := create("orders")
		c := from("127.0.0.3")
		var mu sync.Mutex
		count := map[int]int{}
		var wg sync.WaitGroup
		for i := range 24 {
			wg.Go(func() {
				st := tokenStatus(t, c, base, id, fmt.Sprintf("guess-guess-guess-%02d", i))
				mu.Lock()
				count[st]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if count[401] > oauth.MaxPerSource || count[401]+count[429] != 24 {
			t.Errorf("answers %v: want at most %d 401s and 429 for the rest", count, oauth.MaxPerSource)
		}
	})

	t.Run("a client polling while disabled is not locked out", func(t *testing.T) {
		mod, id := create("shipping")
		if a := call(t, "PATCH", base+"/tenants/acme/modules/"+mod, mgr, `{"enabled":false}`); a.status != 200 {
			t.Fatalf("disable: %d", a.status)
		}
		time.Sleep(bound)
		c := from("127.0.0.4")
		for i := range 2 * oauth.MaxPerSource {
			if st := tokenStatus(t, c, base, id, secret); st != 401 {
				t.Fatalf("poll %d while disabled: %d, want 401", i, st)
			}
		}
		if a := call(t, "PATCH", base+"/tenants/acme/modules/"+mod, mgr, `{"enabled":true}`); a.status != 200 {
			t.Fatalf("enable: %d", a.status)
		}
		deadline := time.Now().Add(bound + 2*time.Second)
		for tokenStatus(t, c, base, id, secret) != 200 {
			if time.Now().After(deadline) {
				t.Fatalf("no token %v after enabling: the poller locked itself out", bound)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	t.Run("a guarded client still admits its known source", func(t *testing.T) {
		_, id := create("payroll")
		known := from("127.0.0.5")
		if st := tokenStatus(t, known, base, id, secret); st != 200 {
			t.Fatalf("owner: %d", st)
		}
		var wg sync.WaitGroup
		for src := range oauth.GuardThreshold / oauth.MaxPerSource {
			c := from(fmt.Sprintf("127.0.1.%d", src+1))
			wg.Go(func() {
				for range oauth.MaxPerSource {
					if st := tokenStatus(t, c, base, id, "guess-guess-guess-guess"); st != 401 {
						t.Errorf("distributed guess: %d, want 401", st)
					}
				}
			})
		}
		wg.Wait()
		// the right secret from a new address meets the slow path, not a
		// wall: honouring Retry-After it gets its token within seconds
		// (a fresh instance, since the warm ones know this secret already)
		if st := tokenStatus(t, from("127.0.2.1"), base, id, "first-guess-of-a-new-source"); st != 429 {
			t.Errorf("a new source while guarded: %d, want 429 before any verification", st)
		}
		if waited := untilToken(t, from("127.0.2.2"), base, id, secret); waited > 15*time.Second {
			t.Errorf("the owner from a new address while guarded waited %v, want at most 15 s", waited)
		}
		if st := tokenStatus(t, known, base, id, secret); st != 200 {
			t.Errorf("the known source while guarded: %d, want 200", st)
		}
	})

	t.Run("the owner sharing the guesser's address gets its token", func(t *testing.T) {
		_, id := create("invoices")
		shared := from("127.0.0.9")
		for range oauth.MaxPerSource + 1 {
			tokenStatus(t, shared, base, id, "guess-guess-guess-guess")
		}
		if waited := untilToken(t, shared, base, id, secret); waited > 15*time.Second {
			t.Errorf("the owner behind the guesser's address waited %v, want at most 15 s", waited)
		}
	})

	t.Run("a known address's burst to fresh instances passes", func(t *testing.T) {
		_, id := create("ledger")
		c := from("127.0.0.10")
		if st := tokenStatus(t, c, base, id, secret); st != 200 {
			t.Fatalf("first token: %d", st)
		}
		// 50 at once: the one warm instance serves one, the rest start
		// fresh instances that verify with argon2id
		if count := concurrently(50, func(int) int { return tokenStatus(t, c, base, id, secret) }); count[200] != 50 {
			t.Errorf("50 valid requests at once from a known address: %v, want all 200", count)
		}
	})

	t.Run("190 guesses at once from 19 addresses stay within the guard", func(t *testing.T) {
		_, id := create("assets")
		// 190 at once is close to the route's shared bucket (API Gateway's
		// TokenBurstLimit), which the subtests before spent from: let it
		// refill, so that every answer is the function's and none the
		// gateway's 429 (which carries no Retry-After)
		time.Sleep(refill(t, s.Template, "POST /oauth2/token"))
		count := concurrently(190, func(i int) int {
			return tokenStatus(t, from(fmt.Sprintf("127.0.3.%d", i%19+1)), base, id, "guess-guess-guess-guess")
		})
		if count[401] > oauth.GuardThreshold || count[401]+count[429] != 190 {
			t.Errorf("answers %v: want at most %d verifications (401) and 429 for the rest", count, oauth.GuardThreshold)
		}
	})

	t.Run("what cannot be a client ID never reaches the table", func(t *testing.T) {
		before := tableItems(t, s)
		for name, id := range map[string]string{
			"3,000 characters":   strings.Repeat("x", 3000),
			"control characters": "client\x01\x02-id-1",
			"spaces":             "client id 12",
			"non-ASCII letters":  "clíent-ïd-1234",
		} {
			if st := tokenStatus(t, from("127.0.0.6"), base, id, secret); st != 401 {
				t.Errorf("%s: %d, want 401", name, st)
			}
		}
		if after := tableItems(t, s); after != before {
			t.Errorf("table went from %d to %d items", before, after)
		}
	})
}

// refill is how long an idle route's bucket takes to fill up again.
func refill(t *testing.T, tmpl samtemplate.Template, key string) time.Duration {
	t.Helper()
	for _, f := range tmpl.Functions {
		for _, r := range f.Routes {
			if r.Key() == key && r.Throttle != nil {
				if r.Throttle.Burst < 190 {
					t.Fatalf("%s: a burst of %d cannot take 190 at once", key, r.Throttle.Burst)
				}
				return time.Duration(float64(r.Throttle.Burst) / r.Throttle.Rate * float64(time.Second))
			}
		}
	}
	t.Fatalf("no throttled route %s in the template", key)
	return 0
}

// untilToken asks for a token until it gets one, honouring Retry-After,
// and returns how long it waited.
func untilToken(t *testing.T, c *http.Client, base, id, secret string) time.Duration {
	t.Helper()
	var waited time.Duration
	for range 10 {
		resp := askToken(t, c, base, id, secret)
		switch resp.StatusCode {
		case 200:
			return waited
		case 429:
			n, err := strconv.Atoi(resp.Header.Get("Retry-After"))
			if err != nil || n < 1 {
				t.Fatalf("429 with Retry-After %q", resp.Header.Get("Retry-After"))
			}
			waited += time.Duration(n) * time.Second
			time.Sleep(time.Duration(n) * time.Second)
		default:
			t.Fatalf("token: %d", resp.StatusCode)
		}
	}
	t.Fatalf("no token after waiting %v", waited)
	return waited
}

// concurrently runs n calls of f at once and counts what they return.
func concurrently(n int, f func(i int) int) map[int]int {
	var mu sync.Mutex
	count := map[int]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			st := f(i)
			mu.Lock()
			count[st]++
			mu.Unlock()
		})
	}
	wg.Wait()
	return count
}

// TestSwappedCredentialsLeaveNoTrace: a client that sends its secret as
// client_id and its client ID as client_secret (or any unknown client ID)
// gets 401, and neither value is in a log line or the table afterwards.
func TestSwappedCredentialsLeaveNoTrace(t *testing.T) {
	var logs testenv.Logs
	s, base := serve(t, localgateway.Options{Bootstrap: localgateway.Bootstrap{Tenant: "acme"},
		Log: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	mgr := token(t, base, s.Manager.ClientID, s.Manager.ClientSecret, 0)
	a := call(t, "POST", base+"/tenants/acme/modules", mgr, `{"name":"billing","displayName":"billing","clientSecret":"`+secret+`"}`)
	if a.status != 201 {
		t.Fatalf("create: %d %v", a.status, a.body)
	}
	clientID := a.body["clientId"].(string)
	// a secret as the wizard's Generate button makes them, so it passes the
	// client ID's shape check
	generated := "Zq8xV3mK9pL2wR7tY4uN6bH1cJ5dF0gA"
	for _, creds := range [][2]string{{generated, clientID}, {generated, generated}} {
		if st := tokenStatus(t, from("127.0.0.1"), base, creds[0], creds[1]); st != 401 {
			t.Fatalf("swapped credentials: %d, want 401", st)
		}
	}
	if strings.Contains(logs.String(), generated) {
		t.Errorf("a log line holds what was sent as client_id: %s", logs.String())
	}
	db := s.DynamoDB.(interface {
		Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	})
	out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: ptr("modules-local")})
	if err != nil {
		t.Fatal(err)
	}
	for _, item := range out.Items {
		raw, _ := json.Marshal(item)
		if strings.Contains(string(raw), generated) {
			t.Errorf("an item holds what was sent as client_id: %s", raw)
		}
	}
}

func tableItems(t *testing.T, s *localgateway.Stack) int {
	t.Helper()
	db := s.DynamoDB.(interface {
		Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	})
	out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: ptr("modules-local")})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Items)
}

func ptr[T any](v T) *T { return &v }

// TestTableHoldsNoVerifierOfASecret: after creates (idempotent ones and
// their retries), renames, token requests and a delete, no item of the
// table holds the secret, an argon2id hash or an unkeyed digest of it:
// nothing there can check a guessed secret. Only the secret store can.
func TestTableHoldsNoVerifierOfASecret(t *testing.T) {
	s, base := serve(t, localgateway.Options{Bootstrap: localgateway.Bootstrap{Tenant: "acme"}})
	mgr := token(t, base, s.Manager.ClientID, s.Manager.ClientSecret, 0)
	body := `{"name":"ledger","displayName":"Ledger","clientSecret":"` + secret + `"}`
	var id, clientID string
	for range 2 { // the retry replays
		req, _ := http.NewRequest("POST", base+"/tenants/acme/modules", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+mgr)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "ledger-1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 201 {
			t.Fatalf("idempotent create: %v %v", resp.StatusCode, err)
		}
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		resp.Body.Close()
		id, clientID = m["id"].(string), m["clientId"].(string)
	}
	token(t, base, clientID, secret, 0)
	tokenStatus(t, from("127.0.0.7"), base, clientID, "a-wrong-guess-1234")
	call(t, "PATCH", base+"/tenants/acme/modules/"+id, mgr, `{"displayName":"General ledger"}`)
	other := call(t, "POST", base+"/tenants/acme/modules", mgr, `{"name":"gone","displayName":"Gone","clientSecret":"`+secret+`"}`)
	call(t, "DELETE", base+"/tenants/acme/modules/"+other.body["id"].(string), mgr, "")

	db := s.DynamoDB.(interface {
		Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	})
	out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: ptr("modules-local")})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(secret))
	unkeyed := hex.EncodeToString(sum[:])
	fingerprints := 0
	for _, item := range out.Items {
		raw, _ := json.Marshal(item)
		text := string(raw)
		for _, bad := range []string{secret, "$argon2", "argon2id", unkeyed, s.Manager.ClientSecret} {
			if strings.Contains(text, bad) {
				t.Errorf("item %s holds %q", item["SK"], bad)
			}
		}
		if fp, ok := item["fingerprint"]; ok {
			fingerprints++
			if v, _ := json.Marshal(fp); !strings.Contains(string(v), "hmac-sha256:") {
				t.Errorf("idempotency fingerprint %s is not a keyed hash", v)
			}
		}
	}
	if fingerprints != 1 {
		t.Errorf("%d idempotency records, want 1", fingerprints)
	}
}

// TestTokenRouteIsThrottledAsTheTemplateSays: the local gateway applies
// the token route's throttling from template.yaml (TokenBurstLimit), and
// answers past it as API Gateway does, before any function runs. The
// callers come from many addresses, each below its per-address limit
// (EdgeTokenLimit), as a crowd of clients would: the route's bucket, not
// the web ACL, is what runs dry.
func TestTokenRouteIsThrottledAsTheTemplateSays(t *testing.T) {
	s, base := serve(t, localgateway.Options{Bootstrap: localgateway.Bootstrap{Tenant: "acme"}})
	burst, _ := strconv.Atoi(s.Template.Parameters["TokenBurstLimit"])
	perAddress, _ := strconv.Atoi(s.Template.Parameters["EdgeTokenLimit"])
	if burst == 0 || perAddress == 0 {
		t.Fatal("no TokenBurstLimit or EdgeTokenLimit in template.yaml")
	}
	// Eight callers ask as fast as they can, far above TokenRateLimit,
	// until the bucket runs dry; at most 20 × the burst, so it stops.
	var mu sync.Mutex
	passed, throttled := 0, 0
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			var c *http.Client
			for i := range burst * 20 / 8 {
				mu.Lock()
				done := throttled > 0
				mu.Unlock()
				if done {
					return
				}
				if i%(perAddress/2) == 0 { // a new address well below its limit
					c = from(fmt.Sprintf("127.0.%d.%d", 10+g, 1+i/(perAddress/2)))
				}
				resp, err := c.Post(base+"/oauth2/token", "application/x-www-form-urlencoded", strings.NewReader("grant_type=password"))
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				mu.Lock()
				if resp.StatusCode == 429 {
					throttled++
					if string(b) != "{\"message\":\"Too Many Requests\"}\n" || resp.Header.Get("Retry-After") != "" {
						t.Errorf("429 body %q, Retry-After %q: want API Gateway's, without Retry-After (not the web ACL's)", b, resp.Header.Get("Retry-After"))
					}
				} else {
					passed++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if throttled == 0 || passed < burst {
		t.Errorf("%d passed and %d throttled: want the burst of %d to pass, then 429", passed, throttled, burst)
	}
}

package localgateway_test

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modules-service/modules/internal/localgateway"
	"github.com/modules-service/modules/internal/samtemplate"
)

// The web ACL's per-address limits in front of the shared route throttles
// (docs/security.md, "One address cannot spend everyone's budget"), through the
// local gateway with template.yaml's numbers. Each loopback address
// (127.0.0.2, 127.0.0.3, ...) is another viewer.

// edgeLimits are the template's per-address limits of the token route and
// of the rest.
func edgeLimits(t *testing.T, s *localgateway.Stack) (token, management samtemplate.RateRule) {
	t.Helper()
	for _, r := range s.Template.RateRules {
		switch {
		case r.Matches("/oauth2/token"):
			token = r
		case r.Matches("/tenants/acme/modules"):
			management = r
		}
	}
	if token.Limit == 0 || management.Limit == 0 {
		t.Fatalf("template.yaml has no per-address limits for the token route and the management routes: %+v", s.Template.RateRules)
	}
	return token, management
}

// sendFrom makes a request and returns its status and whether it is the web
// ACL's refusal (429 with Retry-After and API Gateway's message body).
func sendFrom(t *testing.T, c *http.Client, method, url, bearer, form string) (status int, edge bool) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(form))
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Error(err)
		return 0, false
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	edge = resp.StatusCode == 429 && resp.Header.Get("Retry-After") != "" && string(b) == "{\"message\":\"Too Many Requests\"}\n"
	return resp.StatusCode, edge
}

// TestAFloodFromOneAddressLeavesOthersTheirBudget: junk without credentials
// from one address, on the token route and a management route, goes on
// while the owner at another address asks for tokens and a manager lists
// modules. The flood is refused at its own limit and never reaches the
// routes' shared buckets; without the limit it empties them (the owner got
// 2 tokens of 20, the manager 1 list of 20).
func TestAFloodFromOneAddressLeavesOthersTheirBudget(t *testing.T) {
	s, base := serve(t, localgateway.Options{Bootstrap: localgateway.Bootstrap{Tenant: "acme"}})
	tokenRule, mgmtRule := edgeLimits(t, s)
	victim := from("127.0.0.3")
	mgr := clientToken(t, victim, base, s.Manager.ClientID, s.Manager.ClientSecret)
	a := callFrom(t, victim, "POST", base+"/tenants/acme/modules", mgr, `{"name":"billing","displayName":"Billing","clientSecret":"`+secret+`"}`)
	if a.status != 201 {
		t.Fatalf("create: %d %v", a.status, a.body)
	}
	clientID := a.body["clientId"].(string)

	// The flood: four connections from 127.0.0.2 on each route, as fast as
	// they go, until the victim is done (at most 3,000 requests each).
	flooder := from("127.0.0.2")
	done := make(chan struct{})
	var sent, reached, refused atomic.Int64
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 3000 {
				select {
				case <-done:
					return
				default:
				}
				var st int
				var edge bool
				if i%2 == 0 {
					st, edge = sendFrom(t, flooder, "POST", base+"/oauth2/token", "", "grant_type=client_credentials")
				} else {
					st, edge = sendFrom(t, flooder, "GET", base+"/tenants/acme/modules", "", "")
				}
				sent.Add(1)
				if edge {
					refused.Add(1)
				} else if st != 0 {
					reached.Add(1)
				}
			}
		})
	}
	// Let the flood get past its own limits first.
	for sent.Load() < int64(tokenRule.Limit+mgmtRule.Limit+100) {
		time.Sleep(time.Millisecond)
	}
	var tokens, lists int
	for range 20 {
		if st := tokenStatus(t, victim, base, clientID, secret); st == 200 {
			tokens++
		}
		if a := callFrom(t, victim, "GET", base+"/tenants/acme/modules", mgr, ""); a.status == 200 {
			lists++
		}
	}
	close(done)
	wg.Wait()
	if tokens != 20 || lists != 20 {
		t.Errorf("during a flood from another address the owner got %d tokens of 20 and the manager %d lists of 20, want all", tokens, lists)
	}
	if max := int64(tokenRule.Limit + mgmtRule.Limit); reached.Load() > max {
		t.Errorf("%d flood requests reached API Gateway, want at most the two limits' %d", reached.Load(), max)
	}
	t.Logf("flood: %d sent, %d reached API Gateway, %d refused by the per-address limits", sent.Load(), reached.Load(), refused.Load())
}

// TestALegitimateBurstFromOneAddressPasses: a fleet behind one NAT address
// starting at once (tokens for many instances, a manager's page loads)
// stays below the limits and gets every answer.
func TestALegitimateBurstFromOneAddressPasses(t *testing.T) {
	s, base := serve(t, localgateway.Options{Bootstrap: localgateway.Bootstrap{Tenant: "acme"}})
	tokenRule, mgmtRule := edgeLimits(t, s)
	nat := from("127.0.0.4")
	mgr := clientToken(t, nat, base, s.Manager.ClientID, s.Manager.ClientSecret)
	a := callFrom(t, nat, "POST", base+"/tenants/acme/modules", mgr, `{"name":"fleet","displayName":"Fleet","clientSecret":"`+secret+`"}`)
	if a.status != 201 {
		t.Fatalf("create: %d %v", a.status, a.body)
	}
	clientID := a.body["clientId"].(string)
	// One token request and one management call are spent above.
	var okTokens, okLists atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range (tokenRule.Limit - 1) / 8 {
				if tokenStatus(t, nat, base, clientID, secret) == 200 {
					okTokens.Add(1)
				}
			}
			for range (mgmtRule.Limit - 2) / 8 {
				if st, _ := sendFrom(t, nat, "GET", base+"/tenants/acme/modules", mgr, ""); st == 200 {
					okLists.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if want := int64((tokenRule.Limit - 1) / 8 * 8); okTokens.Load() != want {
		t.Errorf("a burst of %d tokens from one address: %d passed, want all", want, okTokens.Load())
	}
	if want := int64((mgmtRule.Limit - 2) / 8 * 8); okLists.Load() != want {
		t.Errorf("a burst of %d lists from one address: %d passed, want all", want, okLists.Load())
	}
}

// TestRandomClientIDsFromOneAddressAreBounded: the token function's
// brute-force count is per (client, source), so fresh client IDs each get
// a fresh budget, and each costs an argon2id run (an unknown client is
// verified against a dummy hash, to look like a wrong secret). The
// per-address limit bounds them all: past it, refused before any function.
func TestRandomClientIDsFromOneAddressAreBounded(t *testing.T) {
	s, base := serve(t, localgateway.Options{Bootstrap: localgateway.Bootstrap{Tenant: "acme"}})
	tokenRule, _ := edgeLimits(t, s)
	c := from("127.0.0.6")
	reached, refused := 0, 0
	for range tokenRule.Limit + 30 {
		st := tokenStatus(t, c, base, "rnd-"+strings.ToLower(rand.Text()), "guess-guess-guess-guess")
		switch st {
		case 401:
			reached++
		case 429:
			refused++
		default:
			t.Fatalf("a random client ID: %d", st)
		}
	}
	if reached > tokenRule.Limit || refused < 30 {
		t.Errorf("%d random client IDs from one address: %d reached the token function, %d refused; want at most %d reached (EdgeTokenLimit)",
			tokenRule.Limit+30, reached, refused, tokenRule.Limit)
	}
	// another address is not affected
	if st := tokenStatus(t, from("127.0.0.7"), base, s.Manager.ClientID, s.Manager.ClientSecret); st != 200 {
		t.Errorf("the manager from another address: %d, want 200", st)
	}
}

// TestNoEdgeLimitTurnsTheLimitsOff: --no-edge-limit (and --no-throttle)
// leave an address unlimited, for tools that test something else.
func TestNoEdgeLimitTurnsTheLimitsOff(t *testing.T) {
	s, base := serve(t, localgateway.Options{NoEdgeLimit: true, Bootstrap: localgateway.Bootstrap{Tenant: "acme"}})
	tokenRule, _ := edgeLimits(t, s)
	c := from("127.0.0.8")
	for i := range tokenRule.Limit + 5 {
		if st, edge := sendFrom(t, c, "POST", base+"/oauth2/token", "", "grant_type=client_credentials"); edge || st == 429 {
			t.Fatalf("request %d with the limits off: %d", i, st)
		}
	}
}

// clientToken gets a token from the client's address.
func clientToken(t *testing.T, c *http.Client, base, id, secret string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/oauth2/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := jsonDecode(resp.Body, &tok); err != nil || resp.StatusCode != 200 {
		t.Fatalf("token for %s: %d %v", id, resp.StatusCode, err)
	}
	return tok.AccessToken
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

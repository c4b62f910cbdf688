package apigw

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"golang.org/x/time/rate"
)

// clock is a settable time for the rules' windows.
type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{t: time.Unix(1_800_000_000, 0)} }
func addr(s string) netip.Addr       { return netip.MustParseAddr(s) }
func allowN(r *RateRule, a string, n int) (passed int) {
	for range n {
		if r.Allow(addr(a)) {
			passed++
		}
	}
	return passed
}

func TestRateRuleCountsPerAddressOverTheWindow(t *testing.T) {
	c := newClock()
	r := &RateRule{Limit: 10, Window: 5 * time.Minute, Now: c.now}

	if got := allowN(r, "192.0.2.1", 25); got != 10 {
		t.Errorf("a burst of 25 from one address: %d passed, want the limit of 10", got)
	}
	if got := allowN(r, "192.0.2.2", 10); got != 10 {
		t.Errorf("another address after the flood: %d of 10 passed, want all", got)
	}
	c.add(4 * time.Minute)
	if r.Allow(addr("192.0.2.1")) {
		t.Error("the flooder passed within the window of its flood")
	}
	c.add(5*time.Minute + 10*time.Second) // a whole window silent (but for one refused request)
	if got := allowN(r, "192.0.2.1", 10); got != 10 {
		t.Errorf("after a silent window: %d of 10 passed, want all", got)
	}
}

// A sustained flood stays refused: refused requests count, as WAF counts
// them, so an address that keeps sending above the limit never gets
// through, while one that sends at the limit's pace always does.
func TestRateRuleSustainedFloodVersusSteadyPace(t *testing.T) {
	c := newClock()
	r := &RateRule{Limit: 30, Window: time.Minute, Now: c.now}
	floodPassed, pacedPassed := 0, 0
	for range 10 * 60 { // ten minutes, one step a second
		floodPassed += allowN(r, "198.51.100.1", 2) // 120 a minute
		if c.t.Unix()%4 == 0 {                      // 15 a minute, half the limit
			pacedPassed += allowN(r, "198.51.100.2", 1)
		}
		c.add(time.Second)
	}
	if floodPassed > 30 {
		t.Errorf("a flood of 120 a minute for ten minutes: %d passed, want only the first window's 30", floodPassed)
	}
	if pacedPassed != 150 {
		t.Errorf("15 a minute for ten minutes: %d passed, want all 150", pacedPassed)
	}
}

func TestRateRuleForgetsSilentAddresses(t *testing.T) {
	c := newClock()
	r := &RateRule{Limit: 10, Window: time.Minute, Now: c.now}
	for i := range 100 {
		r.Allow(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}))
	}
	c.add(3 * time.Minute)
	r.Allow(addr("192.0.2.1"))
	if n := len(r.addrs); n != 1 {
		t.Errorf("%d addresses kept after two silent windows, want 1", n)
	}
}

// TestRateRulesStandBeforeRouteThrottling: a flooding address is refused by
// its own limit before the route's shared bucket, so another address still
// finds the bucket full. Without the rule the flood empties it.
func TestRateRulesStandBeforeRouteThrottling(t *testing.T) {
	for _, withRule := range []bool{false, true} {
		c := newClock()
		g := &Gateway{Routes: []Route{
			{Key: "POST /oauth2/token", Function: echo(t), Limit: rate.NewLimiter(rate.Every(time.Hour), 20)},
		}}
		if withRule {
			g.RateRules = []*RateRule{{Name: "token", Scope: func(p string) bool { return p == "/oauth2/token" },
				Limit: 10, Window: 5 * time.Minute, Status: http.StatusTooManyRequests, RetryAfter: "300", Now: c.now}}
		}
		h := g.Handler()
		post := func(from string) *httptest.ResponseRecorder {
			r := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader("grant_type=client_credentials"))
			r.RemoteAddr = from + ":40000"
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			return w
		}
		for range 100 {
			post("127.0.0.2")
		}
		w := post("127.0.0.3")
		switch {
		case withRule && w.Code != http.StatusOK:
			t.Errorf("with the rule, another address after a flood: %d, want 200", w.Code)
		case !withRule && w.Code != http.StatusTooManyRequests:
			t.Errorf("without the rule, another address after a flood: %d, want the emptied bucket's 429 (the test shows nothing)", w.Code)
		}
		if !withRule {
			continue
		}
		w = post("127.0.0.2")
		if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "300" ||
			w.Body.String() != "{\"message\":\"Too Many Requests\"}\n" {
			t.Errorf("the flooder: %d %q Retry-After %q, want 429, the message body and Retry-After 300", w.Code, w.Body, w.Header().Get("Retry-After"))
		}
	}
}

// TestRateRulesCountWhatNoRouteServes: the web ACL sees every request,
// also those API Gateway would answer 404 or as a CORS preflight.
func TestRateRulesCountWhatNoRouteServes(t *testing.T) {
	c := newClock()
	rest := &RateRule{Scope: func(p string) bool { return p != "/oauth2/token" }, Limit: 3, Window: time.Minute,
		Status: http.StatusTooManyRequests, Now: c.now}
	g := &Gateway{RateRules: []*RateRule{rest}, CORS: &CORS{AllowOrigins: []string{"https://portal.example.com"}, AllowMethods: []string{"GET"}}}
	h := g.Handler()
	var got []int
	for _, m := range []string{"GET", "OPTIONS", "GET", "GET"} {
		r := httptest.NewRequest(m, "/nowhere", nil)
		r.Header.Set("Origin", "https://portal.example.com")
		r.Header.Set("Access-Control-Request-Method", "GET")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		got = append(got, w.Code)
	}
	if got[3] != http.StatusTooManyRequests {
		t.Errorf("statuses %v: want the fourth request refused", got)
	}
}

// echo is a function that answers 200.
func echo(t *testing.T) lambda.Handler {
	t.Helper()
	return lambda.NewHandler(func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "{}"}, nil
	})
}

package apigw

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// RateRule is an AWS WAF rate-based rule of the web ACL in front of the API
// (docs/security.md, "One address cannot spend everyone's budget"): the requests
// whose path Scope matches are counted per source address over a sliding
// Window, and once an address has sent Limit of them within the window, its
// further ones are answered Status, and still counted, as WAF counts them,
// so a sustained flood stays refused until it stops for a window.
type RateRule struct {
	Name   string
	Scope  func(path string) bool
	Limit  int
	Window time.Duration
	// Status and RetryAfter are the rule's block response (WAF's default
	// is 403; the template answers 429 with Retry-After).
	Status     int
	RetryAfter string
	Now        func() time.Time // nil: time.Now

	mu        sync.Mutex
	addrs     map[netip.Addr]*counts
	swept     int64 // the slot of the last sweep
	slotWidth time.Duration
}

// slots is how finely a window is counted: the window slides by a thirtieth
// of itself (10 s of a 300 s window), finer than WAF acts on its counts
// (it checks the rate every few seconds).
const slots = 30

// counts are one address's requests in the window's slots, as a ring: n[i]
// requests in slot number at[i].
type counts struct {
	n  [slots]int
	at [slots]int64
}

// Allow counts a request from addr and tells whether it passes: whether
// addr sent fewer than Limit requests in the window before it.
func (r *RateRule) Allow(addr netip.Addr) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.addrs == nil {
		r.addrs = map[netip.Addr]*counts{}
		r.slotWidth = max(r.Window/slots, time.Millisecond)
	}
	now := r.now()
	slot := now.UnixNano() / int64(r.slotWidth)
	r.sweep(slot)
	c := r.addrs[addr]
	if c == nil {
		c = &counts{}
		r.addrs[addr] = c
	}
	sum := 0
	for i := range slots {
		if c.at[i] > slot-slots {
			sum += c.n[i]
		}
	}
	i := slot % slots
	if c.at[i] != slot {
		c.at[i], c.n[i] = slot, 0
	}
	c.n[i]++
	return sum < r.Limit
}

// sweep forgets, once a window, the addresses silent for a whole window.
func (r *RateRule) sweep(slot int64) {
	if slot-r.swept < slots {
		return
	}
	r.swept = slot
	for a, c := range r.addrs {
		latest := int64(0)
		for _, at := range c.at {
			latest = max(latest, at)
		}
		if latest <= slot-slots {
			delete(r.addrs, a)
		}
	}
}

func (r *RateRule) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// rateLimited puts the rules in front of next, as CloudFront's web ACL
// stands in front of API Gateway: before CORS, route throttling and the
// authorizer, so that an address refused by its own limit takes nothing
// from the routes' shared buckets. The address is the connection's peer.
func rateLimited(rules []*RateRule, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		addr := peer(req)
		for _, r := range rules {
			if r.Scope(req.URL.Path) && !r.Allow(addr) {
				if r.RetryAfter != "" {
					w.Header().Set("Retry-After", r.RetryAfter)
				}
				writeMessage(w, r.Status, http.StatusText(r.Status))
				return
			}
		}
		next.ServeHTTP(w, req)
	})
}

// peer is the connection's remote address; the zero Addr when it has none.
func peer(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host)
	return a.WithZone("").Unmap()
}

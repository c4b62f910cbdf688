package clientkey

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Platform is a workload platform's OpenID issuer on loopback (as GitHub
// Actions or an EKS cluster is one on the Internet): its discovery
// document and key set, and how often the key set was fetched.
type Platform struct {
	URL string // the issuer identifier

	srv     *httptest.Server
	mu      sync.Mutex
	keys    []Key
	named   string // the issuer the discovery document names; "": URL
	fetches atomic.Int32
}

// NewPlatform serves an issuer that publishes keys, until the test ends.
func NewPlatform(t testing.TB, keys ...Key) *Platform {
	p := &Platform{keys: keys}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			iss := p.named
			if iss == "" {
				iss = p.URL
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"issuer": iss, "jwks_uri": p.URL + "/keys"})
		case "/keys":
			p.fetches.Add(1)
			set := []any{}
			for _, k := range p.keys {
				set = append(set, k.Public(t))
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"keys": set})
		default:
			http.NotFound(w, r)
		}
	}))
	p.URL = p.srv.URL
	t.Cleanup(p.srv.Close)
	return p
}

// Publish adds k to the platform's key set (a rotation).
func (p *Platform) Publish(k Key) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keys = append(p.keys, k)
}

// Impersonate makes the discovery document name issuer instead of URL.
func (p *Platform) Impersonate(issuer string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.named = issuer
}

// Fetches is how many times the key set was fetched.
func (p *Platform) Fetches() int { return int(p.fetches.Load()) }

// Key is the platform's i-th key.
func (p *Platform) Key(i int) Key {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.keys[i]
}

// Token is a platform token for sub and aud issued at now and good for
// ten minutes, with a fresh jti, signed with k; changes override claims,
// a nil value removes one.
func (p *Platform) Token(t testing.TB, k Key, sub string, aud any, now time.Time, changes map[string]any) string {
	c := Claims(sub, "", now, nil)
	c["iss"], c["aud"], c["nbf"], c["exp"] = p.URL, aud, now.Unix(), now.Add(10*time.Minute).Unix()
	for name, v := range changes {
		if v == nil {
			delete(c, name)
			continue
		}
		c[name] = v
	}
	return k.Sign(t, c, nil)
}

package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Fetch bounds: an issuer's keys are kept an hour and refetched sooner
// only for an unknown kid, at most once a minute per issuer, so tokens
// with made-up kids cannot make this service flood an issuer (nor slow
// every request down while an issuer is unreachable). A discovery
// document or key set is read up to 1 MiB, in at most 3 s per request.
const (
	MaxAge      = time.Hour
	MinRefetch  = time.Minute
	maxBytes    = 1 << 20
	httpTimeout = 3 * time.Second
	// MaxIssuers bounds the issuers kept; the operator's list is shorter.
	MaxIssuers = 32
)

// Keys finds and caches the signing keys of issuers through their OpenID
// discovery documents (OpenID Connect Discovery §4): https only, except
// on loopback hosts (tests).
type Keys struct {
	// HTTP fetches; nil: a client with a 3 s timeout that follows no
	// redirect to http.
	HTTP *http.Client
	Now  func() time.Time

	mu      sync.Mutex
	issuers map[string]*issuerKeys
}

// issuerKeys are one issuer's keys, as last fetched.
type issuerKeys struct {
	mu        sync.Mutex // one fetch at a time per issuer
	keys      []jose.JSONWebKey
	fetchedAt time.Time // of the last successful fetch
	triedAt   time.Time // of the last attempt, successful or not
}

// Find returns the keys of issuer that kid names (every key when kid is
// empty), fetching them when none was fetched for an hour, or when kid
// is unknown and no attempt was made for a minute. No key is not an
// error; an unreachable issuer is, when nothing cached can answer.
func (k *Keys) Find(ctx context.Context, issuer, kid string) ([]jose.JSONWebKey, error) {
	e := k.entry(issuer)
	e.mu.Lock()
	defer e.mu.Unlock()
	now := k.Now()
	found := pick(e.keys, kid)
	stale := e.fetchedAt.IsZero() || now.Sub(e.fetchedAt) > MaxAge
	if (stale || len(found) == 0) && (e.triedAt.IsZero() || now.Sub(e.triedAt) >= MinRefetch) {
		e.triedAt = now
		keys, err := k.fetch(ctx, issuer)
		if err != nil {
			if len(found) == 0 {
				return nil, err
			}
			return found, nil // the keys in hand still verify
		}
		e.keys, e.fetchedAt = keys, now
		found = pick(keys, kid)
	}
	return found, nil
}

func (k *Keys) entry(issuer string) *issuerKeys {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.issuers == nil {
		k.issuers = map[string]*issuerKeys{}
	}
	e, ok := k.issuers[issuer]
	if !ok {
		if len(k.issuers) >= MaxIssuers {
			for name := range k.issuers { // any one: the list is short
				delete(k.issuers, name)
				break
			}
		}
		e = &issuerKeys{}
		k.issuers[issuer] = e
	}
	return e
}

// pick returns the signing keys of keys that kid names, all when kid is empty.
func pick(keys []jose.JSONWebKey, kid string) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, key := range keys {
		if kid == "" || key.KeyID == kid {
			out = append(out, key)
		}
	}
	return out
}

// fetch reads issuer's discovery document, checks that it is the
// issuer's, and reads the public signing keys at its jwks_uri.
func (k *Keys) fetch(ctx context.Context, issuer string) ([]jose.JSONWebKey, error) {
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := k.get(ctx, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration", &doc); err != nil {
		return nil, fmt.Errorf("discovery of %s: %w", issuer, err)
	}
	if doc.Issuer != issuer { // OpenID Connect Discovery §4.3
		return nil, fmt.Errorf("discovery of %s names issuer %q", issuer, doc.Issuer)
	}
	if err := fetchable(doc.JWKSURI); err != nil {
		return nil, fmt.Errorf("jwks_uri of %s: %w", issuer, err)
	}
	var set jose.JSONWebKeySet
	if err := k.get(ctx, doc.JWKSURI, &set); err != nil {
		return nil, fmt.Errorf("keys of %s: %w", issuer, err)
	}
	var keys []jose.JSONWebKey
	for _, key := range set.Keys {
		if key.IsPublic() && key.Valid() && (key.Use == "" || key.Use == "sig") {
			keys = append(keys, key)
		}
	}
	return keys, nil
}

// get reads a JSON document of at most maxBytes from u.
func (k *Keys) get(ctx context.Context, u string, v any) error {
	if err := fetchable(u); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return err
	}
	if len(body) > maxBytes {
		return errors.New("larger than 1 MiB")
	}
	return json.Unmarshal(body, v)
}

func (k *Keys) client() *http.Client {
	if k.HTTP != nil {
		return k.HTTP
	}
	return &http.Client{Timeout: httpTimeout, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 3 {
			return errors.New("too many redirects")
		}
		return fetchable(req.URL.String())
	}}
}

// fetchable refuses any URL but https, and http on a loopback host.
func fetchable(u string) error {
	p, err := url.Parse(u)
	switch {
	case err != nil || p.Host == "":
		return fmt.Errorf("%q is not an absolute URL", u)
	case p.Scheme == "https", p.Scheme == "http" && Loopback(p.Hostname()):
		return nil
	}
	return fmt.Errorf("%q is not https", u)
}

package oauth_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/oauth"
	"github.com/modules-service/modules/internal/secrethash"
	"github.com/modules-service/modules/internal/signing"
	"github.com/modules-service/modules/internal/testing/clientkey"
	"github.com/modules-service/modules/internal/testing/testenv"
)

// The benchmarks come in pairs, measured side by side by `make bench`:
//   TokenWarm/<alg>  vs  Sign/<alg>             goal: at most 1.1x
//   TokenThrottled  vs  TokenWarm/RS256         goal: at most 2x (no argon2id)
//   TokenCold  vs  Argon2Verify + Sign/RS256    goal: at most 1.2x
// and the three failure kinds, which should cost the same.

// benchStack is the embedded stack with production (OWASP) hashing.
type benchStack struct {
	b      testenv.Backend
	keys   *signing.Cache[signing.KeySet]
	key    signing.Key
	dummy  string
	client module.Credentials
}

func newBenchStack(b *testing.B) *benchStack { return newBenchStackFor(b, signing.RS256) }

func newBenchStackFor(b *testing.B, alg jose.SignatureAlgorithm) *benchStack {
	s := &benchStack{b: testenv.Embedded(b)}
	var err error
	if s.key, err = signing.Generate(alg); err != nil {
		b.Fatal(err)
	}
	s.keys = &signing.Cache[signing.KeySet]{Source: signing.Fixed(signing.KeySet{Current: s.key}), MaxAge: time.Hour}
	s.dummy, _ = secrethash.New().Hash("dummy")
	svc := s.b.Service()
	svc.Hasher = secrethash.New()
	s.client, _, err = svc.Create(context.Background(), "acme", module.CreateInput{Name: "bench", DisplayName: "Bench", ClientSecret: plainSecret, Scopes: []string{"orders.read"}}, "")
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func (s *benchStack) endpoint() *oauth.Endpoint { return s.endpointCounting(s.b.Limits()) }

// unthrottled counts like the real store but never throttles, for
// benchmarking failures past oauth.MaxPerSource. It still makes the store
// round trips.
type unthrottled struct{ oauth.LimitStore }

func (u unthrottled) Reserve(ctx context.Context, id, source string, now time.Time, span time.Duration, limit, maxFailures int) (bool, time.Time, error) {
	_, at, err := u.LimitStore.Reserve(ctx, id, source, now, span, 1<<30, 0)
	return true, at, err
}

func (s *benchStack) endpointCounting(l oauth.LimitStore) *oauth.Endpoint {
	return s.endpointAt(l, nil)
}

// endpointAt is the endpoint on l with a clock (nil: the wall clock).
func (s *benchStack) endpointAt(l oauth.LimitStore, now func() time.Time) *oauth.Endpoint {
	return oauth.NewEndpoint(oauth.Config{Issuer: issuer}, oauth.Deps{
		Clients: module.NewClientCache(s.b.Clients(), clientTTL, now), Hashes: s.b.Hashes, Limits: l,
		Verifier: secrethash.New(), DummyHash: s.dummy, Keys: s.keys, Now: now,
	})
}

func (s *benchStack) request(b *testing.B, e *oauth.Endpoint, id, secret string, want int) {
	r := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader("grant_type=client_credentials"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth(id, secret)
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	if w.Code != want {
		b.Fatalf("status %d, want %d: %s", w.Code, want, w.Body)
	}
}

// BenchmarkSign is one signature of each algorithm (RSA-2048 for RS256,
// P-256 for ES256): the unavoidable work of a warm token request.
func BenchmarkSign(b *testing.B) {
	for _, alg := range signing.Algorithms {
		b.Run(string(alg), func(b *testing.B) {
			key, _ := signing.Generate(alg)
			digest := sha256.Sum256([]byte(strings.Repeat("x", 400)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := key.Private.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkArgon2Verify is one argon2id verification with the OWASP
// parameters: with a signature, the unavoidable work of a cold request.
func BenchmarkArgon2Verify(b *testing.B) {
	h := secrethash.New()
	hash, _ := h.Hash(plainSecret)
	b.ReportAllocs()
	for b.Loop() {
		if ok, _ := h.Verify(plainSecret, hash); !ok {
			b.Fatal("no match")
		}
	}
}

// BenchmarkTokenWarm: repeated valid credentials on a warm instance, with
// a signing key of each algorithm.
func BenchmarkTokenWarm(b *testing.B) {
	for _, alg := range signing.Algorithms {
		b.Run(string(alg), func(b *testing.B) {
			s := newBenchStackFor(b, alg)
			e := s.endpoint()
			s.request(b, e, s.client.ClientID, plainSecret, 200)
			b.ReportAllocs()
			for b.Loop() {
				s.request(b, e, s.client.ClientID, plainSecret, 200)
			}
		})
	}
}

// BenchmarkTokenCold: the first request of a client on a fresh instance
// (client, failure counter and hash read from the stores, argon2id, sign).
func BenchmarkTokenCold(b *testing.B) {
	s := newBenchStack(b)
	b.ReportAllocs()
	for b.Loop() {
		s.request(b, s.endpoint(), s.client.ClientID, plainSecret, 200)
	}
}

// The failure paths, which should cost the same as each other.

func BenchmarkTokenUnknownClient(b *testing.B) {
	s := newBenchStack(b)
	e := s.endpointCounting(unthrottled{s.b.Limits()})
	b.ReportAllocs()
	for b.Loop() {
		s.request(b, e, "unknown-client-id-000000", plainSecret, 401)
	}
}

func BenchmarkTokenWrongSecret(b *testing.B) {
	s := newBenchStack(b)
	e := s.endpointCounting(unthrottled{s.b.Limits()})
	s.request(b, e, s.client.ClientID, plainSecret, 200) // warm the client and hash caches
	b.ReportAllocs()
	for b.Loop() {
		s.request(b, e, s.client.ClientID, plainSecret+"!", 401)
	}
}

// BenchmarkTokenThrottled: a guesser's source past MaxPerSource. It costs
// reads of the known source, the counter and the slow-path slot (and a
// failed conditional write of it), and no argon2id run. Time stands still,
// so the slow path's next slot never comes.
func BenchmarkTokenThrottled(b *testing.B) {
	s := newBenchStack(b)
	frozen := time.Now()
	e := s.endpointAt(s.b.Limits(), func() time.Time { return frozen })
	for range oauth.MaxPerSource {
		s.request(b, e, s.client.ClientID, "guess-guess-guess-guess", 401)
	}
	b.ReportAllocs()
	for b.Loop() {
		s.request(b, e, s.client.ClientID, "guess-guess-guess-guess", 429)
	}
}

// BenchmarkTokenWarmHandler is the warm path as a function serves it: the
// handler with its JSON log line and metrics (to io.Discard) and the
// hourly last-use record, which a warm instance skips; with a key of each
// algorithm.
func BenchmarkTokenWarmHandler(b *testing.B) {
	for _, alg := range signing.Algorithms {
		b.Run(string(alg), func(b *testing.B) {
			s := newBenchStackFor(b, alg)
			h := oauth.NewEndpoint(oauth.Config{Issuer: issuer}, oauth.Deps{
				Clients: module.NewClientCache(s.b.Clients(), clientTTL, nil), Hashes: s.b.Hashes, Limits: s.b.Limits(),
				Verifier: secrethash.New(), DummyHash: s.dummy, Keys: s.keys, Usage: s.b.Clients(),
				Log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
			}).Handler()
			serve := func() {
				r := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader("grant_type=client_credentials"))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				r.SetBasicAuth(s.client.ClientID, plainSecret)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != 200 {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
			serve()
			b.ReportAllocs()
			for b.Loop() {
				serve()
			}
		})
	}
}

// BenchmarkTokenPrivateKeyJWT: private_key_jwt with a client key of each
// algorithm, warm (one instance) and cold (a fresh instance each time),
// beside TokenWarm/RS256 and TokenCold: no argon2id, and one conditional
// write (the jti) that the secret's warm path does not make. Assertions
// are signed before the timer runs, as a client would.
func BenchmarkTokenPrivateKeyJWT(b *testing.B) {
	for _, alg := range []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA, jose.RS256} {
		for _, warm := range []bool{true, false} {
			name := map[bool]string{true: "warm/", false: "cold/"}[warm] + string(alg)
			b.Run(name, func(b *testing.B) {
				s := newBenchStack(b)
				k := clientkey.New(b, "k1", alg)
				in := module.CreateInput{Name: "signer", DisplayName: "Signer", ClientSecret: plainSecret, Scopes: []string{"orders.read"},
					JWKS: clientkey.Set(b, k), TokenEndpointAuthMethods: []string{module.AuthPrivateKeyJWT}}
				c, _, err := s.b.Service().Create(context.Background(), "acme", in, "")
				if err != nil {
					b.Fatal(err)
				}
				forms := make([]string, b.N+1)
				for i := range forms {
					forms[i] = assertionForm(k.Sign(b, clientkey.Claims(c.ClientID, issuer, time.Now(), nil), nil))
				}
				e := s.endpoint()
				s.post(b, e, forms[b.N], 200)
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					if !warm {
						e = s.endpoint()
					}
					s.post(b, e, forms[i], 200)
				}
			})
		}
	}
}

// post sends a token request with form as its body.
func (s *benchStack) post(b *testing.B, e *oauth.Endpoint, form string, want int) {
	r := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader(form))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	if w.Code != want {
		b.Fatalf("status %d, want %d: %s", w.Code, want, w.Body)
	}
}

package oauth_test

// The token path's cost at a Zipf hit rate (zipf_test.go): a hit and a
// miss through the handler, and the stream replayed through one instance.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/oauth"
	"github.com/modules-service/modules/internal/secrethash"
	"github.com/modules-service/modules/internal/signing"
	"github.com/modules-service/modules/internal/testing/testenv"
	"github.com/modules-service/modules/internal/ttl"
)

// BenchmarkTokenHitMiss is the token path's cost per request on a hit and
// on a miss of the verified cache, through the handler as a function
// serves it (TokenWarmHandler's: JSON log line, metrics, last use), with a
// key of each algorithm. A miss is a client this instance has not
// remembered: a fresh instance's first request of it, so every cache
// misses as it does for a client the LRU dropped (client read, known
// source, counters, secret read, argon2id, remembered source, last use).
// A request's cost at hit rate h is h*hit + (1-h)*miss.
func BenchmarkTokenHitMiss(b *testing.B) {
	for _, alg := range signing.Algorithms {
		s := newBenchStackFor(b, alg)
		warm := s.handler()
		s.serve(b, warm) // verified, hash and client cached from here on
		b.Run(string(alg)+"/hit", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.serve(b, warm)
			}
		})
		b.Run(string(alg)+"/miss", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.serve(b, s.handler())
			}
		})
	}
}

// handler is an instance of the token function on s's stores, with its
// own caches, as large as in the token function.
func (s *benchStack) handler() http.Handler {
	return oauth.NewEndpoint(oauth.Config{Issuer: issuer}, oauth.Deps{
		Clients: module.NewClientCacheOf(s.b.Clients(), clientTTL, nil, oauth.CacheEntries(tokenMemoryMB)), Hashes: s.b.Hashes, Limits: s.b.Limits(),
		Verifier: secrethash.New(), DummyHash: s.dummy, Keys: s.keys, Usage: s.b.Clients(),
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), CacheEntries: oauth.CacheEntries(tokenMemoryMB),
	}).Handler()
}

// serve asks h for a token with s's client's credentials.
func (s *benchStack) serve(b *testing.B, h http.Handler) { s.serveAs(b, h, s.client.ClientID) }

// serveAs asks h for a token as clientID, with s's client's secret.
func (s *benchStack) serveAs(b *testing.B, h http.Handler, clientID string) {
	r := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader("grant_type=client_credentials"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth(clientID, plainSecret)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 200 {
		b.Fatalf("status %d: %s", w.Code, w.Body)
	}
}

// BenchmarkTokenZipf replays the Zipf stream itself through one instance
// (the caches as they are now, LRU at the token function's size; ES256,
// whose cheap signature keeps the replay to minutes): the first
// zipfRequests/2 requests warm it up without argon2id and without the
// stores (the pointer, counter and last-use calls answer at once; every
// cache sees the same Gets and Puts, since each Put follows a success),
// then the benchmark's requests continue the stream through the stores
// and argon2id, and hit% is theirs: the argon2id runs must number the
// simulation's misses in the same requests (BenchmarkZipfHitRate). It checks
// h*hit + (1-h)*miss of BenchmarkTokenHitMiss/ES256 on the real sequence.
// The clock stands still, as in the simulation: nothing expires, not even
// the client pointers (ClientCacheSeconds), whose reads every 30 s per
// active client are the same before and after and are left out of both;
// reads/op counts the pointer reads there are (those of misses).
// Every client ID reads the bench client's pointer and hash from the
// stores (a real read each, under its own ID and secret name), so a
// million clients need no million modules. Minutes: only with
// ZIPF_REPLAY=1.
func BenchmarkTokenZipf(b *testing.B) {
	if os.Getenv("ZIPF_REPLAY") == "" {
		b.Skip("minutes of warm-up per client count: set ZIPF_REPLAY=1")
	}
	for _, clients := range []uint64{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			s := newBenchStackFor(b, signing.ES256)
			real, err := s.b.Clients().Client(context.Background(), s.client.ClientID)
			if err != nil {
				b.Fatal(err)
			}
			w, clock := &warmUp{on: true}, testenv.NewClock()
			v := &warmUpVerifier{real: secrethash.New(), w: w}
			reader := &zipfClients{real: s.b.Clients(), id: s.client.ClientID, template: real, w: w}
			h := oauth.NewEndpoint(oauth.Config{Issuer: issuer}, oauth.Deps{
				Clients: module.NewClientCacheOf(reader, clientTTL, clock.Now, oauth.CacheEntries(tokenMemoryMB)),
				Hashes:  zipfHashes{s.b.Hashes, real.SecretName, w}, Limits: warmUpLimits{s.b.Limits(), w},
				Verifier: v, DummyHash: s.dummy, Keys: s.keys, Usage: warmUpUsage{s.b.Clients(), w}, Now: clock.Now,
				Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), CacheEntries: oauth.CacheEntries(tokenMemoryMB),
			}).Handler()
			z := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), zipfS, zipfV, clients-1)
			for range zipfRequests / 2 {
				s.serveAs(b, h, zipfClientID(z.Uint64()))
			}
			w.on, reader.reads = false, 0
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				s.serveAs(b, h, zipfClientID(z.Uint64()))
				n++
			}
			if want := simulatedMisses(clients, zipfRequests/2, n); v.runs != want {
				b.Errorf("the handler ran argon2id %d times in %d requests, the simulation of its verified cache missed %d", v.runs, n, want)
			}
			b.ReportMetric(100*(1-float64(v.runs)/float64(n)), "hit%")
			b.ReportMetric(float64(reader.reads)/float64(n), "reads/op")
		})
	}
}

// simulatedMisses is how many of n requests after the first skip of the
// Zipf stream over clients the simulation's verified cache (the LRU at
// the token function's size) misses.
func simulatedMisses(clients uint64, skip, n int) int {
	c := &ttl.Cache[uint64, struct{}]{TTL: oauth.VerifiedTTL, Max: oauth.CacheEntries(tokenMemoryMB), Now: frozen}
	z := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), zipfS, zipfV, clients-1)
	misses := 0
	for i := range skip + n {
		k := z.Uint64()
		if _, ok := c.Get(k); !ok {
			c.Put(k, struct{}{})
			if i >= skip {
				misses++
			}
		}
	}
	return misses
}

// zipfClientID is the client ID of the k-th most popular client.
func zipfClientID(k uint64) string { return fmt.Sprintf("zipf-client-%07d", k) }

// warmUp is on while a replay warms its instance up.
type warmUp struct{ on bool }

// zipfClients reads the pointer of one real client for every client ID
// and answers it under that ID (its module and secret named after it);
// warming up, it answers template so without the read.
type zipfClients struct {
	real     module.ClientReader
	id       string
	template module.Client
	w        *warmUp
	reads    int
}

func (z *zipfClients) Client(ctx context.Context, clientID string) (module.Client, error) {
	c, err := z.template, error(nil)
	if !z.w.on {
		z.reads++
		c, err = z.real.Client(ctx, z.id)
	}
	c.ClientID, c.ModuleID, c.SecretName = clientID, clientID, "zipf/"+clientID
	return c, err
}

// zipfHashes reads the real client's hash for every client's secret name.
type zipfHashes struct {
	real oauth.HashStore
	name string
	w    *warmUp
}

func (z zipfHashes) Get(ctx context.Context, _ string) (string, error) {
	if z.w.on {
		return "warming up: never verified", nil
	}
	return z.real.Get(ctx, z.name)
}

// warmUpLimits counts nothing while warming up: every attempt admitted,
// every source new, as a fresh table would answer.
type warmUpLimits struct {
	oauth.LimitStore
	w *warmUp
}

func (l warmUpLimits) Reserve(ctx context.Context, id, source string, now time.Time, span time.Duration, limit, maxFailures int) (bool, time.Time, error) {
	if l.w.on {
		return true, now, nil
	}
	return l.LimitStore.Reserve(ctx, id, source, now, span, limit, maxFailures)
}

func (l warmUpLimits) Release(ctx context.Context, id, source string, at time.Time) error {
	if l.w.on {
		return nil
	}
	return l.LimitStore.Release(ctx, id, source, at)
}

func (l warmUpLimits) LastSuccess(ctx context.Context, id, source string) (time.Time, error) {
	if l.w.on {
		return time.Time{}, nil
	}
	return l.LimitStore.LastSuccess(ctx, id, source)
}

func (l warmUpLimits) Remember(ctx context.Context, id, source string, at, expires time.Time) error {
	if l.w.on {
		return nil
	}
	return l.LimitStore.Remember(ctx, id, source, at, expires)
}

// warmUpUsage records no last use while warming up.
type warmUpUsage struct {
	oauth.UsageStore
	w *warmUp
}

func (u warmUpUsage) Used(ctx context.Context, tenantID, moduleID string, at time.Time) error {
	if u.w.on {
		return nil
	}
	return u.UsageStore.Used(ctx, tenantID, moduleID, at)
}

// warmUpVerifier accepts the right secret without argon2id while warming
// up, then runs argon2id and counts the runs.
type warmUpVerifier struct {
	real oauth.Verifier
	w    *warmUp
	runs int
}

func (v *warmUpVerifier) Verify(secret, hash string) (bool, error) {
	if v.w.on {
		return secret == plainSecret, nil
	}
	v.runs++
	return v.real.Verify(secret, hash)
}

package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modules-service/modules/internal/caller"
	"github.com/modules-service/modules/internal/httpapi"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/secrethash"
	"github.com/modules-service/modules/internal/testing/testenv"
)

// Handler benchmarks on the embedded stack with the production (OWASP)
// hasher, as `make bench` runs them, side by side with their unavoidable
// work:
//   Create  vs  Argon2Hash + CreateStorage   goal: at most 1.3x

type benchAPI struct {
	b       testenv.Backend
	svc     *module.Service
	handler http.Handler
}

func newBenchAPI(b *testing.B, h func(*slog.Logger, *module.Service) http.Handler) *benchAPI {
	a := &benchAPI{b: testenv.Embedded(b)}
	a.svc = a.b.Service()
	a.svc.Hasher = secrethash.New()
	a.svc.Log = slog.New(slog.NewJSONHandler(benchLog, nil))
	a.handler = h(a.svc.Log, a.svc)
	return a
}

var benchLog io.Writer = io.Discard

var manager = caller.Caller{TenantID: "acme", Kind: caller.Manager}.Context()

func (a *benchAPI) serve(b *testing.B, method, path, contentType, body string, want int) {
	r := eventRequest(b, method, path, contentType, body)
	w := httptest.NewRecorder()
	a.handler.ServeHTTP(w, r)
	if w.Code != want {
		b.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body)
	}
}

// bounded empties the table every 50 creates, outside the timer: minidyn
// copies the whole table for each transaction (to roll it back), so a
// growing table would make later iterations slower than earlier ones.
func (a *benchAPI) bounded(b *testing.B, i int) {
	if i%50 == 0 {
		b.StopTimer()
		if err := a.b.Minidyn.ClearTable(a.b.Table); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

func BenchmarkArgon2Hash(b *testing.B) {
	h := secrethash.New()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(secret); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateStorage is what a create must write: the hash into the
// secret store and the DynamoDB transaction, with the hash computed before.
func BenchmarkCreateStorage(b *testing.B) {
	a := newBenchAPI(b, createHandler)
	hash, _ := secrethash.New().Hash(secret)
	a.svc.Hasher = precomputed{hash}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		a.bounded(b, i)
		if _, _, err := a.svc.Create(context.Background(), "acme", module.CreateInput{Name: fmt.Sprintf("m-%d", i), DisplayName: fmt.Sprintf("M %d", i), ClientSecret: secret}, ""); err != nil {
			b.Fatal(err)
		}
	}
}

type precomputed struct{ hash string }

func (p precomputed) Hash(string) (string, error)         { return p.hash, nil }
func (p precomputed) Verify(string, string) (bool, error) { return true, nil }

func BenchmarkCreate(b *testing.B) {
	a := newBenchAPI(b, createHandler)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		a.bounded(b, i)
		a.serve(b, "POST", "/tenants/acme/modules", "application/json",
			fmt.Sprintf(`{"name":"m-%d","displayName":"M %d","clientSecret":"%s"}`, i, i, secret), 201)
	}
}

// BenchmarkValidate is the wizard's check before Save: every rule and
// the two guard reads, no argon2id, no write. Compare with BenchmarkCreate.
func BenchmarkValidate(b *testing.B) {
	a := newBenchAPI(b, createHandler)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		a.serve(b, "POST", "/tenants/acme/modules/validation", "application/json",
			fmt.Sprintf(`{"name":"m-%d","displayName":"M %d","clientSecret":"%s"}`, i, i, secret), 200)
	}
}

func BenchmarkListPage(b *testing.B) {
	a := newBenchAPI(b, listHandler)
	a.svc.Hasher = testenv.FastHasher
	for i := range 50 {
		if _, _, err := a.svc.Create(context.Background(), "acme", module.CreateInput{Name: fmt.Sprintf("m-%d", i), DisplayName: fmt.Sprintf("M %d", i), ClientSecret: secret}, ""); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		a.serve(b, "GET", "/tenants/acme/modules?limit=20", "", "", 200)
	}
}

func BenchmarkUpdate(b *testing.B) {
	a := newBenchAPI(b, updateHandler)
	a.svc.Hasher = testenv.FastHasher
	c, _, err := a.svc.Create(context.Background(), "acme", module.CreateInput{Name: "billing", DisplayName: "Billing", ClientSecret: secret}, "")
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		a.serve(b, "PATCH", "/tenants/acme/modules/"+c.ID, "application/merge-patch+json", fmt.Sprintf(`{"displayName":"Billing %d"}`, i), 200)
	}
}

func createHandler(l *slog.Logger, s *module.Service) http.Handler { return httpapi.CreateModule(l, s) }
func listHandler(l *slog.Logger, s *module.Service) http.Handler   { return httpapi.ListModules(l, s) }
func updateHandler(l *slog.Logger, s *module.Service) http.Handler { return httpapi.UpdateModule(l, s) }

// eventRequest is a request as the Lambda adapter hands it to a handler:
// with the API Gateway context of a manager of acme.
func eventRequest(b *testing.B, method, path, contentType, body string) *http.Request {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return withAuthorizer(r, manager)
}

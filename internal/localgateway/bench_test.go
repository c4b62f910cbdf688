package localgateway_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modules-service/modules/internal/localgateway"
	"github.com/modules-service/modules/internal/signing"
)

// BenchmarkTokenThroughGateway is a warm token request as make
// bench-peers sends it, in process: the gateway's route, the payload 2.0
// event JSON to the function and back, the handler and both log lines
// (to io.Discard), with a key of each algorithm.
func BenchmarkTokenThroughGateway(b *testing.B) {
	for _, alg := range signing.Algorithms {
		b.Run(string(alg), func(b *testing.B) {
			s, err := localgateway.Start(context.Background(), localgateway.Options{Template: "../../template.yaml", Issuer: "http://bench.test",
				Table: "modules-local", SecretPrefix: "modules-local/modules", TokenAlgorithm: string(alg), NoThrottle: true, ClientCacheTTL: 30 * time.Second,
				Bootstrap: localgateway.Bootstrap{Tenant: "bench"}, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(s.Close)
			post := func(path, body, auth, contentType string, want int) []byte {
				r := httptest.NewRequest("POST", "http://localhost"+path, strings.NewReader(body)) // a loopback name
				r.Header.Set("Authorization", auth)
				r.Header.Set("Content-Type", contentType)
				w := httptest.NewRecorder()
				s.Handler.ServeHTTP(w, r)
				if w.Code != want {
					b.Fatalf("%s: %d %s", path, w.Code, w.Body)
				}
				return w.Body.Bytes()
			}
			basic := func(id, secret string) string {
				r := httptest.NewRequest("GET", "/", nil)
				r.SetBasicAuth(id, secret)
				return r.Header.Get("Authorization")
			}
			var tok struct {
				AccessToken string `json:"access_token"`
			}
			_ = json.Unmarshal(post("/oauth2/token", "grant_type=client_credentials", basic(s.Manager.ClientID, s.Manager.ClientSecret), "application/x-www-form-urlencoded", 200), &tok)
			var m struct {
				ClientID string `json:"clientId"`
			}
			_ = json.Unmarshal(post("/tenants/bench/modules", `{"name":"bench","displayName":"Bench","clientSecret":"`+secret+`"}`, "Bearer "+tok.AccessToken, "application/json", 201), &m)
			auth := basic(m.ClientID, secret)
			post("/oauth2/token", "grant_type=client_credentials", auth, "application/x-www-form-urlencoded", 200)
			b.ReportAllocs()
			for b.Loop() {
				post("/oauth2/token", "grant_type=client_credentials", auth, "application/x-www-form-urlencoded", 200)
			}
		})
	}
}

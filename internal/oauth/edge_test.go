package oauth_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/modules-service/modules/internal/edge"
	"github.com/modules-service/modules/internal/oauth"
)

const originSecret = "origin-secret-only-cloudfront-sends-1234"

// viaEdge is a request CloudFront forwarded from viewer: from one of its
// edge servers, with the origin secret and the viewer's address.
func viaEdge(viewer string) func(*http.Request) {
	return func(r *http.Request) {
		r.RemoteAddr = "130.176.0.1:443"
		r.Header.Set(edge.OriginSecretHeader, originSecret)
		r.Header.Set(edge.ViewerAddressHeader, viewer+":40000")
	}
}

// TestSourceBehindTheEdgeIsTheViewer: behind CloudFront every viewer
// arrives from an edge server's address. With the origin secret the source
// is the viewer's, so a guesser behind the same edge server does not lock
// the owner out; a viewer address sent straight to the API without the
// secret is ignored, so a guesser cannot rotate its source by a header.
func TestSourceBehindTheEdgeIsTheViewer(t *testing.T) {
	f := newFixture(t)
	f.origin = edge.NewOrigin(originSecret)
	f.handler = f.instance()
	c := f.module(t, "billing", plainSecret)
	guess := []string{c.ClientID, "guess-guess-guess-guess"}

	for i := range oauth.MaxPerSource + 1 {
		r := f.post(t, basicGrant, guess, viaEdge("198.51.100.7"))
		if want := map[bool]int{true: 401, false: 429}[i < oauth.MaxPerSource]; r.status != want {
			t.Fatalf("guess %d through the edge: %d, want %d", i, r.status, want)
		}
	}
	if r := f.postTo(t, f.instance(), basicGrant, []string{c.ClientID, plainSecret}, viaEdge("203.0.113.9")); r.status != 200 {
		t.Errorf("the owner through the same edge server: %d %s, want 200", r.status, r.raw)
	}

	forged := func(i int) func(*http.Request) {
		return func(r *http.Request) {
			r.RemoteAddr = "192.0.2.66:40000"
			r.Header.Set(edge.OriginSecretHeader, "a guess at the origin secret")
			r.Header.Set(edge.ViewerAddressHeader, fmt.Sprintf("198.51.100.%d:1", 100+i))
		}
	}
	for i := range oauth.MaxPerSource + 1 {
		r := f.post(t, basicGrant, guess, forged(i))
		if want := map[bool]int{true: 401, false: 429}[i < oauth.MaxPerSource]; r.status != want {
			t.Fatalf("guess %d straight to the API with a forged viewer address: %d, want %d (counted under its own address)", i, r.status, want)
		}
	}
}

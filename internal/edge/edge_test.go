package edge

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
)

const secret = "origin-secret-from-secrets-manager"

func TestOriginVerified(t *testing.T) {
	tests := []struct {
		name   string
		secret string
		sent   []string
		want   bool
	}{
		{"the secret", secret, []string{secret}, true},
		{"no header", secret, nil, false},
		{"a wrong value", secret, []string{"origin-secret-from-secrets-managex"}, false},
		{"a prefix of the secret", secret, []string{secret[:10]}, false},
		{"the secret and more", secret, []string{secret + "x"}, false},
		{"twice", secret, []string{secret, secret}, false},
		{"an empty header", secret, []string{""}, false},
		{"no secret configured: nothing verifies", "", []string{""}, false},
		{"no secret configured, a value sent", "", []string{secret}, false},
		// the Lambda adapter splits a payload-2.0 header at commas
		{"a secret with a comma, split by the adapter", "abc,def-0123456789", []string{"abc", "def-0123456789"}, true},
		{"the parts of such a secret in the wrong order", "abc,def-0123456789", []string{"def-0123456789", "abc"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/oauth2/token", nil)
			for _, v := range tt.sent {
				r.Header.Add(OriginSecretHeader, v)
			}
			if got := NewOrigin(tt.secret).Verified(r); got != tt.want {
				t.Errorf("Verified = %v, want %v", got, tt.want)
			}
		})
	}
	if (Origin{}).Verified(httptest.NewRequest("GET", "/", nil)) {
		t.Error("the zero Origin verified a request")
	}
}

func TestViewerAddress(t *testing.T) {
	tests := []struct {
		name     string
		fromEdge bool
		sourceIP string   // API Gateway's requestContext.http.sourceIp; "" for none
		viewer   []string // CloudFront-Viewer-Address values
		want     string   // "" for the zero Addr
	}{
		// from the edge: the viewer's address, never the edge server's
		{"edge, IPv4", true, "130.176.1.1", []string{"198.51.100.10:46532"}, "198.51.100.10"},
		{"edge, IPv6 unbracketed as CloudFront writes it", true, "130.176.1.1", []string{"2001:db8:85a3::8a2e:370:7334:46532"}, "2001:db8:85a3::8a2e:370:7334"},
		{"edge, IPv6 written in full", true, "130.176.1.1", []string{"0000:0000:0000:0000:0000:0000:0000:0001:52325"}, "::1"},
		{"edge, IPv6 bracketed", true, "130.176.1.1", []string{"[2001:db8::7]:443"}, "2001:db8::7"},
		{"edge, IPv4-mapped IPv6 becomes IPv4", true, "130.176.1.1", []string{"::ffff:192.0.2.9:1234"}, "192.0.2.9"},
		{"edge, surrounding spaces", true, "130.176.1.1", []string{" 192.0.2.1:80 "}, "192.0.2.1"},
		{"edge, header missing: not the edge server", true, "130.176.1.1", nil, ""},
		{"edge, two headers", true, "130.176.1.1", []string{"192.0.2.1:80", "192.0.2.2:80"}, ""},
		{"edge, two values joined by payload 2.0", true, "130.176.1.1", []string{"192.0.2.1:80,192.0.2.2:80"}, ""},
		{"edge, no port", true, "130.176.1.1", []string{"192.0.2.1"}, ""},
		{"edge, port 0", true, "130.176.1.1", []string{"192.0.2.1:0"}, ""},
		{"edge, port out of range", true, "130.176.1.1", []string{"192.0.2.1:65536"}, ""},
		{"edge, not an address", true, "130.176.1.1", []string{"localhost:80"}, ""},
		{"edge, a zone", true, "130.176.1.1", []string{"fe80::1%eth0:80"}, ""},
		{"edge, empty", true, "130.176.1.1", []string{""}, ""},
		// not proven to come from the edge: the header is anyone's to write
		{"direct, forged header ignored", false, "203.0.113.5", []string{"198.51.100.10:46532"}, "203.0.113.5"},
		{"direct, no header", false, "203.0.113.5", nil, "203.0.113.5"},
		{"direct, IPv6 source", false, "2001:db8::5", nil, "2001:db8::5"},
		{"direct, IPv4-mapped source", false, "::ffff:203.0.113.5", nil, "203.0.113.5"},
		{"direct, outside Lambda: the peer", false, "", nil, "192.0.2.200"},
		{"direct, unparsable source", false, "not-an-ip", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/oauth2/token", nil)
			r.RemoteAddr = "192.0.2.200:5555"
			for _, v := range tt.viewer {
				r.Header.Add(ViewerAddressHeader, v)
			}
			if tt.sourceIP != "" {
				r = withSourceIP(r, tt.sourceIP)
			}
			got := ViewerAddress(r, tt.fromEdge)
			if want := parse(t, tt.want); got != want {
				t.Errorf("ViewerAddress = %v, want %v", got, want)
			}
		})
	}
}

// TestOnlyTheOriginSecretMakesTheHeaderCount: the wiring the token
// function is to use, end to end: a forged viewer address sent straight to
// the API changes nothing; the same header through CloudFront is the source.
func TestOnlyTheOriginSecretMakesTheHeaderCount(t *testing.T) {
	o := NewOrigin(secret)
	source := func(r *http.Request) netip.Addr { return ViewerAddress(r, o.Verified(r)) }

	forged := withSourceIP(httptest.NewRequest("POST", "/oauth2/token", nil), "203.0.113.5")
	forged.Header.Set(ViewerAddressHeader, "198.51.100.10:1")
	forged.Header.Set(OriginSecretHeader, "a guess")
	if got := source(forged); got != netip.MustParseAddr("203.0.113.5") {
		t.Errorf("a forged header without the secret: source %v, want the peer 203.0.113.5", got)
	}
	viaEdge := withSourceIP(httptest.NewRequest("POST", "/oauth2/token", nil), "130.176.1.1")
	viaEdge.Header.Set(ViewerAddressHeader, "198.51.100.10:1")
	viaEdge.Header.Set(OriginSecretHeader, secret)
	if got := source(viaEdge); got != netip.MustParseAddr("198.51.100.10") {
		t.Errorf("through CloudFront: source %v, want the viewer 198.51.100.10", got)
	}
}

// withSourceIP is r as a function behind API Gateway gets it: through
// the Lambda adapter, with sourceIp in the request context.
func withSourceIP(r *http.Request, ip string) *http.Request {
	var ra core.RequestAccessorV2
	out, err := ra.EventToRequestWithContext(context.Background(), events.APIGatewayV2HTTPRequest{
		RawPath: r.URL.Path,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: r.Method, Path: r.URL.Path, SourceIP: ip},
		},
	})
	if err != nil {
		panic(err)
	}
	for k, v := range r.Header {
		out.Header[k] = v
	}
	return out
}

func parse(t *testing.T, s string) netip.Addr {
	t.Helper()
	if s == "" {
		return netip.Addr{}
	}
	return netip.MustParseAddr(s)
}

func FuzzViewerAddress(f *testing.F) {
	for _, s := range []string{"198.51.100.10:46532", "2001:db8::1:443", "[::1]:1", "", ":", "1.2.3.4:99999", "::ffff:1.2.3.4:5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set(ViewerAddressHeader, s)
		a := ViewerAddress(r, true)
		if a.IsValid() && (a.Zone() != "" || a.Is4In6()) {
			t.Errorf("%q gave %v: a zone or an IPv4-mapped address", s, a)
		}
	})
}

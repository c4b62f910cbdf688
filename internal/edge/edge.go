// Package edge decides which address a request came from when CloudFront
// and its web ACL stand in front of the HTTP API (docs/security.md, "One address
// cannot spend everyone's budget"). Behind CloudFront, API Gateway's
// sourceIp is a CloudFront edge server shared by every viewer it serves;
// the viewer's own address arrives in the CloudFront-Viewer-Address header,
// which anyone can also send straight to the API. So that header counts
// only on a request that carries the origin secret, the value CloudFront
// adds to every request it forwards (the distribution's origin custom
// header) and no viewer knows.
package edge

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"
)

const (
	// ViewerAddressHeader is where CloudFront writes the viewer's address
	// and source port: "198.51.100.10:46532", or for IPv6 the address
	// unbracketed, then a colon and the port ("2001:db8::1:46532").
	ViewerAddressHeader = "CloudFront-Viewer-Address"
	// OriginSecretHeader is the origin custom header through which
	// CloudFront proves it sent a request (template.yaml, EdgeDistribution).
	OriginSecretHeader = "X-Origin-Verify"
)

// Origin checks the origin secret. The zero Origin verifies nothing: with
// no edge in front, every request is taken as coming straight from its peer.
type Origin struct{ secret []byte }

// NewOrigin checks for secret; an empty secret verifies nothing.
func NewOrigin(secret string) Origin { return Origin{secret: []byte(secret)} }

// Verified tells whether r carries the origin secret. The Lambda adapter
// splits a header's value at commas into several (API Gateway's payload 2.0
// joins repeated headers with them), so the values are joined back before
// the comparison, which takes the same time wherever a guess differs. (A
// generated secret holds punctuation unless told not to: the emulator of
// the deployment layer ignores ExcludePunctuation.)
func (o Origin) Verified(r *http.Request) bool {
	got := strings.Join(r.Header.Values(OriginSecretHeader), ",")
	if len(o.secret) == 0 || got == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got), o.secret) == 1
}

// ViewerAddress is the address r came from. When fromEdge (Origin.Verified:
// CloudFront sent r), it is the viewer's address from CloudFront-Viewer-
// Address, and the zero Addr if that header is missing, repeated or
// malformed, so that no such request is counted as an edge server's or as
// someone else's. Otherwise it is the peer API Gateway saw (the payload
// 2.0 sourceIp), or r.RemoteAddr outside Lambda, and a CloudFront-Viewer-
// Address header is ignored: anyone can write one. IPv4-mapped IPv6
// addresses are returned as IPv4; the zero Addr when nothing parses.
func ViewerAddress(r *http.Request, fromEdge bool) netip.Addr {
	if fromEdge {
		v := r.Header.Values(ViewerAddressHeader)
		if len(v) != 1 {
			return netip.Addr{}
		}
		return parseViewerAddress(v[0])
	}
	ip := ""
	if rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok {
		ip = rc.HTTP.SourceIP
	}
	if ip == "" {
		ip, _, _ = net.SplitHostPort(r.RemoteAddr)
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.Addr{}
	}
	return addr.WithZone("").Unmap()
}

// parseViewerAddress reads "address:port" as CloudFront writes it (IPv6
// unbracketed, the port after the last colon); a bracketed IPv6 form is
// accepted too. Payload 2.0 joins repeated headers with commas, so a comma
// means two values: refused, as is a zone or a missing port.
func parseViewerAddress(s string) netip.Addr {
	s = strings.TrimSpace(s)
	i := strings.LastIndexByte(s, ':')
	if i < 0 || strings.ContainsRune(s, ',') {
		return netip.Addr{}
	}
	host, port := s[:i], s[i+1:]
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || p == 0 {
		return netip.Addr{}
	}
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || addr.Zone() != "" {
		return netip.Addr{}
	}
	return addr.Unmap()
}

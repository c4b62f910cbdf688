package localgateway

import (
	"net/netip"
	"strings"
	"testing"
)

// FuzzLoopbackHost: a Host header the gateway takes names localhost or a
// loopback address, with the gateway's port, whatever the sender wrote.
func FuzzLoopbackHost(f *testing.F) {
	for _, h := range []string{"127.0.0.1:3000", "localhost:3000", "[::1]:3000", "evil.example:3000", "localhost", "[::1]",
		"127.0.0.1:3000:3000", "[::ffff:127.0.0.1]:3000", "[fe80::1%lo]:3000", "localhost.:3000", "2130706433:3000", ""} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, host string) {
		if !loopbackHost(host, "3000") {
			return
		}
		name, ok := strings.CutSuffix(host, ":3000")
		if !ok {
			t.Fatalf("%q taken without port 3000", host)
		}
		name = strings.TrimSuffix(strings.TrimPrefix(name, "["), "]")
		if ip, err := netip.ParseAddr(name); !strings.EqualFold(name, "localhost") && (err != nil || !ip.IsLoopback()) {
			t.Fatalf("%q taken, but %q is not a loopback name", host, name)
		}
	})
}

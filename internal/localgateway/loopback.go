package localgateway

import (
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// loopbackOnly answers only requests addressed to the gateway by a
// loopback name and its own port, for every route and before anything
// runs. Listening on 127.0.0.1 keeps other machines out, but not their
// requests: a web page the developer visits can point a name of its own at
// 127.0.0.1 (DNS rebinding) and read the answers as same-origin, and a
// loopback forwarder (ngrok, ssh -R, an IDE's port forwarding) hands the
// gateway requests from anywhere. Either way the Host header names
// something other than localhost, 127.x.y.z or [::1] with this port.
func loopbackOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		port, ok := ownPort(r)
		if !loopbackHost(r.Host, port) {
			misdirected(w, port, ok)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// ownPort is the port the request's connection came in on. A handler
// called in process, without a connection, has none: then any port of a
// loopback name is taken.
func ownPort(r *http.Request) (string, bool) {
	addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return "", false
	}
	_, port, err := net.SplitHostPort(addr.String())
	return port, err == nil
}

// loopbackHost reports whether host (a Host header) is localhost,
// 127.x.y.z or [::1], with port when port is not empty. A Host without a
// port names port 80 (RFC 9110 §4.2.1).
func loopbackHost(host, port string) bool {
	name, p, err := net.SplitHostPort(host)
	if err != nil {
		name, p = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), "80"
	}
	if port != "" && p != port {
		return false
	}
	if strings.EqualFold(name, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(name)
	return err == nil && ip.Zone() == "" && ip.IsLoopback()
}

// misdirected is 421 Misdirected Request (RFC 9110 §15.5.20) as an RFC 9457
// problem that says what to use instead. The refused Host is not repeated:
// it is the sender's text.
func misdirected(w http.ResponseWriter, port string, known bool) {
	if !known {
		port = "<port>"
	}
	writeProblem(w, http.StatusMisdirectedRequest, "Misdirected Request",
		"The local gateway answers only requests addressed to it by a loopback name and its own port: http://127.0.0.1:"+port+
			", http://localhost:"+port+" or http://[::1]:"+port+". Open one of those; a dev server's proxy must pass that Host on "+
			"(Vite, webpack: changeOrigin). Another name is refused: a web page can point its own name at 127.0.0.1 (DNS rebinding), "+
			"and a loopback forwarder brings requests from anywhere.")
}

// writeProblem writes an RFC 9457 problem.
func writeProblem(w http.ResponseWriter, status int, title, detail string) {
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"type": "about:blank", "title": title, "status": status, "detail": detail})
}

// Package portal is the Modules page of the tenant portal: plain HTML, CSS
// and JavaScript modules embedded in the binary, served by the portal
// function on GET /portal/{proxy+} of the API (same origin, so no CORS) and
// by the local gateway. docs/portal.md, "The portal page".
package portal

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var static embed.FS

// Config is how managers sign in to the page. With both fields set, the
// page signs in at that OpenID provider (authorization code with PKCE);
// otherwise with a manager module's client credentials.
type Config struct {
	IdPIssuer   string // the provider's issuer; its origin joins connect-src
	ClientID    string // the page's client at the provider (public, PKCE)
	TenantClaim string // the claim of the provider's tokens that holds the tenant
}

// asset is one embedded file, served under a path that holds its digest
// so that it can be cached for a year: a new build is a new path.
type asset struct {
	body        []byte
	contentType string
}

// Handler serves the page: /portal/ is index.html (never cached, it names
// the current assets), /portal/assets/<digest>/<file> the rest (immutable).
// Any other GET under /portal/ is 404: the page's views live in the
// fragment (#/modules/…), which no request carries.
func Handler(c Config) http.Handler {
	// Every asset shares one digest, of all of them, so that the page's
	// modules import each other by relative path ("./ui.js"); a change to
	// one file re-fetches them all, a few tens of kilobytes.
	assets := map[string]asset{}
	index, _ := fs.ReadFile(static, "static/index.html") // embedded: cannot fail
	entries, _ := fs.ReadDir(static, "static")           // sorted by name
	sum := sha256.New()
	bodies := map[string][]byte{}
	for _, e := range entries {
		if e.Name() == "index.html" {
			continue
		}
		body, _ := fs.ReadFile(static, "static/"+e.Name())
		bodies[e.Name()] = body
		fmt.Fprintf(sum, "%s %d\n", e.Name(), len(body))
		sum.Write(body)
	}
	dir := "/portal/assets/" + hex.EncodeToString(sum.Sum(nil)[:6]) + "/"
	for name, body := range bodies {
		assets[dir+name] = asset{body, mime.TypeByExtension(path.Ext(name))}
		index = bytes.ReplaceAll(index, []byte(`"`+name+`"`), []byte(`"`+dir+name+`"`))
	}
	settings, _ := json.Marshal(map[string]string{"issuer": c.IdPIssuer, "clientId": c.ClientID, "tenantClaim": c.TenantClaim})
	csp := "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'" +
		originOf(c.IdPIssuer) + "; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Path == "/portal/config.json" { // how to sign in
			h.Set("Content-Type", "application/json")
			h.Set("Cache-Control", "no-cache")
			_, _ = w.Write(settings)
			return
		}
		if a, ok := assets[r.URL.Path]; ok {
			h.Set("Content-Type", a.contentType)
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
			_, _ = w.Write(a.body)
			return
		}
		if r.URL.Path != "/portal/" && r.URL.Path != "/portal" && r.URL.Path != "/portal/index.html" {
			http.Error(w, "no such page", http.StatusNotFound)
			return
		}
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		_, _ = w.Write(index)
	})
}

// originOf is " <scheme>://<host>" of an issuer URL, or "".
func originOf(issuer string) string {
	scheme, rest, ok := strings.Cut(issuer, "://")
	if !ok || issuer == "" {
		return ""
	}
	host, _, _ := strings.Cut(rest, "/")
	return fmt.Sprintf(" %s://%s", scheme, host)
}

package portal

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// The page is served with a strict policy; its assets by digest, cached
// for a year; index.html never cached; nothing else.
func TestHandler(t *testing.T) {
	h := Handler(Config{IdPIssuer: "https://idp.example.com/realms/acme"})
	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		return w
	}
	index := get("/portal/")
	csp := index.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self' https://idp.example.com;", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP allows inline or eval: %q", csp)
	}
	if index.Code != 200 || index.Header().Get("Referrer-Policy") != "no-referrer" || index.Header().Get("Cache-Control") != "no-cache" {
		t.Errorf("index: %d %v", index.Code, index.Header())
	}
	body := index.Body.String()
	if strings.Contains(body, "<script>") || strings.Contains(body, " style=") || strings.Contains(body, "onclick") {
		t.Error("index.html holds inline script or style, which the policy refuses")
	}
	assets := regexp.MustCompile(`/portal/assets/[0-9a-f]{12}/app\.(js|css)`).FindAllString(body, -1)
	if len(assets) != 2 {
		t.Fatalf("index names assets %v, want app.js and app.css by digest", assets)
	}
	for _, a := range assets {
		r := get(a)
		if r.Code != 200 || r.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" || r.Body.Len() == 0 {
			t.Errorf("%s: %d %v", a, r.Code, r.Header())
		}
	}
	for _, path := range []string{"/portal/app.js", "/portal/assets/000000000000/app.js", "/portal/../go.mod", "/portal/static/index.html"} {
		if r := get(path); r.Code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, r.Code)
		}
	}
	// how to sign in: the provider and the page's client there, or nothing
	if cfg := get("/portal/config.json").Body.String(); !strings.Contains(cfg, `"issuer":"https://idp.example.com/realms/acme"`) {
		t.Errorf("config.json %s", cfg)
	}
	none := httptest.NewRecorder()
	Handler(Config{}).ServeHTTP(none, httptest.NewRequest("GET", "/portal/config.json", nil))
	if !strings.Contains(none.Body.String(), `"issuer":""`) || strings.Contains(none.Header().Get("Content-Security-Policy"), "https://") {
		t.Errorf("without a provider: %s %s", none.Body, none.Header().Get("Content-Security-Policy"))
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/portal/", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", w.Code)
	}
}

// The page's modules import each other by relative path: every import
// resolves to an asset beside the importer, served as JavaScript.
func TestModulesImportEachOther(t *testing.T) {
	h := Handler(Config{})
	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		return w
	}
	entry := regexp.MustCompile(`/portal/assets/[0-9a-f]{12}/app\.js`).FindString(get("/portal/").Body.String())
	if entry == "" {
		t.Fatal("index.html names no app.js")
	}
	dir := entry[:strings.LastIndex(entry, "/")+1]
	imports := regexp.MustCompile(`from "\./([a-z]+\.js)"`)
	seen := map[string]bool{}
	todo := []string{"app.js"}
	for len(todo) > 0 {
		name := todo[0]
		todo = todo[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		r := get(dir + name)
		if r.Code != 200 || !strings.HasPrefix(r.Header().Get("Content-Type"), "text/javascript") {
			t.Errorf("%s%s: %d %q", dir, name, r.Code, r.Header().Get("Content-Type"))
			continue
		}
		for _, m := range imports.FindAllStringSubmatch(r.Body.String(), -1) {
			todo = append(todo, m[1])
		}
	}
	if len(seen) < 5 {
		t.Errorf("app.js reaches %d modules: %v", len(seen), seen)
	}
}

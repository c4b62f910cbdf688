package localgateway

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/modules-service/modules/internal/accesstoken"
	"github.com/modules-service/modules/internal/module"
)

// local adds what only the local gateway serves to the API from the
// template: / redirects to the portal page, and POST /portal/session hands
// the page a token of the bootstrap manager, so that `make run` opens
// signed in. The session route exists nowhere in template.yaml: deployed,
// a manager signs in. Every route answers loopback names only.
func (s *Stack) local(api http.Handler, session bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", api)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/portal/", http.StatusFound)
	})
	if session {
		s.signIn = &signIn{link: []byte(rand.Text())} // 128 bits of crypto/rand
		mux.HandleFunc("POST /portal/session", s.portalSession)
		mux.HandleFunc("DELETE /portal/session", s.portalSignOut)
	}
	return loopbackOnly(mux)
}

// SignInURL is the link that signs the portal page in as the bootstrap
// manager, once, for the gateway at base (http://127.0.0.1:3000); empty
// when the session route is off. make run prints it; it is never logged.
// The value rides in the fragment, which a browser never sends: it
// reaches no request line, log or Referer; the page takes it out of its URL
// at once and posts it to /portal/session.
func (s *Stack) SignInURL(base string) string {
	if s.signIn == nil {
		return ""
	}
	return base + "/portal/#signin=" + string(s.signIn.link) // link never changes
}

// signIn is the loopback sign-in: a one-time value (the link's) that is
// exchanged once for a browser session, a random value in an HttpOnly,
// SameSite=Strict cookie scoped to /portal/session. A reload, or another
// tab of the same browser, gets its token with that cookie; the link, once
// used, is worth nothing where it was kept (terminal scrollback, the
// browser's history). Another browser needs a new link: restart make run,
// or sign in with the credentials of .local/credentials.json. Both values
// live as long as the process and are compared in constant time.
type signIn struct {
	link    []byte // the link's value; set once, never changed
	mu      sync.Mutex
	used    bool   // the link was exchanged
	session []byte // the cookie's value, set then
}

// sessionLifetime is how long the page's token lives; a reload gets another.
const sessionLifetime = time.Hour

// maxSessionBody bounds what the session route reads.
const maxSessionBody = 1 << 10

// admit reports whether the request holds the session cookie or the
// unused link value; for the link it returns the new session value, which
// the response sets as the cookie.
func (si *signIn) admit(cookie, link string) (ok bool, newSession []byte) {
	si.mu.Lock()
	defer si.mu.Unlock()
	if si.session != nil && subtle.ConstantTimeCompare([]byte(cookie), si.session) == 1 {
		return true, nil
	}
	if !si.used && link != "" && subtle.ConstantTimeCompare([]byte(link), si.link) == 1 {
		si.used, si.session = true, []byte(rand.Text())
		return true, si.session
	}
	return false, nil
}

// forget ends the browser session whose cookie this is (Sign out): a
// reload then asks to sign in. Another cookie, or none, changes nothing.
func (si *signIn) forget(cookie string) bool {
	si.mu.Lock()
	defer si.mu.Unlock()
	if si.session == nil || subtle.ConstantTimeCompare([]byte(cookie), si.session) != 1 {
		return false
	}
	si.session = nil
	return true
}

// sessionCookie names the cookie per port: cookies do not tell ports
// apart, and two gateways on one machine each keep their own.
func sessionCookie(r *http.Request) string {
	port, _ := ownPort(r)
	return "modules_local_session_" + port
}

func (s *Stack) portalSession(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() || s.Manager.ClientID == "" {
		http.NotFound(w, r)
		return
	}
	if why := crossSite(r); why != "" {
		writeProblem(w, http.StatusForbidden, "Cross-site request", why)
		return
	}
	var body struct {
		SignIn string `json:"signin"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSessionBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil && !errors.Is(err, io.EOF) {
		writeProblem(w, http.StatusBadRequest, "Bad Request", `The body is {"signin": "<the value of the sign-in link>"}, or empty with the session cookie.`)
		return
	}
	var cookie string
	if c, err := r.Cookie(sessionCookie(r)); err == nil {
		cookie = c.Value
	}
	ok, newSession := s.signIn.admit(cookie, body.SignIn)
	if !ok {
		writeProblem(w, http.StatusForbidden, "Sign-in link needed",
			"Open the sign-in link make run printed (http://"+r.Host+"/portal/#signin=…). It works once; this browser then stays "+
				"signed in across reloads. Used already, or another browser: restart make run for a new link, or sign in with "+
				"the client ID and secret of .local/credentials.json.")
		return
	}
	if newSession != nil { // set before anything can fail: the link is spent
		http.SetCookie(w, &http.Cookie{Name: sessionCookie(r), Value: string(newSession), Path: "/portal/session",
			HttpOnly: true, SameSite: http.SameSiteStrictMode})
	}
	keys, err := s.keys.Load(r.Context())
	if err != nil {
		http.Error(w, "no signing key", http.StatusInternalServerError)
		return
	}
	tok, err := accesstoken.Issue(keys.Current, s.issuer, s.audience, s.Manager.ClientID, s.Manager.TenantID,
		[]string{module.ScopeManage}, time.Now(), sessionLifetime)
	if err != nil {
		http.Error(w, "cannot sign", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"tenant": s.Manager.TenantID, "accessToken": tok})
}

// portalSignOut is the page's Sign out: the session cookie stops
// signing reloads in, and the browser drops it.
func (s *Stack) portalSignOut(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if why := crossSite(r); why != "" {
		writeProblem(w, http.StatusForbidden, "Cross-site request", why)
		return
	}
	if c, err := r.Cookie(sessionCookie(r)); err == nil {
		s.signIn.forget(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie(r), Value: "", Path: "/portal/session", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode})
	w.WriteHeader(http.StatusNoContent)
}

// crossSite says why a request is not the portal page's own, or "". The
// browser says where a request comes from (Fetch Metadata): only the
// page itself (same-origin) or the developer typing the URL (none) may
// sign in, and an Origin must be the gateway's own: a page on another
// port of localhost is same-site, not same-origin. Clients that send
// neither header (curl) still need the link's value.
func crossSite(r *http.Request) string {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return "Only the portal page of this gateway may sign in; this request comes from another site. Open http://" + r.Host + "/portal/ itself."
	}
	if origin := r.Header.Get("Origin"); origin != "" && !strings.EqualFold(origin, "http://"+r.Host) {
		return "Only the portal page of this gateway may sign in; this request comes from another origin. Open http://" + r.Host + "/portal/ itself."
	}
	return ""
}

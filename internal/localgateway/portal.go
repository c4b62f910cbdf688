package localgateway

import (
	"encoding/json"
	"net"
	"net/http"
	"time"

	"github.com/modules-service/modules/internal/accesstoken"
	"github.com/modules-service/modules/internal/module"
)

// local adds what only the local gateway serves to the API from the
// template: / redirects to the portal page, and GET /portal/session hands
// the page a token of the bootstrap manager, so `make run` opens signed in.
// The session route answers loopback callers only and exists nowhere in
// template.yaml: deployed, a manager signs in. Every route answers
// loopback names only.
func (s *Stack) local(api http.Handler, session bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", api)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/portal/", http.StatusFound)
	})
	if session {
		mux.HandleFunc("GET /portal/session", s.portalSession)
	}
	return loopbackOnly(mux)
}

// sessionLifetime is how long the page's token lives; a reload gets another.
const sessionLifetime = time.Hour

func (s *Stack) portalSession(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() || s.Manager.ClientID == "" {
		http.NotFound(w, r)
		return
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

package apigw

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// CORS is an HTTP API's CorsConfiguration. As API Gateway does, the gateway
// answers preflight requests itself and adds the CORS headers to every
// response for an allowed origin, its own errors included.
type CORS struct {
	AllowOrigins, AllowMethods, AllowHeaders, ExposeHeaders []string
	AllowCredentials                                        bool
	MaxAge                                                  int
	// AllowLoopback also allows http://localhost:<port> and
	// http://127.0.0.1:<port>, any port: a portal developer's dev server.
	// Only the local gateway sets it; API Gateway has no such option.
	AllowLoopback bool
}

func (c *CORS) allowed(origin string) bool {
	return origin != "" && (slices.Contains(c.AllowOrigins, origin) || (!c.AllowCredentials && slices.Contains(c.AllowOrigins, "*")) ||
		c.AllowLoopback && loopbackOrigin(origin))
}

// loopbackOrigin reports http://localhost:<port> or http://127.0.0.1:<port>.
func loopbackOrigin(origin string) bool {
	for _, host := range []string{"http://localhost:", "http://127.0.0.1:"} {
		if port, ok := strings.CutPrefix(origin, host); ok {
			n, err := strconv.Atoi(port)
			return err == nil && n > 0 && n < 65536 && strconv.Itoa(n) == port
		}
	}
	return false
}

// wrap applies the configuration around next.
func (c *CORS) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		h := w.Header()
		if r.Method == http.MethodOptions && origin != "" && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Add("Vary", "Origin")
			if c.allowed(origin) {
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Allow-Methods", strings.Join(c.AllowMethods, ","))
				h.Set("Access-Control-Allow-Headers", strings.Join(c.AllowHeaders, ","))
				if c.MaxAge > 0 {
					h.Set("Access-Control-Max-Age", strconv.Itoa(c.MaxAge))
				}
				if c.AllowCredentials {
					h.Set("Access-Control-Allow-Credentials", "true")
				}
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if c.allowed(origin) {
			h.Add("Vary", "Origin")
			h.Set("Access-Control-Allow-Origin", origin)
			if len(c.ExposeHeaders) > 0 {
				h.Set("Access-Control-Expose-Headers", strings.Join(c.ExposeHeaders, ","))
			}
			if c.AllowCredentials {
				h.Set("Access-Control-Allow-Credentials", "true")
			}
		}
		next.ServeHTTP(w, r)
	})
}

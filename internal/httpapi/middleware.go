package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/modules-service/modules/internal/obs"
)

// wrap adds, outside in: the request's log line (obs.Middleware: request
// ID, route, status, timing, tenant and module, error kind, metrics),
// panic recovery and the headers every management response carries. The
// line never holds a header, a query or a body, so no secret or token
// can reach it.
func wrap(log *slog.Logger, function string, next http.Handler) http.Handler {
	return obs.Middleware(log, function, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := obs.RequestIDOf(r)
		l := log.With("requestId", id, "function", function)
		w.Header().Set("X-Request-Id", id)
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		rec := &written{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				obs.From(r.Context()).Fail("panic", nil)
				l.ErrorContext(r.Context(), "panic", "panic", p)
				if !rec.wrote {
					writeError(rec, r, errPanic)
				}
			}
		}()
		next.ServeHTTP(rec, r)
		obs.Set(r.Context(), obs.Route, r.Pattern) // set by the mux on this copy of the request
	}))
}

// written remembers whether a response was started.
type written struct {
	http.ResponseWriter
	wrote bool
}

func (w *written) WriteHeader(status int) { w.wrote = true; w.ResponseWriter.WriteHeader(status) }
func (w *written) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

type panicError struct{}

func (panicError) Error() string { return "handler panicked" }

var errPanic = panicError{}

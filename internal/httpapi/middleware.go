package httpapi

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"
)

type ctxKey int

const loggerKey ctxKey = 0

// logger returns the request's logger, which carries its request ID.
func logger(r *http.Request) *slog.Logger {
	if l, ok := r.Context().Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// recorder remembers the status written, for the access log.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Wrap adds, outside in: a request ID, one access log line, panic recovery
// and the headers every management response carries. The log line holds
// method, route, status and timing only: never a header, a query or a body,
// so no secret or token can reach it.
func Wrap(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := requestID(r)
		l := log.With("requestId", id)
		r = r.WithContext(context.WithValue(r.Context(), loggerKey, l))
		rec := &recorder{ResponseWriter: w}
		rec.Header().Set("X-Request-Id", id)
		rec.Header().Set("Cache-Control", "no-store")
		rec.Header().Set("X-Content-Type-Options", "nosniff")
		defer func() {
			if p := recover(); p != nil {
				l.ErrorContext(r.Context(), "panic", "panic", p)
				if rec.status == 0 {
					writeError(rec, r, errPanic)
				}
			}
			l.InfoContext(r.Context(), "request", "method", r.Method, "route", r.Pattern,
				"status", rec.status, "durationMs", time.Since(start).Milliseconds())
		}()
		next.ServeHTTP(rec, r)
	})
}

type panicError struct{}

func (panicError) Error() string { return "handler panicked" }

var errPanic = panicError{}

// requestID is API Gateway's request ID when there is one.
func requestID(r *http.Request) string {
	if rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok && rc.RequestID != "" {
		return rc.RequestID
	}
	return rand.Text()
}

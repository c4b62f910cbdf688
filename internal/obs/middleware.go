package obs

import (
	"crypto/rand"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"
)

// Middleware writes one line per request to log for function: request ID,
// route pattern, status and duration, what the handler Set, and its
// metrics; at ERROR when the handler called Fail or answered 5xx. The
// outcome is the handler's (SetOutcome), else the status code.
func Middleware(log *slog.Logger, function string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, line := Start(r.Context(), function)
		line.Set(RequestID, RequestIDOf(r))
		r = r.WithContext(ctx)
		rec := &Recorder{ResponseWriter: w}
		defer func() {
			if rec.Status == 0 {
				rec.Status = http.StatusOK
			}
			if line.field(Route) == "" {
				line.Set(Route, r.Pattern) // the route, never the path or its query
			}
			line.Set(Status, rec.Status)
			line.mu.Lock()
			if line.outcome == "" {
				line.outcome = strconv.Itoa(rec.Status)
			}
			if rec.Status >= 500 {
				line.level = slog.LevelError
			}
			line.mu.Unlock()
			line.End(ctx, log, "request")
		}()
		next.ServeHTTP(rec, r)
	})
}

// RequestIDOf is API Gateway's request ID, or a random one outside it.
func RequestIDOf(r *http.Request) string {
	if rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok && rc.RequestID != "" {
		return rc.RequestID
	}
	if id := From(r.Context()).field(RequestID); id != "" {
		return id
	}
	return rand.Text()
}

func (l *Line) field(key string) string {
	if l == nil {
		return ""
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, a := range l.fields {
		if a.Key == key {
			return a.Value.String()
		}
	}
	return ""
}

// Recorder remembers the status a handler wrote (0 until it writes).
type Recorder struct {
	http.ResponseWriter
	Status int
}

// WriteHeader implements http.ResponseWriter.
func (r *Recorder) WriteHeader(status int) {
	if r.Status == 0 {
		r.Status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

// Write implements http.ResponseWriter.
func (r *Recorder) Write(b []byte) (int, error) {
	if r.Status == 0 {
		r.Status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

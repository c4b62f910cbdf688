// Package obs is what an operator sees of the service: one JSON log line
// per request or invocation (log/slog), carrying its metrics in CloudWatch
// Embedded Metric Format, so CloudWatch Logs extracts them with no extra
// API call and no agent (docs/operations.md, "Operations").
//
// A handler annotates the line it is part of with Set and Count; Start
// begins one and End writes it. The line holds names, IDs, statuses and
// counts only: never a body, a header value, a query string or a secret.
package obs

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Namespace is the CloudWatch namespace of every metric.
const Namespace = "ModulesService"

// Fields of a line, where known.
const (
	RequestID = "requestId"
	Function  = "function"
	Route     = "route"
	Tenant    = "tenantId"
	Module    = "moduleId"
	Client    = "clientId"
	Status    = "status"
	Outcome   = "outcome" // the metric dimension beside function
	ErrorKind = "errorKind"
)

// Line is one log line in the making: one per request or invocation.
type Line struct {
	mu       sync.Mutex
	function string
	start    time.Time
	fields   []slog.Attr // in the order first set
	counts   []count
	outcome  string
	level    slog.Level
}

type count struct {
	name string
	n    float64
}

type lineKey struct{}

// Start begins the line of a request or invocation of function.
func Start(ctx context.Context, function string) (context.Context, *Line) {
	l := &Line{function: function, start: time.Now(), fields: make([]slog.Attr, 0, 8), level: slog.LevelInfo}
	return context.WithValue(ctx, lineKey{}, l), l
}

// From returns the line ctx carries, or nil; every method of a nil *Line
// does nothing, so code that runs outside a request (tests, tools) need
// not care.
func From(ctx context.Context) *Line {
	l, _ := ctx.Value(lineKey{}).(*Line)
	return l
}

// Set records a field of the line.
func Set(ctx context.Context, key string, value any) { From(ctx).Set(key, value) }

// Count adds n to a metric of the line.
func Count(ctx context.Context, metric string, n float64) { From(ctx).Count(metric, n) }

// SetOutcome sets the line's outcome: the metric dimension that says how
// it ended (issued, invalid_client, allow, deny, 2xx, …). Keep the values
// few: each is a metric stream.
func SetOutcome(ctx context.Context, outcome string) { From(ctx).SetOutcome(outcome) }

// Set records a field of the line.
func (l *Line) Set(key string, value any) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.fields {
		if l.fields[i].Key == key {
			l.fields[i].Value = slog.AnyValue(value)
			return
		}
	}
	l.fields = append(l.fields, slog.Any(key, value))
}

// Count adds n to a metric of the line.
func (l *Line) Count(metric string, n float64) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.counts {
		if l.counts[i].name == metric {
			l.counts[i].n += n
			return
		}
	}
	l.counts = append(l.counts, count{metric, n})
}

// SetOutcome sets the line's outcome dimension.
func (l *Line) SetOutcome(outcome string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.outcome = outcome
}

// Fail marks the line an error: it is written at ERROR, with the cause.
func (l *Line) Fail(kind string, cause error) {
	if l == nil {
		return
	}
	l.Set(ErrorKind, kind)
	if cause != nil {
		l.Set("error", cause.Error())
	}
	l.mu.Lock()
	l.level = slog.LevelError
	l.mu.Unlock()
}

// End writes the line: msg, the fields in the order set, the duration,
// and the metrics as EMF. Requests is always one of them: 1 per line,
// dimensioned by function and outcome; the counts are dimensioned by
// function alone.
func (l *Line) End(ctx context.Context, log *slog.Logger, msg string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	attrs := make([]slog.Attr, 0, len(l.fields)+len(l.counts)+6)
	attrs = append(attrs, slog.String(Function, l.function))
	attrs = append(attrs, l.fields...)
	ms := float64(now.Sub(l.start).Microseconds()) / 1000
	attrs = append(attrs, slog.Float64("durationMs", ms))
	outcome := l.outcome
	if outcome == "" {
		outcome = "done"
	}
	attrs = append(attrs, slog.String(Outcome, outcome))
	attrs = append(attrs, emf(now, l.counts, ms)...)
	log.LogAttrs(ctx, l.level, msg, attrs...)
}

// The counts lines carry (dimensioned by function).
const (
	MetricArgon2          = "Argon2idVerifications"
	MetricClientCacheHit  = "ClientCacheHits"
	MetricClientCacheMiss = "ClientCacheMisses"
	MetricHashCacheHit    = "HashCacheHits"
	MetricHashCacheMiss   = "HashCacheMisses"
	MetricReaped          = "ReaperDeletions"
	// MetricProviderThrottles: requests a backing service (DynamoDB,
	// Secrets Manager) refused for capacity, after the SDK's retries;
	// answered 503 (the authorizer's: 500, API Gateway's only failure).
	MetricProviderThrottles = "ProviderThrottles"
)

package obs

import (
	"encoding/json"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The metrics every line carries beside its counts.
const (
	MetricRequests = "Requests" // 1 per line, by function and outcome
	MetricDuration = "Duration" // milliseconds, by function and outcome
)

// directive is one EMF MetricDirective.
type directive struct {
	Namespace  string     `json:"Namespace"`
	Dimensions [][]string `json:"Dimensions"`
	Metrics    []metric   `json:"Metrics"`
}

type metric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// directives caches the CloudWatchMetrics JSON per set of count names: a
// function has few such sets, and the warm path then builds its metadata
// with one append instead of encoding the structure each time.
var directives sync.Map // sorted names joined by "," → []byte

func directivesFor(names []string) []byte {
	key := strings.Join(names, ",")
	if b, ok := directives.Load(key); ok {
		return b.([]byte)
	}
	ds := []directive{{
		Namespace:  Namespace,
		Dimensions: [][]string{{Function, Outcome}},
		Metrics:    []metric{{MetricRequests, "Count"}, {MetricDuration, "Milliseconds"}},
	}}
	if len(names) > 0 {
		d := directive{Namespace: Namespace, Dimensions: [][]string{{Function}}}
		for _, n := range names {
			d.Metrics = append(d.Metrics, metric{n, "Count"})
		}
		ds = append(ds, d)
	}
	b, _ := json.Marshal(ds) // plain strings and slices: cannot fail
	directives.Store(key, b)
	return b
}

// emf returns the attributes that make a log line an EMF document: the
// _aws metadata and the metric values as root members. The dimension
// values (function, outcome) are root members the line already has.
// Dimensions stay small on purpose: never a tenant or client ID, whose
// cardinality would make a metric stream (and a bill) per tenant.
func emf(at time.Time, counts []count, durationMs float64) []slog.Attr {
	slices.SortFunc(counts, func(a, b count) int { return strings.Compare(a.name, b.name) })
	names := make([]string, len(counts))
	for i, c := range counts {
		names[i] = c.name
	}
	md := make([]byte, 0, 256)
	md = append(md, `{"Timestamp":`...)
	md = strconv.AppendInt(md, at.UnixMilli(), 10)
	md = append(md, `,"CloudWatchMetrics":`...)
	md = append(md, directivesFor(names)...)
	md = append(md, '}')
	attrs := make([]slog.Attr, 0, 3+len(counts))
	attrs = append(attrs, slog.Any("_aws", json.RawMessage(md)), slog.Float64(MetricRequests, 1), slog.Float64(MetricDuration, durationMs))
	for _, c := range counts {
		attrs = append(attrs, slog.Float64(c.name, c.n))
	}
	return attrs
}

package obs

import (
	"log/slog"
	"maps"
	"slices"
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

type metadata struct {
	Timestamp         int64       `json:"Timestamp"`
	CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
}

// emf returns the attributes that make a log line an EMF document: the
// _aws metadata and the metric values as root members. The dimension
// values (function, outcome) are root members the line already has.
// Dimensions stay small on purpose: never a tenant or client ID, whose
// cardinality would make a metric stream (and a bill) per tenant.
func emf(at time.Time, counts map[string]float64, durationMs float64) []slog.Attr {
	md := metadata{Timestamp: at.UnixMilli(), CloudWatchMetrics: []directive{{
		Namespace:  Namespace,
		Dimensions: [][]string{{Function, Outcome}},
		Metrics:    []metric{{MetricRequests, "Count"}, {MetricDuration, "Milliseconds"}},
	}}}
	attrs := []slog.Attr{slog.Float64(MetricRequests, 1), slog.Float64(MetricDuration, durationMs)}
	if len(counts) > 0 {
		d := directive{Namespace: Namespace, Dimensions: [][]string{{Function}}}
		for _, name := range slices.Sorted(maps.Keys(counts)) {
			d.Metrics = append(d.Metrics, metric{name, "Count"})
			attrs = append(attrs, slog.Float64(name, counts[name]))
		}
		md.CloudWatchMetrics = append(md.CloudWatchMetrics, d)
	}
	return append([]slog.Attr{slog.Any("_aws", md)}, attrs...)
}

package obs_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/modules-service/modules/internal/obs"
)

// units are the units the EMF specification allows (CloudWatch's
// StandardUnit).
var units = []string{"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
	"Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second", "Kilobytes/Second",
	"Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second",
	"Gigabits/Second", "Terabits/Second", "Count/Second", "None"}

// validEMF checks a log line against the CloudWatch embedded metric format
// specification: a root object with _aws {Timestamp, CloudWatchMetrics};
// each MetricDirective with a Namespace, DimensionSets of at most 30
// names, at most 100 Metrics with a Name and an allowed Unit; and every
// dimension a string member and every metric a number (or an array of at
// most 100 numbers) member of the root.
func validEMF(line []byte) error {
	var root map[string]any
	if err := json.Unmarshal(line, &root); err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	meta, ok := root["_aws"].(map[string]any)
	if !ok {
		return errors.New("no _aws object")
	}
	if ts, ok := meta["Timestamp"].(float64); !ok || ts != float64(int64(ts)) || ts <= 0 {
		return fmt.Errorf("_aws.Timestamp %v is not epoch milliseconds", meta["Timestamp"])
	}
	dirs, ok := meta["CloudWatchMetrics"].([]any)
	if !ok {
		return errors.New("_aws.CloudWatchMetrics is not an array")
	}
	for i, d := range dirs {
		dir, ok := d.(map[string]any)
		if !ok {
			return fmt.Errorf("directive %d is not an object", i)
		}
		if ns, ok := dir["Namespace"].(string); !ok || ns == "" || len(ns) > 255 || strings.HasPrefix(ns, "AWS/") {
			return fmt.Errorf("directive %d: bad Namespace %v", i, dir["Namespace"])
		}
		sets, ok := dir["Dimensions"].([]any)
		if !ok {
			return fmt.Errorf("directive %d: Dimensions is not an array", i)
		}
		for _, s := range sets {
			set, ok := s.([]any)
			if !ok || len(set) > 30 {
				return fmt.Errorf("directive %d: a DimensionSet is not an array of at most 30", i)
			}
			for _, name := range set {
				n, ok := name.(string)
				if !ok {
					return fmt.Errorf("directive %d: dimension name %v is not a string", i, name)
				}
				if v, ok := root[n].(string); !ok || v == "" || len(v) > 1024 {
					return fmt.Errorf("directive %d: dimension %s has no string value in the root (%v)", i, n, root[n])
				}
			}
		}
		metrics, ok := dir["Metrics"].([]any)
		if !ok || len(metrics) == 0 || len(metrics) > 100 {
			return fmt.Errorf("directive %d: Metrics is not an array of 1 to 100", i)
		}
		for _, m := range metrics {
			md, ok := m.(map[string]any)
			if !ok {
				return fmt.Errorf("directive %d: a metric is not an object", i)
			}
			name, ok := md["Name"].(string)
			if !ok || name == "" || len(name) > 1024 {
				return fmt.Errorf("directive %d: bad metric name %v", i, md["Name"])
			}
			if u, has := md["Unit"]; has && !slices.Contains(units, fmt.Sprint(u)) {
				return fmt.Errorf("metric %s: unit %v is not a CloudWatch unit", name, u)
			}
			for k := range md {
				if k != "Name" && k != "Unit" && k != "StorageResolution" {
					return fmt.Errorf("metric %s: unknown member %s", name, k)
				}
			}
			switch v := root[name].(type) {
			case float64:
			case []any:
				if len(v) > 100 {
					return fmt.Errorf("metric %s: more than 100 values", name)
				}
				for _, x := range v {
					if _, ok := x.(float64); !ok {
						return fmt.Errorf("metric %s: value %v is not a number", name, x)
					}
				}
			default:
				return fmt.Errorf("metric %s: no number value in the root (%v)", name, root[name])
			}
		}
	}
	return nil
}

// lines splits JSON log output into lines.
func lines(t *testing.T, b *bytes.Buffer) [][]byte {
	t.Helper()
	var out [][]byte
	sc := bufio.NewScanner(b)
	for sc.Scan() {
		out = append(out, append([]byte(nil), sc.Bytes()...))
	}
	return out
}

// only makes a diff compare just the members the test names.
func only(want map[string]any) cmp.Option {
	return cmpopts.IgnoreMapEntries(func(k string, _ any) bool { _, named := want[k]; return !named })
}

func TestLineIsEMF(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	ctx, line := obs.Start(context.Background(), "token")
	obs.Set(ctx, obs.Tenant, "acme")
	obs.Set(ctx, obs.Client, "abcdefgh12345678")
	obs.Count(ctx, obs.MetricArgon2, 1)
	obs.Count(ctx, obs.MetricHashCacheMiss, 1)
	obs.Count(ctx, obs.MetricArgon2, 1)
	obs.SetOutcome(ctx, "issued")
	line.End(ctx, log, "request")

	got := lines(t, &buf)
	if len(got) != 1 {
		t.Fatalf("%d lines; want one", len(got))
	}
	if err := validEMF(got[0]); err != nil {
		t.Fatalf("not EMF: %v\n%s", err, got[0])
	}
	var m map[string]any
	_ = json.Unmarshal(got[0], &m)
	want := map[string]any{"function": "token", "outcome": "issued", "tenantId": "acme", obs.MetricArgon2: 2.0, "Requests": 1.0, "level": "INFO"}
	if diff := cmp.Diff(want, m, only(want)); diff != "" {
		t.Errorf("line (-want +got):\n%s", diff)
	}
	// The tenant and the client are fields, never dimensions.
	if dims := fmt.Sprint(m["_aws"].(map[string]any)["CloudWatchMetrics"]); strings.Contains(dims, "tenantId") || strings.Contains(dims, "clientId") {
		t.Errorf("a tenant or client ID is a dimension: %s", dims)
	}
}

// TestValidatorCanFail: the checker above refuses what the specification
// does, so its passing means something.
func TestValidatorCanFail(t *testing.T) {
	for name, line := range map[string]string{
		"no _aws":             `{"Requests":1}`,
		"no timestamp":        `{"_aws":{"CloudWatchMetrics":[]}}`,
		"dimension not found": `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["function"]],"Metrics":[{"Name":"R"}]}]},"R":1}`,
		"dimension a number":  `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["f"]],"Metrics":[{"Name":"R"}]}]},"R":1,"f":2}`,
		"metric not a number": `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[],"Metrics":[{"Name":"R"}]}]},"R":"1"}`,
		"unknown unit":        `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[],"Metrics":[{"Name":"R","Unit":"Things"}]}]},"R":1}`,
		"AWS namespace":       `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"AWS/Lambda","Dimensions":[],"Metrics":[{"Name":"R"}]}]},"R":1}`,
	} {
		if validEMF([]byte(line)) == nil {
			t.Errorf("%s: accepted %s", name, line)
		}
	}
}

// TestMiddlewareLine: one line per request with request ID, route, status
// and duration, never the query string or a header; 5xx at ERROR.
func TestMiddlewareLine(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /things/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "bad" {
			obs.From(r.Context()).Fail("server", errors.New("store unreachable"))
			w.WriteHeader(500)
			return
		}
		w.WriteHeader(204)
	})
	h := obs.Middleware(log, "things", mux)
	for _, p := range []string{"/things/1?secret=query-value", "/things/bad"} {
		r := httptest.NewRequest("GET", p, nil)
		r.Header.Set("Authorization", "Bearer header-value")
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	got := lines(t, &buf)
	if len(got) != 2 {
		t.Fatalf("%d lines; want one per request:\n%s", len(got), buf.String())
	}
	for i, l := range got {
		if err := validEMF(l); err != nil {
			t.Errorf("line %d: %v", i, err)
		}
		if s := string(l); strings.Contains(s, "query-value") || strings.Contains(s, "header-value") {
			t.Errorf("line %d holds a query or header value: %s", i, s)
		}
	}
	var ok, failed map[string]any
	_ = json.Unmarshal(got[0], &ok)
	_ = json.Unmarshal(got[1], &failed)
	want := map[string]any{"route": "GET /things/{id}", "status": 204.0, "outcome": "204", "level": "INFO"}
	if diff := cmp.Diff(want, ok, only(want)); diff != "" {
		t.Errorf("line (-want +got):\n%s", diff)
	}
	if id, _ := ok["requestId"].(string); id == "" || ok["durationMs"] == nil {
		t.Errorf("line %s: want a request ID and a duration", got[0])
	}
	if failed["level"] != "ERROR" || failed["error"] != "store unreachable" || failed["errorKind"] != "server" {
		t.Errorf("line %s: want ERROR with the cause and its kind", got[1])
	}
}

package loadgen

import (
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"
)

// TestCPUTime: the process's CPU time grows while it computes, by about
// what it computed (the kernel counts in 10 ms ticks).
func TestCPUTime(t *testing.T) {
	before, err := CPUTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	x := uint64(1)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		for range 1 << 20 {
			x = x*6364136223846793005 + 1442695040888963407
		}
		after, err := CPUTime(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if after-before >= 100*time.Millisecond {
			return
		}
	}
	t.Errorf("10 s of computing (%d) added less than 100 ms of CPU time", x)
}

func TestMergeAndCPUPerRequest(t *testing.T) {
	a := Run{Duration: time.Second, OK: 90, Errors: map[string]int{"429": 10}, Latencies: []time.Duration{3, 1}, CPU: 300 * time.Millisecond}
	b := Run{Duration: time.Second, OK: 100, Errors: map[string]int{}, Latencies: []time.Duration{2}, CPU: 100 * time.Millisecond}
	m := Merge(a, b)
	if m.OK != 190 || m.ErrorCount() != 10 || m.CPU != 400*time.Millisecond || m.Duration != 2*time.Second {
		t.Errorf("merged %+v", m)
	}
	if got, want := m.CPUPerRequest(), 2*time.Millisecond; got != want {
		t.Errorf("CPU per request %v, want %v (400 ms over 200 requests)", got, want)
	}
	if got := m.Quantile(1); got != 3 {
		t.Errorf("max latency %v, want 3 (sorted after merging)", got)
	}
	if (Run{}).CPUPerRequest() != 0 {
		t.Error("CPU per request of an empty run is not 0")
	}
}

// TestBurst: the n requests are in flight at once (the handler answers
// only when all of them have arrived), every answer is counted.
func TestBurst(t *testing.T) {
	const n = 20
	var arrived sync.WaitGroup
	arrived.Add(n)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Done()
		arrived.Wait()
		if r.Header.Get("Authorization") == "" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	r := Burst(TokenTarget(srv.URL, "client", "secret"), n)
	if got, want := r.OK, n; got != want {
		t.Errorf("OK %d, want %d (errors %v)", got, want, r.Errors)
	}
	if got, want := len(r.Latencies), n; got != want {
		t.Errorf("%d latencies, want %d", got, want)
	}
}

// Package loadgen is what the load benchmarks share: vegeta runs in a
// closed loop (a fixed number of connections, each sending its next request
// when the last is answered) or an open loop (a fixed request rate, however
// the system keeps up), exact latency quantiles, and a process's peak
// memory.
package loadgen

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Run is what one attack measured.
type Run struct {
	Duration  time.Duration
	OK        int             // 200 answers
	Errors    map[string]int  // every other answer, by status or error text
	Latencies []time.Duration // of every request, sorted
	// CPU the system under test spent during the run (user and system
	// time of its processes), when the caller measured it with CPUTime.
	CPU time.Duration
}

// CPUPerRequest is the system's CPU time per request answered: its cost
// apart from the load generator's, which shares the machine.
func (r Run) CPUPerRequest() time.Duration {
	n := r.OK + r.ErrorCount()
	if n == 0 {
		return 0
	}
	return r.CPU / time.Duration(n)
}

// Throughput is 200 answers per second.
func (r Run) Throughput() float64 { return float64(r.OK) / r.Duration.Seconds() }

// ErrorCount is the number of requests not answered 200.
func (r Run) ErrorCount() (n int) {
	for _, c := range r.Errors {
		n += c
	}
	return n
}

// Quantile is the exact q-quantile (0 < q ≤ 1) of the latencies.
func (r Run) Quantile(q float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(q*float64(len(r.Latencies))+0.5) - 1
	return r.Latencies[min(max(i, 0), len(r.Latencies)-1)]
}

// Merge pools runs of the same load, for quantiles over all of them.
func Merge(runs ...Run) Run {
	m := Run{Errors: map[string]int{}}
	for _, r := range runs {
		m.Duration += r.Duration
		m.OK += r.OK
		for k, v := range r.Errors {
			m.Errors[k] += v
		}
		m.Latencies = append(m.Latencies, r.Latencies...)
		m.CPU += r.CPU
	}
	slices.Sort(m.Latencies)
	return m
}

// Closed sends target from conns connections for d, each waiting for its
// answer before the next request.
func Closed(target vegeta.Target, conns int, d time.Duration) Run {
	a := vegeta.NewAttacker(vegeta.Workers(uint64(conns)), vegeta.MaxWorkers(uint64(conns)), vegeta.Connections(conns),
		vegeta.KeepAlive(true), vegeta.Timeout(30*time.Second))
	return collect(a, target, vegeta.ConstantPacer{Freq: 0}, d)
}

// Open sends target at rate requests per second for d, whether or not the
// earlier ones are answered (vegeta adds workers as needed), so a slow
// answer cannot hold back the next request and hide the queue it causes.
func Open(target vegeta.Target, rate int, d time.Duration) Run {
	a := vegeta.NewAttacker(vegeta.Workers(16), vegeta.MaxWorkers(4096), vegeta.KeepAlive(true), vegeta.Timeout(30*time.Second))
	return collect(a, target, vegeta.ConstantPacer{Freq: rate, Per: time.Second}, d)
}

func collect(a *vegeta.Attacker, target vegeta.Target, p vegeta.Pacer, d time.Duration) Run {
	r := Run{Errors: map[string]int{}}
	start := time.Now()
	for res := range a.Attack(vegeta.NewStaticTargeter(target), p, d, "") {
		r.Latencies = append(r.Latencies, res.Latency)
		switch {
		case res.Code == http.StatusOK && res.Error == "":
			r.OK++
		case res.Code != 0: // an answer: vegeta also puts its status line in Error
			r.Errors[strconv.Itoa(int(res.Code))]++
		default:
			r.Errors[res.Error]++
		}
	}
	r.Duration = time.Since(start)
	slices.Sort(r.Latencies)
	return r
}

// tree is pid and its descendants: a JVM started by a script, say.
func tree(pid int) []int {
	pids := []int{pid}
	entries, _ := os.ReadDir("/proc")
	for i := 0; i < len(pids); i++ {
		for _, e := range entries {
			child, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
			if err != nil {
				continue
			}
			// pid (comm) state ppid …: comm may hold spaces, so read after ')'
			fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
			if len(fields) > 1 && fields[1] == strconv.Itoa(pids[i]) {
				pids = append(pids, child)
			}
		}
	}
	return pids
}

// PeakRSS is the high-water mark of resident memory (VmHWM) of pid and its
// descendants, in MiB, since they started or since ResetPeakRSS.
func PeakRSS(pid int) (float64, error) {
	var kib int
	for _, p := range tree(pid) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p))
		if err != nil {
			return 0, err
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
				if err != nil {
					return 0, err
				}
				kib += n
			}
		}
	}
	return float64(kib) / 1024, nil
}

// ResetPeakRSS starts the high-water mark of pid and its descendants
// afresh (proc(5), clear_refs "5"), so that start-up does not count.
func ResetPeakRSS(pid int) error {
	var errs []error
	for _, p := range tree(pid) {
		errs = append(errs, os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", p), []byte("5"), 0))
	}
	return errors.Join(errs...)
}

// userHZ is the unit of the CPU times in /proc/<pid>/stat: USER_HZ, 100 on
// every Linux architecture Go runs on (sysconf needs cgo to ask).
const userHZ = 100

// CPUTime is the user and system CPU time pid and its descendants have
// spent so far (proc(5): utime and stime).
func CPUTime(pid int) (time.Duration, error) {
	var ticks int64
	for _, p := range tree(pid) {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			return 0, err
		}
		// after "pid (comm)": state is field 3, utime 14, stime 15
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 13 {
			return 0, fmt.Errorf("/proc/%d/stat: %d fields", p, len(fields))
		}
		for _, f := range fields[11:13] {
			n, err := strconv.ParseInt(f, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/%d/stat: %w", p, err)
			}
			ticks += n
		}
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// WaitFor polls url until it answers, for up to limit.
func WaitFor(url string, limit time.Duration) error {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return nil
			}
		}
	}
	return fmt.Errorf("%s did not answer within %s", url, limit)
}

// Do sends req, wants status want, and decodes the JSON answer into v
// (when v is not nil).
func Do(req *http.Request, want int, v any) error {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", req.Method, req.URL, resp.StatusCode, buf.String())
	}
	if v == nil {
		return nil
	}
	return json.Unmarshal(buf.Bytes(), v)
}

// Post sends body to url with headers given as name, value pairs, wants
// status want, and decodes the JSON answer into v (when v is not nil).
func Post(url, body string, want int, v any, headers ...string) error {
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		return err
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return Do(req, want, v)
}

// Basic is the Authorization value of HTTP Basic authentication.
func Basic(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// TokenTarget is a client credentials request with HTTP Basic
// authentication (RFC 6749 §2.3.1), as every system measured takes it.
func TokenTarget(url, clientID, secret string) vegeta.Target {
	return vegeta.Target{Method: "POST", URL: url, Body: []byte("grant_type=client_credentials"),
		Header: http.Header{"Authorization": {Basic(clientID, secret)}, "Content-Type": {"application/x-www-form-urlencoded"}}}
}

// Burst sends n requests of target at once, each on a connection of its
// own opened for it, and waits for every answer: a cold burst. Latencies
// run from the common start, so one that waited for a connection counts
// the wait.
func Burst(target vegeta.Target, n int) Run {
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: n, DisableKeepAlives: true}}
	type result struct {
		latency time.Duration
		outcome string // "" for 200, else the status or error
	}
	results := make(chan result, n)
	gate := make(chan struct{})
	var start time.Time
	for range n {
		go func() {
			req, err := target.Request()
			if err != nil {
				results <- result{0, err.Error()}
				return
			}
			<-gate
			resp, err := client.Do(req)
			switch {
			case err != nil:
				results <- result{time.Since(start), err.Error()}
			default:
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				outcome := ""
				if resp.StatusCode != http.StatusOK {
					outcome = strconv.Itoa(resp.StatusCode)
				}
				results <- result{time.Since(start), outcome}
			}
		}()
	}
	time.Sleep(50 * time.Millisecond) // every goroutine at the gate
	start = time.Now()
	close(gate)
	r := Run{Errors: map[string]int{}}
	for range n {
		res := <-results
		r.Latencies = append(r.Latencies, res.latency)
		if res.outcome == "" {
			r.OK++
		} else {
			r.Errors[res.outcome]++
		}
	}
	r.Duration = time.Since(start)
	slices.Sort(r.Latencies)
	return r
}

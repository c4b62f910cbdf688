// Package lambdarie runs a Lambda bootstrap under the AWS Lambda Runtime
// Interface Emulator, invokes it and reads its reports. The fidelity tests
// and the cold-start benchmark use it.
package lambdarie

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// Emulator is one bootstrap running under aws-lambda-rie.
type Emulator struct {
	cmd  *exec.Cmd
	url  string
	mu   sync.Mutex
	logs bytes.Buffer
}

// Start runs bootstrap under the emulator at rie, through runner when it is
// not empty (qemu-aarch64-static for arm64 binaries), with env.
func Start(rie, runner, bootstrap string, env []string) (*Emulator, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	apiPort, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{"--runtime-interface-emulator-address", "127.0.0.1:" + port, "--runtime-api-address", "127.0.0.1:" + apiPort}
	if runner != "" {
		args = append(args, runner)
	}
	e := &Emulator{url: "http://127.0.0.1:" + port + "/2015-03-31/functions/function/invocations"}
	e.cmd = exec.Command(rie, append(args, bootstrap)...)
	e.cmd.Env, e.cmd.Stdout, e.cmd.Stderr = env, e, e
	if err := e.cmd.Start(); err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
			c.Close()
			return e, nil
		}
		if time.Now().After(deadline) {
			e.Close()
			return nil, fmt.Errorf("emulator did not listen:\n%s", e.Output())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Write collects the emulator's output.
func (e *Emulator) Write(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.logs.Write(p)
}

// Output is everything the emulator and the function printed.
func (e *Emulator) Output() string { e.mu.Lock(); defer e.mu.Unlock(); return e.logs.String() }

// Invoke sends one event and returns the function's response payload.
func (e *Emulator) Invoke(event []byte) ([]byte, error) {
	resp, err := http.Post(e.url, "application/json", bytes.NewReader(event))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// Close stops the emulator and the function.
func (e *Emulator) Close() {
	_ = e.cmd.Process.Kill()
	_ = e.cmd.Wait()
}

var (
	initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)
	// The emulator initialises on the first invoke, so REPORT's Duration
	// includes init; RTDONE's duration is the invocation alone.
	invokeDone = regexp.MustCompile(`INVOKE RTDONE\(status: \w+, produced bytes: \d+, duration: ([0-9.]+)ms\)`)
)

// Reports returns the init duration and every invocation's duration, in
// milliseconds and in order.
func (e *Emulator) Reports() (initMs float64, invokesMs []float64, err error) {
	out := e.Output()
	x := initReport.FindStringSubmatch(out)
	if x == nil {
		return 0, nil, fmt.Errorf("no INIT REPORT in the emulator's output")
	}
	initMs, _ = strconv.ParseFloat(x[1], 64)
	for _, y := range invokeDone.FindAllStringSubmatch(out, -1) {
		ms, _ := strconv.ParseFloat(y[1], 64)
		invokesMs = append(invokesMs, ms)
	}
	if len(invokesMs) == 0 {
		return 0, nil, fmt.Errorf("no INVOKE RTDONE in the emulator's output")
	}
	return initMs, invokesMs, nil
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}

// WaitReports is Reports once the output holds n invocations (the emulator
// logs them just after it answers), or after timeout.
func (e *Emulator) WaitReports(n int, timeout time.Duration) (initMs float64, invokesMs []float64, err error) {
	deadline := time.Now().Add(timeout)
	for {
		initMs, invokesMs, err = e.Reports()
		if (err == nil && len(invokesMs) >= n) || time.Now().After(deadline) {
			return initMs, invokesMs, err
		}
		time.Sleep(5 * time.Millisecond)
	}
}

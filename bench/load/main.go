// Command load drives the local gateway with vegeta: token warm path and
// list at 1, 16 and 64 concurrent workers, then a mixed run of creates,
// lists, updates and tokens, after which it checks that no module was lost
// or duplicated. It reports requests per second, p50/p99 latency and the
// gateway's peak memory. make bench runs it.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/modules-service/modules/bench/loadgen"
	"github.com/modules-service/modules/internal/module"
)

const (
	managerID     = "load-manager"
	managerSecret = "load-manager-secret-0123456789"
	clientSecret  = "load-client-secret-0123456789"
)

func main() {
	gateway := flag.String("gateway", "bin/local", "local gateway binary")
	addr := flag.String("addr", "127.0.0.1:3077", "address for the gateway")
	duration := flag.Duration("duration", 5*time.Second, "length of each fixed-concurrency run")
	mixed := flag.Int("mixed", 10000, "requests in the mixed run")
	flag.Parse()
	if err := run(*gateway, *addr, *duration, *mixed); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

type env struct {
	base, bearer, basic string
	pool                []string // module IDs the mixed run updates
}

func run(gateway, addr string, duration time.Duration, mixed int) error {
	cmd := exec.Command(gateway, "--addr", addr, "--no-throttle", "--bootstrap-tenant", "demo", "--bootstrap-client-id", managerID)
	cmd.Env = append(os.Environ(), "BOOTSTRAP_CLIENT_SECRET="+managerSecret) // never on a command line
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	e := env{base: "http://" + addr}
	if err := loadgen.WaitFor(e.base+"/.well-known/jwks.json", 20*time.Second); err != nil {
		return err
	}
	var err error
	if e.bearer, err = token(e.base, managerID, managerSecret); err != nil {
		return err
	}
	client, err := e.create("load-client", `,"scopes":["orders.read"]`)
	if err != nil {
		return err
	}
	e.basic = loadgen.Basic(client.ClientID, clientSecret)
	for i := range 100 {
		m, err := e.create(fmt.Sprintf("pool-%03d", i), "")
		if err != nil {
			return err
		}
		e.pool = append(e.pool, m.ID)
	}

	fmt.Printf("%-12s %8s %10s %10s %10s %8s\n", "scenario", "workers", "req/s", "p50", "p99", "non-2xx")
	for _, sc := range []struct {
		name   string
		target vegeta.Target
	}{
		{"token warm", vegeta.Target{Method: "POST", URL: e.base + "/oauth2/token", Body: []byte("grant_type=client_credentials"),
			Header: http.Header{"Authorization": {e.basic}, "Content-Type": {"application/x-www-form-urlencoded"}}}},
		{"list", vegeta.Target{Method: "GET", URL: e.base + "/tenants/demo/modules?limit=20", Header: http.Header{"Authorization": {e.bearer}}}},
	} {
		for _, workers := range []int{1, 16, 64} {
			r := loadgen.Closed(sc.target, workers, duration)
			fmt.Printf("%-12s %8d %10.0f %10s %10s %8d\n", sc.name, workers, r.Throughput(), round(r.Quantile(0.5)), round(r.Quantile(0.99)), r.ErrorCount())
		}
	}
	if err := e.mixedRun(mixed); err != nil {
		return err
	}
	rss, err := loadgen.PeakRSS(cmd.Process.Pid)
	if err != nil {
		return err
	}
	fmt.Printf("peak RSS of the gateway (VmHWM): %.0f MiB\n", rss)
	return nil
}

// mixedRun sends n requests, one create in ten, four lists, two updates and
// three tokens, from 16 workers, then checks the tenant's modules.
func (e *env) mixedRun(n int) error {
	before, err := e.listAll()
	if err != nil {
		return err
	}
	var i atomic.Int64
	tr := func(t *vegeta.Target) error {
		k := i.Add(1)
		if k > int64(n) {
			return vegeta.ErrNoTargets
		}
		switch k % 10 {
		case 0:
			*t = vegeta.Target{Method: "POST", URL: e.base + "/tenants/demo/modules", Header: http.Header{"Authorization": {e.bearer}, "Content-Type": {"application/json"}},
				Body: fmt.Appendf(nil, `{"name":"mixed-%d","displayName":"Mixed %d","clientSecret":"%s"}`, k, k, clientSecret)}
		case 1, 2, 3, 4:
			*t = vegeta.Target{Method: "GET", URL: e.base + "/tenants/demo/modules?limit=20", Header: http.Header{"Authorization": {e.bearer}}}
		case 5, 6:
			*t = vegeta.Target{Method: "PATCH", URL: e.base + "/tenants/demo/modules/" + e.pool[int(k)%len(e.pool)],
				Header: http.Header{"Authorization": {e.bearer}, "Content-Type": {"application/merge-patch+json"}},
				Body:   fmt.Appendf(nil, `{"displayName":"Updated %d"}`, k)}
		default:
			*t = vegeta.Target{Method: "POST", URL: e.base + "/oauth2/token", Body: []byte("grant_type=client_credentials"),
				Header: http.Header{"Authorization": {e.basic}, "Content-Type": {"application/x-www-form-urlencoded"}}}
		}
		return nil
	}
	a := vegeta.NewAttacker(vegeta.Workers(16), vegeta.MaxWorkers(16), vegeta.Connections(16), vegeta.KeepAlive(true))
	var m vegeta.Metrics
	created, fivexx := 0, 0
	for res := range a.Attack(tr, vegeta.ConstantPacer{Freq: 0}, time.Hour, "mixed") {
		if res.Error == vegeta.ErrNoTargets.Error() {
			continue // the end of the run, not a request
		}
		m.Add(res)
		if res.Code >= 500 || res.Code == 0 {
			fivexx++
		}
		if res.Method == "POST" && strings.HasSuffix(res.URL, "/modules") && res.Code == 201 {
			created++
		}
	}
	m.Close()
	after, err := e.listAll()
	if err != nil {
		return err
	}
	ids, names := map[string]bool{}, map[string]bool{}
	for _, mod := range after {
		if ids[mod.ID] || names[module.UniqueKey(mod.Name)] {
			return fmt.Errorf("module %s (%s) listed twice", mod.ID, mod.Name)
		}
		ids[mod.ID], names[module.UniqueKey(mod.Name)] = true, true
	}
	fmt.Printf("mixed run: %d requests from 16 workers, %.0f req/s, p50 %s, p99 %s, status codes %v\n",
		m.Requests, m.Throughput, round(m.Latencies.P50), round(m.Latencies.P99), m.StatusCodes)
	fmt.Printf("  5xx or transport errors: %d; modules before %d + created %d = %d, listed after %d, duplicates 0\n",
		fivexx, len(before), created, len(before)+created, len(after))
	if fivexx > 0 || len(after) != len(before)+created {
		return errors.New("the mixed run lost or duplicated modules, or met a 5xx")
	}
	return nil
}

func (e *env) create(name, extra string) (module.Credentials, error) {
	body := fmt.Sprintf(`{"name":%q,"displayName":%q,"clientSecret":%q%s}`, name, strings.ToUpper(name), clientSecret, extra)
	req, _ := http.NewRequest("POST", e.base+"/tenants/demo/modules", strings.NewReader(body))
	req.Header.Set("Authorization", e.bearer)
	req.Header.Set("Content-Type", "application/json")
	var c module.Credentials
	return c, loadgen.Do(req, 201, &c)
}

func (e *env) listAll() ([]module.Module, error) {
	var all []module.Module
	cursor := ""
	for {
		req, _ := http.NewRequest("GET", e.base+"/tenants/demo/modules?limit=100&cursor="+cursor, nil)
		req.Header.Set("Authorization", e.bearer)
		var page module.Page
		if err := loadgen.Do(req, 200, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if page.NextCursor == "" {
			return all, nil
		}
		cursor = page.NextCursor
	}
}

func token(base, id, secret string) (string, error) {
	var t struct {
		AccessToken string `json:"access_token"`
	}
	err := loadgen.Post(base+"/oauth2/token", "grant_type=client_credentials", 200, &t,
		"Authorization", loadgen.Basic(id, secret), "Content-Type", "application/x-www-form-urlencoded")
	return "Bearer " + t.AccessToken, err
}

func round(d time.Duration) string { return d.Round(10 * time.Microsecond).String() }

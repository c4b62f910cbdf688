// Command peers measures the token endpoint's warm path (valid client
// credentials, the client known to the instance) of this service, through
// the local gateway, with each signing algorithm, beside Keycloak signing
// with the same algorithm (RS256, and ES256 with a P-256 key) and Ory
// Hydra (RS256) on the same machine, with the same load generator and the
// same load: a closed loop at 1, 16 and 64 connections, then an open loop
// at 25, 50 and 75 % of the slowest system's closed-loop capacity. Before
// that, right after its start, each system gets a cold burst of 50
// requests at once (cold.go). Each system is warmed up until its
// throughput settles, and the CPU time each system itself spends per
// request is counted apart from the load generator's. Systems take turns
// within each load (A B C D E A B C D E), so that a noisy minute falls on
// all of them. Any answer other than 200 in a measured run makes the
// comparison invalid: the command fails (the cold burst's errors are
// counted and printed instead). make bench-peers runs it
// (infra/bench-peers.sh fetches and builds the peers).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"golang.org/x/sys/unix"

	"github.com/modules-service/modules/bench/loadgen"
)

const secret = "bench-client-secret-0123456789"

func main() {
	var o options
	flag.StringVar(&o.gateway, "gateway", "bin/local", "this service's local gateway binary")
	flag.StringVar(&o.gatewayFlags, "gateway-flags", "", "more flags for the local gateway, separated by spaces (e.g. \"--memory-limit 0\"): for a diagnosis")
	flag.StringVar(&o.keycloak, "keycloak", "", "Keycloak's home (the unpacked keycloak-quarkus-dist); empty: leave Keycloak out")
	flag.StringVar(&o.javaHome, "java-home", "/usr/lib/jvm/temurin-25-jdk-amd64", "JAVA_HOME for Keycloak")
	flag.StringVar(&o.hydra, "hydra", "", "Ory Hydra binary; empty: leave Hydra out")
	flag.StringVar(&o.logs, "logs", "bin/peers", "directory for the systems' logs")
	flag.DurationVar(&o.warmup, "warmup", 20*time.Second, "closed-loop warm-up per system, half at 16 connections, then runs of a quarter at 64 until one has no error; not measured")
	flag.DurationVar(&o.settle, "settle", 3*time.Minute, "after the warm-up, runs of 5 s at 16 connections until three in a row agree within 5 %, for at most this long; not measured")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of each measured run")
	flag.IntVar(&o.rounds, "rounds", 2, "runs of each load per system")
	flag.BoolVar(&o.coldOnly, "cold-only", false, "start the systems, give each its cold burst, print those and stop")
	flag.IntVar(&o.systemCPUs, "system-cpus", 0, "run each system on CPUs 0 to n-1 and the load generator on the others, so that it takes no CPU from the system: a diagnosis of where latency comes from, not a fair comparison (a JVM compiles on the cores it serves with); 0: systems and generator share every CPU")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(1)
	}
}

type options struct {
	gateway, keycloak, javaHome, hydra, logs string
	gatewayFlags                             string
	systemCPUs                               int
	warmup, settle, duration                 time.Duration
	rounds                                   int
	coldOnly                                 bool
}

func run(o options) error {
	if err := os.MkdirAll(o.logs, 0o755); err != nil {
		return err
	}
	var systems []*system
	defer func() {
		for _, s := range systems {
			stop(s.cmd)
		}
	}()
	starters := []func() (*system, error){
		func() (*system, error) { return startOurs(o, "RS256") },
		func() (*system, error) { return startOurs(o, "ES256") },
	}
	if o.keycloak != "" {
		starters = append(starters,
			func() (*system, error) { return startKeycloak(o, "RS256") },
			func() (*system, error) { return startKeycloak(o, "ES256") })
	}
	if o.hydra != "" {
		starters = append(starters, func() (*system, error) { return startHydra(o) })
	}
	if o.systemCPUs > 0 {
		if err := pinGenerator(o.systemCPUs); err != nil {
			return err
		}
	}
	// Each system's cold burst comes right after its start, while the
	// systems started before it are idle.
	for _, start := range starters {
		s, err := start()
		if s != nil {
			systems = append(systems, s)
		}
		if err != nil {
			return err
		}
		if err := checkAlg(s); err != nil {
			return err
		}
		if s.cold, err = coldBurst(s); err != nil {
			return err
		}
	}

	fmt.Printf("# make bench-peers, %s\n", time.Now().UTC().Format("2006-01-02T15:04Z"))
	fmt.Printf("# %d vCPU %s, %s; load generator: vegeta in this process, on the same cores\n", runtime.NumCPU(), cpuModel(), runtime.Version())
	fmt.Printf("# load average before the measured part (other work on the machine shows here): %s\n", loadAverage())
	defer func() { fmt.Printf("\n# load average at the end: %s\n", loadAverage()) }()
	if o.systemCPUs > 0 {
		fmt.Printf("# diagnosis (-system-cpus): each system on CPUs 0-%d, the load generator on the others\n", o.systemCPUs-1)
	}
	fmt.Printf("# each system's access tokens checked to be signed with the algorithm in its name; right after its start, while the others idled, a cold burst of %d requests at once\n", coldRequests)
	if o.coldOnly {
		printCold(systems)
		return nil
	}
	fmt.Printf("# each system warmed up %s at 16 then 64 connections, then until three %s runs at 16 in a row agree within 5 %% (at most %s; not measured); each run %s; %d rounds, systems alternating within each load; quantiles pooled over the rounds\n",
		o.warmup, settleRun, o.settle, o.duration, o.rounds)
	for _, s := range systems {
		// Up to the most connections measured, so that every instance the
		// local gateway starts is warm. A fresh instance verifies the secret
		// once (argon2id); before the address is known to the client, more
		// than oauth.MaxPerSource such verifications at once get slow_down
		// (429), which the warm-up may meet and the measured runs must not.
		// It ends with a run at 64 connections without one.
		warm := loadgen.Closed(s.target, 16, o.warmup/2)
		for i := 0; ; i++ {
			last := loadgen.Closed(s.target, 64, o.warmup/4)
			warm = loadgen.Merge(warm, last)
			if n := warm.ErrorCount() - warm.Errors["429"]; n > 0 {
				return fmt.Errorf("%s failed during warm-up: %v", s.name, warm.Errors)
			}
			if last.ErrorCount() == 0 {
				break
			}
			if i == 10 {
				return fmt.Errorf("%s still answers slow_down after %d warm-up runs: %v", s.name, i+1, last.Errors)
			}
		}
		if n := warm.Errors["429"]; n > 0 {
			fmt.Printf("# %s: %d slow_down answers during warm-up, while more than %d fresh instances verified at once\n", s.name, n, 10)
		}
		// A JVM compiles its hot code during its first minutes under
		// load, so a warm-up of fixed length would measure Keycloak
		// before it is at its best: go on until three runs in a row agree.
		runs, err := settle(s, o.settle)
		if err != nil {
			return err
		}
		fmt.Printf("# %s: warm-up runs of %s at 16 connections: %s req/s\n", s.name, settleRun, strings.Join(runs, " "))
		if err := loadgen.ResetPeakRSS(s.cmd.Process.Pid); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}

	measure := func(load func(vegeta.Target) loadgen.Run) (map[*system]loadgen.Run, error) {
		rounds := map[*system][]loadgen.Run{}
		for range o.rounds {
			for _, s := range systems {
				cpu0, err := loadgen.CPUTime(s.cmd.Process.Pid)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", s.name, err)
				}
				r := load(s.target)
				cpu1, err := loadgen.CPUTime(s.cmd.Process.Pid)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", s.name, err)
				}
				r.CPU = cpu1 - cpu0
				if r.ErrorCount() > 0 {
					return nil, fmt.Errorf("%s answered %d requests with errors %v: the comparison is invalid", s.name, r.ErrorCount(), r.Errors)
				}
				rounds[s] = append(rounds[s], r)
			}
		}
		pooled := map[*system]loadgen.Run{}
		for s, rs := range rounds {
			pooled[s] = loadgen.Merge(rs...)
		}
		return pooled, nil
	}

	header := func(load string) {
		fmt.Printf("%-22s %6s %9s %9s %9s %9s %7s %9s\n", "system", load, "req/s", "p50", "p99", "p99.9", "errors", "CPU/req")
	}
	row := func(s *system, load string, r loadgen.Run) {
		fmt.Printf("%-22s %6s %9.0f %9s %9s %9s %7d %9s\n", s.name, load, r.Throughput(), ms(r.Quantile(0.5)), ms(r.Quantile(0.99)), ms(r.Quantile(0.999)), r.ErrorCount(), ms(r.CPUPerRequest()))
	}

	fmt.Println("\n## closed loop: each connection sends its next request when the last is answered; CPU/req: the system's own CPU time (user + system, its process tree) per request, apart from the load generator's")
	header("conns")
	capacity := map[*system]float64{}
	closed := map[int]map[*system]loadgen.Run{}
	loads := []int{1, 16, 64}
	for _, conns := range loads {
		runs, err := measure(func(t vegeta.Target) loadgen.Run { return loadgen.Closed(t, conns, o.duration) })
		if err != nil {
			return err
		}
		closed[conns] = runs
		for _, s := range systems {
			capacity[s] = max(capacity[s], runs[s].Throughput())
			row(s, strconv.Itoa(conns), runs[s])
		}
	}
	slowest := systems[0]
	for _, s := range systems {
		if capacity[s] < capacity[slowest] {
			slowest = s
		}
	}

	fmt.Printf("\n## open loop: a fixed request rate, a share of the slowest system's capacity (%s, %.0f req/s)\n", slowest.name, capacity[slowest])
	header("rate")
	open := map[int]map[*system]loadgen.Run{}
	for _, pct := range []int{25, 50, 75} {
		rate := max(1, int(capacity[slowest]*float64(pct)/100))
		runs, err := measure(func(t vegeta.Target) loadgen.Run { return loadgen.Open(t, rate, o.duration) })
		if err != nil {
			return err
		}
		open[pct] = runs
		for _, s := range systems {
			row(s, strconv.Itoa(pct)+"%", runs[s])
		}
	}

	fmt.Println("\n## peak resident memory during the measured runs (VmHWM of the process and its children)")
	for _, s := range systems {
		rss, err := loadgen.PeakRSS(s.cmd.Process.Pid)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		fmt.Printf("%-22s %7.0f MiB\n", s.name, rss)
	}

	printCold(systems)
	printSideBySide(systems, loads, closed)

	fmt.Println("\n## ratios (this service over each peer signing with the same algorithm)")
	for _, ours := range systems {
		for _, peer := range systems {
			if !ours.ours || peer.ours || peer.alg != ours.alg {
				continue
			}
			fmt.Printf("%s / %s: closed-loop capacity %.1fx", ours.name, peer.name, capacity[ours]/capacity[peer])
			for _, conns := range loads {
				fmt.Printf(", %d conns %.1fx", conns, closed[conns][ours].Throughput()/closed[conns][peer].Throughput())
			}
			p99o, p99p := open[50][ours].Quantile(0.99), open[50][peer].Quantile(0.99)
			fmt.Printf("; open loop at 50%%: p99 %s vs %s", ms(p99o), ms(p99p))
			cpuo, cpup := closed[16][ours].CPUPerRequest(), closed[16][peer].CPUPerRequest()
			fmt.Printf("; CPU per token at 16 conns %s vs %s (%.1fx)\n", ms(cpuo), ms(cpup), float64(cpup)/float64(cpuo))
		}
	}
	return nil
}

// settleRun is the length of a run of the settling part of the warm-up.
const settleRun = 5 * time.Second

// settle runs s at 16 connections until the last three runs agree on the
// throughput within 5 % of their mean, or for at most limit; it returns
// the throughputs.
func settle(s *system, limit time.Duration) ([]string, error) {
	var rates []float64
	out := func(note string) []string {
		var ss []string
		for _, r := range rates {
			ss = append(ss, fmt.Sprintf("%.0f", r))
		}
		return append(ss, note)
	}
	for start := time.Now(); ; {
		r := loadgen.Closed(s.target, 16, settleRun)
		if r.ErrorCount() > 0 {
			return nil, fmt.Errorf("%s failed during warm-up: %v", s.name, r.Errors)
		}
		rates = append(rates, r.Throughput())
		if n := len(rates); n >= 3 {
			last := rates[n-3:]
			lo, hi := slices.Min(last), slices.Max(last)
			if hi-lo <= 0.05*(last[0]+last[1]+last[2])/3 {
				return out("(settled)"), nil
			}
		}
		if time.Since(start) >= limit {
			return out("(not settled)"), nil
		}
	}
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return ""
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// pinGenerator moves every thread of this process, the load generator, to
// the CPUs from first on (threads it starts later inherit it).
func pinGenerator(first int) error {
	var set unix.CPUSet
	for c := first; c < runtime.NumCPU(); c++ {
		set.Set(c)
	}
	if set.Count() == 0 {
		return fmt.Errorf("-system-cpus %d leaves no CPU of %d for the load generator", first, runtime.NumCPU())
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := unix.SchedSetaffinity(tid, &set); err != nil {
			return fmt.Errorf("pin thread %d: %w", tid, err)
		}
	}
	return nil
}

// loadAverage is the machine's 1, 5 and 15 minute load averages.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

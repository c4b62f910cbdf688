package main

import (
	"fmt"
	"strconv"

	"github.com/modules-service/modules/bench/loadgen"
)

// perCPU is the requests s answered per second of its own CPU time
// (user + system), apart from the load generator's; 0 when none counted.
func perCPU(r loadgen.Run) float64 {
	if r.CPU <= 0 {
		return 0
	}
	return float64(r.OK+r.ErrorCount()) / r.CPU.Seconds()
}

// printCold prints every system's cold burst.
func printCold(systems []*system) {
	fmt.Printf("\n## cold burst: %d requests at once, each on a new connection, right after the system started and answered one token request (this service: one warm instance, so %d fresh ones); p99 of %d is the slowest; CPU: the system's own, over the burst\n",
		coldRequests, coldRequests-1, coldRequests)
	fmt.Printf("%-22s %9s %9s %9s %7s %9s %9s\n", "system", "p50", "p99", "all done", "errors", "CPU", "req/s/CPU")
	for _, s := range systems {
		r := s.cold
		fmt.Printf("%-22s %9s %9s %9s %7d %9s %9.0f\n", s.name, ms(r.Quantile(0.5)), ms(r.Quantile(0.99)), ms(r.Duration), r.ErrorCount(), ms(r.CPU), perCPU(r))
	}
}

// printSideBySide prints, for each algorithm, this service beside each
// peer that signs with the same one: every closed-loop load and the cold
// burst, with requests per CPU second, p50 and p99, and the ratio of
// requests per CPU second.
func printSideBySide(systems []*system, conns []int, closed map[int]map[*system]loadgen.Run) {
	fmt.Println("\n## the same algorithm on both sides: closed loop at each connection count, and the cold burst; req/s/CPU: requests answered per second of the system's own CPU time")
	fmt.Printf("%-5s %-5s %-22s %7s %9s %9s %9s | %-22s %7s %9s %9s %9s | %s\n",
		"alg", "load", "this service", "req/s", "req/s/CPU", "p50", "p99", "peer", "req/s", "req/s/CPU", "p50", "p99", "req/s/CPU ratio")
	side := func(s *system, r loadgen.Run, rate string) string {
		return fmt.Sprintf("%-22s %7s %9.0f %9s %9s", s.name, rate, perCPU(r), ms(r.Quantile(0.5)), ms(r.Quantile(0.99)))
	}
	for _, ours := range systems {
		if !ours.ours {
			continue
		}
		for _, peer := range systems {
			if peer.ours || peer.alg != ours.alg {
				continue
			}
			for _, c := range conns {
				o, p := closed[c][ours], closed[c][peer]
				fmt.Printf("%-5s %-5s %s | %s | %.1fx\n", ours.alg, strconv.Itoa(c), side(ours, o, fmt.Sprintf("%.0f", o.Throughput())),
					side(peer, p, fmt.Sprintf("%.0f", p.Throughput())), ratio(perCPU(o), perCPU(p)))
			}
			fmt.Printf("%-5s %-5s %s | %s | %.1fx\n", ours.alg, "cold", side(ours, ours.cold, "-"), side(peer, peer.cold, "-"),
				ratio(perCPU(ours.cold), perCPU(peer.cold)))
		}
	}
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

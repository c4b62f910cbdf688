// Command coldstart measures every function's cold start under the AWS
// Lambda Runtime Interface Emulator beside a hello-world aws-lambda-go +
// aws-lambda-go-api-proxy function built the same way, in the same run:
// the median init duration (INIT REPORT), first and second invocation
// (INVOKE RTDONE), and the binary size. make bench runs it against moto.
//
// The binaries are built for the host, with the deployment flags: under
// qemu (the arm64 builds) times would measure the emulation, not the code.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/modules-service/modules/internal/testing/lambdarie"
)

// event each function is cold-started with.
var functions = []struct{ name, event string }{
	{"hello", "jwks.json"},
	{"token", "token-post.json"},
	{"authorizer", "authorizer-forged.json"},
	{"create-module", "create-module.json"},
	{"list-modules", "list-modules.json"},
	{"update-module", "update-module.json"},
	{"delete-module", "delete-module.json"},
	{"reaper", "reaper-schedule.json"},
}

func main() {
	rie := flag.String("rie", "bin/aws-lambda-rie", "aws-lambda-rie binary")
	moto := flag.String("moto", os.Getenv("MOTO_ENDPOINT"), "moto endpoint the functions use as AWS")
	runs := flag.Int("runs", 9, "cold starts per function")
	flag.Parse()
	if err := run(*rie, *moto, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
}

func run(rie, moto string, runs int) error {
	dir, err := os.MkdirTemp("", "coldstart")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fixture, err := lambdarie.NewFixture(context.Background(), moto)
	if err != nil {
		return err
	}
	fmt.Printf("%-14s %10s %8s %9s %10s %10s %8s\n", "function", "size (MB)", "size/hw", "init (ms)", "init/hw", "1st (ms)", "2nd (ms)")
	var hello struct{ size, init float64 }
	for _, f := range functions {
		src := "./functions/" + f.name
		if f.name == "hello" {
			src = "./bench/hello"
		}
		bin := filepath.Join(dir, f.name, "bootstrap")
		build := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w -buildid=", "-o", bin, src)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", f.name, err, out)
		}
		info, err := os.Stat(bin)
		if err != nil {
			return err
		}
		event, err := os.ReadFile("events/" + f.event)
		if err != nil {
			return err
		}
		var inits, firsts, seconds []float64
		for range runs {
			e, err := lambdarie.Start(rie, "", bin, fixture.Environ)
			if err != nil {
				return err
			}
			for range 2 {
				if _, err := e.Invoke(event); err != nil {
					e.Close()
					return err
				}
			}
			initMs, invokes, err := e.WaitReports(2, 2*time.Second)
			e.Close()
			if err != nil || len(invokes) < 2 {
				return fmt.Errorf("%s: %v\n%s", f.name, err, e.Output())
			}
			if strings.Contains(e.Output(), "Runtime.ExitError") {
				return fmt.Errorf("%s failed to start:\n%s", f.name, e.Output())
			}
			inits, firsts, seconds = append(inits, initMs), append(firsts, invokes[0]), append(seconds, invokes[1])
		}
		size, initMs := float64(info.Size())/1e6, median(inits)
		if f.name == "hello" {
			hello.size, hello.init = size, initMs
		}
		fmt.Printf("%-14s %10.1f %7.2fx %9.1f %9.2fx %10.1f %8.1f\n", f.name, size, size/hello.size, initMs, initMs/hello.init, median(firsts), median(seconds))
	}
	fmt.Printf("medians of %d cold starts each; hw = hello world in the same run\n", runs)
	return nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

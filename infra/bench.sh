#!/usr/bin/env bash
# make bench: every measurement side by side in one run, written to
# bench/results.txt (docs/performance.md, "Performance", summarises it).
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/results.txt
venv=.venv
port=${MOTO_PORT:-5065}
"$venv/bin/python" infra/moto_server.py "$port" >/dev/null 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null || true' EXIT
export MOTO_ENDPOINT="http://127.0.0.1:$port"
for _ in $(seq 1 60); do curl -fsS "$MOTO_ENDPOINT/moto-api/" >/dev/null 2>&1 && break; sleep 0.5; done

mkdir -p bin
go build -o bin/aws-lambda-rie github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie
go build -o bin/local ./infra/local
{
  echo "# make bench, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "# $(nproc) vCPU $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(go version | cut -d' ' -f3-4)"
  echo
  echo "## handler benchmarks (go test -bench, -benchmem; ratios are goals in docs/performance.md)"
  # -p 1: one package at a time, so no benchmark shares the CPU with another;
  # the Zipf benchmarks are make bench-zipf's (bench/zipf.txt)
  go test -p 1 -run '^$' -bench . -skip 'Zipf|TokenHitMiss' -benchmem -benchtime "${BENCH_TIME:-2s}" ./internal/oauth ./internal/httpapi | grep -E '^Benchmark'
  echo
  echo "## cold starts under aws-lambda-rie (host builds, moto as AWS)"
  go run ./bench/coldstart -rie bin/aws-lambda-rie -runs "${COLD_RUNS:-9}" 2>/dev/null | grep -vE '^\s*[0-9]{2} [A-Z][a-z]{2} |^(START|END|REPORT) '
  echo
  echo "## load through the local gateway (vegeta)"
  go run ./bench/load -gateway bin/local -duration "${LOAD_TIME:-5s}"
} | tee "$out"

#!/usr/bin/env bash
# make bench-zipf: the token caches' hit rate at 10,000, 100,000 and
# 1,000,000 Zipf-popular clients before and after the LRU (exact, a fixed
# seed), a hit's and a miss's cost through the handler (ROUNDS rounds,
# medians), the cost per request each hit rate gives, and with REPLAY=1 the
# stream replayed through one instance (minutes).
# Written to bench/zipf.txt; docs/performance.md, "Many clients", reads it.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/zipf.txt
rounds=${ROUNDS:-3}
mkdir -p bin
go test -c -o bin/oauth.test ./internal/oauth
cd internal/oauth # the test binary runs where go test would
bench() { ../../bin/oauth.test -test.run '^$' -test.bench "$@" | grep -E '^Benchmark'; }
{
  echo "# make bench-zipf, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "# $(nproc) vCPU $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(go version | cut -d' ' -f3-4), load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "## a hit and a miss of the verified cache through the handler, $rounds rounds"
  for _ in $(seq "$rounds"); do bench TokenHitMiss -test.benchmem -test.benchtime 2s; done
  echo
  echo "## hit rates over 400,000 requests (hit%) and their second half (warm-hit%)"
  bench ZipfHitRate -test.benchtime 1x
  if [[ ${REPLAY:-} == 1 ]]; then
    echo
    echo "## the stream replayed through one instance (ES256, LRU at 65,536)"
    ZIPF_REPLAY=1 bench TokenZipf -test.benchmem -test.benchtime 1000x
  fi
  echo "# load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "../../$out.raw"
cd ../..
# The cost per request at each hit rate: h * hit + (1 - h) * miss, with
# the medians of the rounds above.
awk '
  function median(a, n,   i, j, t) {
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
    return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
  }
  /^BenchmarkTokenHitMiss\// {
    split($1, p, "/"); k = p[2] "/" p[3]; sub(/-[0-9]+$/, "", k)
    v[k, ++n[k]] = $3 / 1e6
  }
  /^BenchmarkZipfHitRate\// && /s=1.1\// && !/lru-10000-/ {
    split($1, p, "/"); sub(/-[0-9]+$/, "", p[4]); rate[p[2], p[4], "hit%"] = $5 / 100; rate[p[2], p[4], "warm-hit%"] = $7 / 100
    if (!(p[2] in seen)) { seen[p[2]] = 1; order[++clients] = p[2] }
  }
  END {
    for (k in n) { delete a; for (i = 1; i <= n[k]; i++) a[i] = v[k, i]; med[k] = median(a, n[k]) }
    printf "\n## cost per request, h * hit + (1 - h) * miss (medians, ms)\n"
    for (alg in med) if (alg ~ /\/hit$/) { sub(/\/hit$/, "", alg); algs[alg] = 1 }
    for (alg in algs) printf "# %s: hit %.3f ms, miss %.1f ms\n", alg, med[alg "/hit"], med[alg "/miss"]
    for (w = 1; w <= 2; w++) {
      m = w == 1 ? "hit%" : "warm-hit%"
      printf "%s\n", w == 1 ? "# over the 400,000 requests of a fresh instance" : "# over their second half (a warm instance)"
      printf "%-16s %10s %10s", "clients (s=1.1)", "before", "after"
      for (alg in algs) printf " %15s %15s %7s", alg " before", alg " after", "ratio"
      printf "\n"
      for (c = 1; c <= clients; c++) {
        k = order[c]; b = rate[k, "before=collapsing-10000", m]; f = rate[k, "after=lru-65536", m]
        printf "%-16s %9.2f%% %9.2f%%", k, 100*b, 100*f
        for (alg in algs) {
          hit = med[alg "/hit"]; miss = med[alg "/miss"]
          cb = b*hit + (1-b)*miss; ca = f*hit + (1-f)*miss
          printf " %12.2f ms %12.2f ms %6.2fx", cb, ca, cb/ca
        }
        printf "\n"
      }
    }
  }' "$out.raw" > "$out.cost"
cat "$out.raw" "$out.cost" > "$out" && rm "$out.raw" "$out.cost"
tail -n 14 "$out"

#!/usr/bin/env bash
# The one test command (`make test`, called by .ci/run): starts a moto server
# on loopback for the integration tests, then runs every layer. With CI=true
# the integration tests fail, not skip, when moto does not answer.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
port=${MOTO_PORT:-5055}
log=$(mktemp)
"$venv/bin/python" infra/moto_server.py "$port" >"$log" 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null || true; rm -f "$log"' EXIT
export MOTO_ENDPOINT="http://127.0.0.1:$port"
for _ in $(seq 1 60); do
  curl -fsS "$MOTO_ENDPOINT/moto-api/" >/dev/null 2>&1 && break
  kill -0 $moto 2>/dev/null || { cat "$log"; echo "moto server did not start" >&2; exit 1; }
  sleep 0.5
done
echo "moto server at $MOTO_ENDPOINT"

echo "== go vet"
go vet ./...

echo "== unit and integration tests (embedded minidyn + moto)"
go test -race -count=1 ./...

echo "== fuzz (briefly; seed corpora run in every go test)"
fuzz_time=${FUZZ_TIME:-5s}
for target in $(grep -rhoE '^func (Fuzz[A-Za-z0-9]+)' --include='*_test.go' internal | awk '{print $2}' | sort -u); do
  pkg=$(grep -rlE "^func $target\(" --include='*_test.go' internal | xargs dirname | head -1)
  out=$(go test -run '^$' -fuzz "^$target\$" -fuzztime "$fuzz_time" "./$pkg" 2>&1) || { echo "$out" | grep -v "^fuzz: elapsed"; exit 1; }
  echo "ok   $target ($fuzz_time)"
done

echo "== template: sam validate --lint and sam build (offline)"
export SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1}
"$venv/bin/sam" validate --lint
"$venv/bin/sam" build

#!/usr/bin/env bash
# The deployment layer of `make test`: sam deploy into a ministack of its
# own (on a port free at run time, beside any `make deploy-local` on 4566), then
#   1. the per-address limits as created (infra/edge_check.py: CloudFront,
#      its web ACL and origin secret; ministack sends no traffic through
#      them), then the end-to-end suite against the deployed API, which must
#      pass with the same count as against the local gateway;
#   2. a signing-key rotation through Secrets Manager's RotateSecret;
#   3. a second deploy that changes TokenLifetimeSeconds and
#      AccessTokenAlgorithm to ES256 (UPDATE_COMPLETE), tokens that live that
#      long, and a rotation after which new tokens are ES256 and RS256
#      tokens from before still pass;
#   4. docs/operations.md's checklist blocks marked for it, as written (the
#      outputs, a first manager, a token, a list, the API document), and its
#      command for a leaked key (TestDeployedKeyRetirement).
# Prints each step with its time. docs/testing.md, "Deployment layer", lists what
# the emulator cannot check and what covers it instead.
set -euo pipefail
cd "$(dirname "$0")/.."

export MINISTACK_PORT=${DEPLOY_TEST_PORT:-$(infra/free-port.sh)}
export LOCAL_DEPLOY_STATE=$PWD/.aws-sam/deploy-test.json
trap 'infra/stop-local.sh >/dev/null' EXIT
infra/stop-local.sh >/dev/null # a stack left over from an interrupted run

now() { date +%s.%N; }
since() { awk -v from="$1" -v to="$(now)" 'BEGIN { printf "%.1f s", to - from }'; }
start=$(now)
passes() { grep -cE '^--- PASS' || true; }
failures() { grep -E '^(--- FAIL|FAIL|panic)|_test.go:[0-9]+' || true; }

infra/deploy-local.sh | sed -n '/^ministack\|^sam \|^manager/p'

t=$(now)
stack=$(.venv/bin/python -c 'import json,sys; print(json.load(open(sys.argv[1]))["stack"])' "$LOCAL_DEPLOY_STATE")
edge=$(AWS_ENDPOINT_URL=http://127.0.0.1:$MINISTACK_PORT AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 \
  .venv/bin/python infra/edge_check.py "$stack" enabled) || { echo "the per-address limits were not deployed as the template says" >&2; exit 1; }
out=$(DEPLOYED=$LOCAL_DEPLOY_STATE go test -tags deployed -count=1 -v -run '^TestDeployedViewerAddress$' ./internal/localgateway 2>&1) ||
  { failures <<<"$out"; exit 1; }
[[ $(passes <<<"$out") == 1 ]] || { echo "$out"; exit 1; }
printf '%-28s %s\n' "per-address limits" "$(since "$t") ($edge; the token function counts CloudFront's viewer address)"

t=$(now)
suite='^TestEndToEnd'
local_out=$(go test -count=1 -v -run "$suite" ./internal/localgateway 2>&1) || { failures <<<"$local_out"; exit 1; }
deployed_out=$(DEPLOYED=$LOCAL_DEPLOY_STATE go test -tags deployed -count=1 -v -run "$suite" ./internal/localgateway 2>&1) ||
  { failures <<<"$deployed_out"; echo "end-to-end suite failed against the deployed stack" >&2; exit 1; }
n_local=$(passes <<<"$local_out") n_deployed=$(passes <<<"$deployed_out")
printf '%-28s %s\n' "end-to-end suite" "$(since "$t") ($n_deployed passed deployed, $n_local on the local gateway)"
if [[ $n_local != "$n_deployed" || $n_local == 0 ]]; then
  echo "the end-to-end suite passed $n_deployed tests deployed and $n_local locally: they must be the same" >&2
  exit 1
fi

t=$(now)
out=$(DEPLOYED=$LOCAL_DEPLOY_STATE go test -tags deployed -count=1 -v -run '^TestDeployedKeyRotation$' ./internal/localgateway 2>&1) ||
  { failures <<<"$out"; exit 1; }
[[ $(passes <<<"$out") == 1 ]] || { echo "$out"; exit 1; }
printf '%-28s %s\n' "key rotation" "$(since "$t") (RotateSecret; old tokens pass, new kid)"

t=$(now)
line=$(infra/deploy-local.sh TokenLifetimeSeconds=600 AccessTokenAlgorithm=ES256 | sed -n '/^sam deploy/p')
echo "$line"
[[ $line == *UPDATE_COMPLETE\)* ]] || { echo "the redeploy did not update the stack" >&2; exit 1; }
out=$(DEPLOYED=$LOCAL_DEPLOY_STATE WANT_TOKEN_LIFETIME=600 go test -tags deployed -count=1 -v -run '^TestDeployedTokenLifetime$' ./internal/localgateway 2>&1) ||
  { failures <<<"$out"; exit 1; }
[[ $(passes <<<"$out") == 1 ]] || { echo "$out"; exit 1; }
printf '%-28s %s\n' "redeploy, changed parameter" "$(since "$t") (TokenLifetimeSeconds=600 in effect)"

t=$(now)
out=$(DEPLOYED=$LOCAL_DEPLOY_STATE WANT_TOKEN_ALG=ES256 go test -tags deployed -count=1 -v -run '^TestDeployedKeyRotation$' ./internal/localgateway 2>&1) ||
  { failures <<<"$out"; exit 1; }
[[ $(passes <<<"$out") == 1 ]] || { echo "$out"; exit 1; }
printf '%-28s %s\n' "change of algorithm" "$(since "$t") (AccessTokenAlgorithm=ES256, rotation: new tokens ES256, RS256 ones pass)"
t=$(now)
# The blocks marked `<!-- deployment layer: ... -->` in docs/operations.md,
# run as written; only API is preset: ministack serves the API on loopback,
# not at the URL its outputs name.
blocks=$(awk '/^<!-- deployment layer: /{want=1; next} want && /^```sh$/{inside=1; next} inside && /^```$/{inside=0; want=0; next} inside' docs/operations.md)
[[ -n $blocks ]] || { echo "docs/operations.md has no block marked for the deployment layer" >&2; exit 1; }
host=$(.venv/bin/python -c 'import json,sys; print(json.load(open(sys.argv[1]))["host"])' "$LOCAL_DEPLOY_STATE")
tenant=checklist$RANDOM
out=$(PATH=$PWD/.venv/bin:$PATH STACK=$stack TENANT=$tenant API=http://$host \
  AWS_ENDPOINT_URL=http://127.0.0.1:$MINISTACK_PORT AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
  bash -c "set -euo pipefail
$blocks" 2>&1) || { echo "$out"; echo "docs/operations.md's checklist failed against the deployed stack" >&2; exit 1; }
rm -f ".local/manager-$tenant.json"
[[ $(tail -1 <<<"$out") == "Modules service" && $out == *'"items":[{'* ]] || { echo "$out"; echo "the checklist did not end with a manager's list and the API document" >&2; exit 1; }
printf '%-28s %s\n' "operations checklist" "$(since "$t") (outputs, first manager of $tenant, token, list, /openapi.json)"

t=$(now)
out=$(DEPLOYED=$LOCAL_DEPLOY_STATE go test -tags deployed -count=1 -v -run '^TestDeployedKeyRetirement$' ./internal/localgateway 2>&1) ||
  { failures <<<"$out"; exit 1; }
[[ $(passes <<<"$out") == 1 ]] || { echo "$out"; exit 1; }
printf '%-28s %s\n' "leaked key retired" "$(since "$t") ($(grep -o 'refused [0-9.]*m\?s after the command' <<<"$out" | head -1))"
printf '%-28s %s\n' "deployment layer" "$(since "$start")"

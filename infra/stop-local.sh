#!/usr/bin/env bash
# `make stop-local`: ends the ministack that `make deploy-local` started,
# with the function processes it runs (one process group).
set -uo pipefail
cd "$(dirname "$0")/.."
port=${MINISTACK_PORT:-4566}
pidfile=.aws-sam/ministack-$port.pid
if [[ ! -f $pidfile ]]; then
  echo "no local deploy is running"
  exit 0
fi
pid=$(cat "$pidfile")
kill -- -"$pid" 2>/dev/null || kill "$pid" 2>/dev/null
for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -9 -- -"$pid" 2>/dev/null || true
rm -f "$pidfile" "${LOCAL_DEPLOY_STATE:-.aws-sam/local-deploy.json}"
echo "stopped ministack (pid $pid); what it held is gone"

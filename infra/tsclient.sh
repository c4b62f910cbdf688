#!/usr/bin/env bash
# The generated TypeScript client: openapi-typescript makes the types of the
# API document (internal/openapi/document/openapi.yaml), and tsc (strict)
# type-checks infra/tsclient/wizard.ts, the whole wizard through
# openapi-fetch without a cast, infra/tsclient/expectations.ts, what the
# types must refuse, and run.ts. The same tsc run writes the JavaScript
# (noEmitOnError: nothing when the check fails, so one pass rather than
# tsc --noEmit and then another) that TestGeneratedClientWizard runs against
# the local gateway (TSCLIENT_JS). The tools are pinned by
# infra/tsclient/package-lock.json and installed into bin/tsclient by
# `make bin/tsclient/.installed`.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=bin/tsclient
bin=$dir/node_modules/.bin
[ -x "$bin/tsc" ] && [ -x "$bin/openapi-typescript" ] ||
  { echo "no pinned TypeScript tools in $dir: run make bin/tsclient/.installed" >&2; exit 1; }
cmp -s infra/tsclient/package-lock.json "$dir/package-lock.json" ||
  { echo "$dir is not the pinned set of infra/tsclient/package-lock.json: run make bin/tsclient/.installed" >&2; exit 1; }
rm -rf "$dir/out"
cp infra/tsclient/*.ts infra/tsclient/tsconfig.json "$dir/"
"$bin/openapi-typescript" internal/openapi/document/openapi.yaml -o "$dir/api.d.ts" >/dev/null
"$bin/tsc" -p "$dir/tsconfig.json"
echo '{"type": "module"}' >"$dir/out/package.json" # ES modules, as written
echo "ok   the client generated from the API document (openapi-typescript $("$bin/openapi-typescript" --version 2>/dev/null | awk '{print $NF}'), tsc $("$bin/tsc" --version | awk '{print $2}')): wizard.ts type-checks, expectations.ts refused"

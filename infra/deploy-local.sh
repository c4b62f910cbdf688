#!/usr/bin/env bash
# `make deploy-local`: sam build and sam deploy --config-env local into
# ministack, a local AWS, on 127.0.0.1 (infra/ministack_server.py), then a
# first manager. The emulator keeps running afterwards; `make stop-local`
# ends it (and with it everything deployed: it keeps no state on disk).
#
#   infra/deploy-local.sh [Name=Value ...]   extra parameter overrides
#
# Writes .aws-sam/local-deploy.json for scripts and tests (docs/operations.md,
# "Deploy locally"). MINISTACK_PORT (4566) and LOCAL_DEPLOY_STATE let the
# deployment tests run beside a person's own local deploy.
set -euo pipefail
cd "$(dirname "$0")/.."

port=${MINISTACK_PORT:-4566}
endpoint="http://127.0.0.1:$port"
state=${LOCAL_DEPLOY_STATE:-.aws-sam/local-deploy.json}
pidfile=.aws-sam/ministack-$port.pid log=.aws-sam/ministack-$port.log
tenant=${LOCAL_TENANT:-demo}
mkdir -p .aws-sam
export AWS_ENDPOINT_URL=$endpoint AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
  AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 SAM_CLI_TELEMETRY=0
unset AWS_PROFILE AWS_SESSION_TOKEN

now() { date +%s.%N; }
since() { awk -v from="$1" -v to="$(now)" 'BEGIN { printf "%.1f s", to - from }'; }
step() { printf '%-28s %s\n' "$1" "$2"; }

t=$(now)
if ! curl -fsS "$endpoint/_ministack/health" >/dev/null 2>&1; then
  nohup setsid .venv-ministack/bin/python infra/ministack_server.py "$port" >"$log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 100); do
    curl -fsS "$endpoint/_ministack/health" >/dev/null 2>&1 && break
    kill -0 "$(cat "$pidfile")" 2>/dev/null || { tail -20 "$log"; echo "ministack did not start" >&2; exit 1; }
    sleep 0.1
  done
  step "ministack started" "$(since "$t") ($endpoint, log $log)"
else
  step "ministack running" "$endpoint"
fi

# The emulator runs each bootstrap as a process of this machine, so the
# functions are built and deployed for its architecture (the template's
# Architecture parameter; AWS gets arm64, its default).
case $(uname -m) in
  x86_64) arch=x86_64 goarch=amd64 ;;
  aarch64 | arm64) arch=arm64 goarch=arm64 ;;
  *) echo "no Lambda architecture for $(uname -m)" >&2; exit 1 ;;
esac
# Command-line overrides replace samconfig.toml's, so pass both.
params="$(.venv/bin/python -c 'import tomllib; print(tomllib.load(open("samconfig.toml","rb"))["local"]["deploy"]["parameters"]["parameter_overrides"])') Architecture=$arch $*"
stack=$(.venv/bin/python -c 'import tomllib; print(tomllib.load(open("samconfig.toml","rb"))["local"]["global"]["parameters"]["stack_name"])')

t=$(now)
LAMBDA_ARCH=$goarch .venv/bin/sam build --config-env local --parameter-overrides "$params" >.aws-sam/local-build.log 2>&1 ||
  { tail -30 .aws-sam/local-build.log; exit 1; }
step "sam build ($goarch)" "$(since "$t")"

t=$(now)
.venv/bin/sam deploy --config-env local --config-file "$PWD/samconfig.toml" --template-file .aws-sam/local-build/template.yaml \
  --parameter-overrides "$params" >.aws-sam/local-deploy.log 2>&1 || { tail -40 .aws-sam/local-deploy.log; exit 1; }
status=$(.venv/bin/python - "$stack" <<'EOF'
import boto3, sys
print(boto3.client("cloudformation").describe_stacks(StackName=sys.argv[1])["Stacks"][0]["StackStatus"])
EOF
)
grep -q "No changes to deploy" .aws-sam/local-deploy.log && status="$status, no changes"
step "sam deploy" "$(since "$t") ($stack: $status)"
case $status in CREATE_COMPLETE* | UPDATE_COMPLETE*) ;; *) tail -40 .aws-sam/local-deploy.log; exit 1 ;; esac

outputs=$(.venv/bin/python - "$stack" <<'EOF'
import boto3, json, sys
cfn = boto3.client("cloudformation")
stack = cfn.describe_stacks(StackName=sys.argv[1])["Stacks"][0]
out = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
out["SigningKeySecret"] = cfn.describe_stack_resource(StackName=sys.argv[1], LogicalResourceId="SigningKeySecret")["StackResourceDetail"]["PhysicalResourceId"]
params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
out["ClientCacheSeconds"], out["TokenLifetimeSeconds"] = params["ClientCacheSeconds"], params["TokenLifetimeSeconds"]
out["KeyCacheSeconds"] = params["KeyCacheSeconds"]
out.setdefault("EdgeOriginSecret", "")
print(json.dumps(out))
EOF
)
api_id=$(echo "$outputs" | .venv/bin/python -c 'import json,re,sys; print(re.match(r"https://([a-z0-9]+)\.", json.load(sys.stdin)["ApiUrl"]).group(1))')
table=$(echo "$outputs" | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["TableName"])')
host="$api_id.execute-api.localhost:$port"

# The manager of an earlier deploy stays while its credentials still work.
t=$(now)
manager=""
if [[ -f $state ]]; then
  manager=$(.venv/bin/python - "$state" "$table" "$tenant" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
if s.get("tableName") == sys.argv[2] and s.get("tenant") == sys.argv[3]:
    print(json.dumps({"clientId": s["managerClientId"], "clientSecret": s["managerClientSecret"]}))
EOF
)
  if [[ -n $manager ]]; then
    id=$(echo "$manager" | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["clientId"])')
    sec=$(echo "$manager" | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["clientSecret"])')
    # the credentials on curl's stdin (-K -), not its command line
    code=$(printf 'user = "%s:%s"\n' "$id" "$sec" |
      curl -s -o /dev/null -w '%{http_code}' -K - -H "Host: $host" -d grant_type=client_credentials "$endpoint/oauth2/token")
    [[ $code == 200 ]] || manager=""
  fi
fi
if [[ -z $manager ]]; then
  manager=$(go run ./infra/admin create-manager --json --tenant "$tenant" --table "$table" --secret-prefix "$stack/modules") || {
    echo "create-manager failed: is there a manager of tenant $tenant whose secret is lost? make stop-local starts afresh, or LOCAL_TENANT=other" >&2
    exit 1
  }
  step "manager created" "$(since "$t")"
else
  step "manager kept" "(credentials of the last deploy)"
fi

# The manager's secret reaches Python through the environment, not argv
# (ps shows a command line to every user). The file holds it, so it is
# written 0600 under a new name and renamed over the old one: opening an
# existing file would keep its mode, however loose.
MANAGER=$manager .venv/bin/python - "$state" "$endpoint" "$host" "$stack" "$table" "$tenant" "$outputs" <<'EOF'
import json, os, sys, tempfile
path, endpoint, host, stack, table, tenant, outputs = sys.argv[1:]
m, o = json.loads(os.environ["MANAGER"]), json.loads(outputs)
fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".local-deploy.", suffix=".tmp")  # 0600
os.fchmod(fd, 0o600)
with os.fdopen(fd, "w") as f:
    json.dump({"endpoint": endpoint, "host": host, "stack": stack, "tableName": table,
               "secretPrefix": f"{stack}/modules", "tenant": tenant,
               "managerClientId": m["clientId"], "managerClientSecret": m["clientSecret"],
               # for the deployment tests
               "signingKeySecret": o["SigningKeySecret"], "clientCacheSeconds": int(o["ClientCacheSeconds"]),
               "tokenLifetimeSeconds": int(o["TokenLifetimeSeconds"]), "edgeOriginSecret": o.get("EdgeOriginSecret", ""),
               "publicKeysSecret": o.get("PublicKeysSecret", ""), "keyCacheSeconds": int(o["KeyCacheSeconds"])}, f, indent=2)
os.replace(tmp, path)
EOF

cat <<EOF

Deployed $stack into ministack ($status).
  API        $endpoint   with header  Host: $host
  manager    of tenant $tenant (also in $state)
    client_id      $(echo "$manager" | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["clientId"])')
    client_secret  $(echo "$manager" | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["clientSecret"])')
  a token    echo 'user = "CLIENT_ID:CLIENT_SECRET"' | curl -K - -H 'Host: $host' -d grant_type=client_credentials $endpoint/oauth2/token
  stop       make stop-local
EOF

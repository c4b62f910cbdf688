#!/usr/bin/env bash
# `make deps` (run by .ci/run): the Debian packages the tests need on a
# fresh machine, installed only when missing (with sudo when not root).
#   gcc              go test -race needs cgo
#   python3-venv     the pinned Python tools live in virtual environments
#   curl, jq         the test scripts, and README.md's wizard (TestREADMEWizard)
#   chromium         the portal's browser tests
#   npm              fetches the pinned axe-core for the accessibility test, and the
#                    pinned openapi-typescript and typescript for the generated client's check
#   qemu-user-static runs the arm64 bootstraps (else host builds: docs/testing.md)
set -euo pipefail
need=() optional=()
command -v gcc >/dev/null || need+=(gcc)
python3 -c 'import ensurepip' 2>/dev/null || need+=(python3-venv)
command -v curl >/dev/null || need+=(curl)
command -v jq >/dev/null || need+=(jq)
command -v chromium >/dev/null || need+=(chromium)
command -v npm >/dev/null || need+=(npm)
command -v qemu-aarch64-static >/dev/null || optional+=(qemu-user-static)
if [[ ${#need[@]} -eq 0 && ${#optional[@]} -eq 0 ]]; then
  echo "deps: all present"
  exit 0
fi
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "deps: missing ${need[*]} ${optional[*]}; install them as root (apt-get install)" >&2; exit 1; }
  sudo=(sudo)
fi
"${sudo[@]}" apt-get update -qq
if [[ ${#need[@]} -gt 0 ]]; then
  echo "deps: installing ${need[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [[ ${#optional[@]} -gt 0 ]]; then
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${optional[@]}" >/dev/null ||
    echo "deps: ${optional[*]} not installed: the fidelity layer will use host builds"
fi

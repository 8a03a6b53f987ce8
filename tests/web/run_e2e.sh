#!/usr/bin/env bash
# Runs the browser end-to-end test: installs Debian's chromium only when it is
# missing, then hands over to the node script.
# Usage: run_e2e.sh NODE E2E_SCRIPT
set -euo pipefail
node="$1"
script="$2"
if [[ ! -x /usr/bin/chromium ]]; then
  echo "web e2e: /usr/bin/chromium missing, installing Debian's chromium"
  sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends chromium
fi
exec "$node" "$script"

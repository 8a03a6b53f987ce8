#!/usr/bin/env bash
# Quick start: installs what is missing, builds into build/ and runs the
# server in the foreground with the default config (loopback, data in
# ./data, a generated development certificate). Extra arguments go to
# parleyd, e.g. ./scripts/start.sh --set logging.level=debug
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/build.sh build
web=()
if [[ -f build/share/parley/web/index.html ]]; then
  web=(--set plugins.websocket.config.static_dir=build/share/parley/web)
  echo "start: web client at http://127.0.0.1:8080/"
fi
exec build/bin/parleyd --config config/parley.yaml "${web[@]}" "$@"

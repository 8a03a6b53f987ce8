#!/bin/sh
# Installs the WebSocket test driver (ws_peer.js + the `ws` package pinned
# by package-lock.json) into $1 (the build tree), once: `npm ci` runs only
# when node_modules/ws is missing. Run by ctest as the fixture
# websocket_npm_setup before the websocket tests.
set -eu
src=$(cd "$(dirname "$0")" && pwd)
dest=${1:?usage: setup.sh <dest-dir>}
mkdir -p "$dest"
cp "$src/package.json" "$src/package-lock.json" "$src/ws_peer.js" "$dest/"
if [ ! -f "$dest/node_modules/ws/package.json" ]; then
  (cd "$dest" && npm ci --no-audit --no-fund --loglevel=error)
fi
test -f "$dest/node_modules/ws/package.json"
echo "websocket test driver ready in $dest"

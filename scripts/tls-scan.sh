#!/usr/bin/env bash
# TLS policy check with real scanners (issue 11, PROTOCOL.md §1): starts
# parleyd on an ephemeral port with the default TLS listener (development
# certificate) and runs sslscan and testssl against it. Fails on: any
# protocol below TLS 1.2, any cipher that is not ECDHE + AEAD, renegotiation,
# compression, or any testssl finding of severity MEDIUM or worse.
#   scripts/tls-scan.sh [BUILD_DIR]     (default: build)
#   --install as the first argument installs sslscan and testssl.sh when
#   missing (Debian packages of those names); otherwise missing tools make
#   the script exit 77, which CTest reports as skipped (test tls-scan).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
install=0
if [[ ${1:-} == --install ]]; then install=1; shift; fi
build="${1:-$root/build}"
parleyd="$build/bin/parleyd"

missing=()
command -v sslscan >/dev/null || missing+=(sslscan)
command -v testssl >/dev/null || missing+=(testssl.sh)
if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ $install -eq 1 ]]; then
    sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo apt-get install -y --no-install-recommends "${missing[@]}" || exit 1
  else
    echo "SKIP: not installed: ${missing[*]} (scripts/tls-scan.sh --install, or apt-get install ${missing[*]})"
    exit 77
  fi
fi
[[ -x $parleyd ]] || { echo "no parleyd at $parleyd (build first)"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/parley-tls-scan.XXXXXX")
pid=""
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# The shipped listener settings (config/parley.yaml) on port 0: the policy
# is the kernel's TLS context, not something the config can weaken.
cat >"$work/parley.yaml" <<YAML
data_dir: $work/data
listeners:
  - name: main
    address: 127.0.0.1
    port: 0
    tls: {dev: true, cert: $work/data/dev-cert.pem, key: $work/data/dev-key.pem}
logging: {level: info, format: text}
YAML
"$parleyd" --config "$work/parley.yaml" >"$work/parleyd.log" 2>&1 &
pid=$!
port=""
for _ in $(seq 100); do
  port=$(grep -oE 'listening name=main .*port=[0-9]+' "$work/parleyd.log" | grep -oE '[0-9]+$' | head -1)
  [[ -n $port ]] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -z $port ]]; then
  echo "parleyd did not start:"; cat "$work/parleyd.log"; exit 1
fi
target="127.0.0.1:$port"
echo "parleyd pid $pid listening on $target"

failures=()
fail() { failures+=("$1"); echo "FAIL: $1"; }

# ------------------------------------------------------------ sslscan ----
echo "== sslscan $(sslscan --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -1)"
sslscan --no-colour --no-check-certificate "$target" >"$work/sslscan.txt" 2>&1
cat "$work/sslscan.txt"
for proto in SSLv2 SSLv3 TLSv1.0 TLSv1.1; do
  if grep -qE "^$proto +enabled" "$work/sslscan.txt"; then fail "sslscan: $proto enabled"; fi
done
grep -qE '^TLSv1\.2 +enabled' "$work/sslscan.txt" || fail "sslscan: TLSv1.2 not enabled"
grep -qE '^TLSv1\.3 +enabled' "$work/sslscan.txt" || fail "sslscan: TLSv1.3 not enabled"
ciphers=$(grep -E '^(Preferred|Accepted) ' "$work/sslscan.txt" || true)
[[ -n $ciphers ]] || fail "sslscan: no accepted cipher listed (scan failed?)"
while read -r _ version _ _ name rest; do
  [[ -z ${name:-} ]] && continue
  case "$version:$name" in
    TLSv1.3:TLS_AES_128_GCM_SHA256|TLSv1.3:TLS_AES_256_GCM_SHA384|TLSv1.3:TLS_CHACHA20_POLY1305_SHA256) ;;
    TLSv1.2:ECDHE-*-GCM-*|TLSv1.2:ECDHE-*-CHACHA20-POLY1305*) ;;
    *) fail "sslscan: cipher not ECDHE+AEAD: $version $name $rest" ;;
  esac
done <<<"$ciphers"
# Renegotiation: sslscan tries a client-initiated one; testssl below too.
if ! grep -qiE '^Session renegotiation not supported' "$work/sslscan.txt"; then
  fail "sslscan: session renegotiation supported (or not reported)"
fi
# Compression: a Debian sslscan is built without zlib and cannot test it
# ("OpenSSL version does not support compression"); testssl's CRIME_TLS
# check below decides then.
if grep -qiE '^Compression enabled' "$work/sslscan.txt"; then fail "sslscan: TLS compression enabled"; fi
# Key exchange groups: only elliptic curves (X25519, P-256, P-384); a
# finite-field DHE group is not ECDHE.
ff=$(grep -E '^TLSv1\.[23] .*ffdhe' "$work/sslscan.txt" | awk '{print $1":"$4}' | tr '\n' ' ')
[[ -z $ff ]] || fail "sslscan: finite-field DHE key exchange groups offered: $ff"

# ------------------------------------------------------------ testssl ----
echo "== testssl"
testssl --quiet --nodns none --warnings batch --color 0 -p -f -U -E \
  --jsonfile "$work/testssl.json" "$target" >"$work/testssl.txt" 2>&1
trc=$?
cat "$work/testssl.txt"
if [[ ! -s $work/testssl.json ]]; then
  fail "testssl produced no findings file (exit $trc)"
else
  # One JSON object per finding: {"id": .., "severity": .., "finding": ..}.
  bad=$(python3 - "$work/testssl.json" <<'PY'
import json, sys
worse = {"MEDIUM", "HIGH", "CRITICAL"}
for f in json.load(open(sys.argv[1])):
    if f.get("severity") in worse:
        print(f'{f.get("severity")} {f.get("id")}: {f.get("finding")}')
PY
)
  if [[ -n $bad ]]; then
    while read -r line; do fail "testssl: $line"; done <<<"$bad"
  fi
  # Renegotiation and compression verdicts, required present and OK.
  for id in secure_client_renego CRIME_TLS; do
    verdict=$(python3 - "$work/testssl.json" "$id" <<'PY'
import json, sys
for f in json.load(open(sys.argv[1])):
    if f.get("id") == sys.argv[2]:
        print(f.get("severity"), f.get("finding"))
PY
)
    case "$verdict" in
      OK*) echo "testssl $id: $verdict" ;;
      *) fail "testssl $id: ${verdict:-not reported}" ;;
    esac
  done
  summary=$(python3 -c '
import json, sys, collections
c = collections.Counter(f.get("severity") for f in json.load(open(sys.argv[1])))
print(", ".join(f"{k}={v}" for k, v in sorted(c.items())))' "$work/testssl.json")
  echo "testssl findings by severity: $summary"
fi

echo
if [[ ${#failures[@]} -gt 0 ]]; then
  echo "TLS policy: ${#failures[@]} failure(s):"
  printf '  %s\n' "${failures[@]}"
  exit 1
fi
echo "TLS policy: OK (TLS 1.2+ only, ECDHE+AEAD only, no renegotiation, no compression, no testssl finding >= MEDIUM)"

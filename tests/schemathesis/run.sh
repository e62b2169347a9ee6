#!/usr/bin/env bash
# Whole-API robustness: schemathesis over every Swagger document barongd serves, against the real
# daemon (debug build, fresh data dir, SQLite, a port of its own), signed in as an active user so
# the requests reach the handlers rather than stopping at 401. Fails on any 5xx and on any
# response that contradicts the document. Run by .ci/run after the cargo tests; bounded (a fixed
# number of examples per operation, a fixed seed, a time cap).
#   tests/schemathesis/run.sh [max examples per operation, default 20]
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

examples=${1:-20}
version=4.32.5
venv=$root/target/schemathesis-venv
log() { printf '== schemathesis: %s\n' "$*"; }

if [ "$("$venv/bin/schemathesis" --version 2>/dev/null)" != "schemathesis, version $version" ]; then
  log "installing schemathesis $version into target/schemathesis-venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$version"
fi

cargo build --quiet -p barongd --bin barongd
work=$(mktemp -d)
daemon_pid=
cleanup() {
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# Port 0: the daemon picks a free port and names it in its start-up line.
BARONG_CAPTCHA=none RUST_LOG=info "$root/target/debug/barongd" --listen 127.0.0.1:0 --data-dir "$work/data" \
  >"$work/daemon.log" 2>&1 &
daemon_pid=$!
base=
for _ in $(seq 1 100); do
  base=$(grep -o 'listening on http://[0-9.:]*' "$work/daemon.log" | head -n1 | sed 's/listening on //') || true
  [ -n "$base" ] && curl -fsS "$base/api/v2/barong/identity/ping" >/dev/null 2>&1 && break
  kill -0 "$daemon_pid" 2>/dev/null || { cat "$work/daemon.log" >&2; exit 1; }
  sleep 0.2
done
[ -n "$base" ] || { echo "barongd did not start" >&2; cat "$work/daemon.log" >&2; exit 1; }
log "daemon at $base"

# An active user with a session: register, confirm from the outbox, sign in. Sessions are bound
# to the User-Agent, so every request (here and schemathesis') sends the same one.
ua=barong-schemathesis
b=$base/api/v2/barong
email=fuzz@example.com
password=Zahsh8ei-Quoo
post() { curl -fsS -A "$ua" -c "$work/jar" -b "$work/jar" -H 'Content-Type: application/json' -d "$2" "$b/$1"; }
post identity/users "{\"email\":\"$email\",\"password\":\"$password\"}" >/dev/null
token=$(grep -rhoa 'confirmation_token=[^&[:space:]"<]*' "$work/data/outbox" | tail -n1 | cut -d= -f2)
post identity/users/email/confirm_code "{\"token\":\"$token\"}" >/dev/null
csrf=$(post identity/sessions "{\"email\":\"$email\",\"password\":\"$password\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf_token"])')
cookie=$(awk '$6 ~ /session/ {print $6 "=" $7}' "$work/jar" | tail -n1)
[ -n "$cookie" ] && [ -n "$csrf" ] || { echo "could not sign in" >&2; exit 1; }

status=0
for doc in resource/swagger_doc; do
  log "$doc (at most $examples examples per operation)"
  # From the temp dir: schemathesis leaves its cache and reports where it runs.
  (cd "$work" && "$venv/bin/schemathesis" run "$b/$doc" \
    --checks not_a_server_error,response_schema_conformance \
    --max-examples "$examples" --seed 1 --workers 1 --max-time 120 --request-timeout 10 \
    -H "Cookie: $cookie" -H "X-CSRF-Token: $csrf" -H "User-Agent: $ua" \
    --no-color) || status=1
done
if [ $status -ne 0 ]; then
  echo "schemathesis found problems; daemon log: (last 40 lines)" >&2
  tail -n 40 "$work/daemon.log" >&2
fi
exit $status

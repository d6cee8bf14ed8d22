#!/usr/bin/env bash
# Load test: authenticated GET /api/v1/stores with wrk, 64 connections, on
# SQLite (default) or PostgreSQL (ENGINE=postgres). Prints idle RSS, then
# wrk's report (requests/s and latency percentiles).
#   cargo build --release && bash benches/stores_load.sh
#   ENGINE=postgres bash benches/stores_load.sh
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${BIN:-${CARGO_TARGET_DIR:-target}/release/livemall}"
ENGINE="${ENGINE:-sqlite}"
DURATION="${DURATION:-20s}"
PORT="${PORT:-18080}"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 1; }
[ -x "$BIN" ] || { echo "build first: cargo build --release (looked for $BIN)" >&2; exit 1; }

DATA="$(mktemp -d)"
export LIVEMALL_DATA_DIR="$DATA" LIVEMALL_SERVER__PORT="$PORT" LIVEMALL_LOG__FILTER=warn LIVEMALL_DEMO_DATA=false
if [ "$ENGINE" = postgres ]; then
  DB="livemall_load_$$"
  psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE $DB"
  export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB"
fi
"$BIN" serve &
PID=$!
cleanup() {
  kill "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  [ "$ENGINE" = postgres ] && psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $DB" || true
  rm -rf "$DATA"
}
trap cleanup EXIT
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && break; sleep 0.2; done

API="http://127.0.0.1:$PORT/api/v1"
TOKEN=$(curl -sf -X POST "$API/auth/signup" -H 'content-type: application/json' \
  -d '{"email":"load@example.com","password":"correct horse battery","tenant_name":"Load"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
for i in $(seq 1 10); do
  curl -sf -X POST "$API/stores" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \
    -d "{\"name\":\"Store $i\",\"currency\":\"EUR\"}" >/dev/null
done
sleep 1
echo "engine: $ENGINE"
echo "idle RSS: $(ps -o rss= -p "$PID" | awk '{printf "%.1f MiB", $1/1024}')"
wrk -t2 -c64 -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "$API/stores"
echo "RSS after load: $(ps -o rss= -p "$PID" | awk '{printf "%.1f MiB", $1/1024}')"

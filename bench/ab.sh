#!/usr/bin/env bash
# Two builds back to back on the same data, alternating (A, B, A, B), so that the machine's changing
# speed touches both alike: `/healthz`, get by id (bench/get-dataset.lua) and the keyword search with
# the result cache off (bench/search.lua), each with 32 connections.
#
# usage: bench/ab.sh OLD_BINARY NEW_BINARY [ROUNDS]   (after bench/run.sh, which leaves bench/out/)
#        BENCH_DATA=DIR keeps the imported data in DIR (default: a fresh directory, imported once)
set -euo pipefail
cd "$(dirname "$0")/.."
OLD="$1" NEW="$2" ROUNDS="${3:-2}"
PORT="${BENCH_PORT:-8091}" DURATION="${BENCH_DURATION:-15s}"
URL="http://127.0.0.1:$PORT"
[ -s bench/out/datasets.ndjson ] && [ -s bench/out/ids.txt ] || { echo "run bench/run.sh first" >&2; exit 1; }
export FATHOM_LOG=warn FATHOM_RATE_LIMIT_PER_ADDRESS=0 FATHOM_RATE_LIMIT_PER_TOKEN=0
DATA="${BENCH_DATA:-$(mktemp -d)}"
if [ ! -e "$DATA/fathom.db" ]; then
    "$NEW" --data-dir "$DATA" import --kind organisations bench/organisations.ndjson 2>/dev/null
    "$NEW" --data-dir "$DATA" import bench/out/datasets.ndjson 2>&1 | tail -1
    "$NEW" --data-dir "$DATA" reindex 2>&1 | tail -1
fi
serve() { # $1: the binary; more: environment for it
    local bin="$1"; shift
    env "$@" "$bin" --data-dir "$DATA" serve --listen "127.0.0.1:$PORT" 2>/dev/null &
    SERVER=$!
    until curl -sf --max-time 5 "$URL/readyz" >/dev/null; do sleep 0.2; done
}
trap 'kill "${SERVER:-0}" 2>/dev/null || true' EXIT
rate() { grep -E "Requests/sec|99%" | awk '{print $2}' | tr '\n' ' '; }
for round in $(seq "$ROUNDS"); do
    for bin in "$OLD" "$NEW"; do
        serve "$bin"
        healthz=$(wrk -t2 -c32 -d10s "$URL/healthz" | grep Requests/sec | awk '{print $2}')
        get=$(IDS=bench/out/ids.txt wrk -t2 -c32 -d"$DURATION" --latency -s bench/get-dataset.lua "$URL" | rate)
        kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
        serve "$bin" FATHOM_SEARCH_CACHE=0
        search=$(wrk -t2 -c32 -d"$DURATION" --latency -s bench/search.lua "$URL" | rate)
        kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
        echo "round $round $bin: /healthz $healthz req/s | get by id: p99, req/s $get| keyword, cache off: p99, req/s $search"
    done
done

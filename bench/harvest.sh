#!/usr/bin/env bash
# Harvest throughput: a second Fathom harvests a first one's N datasets over OAI-PMH (iso19139, pages
# of 500) with `fathom harvest run`, then again (an incremental run that finds nothing new).
#
# usage: bench/harvest.sh [N]    (default 100000; BENCH_DATA=DIR reuses the upstream catalogue;
#                                 BENCH_BIN=PATH uses that binary instead of building one)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-100000}"
PORT="${BENCH_PORT:-8091}"
OUT=bench/out
mkdir -p "$OUT"
BIN="${BENCH_BIN:-target/release/fathom}"
[ -n "${BENCH_BIN:-}" ] || cargo build --release -p fathom --quiet
DATA="${BENCH_DATA:-$(mktemp -d)}"
HARVESTER="$(mktemp -d)"
trap 'kill "${SERVER:-0}" 2>/dev/null || true; rm -rf "$HARVESTER"; [ -n "${BENCH_DATA:-}" ] || rm -rf "$DATA"' EXIT
export FATHOM_LOG=warn FATHOM_RATE_LIMIT_PER_ADDRESS=0 FATHOM_RATE_LIMIT_PER_TOKEN=0

if [ ! -e "$DATA/fathom.db" ]; then
    python3 bench/generate.py "$N" 42 > "$OUT/datasets.ndjson"
    "$BIN" --data-dir "$DATA" import --kind organisations bench/organisations.ndjson 2>/dev/null
    "$BIN" --data-dir "$DATA" import "$OUT/datasets.ndjson" 2>&1 | tail -1
fi
"$BIN" --data-dir "$DATA" serve --listen "127.0.0.1:$PORT" 2>/dev/null &
SERVER=$!
for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done

echo '{"slug":"partners","name":"Partners","nation":"NOR"}' > "$HARVESTER/org.ndjson"
"$BIN" --data-dir "$HARVESTER" import --kind organisations "$HARVESTER/org.ndjson" 2>/dev/null
"$BIN" --data-dir "$HARVESTER" harvest add --name upstream --kind oai_pmh --url "http://127.0.0.1:$PORT/oai" \
    --organisation partners --requests-per-second 100 > /dev/null
for run in first again; do
    start=$(date +%s.%N)
    "$BIN" --data-dir "$HARVESTER" harvest run upstream > "$OUT/harvest-$run.json"
    seconds=$(echo "$(date +%s.%N) - $start" | bc)
    python3 - "$OUT/harvest-$run.json" "$seconds" "$run" <<'PY'
import json, sys
job, seconds, run = json.load(open(sys.argv[1])), float(sys.argv[2]), sys.argv[3]
listed = job["created"] + job["updated"] + job["unchanged"]
print(f"harvest ({run}): {job['status']}, {job['requests']} requests, created {job['created']}, updated {job['updated']}, "
      f"unchanged {job['unchanged']}, failed {job['failed']} in {seconds:.1f} s: {listed / seconds:,.0f} records/s")
PY
done

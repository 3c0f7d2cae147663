#!/usr/bin/env bash
# Export throughput: the whole catalogue as DCAT-AP (Turtle, N-Triples), page by page through
# /api/v1/catalog, and as OAI-PMH ListRecords pages (oai_dc, iso19139), with the server's peak resident
# memory before and after.
#
# usage: bench/export.sh [N]     (default 100000; BENCH_DATA=DIR reuses a catalogue imported before;
#                                 BENCH_BIN=PATH uses that binary instead of building one)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-100000}"
PORT="${BENCH_PORT:-8089}"
OUT=bench/out
mkdir -p "$OUT"

BIN="${BENCH_BIN:-target/release/fathom}"
[ -n "${BENCH_BIN:-}" ] || cargo build --release -p fathom --quiet
DATA="${BENCH_DATA:-$(mktemp -d)}"
trap 'kill "${SERVER:-0}" 2>/dev/null || true; [ -n "${BENCH_DATA:-}" ] || rm -rf "$DATA"' EXIT
export FATHOM_LOG=warn FATHOM_RATE_LIMIT_PER_ADDRESS=0 FATHOM_RATE_LIMIT_PER_TOKEN=0

if [ ! -e "$DATA/fathom.db" ]; then
    echo "== generating and importing $N datasets (seed 42)"
    python3 bench/generate.py "$N" 42 > "$OUT/datasets.ndjson"
    "$BIN" --data-dir "$DATA" import --kind organisations bench/organisations.ndjson 2>/dev/null
    "$BIN" --data-dir "$DATA" import "$OUT/datasets.ndjson" 2>&1 | tail -1
fi

"$BIN" --data-dir "$DATA" serve --listen "127.0.0.1:$PORT" 2>/dev/null &
SERVER=$!
for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
echo "== peak resident memory after start: $(grep VmHWM /proc/$SERVER/status)"

python3 bench/export.py "http://127.0.0.1:$PORT" | tee "$OUT/export.txt"
echo "== peak resident memory after the exports: $(grep VmHWM /proc/$SERVER/status)"

#!/usr/bin/env bash
# The load harness: generates N datasets (deterministic seed), imports them with `fathom import`, serves
# them, and measures reads with wrk (32 connections), searches with and without the result cache, page
# walking, resident memory, and searches while datasets are patched and after.
#
# usage: bench/run.sh [N]            (default 100000; results in bench/out/)
#        BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test bench/run.sh   also times a PostgreSQL import
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-100000}"
PORT="${BENCH_PORT:-8089}"
DURATION="${BENCH_DURATION:-20s}"
OUT=bench/out
mkdir -p "$OUT"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }

cargo build --release -p fathom --quiet
BIN=target/release/fathom
# BENCH_DATA=DIR keeps the imported data in DIR and reuses it on the next run (skipping the imports).
DATA="${BENCH_DATA:-$(mktemp -d)}"
# The writes' step works on a copy (WRITES), so that DATA stays as imported for the next run.
WRITES="$(mktemp -d)"
trap 'kill "${SERVER:-0}" 2>/dev/null || true; rm -rf "$WRITES"; [ -n "${BENCH_DATA:-}" ] || rm -rf "$DATA"' EXIT
export FATHOM_LOG=warn
# One load tool from one address: the per-address rate limit would hold it back.
export FATHOM_RATE_LIMIT_PER_ADDRESS=0 FATHOM_RATE_LIMIT_PER_TOKEN=0

if [ ! -e "$DATA/fathom.db" ]; then
echo "== generating $N datasets (seed 42)"
python3 bench/generate.py "$N" 42 > "$OUT/datasets.ndjson"
ls -l "$OUT/datasets.ndjson"

echo "== import into SQLite"
"$BIN" --data-dir "$DATA" import --kind organisations bench/organisations.ndjson 2>/dev/null
start=$(date +%s.%N)
"$BIN" --data-dir "$DATA" import "$OUT/datasets.ndjson" 2>&1 | tail -1
echo "import: $(echo "$(date +%s.%N) - $start" | bc) s"
du -sh "$DATA"

if [ -n "${BENCH_POSTGRES_URL:-}" ]; then
    echo "== import into PostgreSQL"
    db="fathom_bench"
    psql "$BENCH_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
    url="${BENCH_POSTGRES_URL%/*}/$db"
    "$BIN" --database-url "$url" import --kind organisations bench/organisations.ndjson 2>/dev/null
    start=$(date +%s.%N)
    "$BIN" --database-url "$url" import "$OUT/datasets.ndjson" 2>&1 | tail -1
    echo "import: $(echo "$(date +%s.%N) - $start" | bc) s"
    psql "$BENCH_POSTGRES_URL" -qc "DROP DATABASE $db WITH (FORCE)"
fi

fi

"$BIN" --data-dir "$DATA" export 2>/dev/null | python3 -c '
import json, random, sys
ids = [json.loads(line)["id"] for line in sys.stdin]
random.Random(42).shuffle(ids)
print("\n".join(ids[:20000]))' > "$OUT/ids.txt"

echo "== full reindex"
"$BIN" --data-dir "$DATA" reindex 2>&1 | tail -1
du -sh "$DATA/search"

serve() { # $1: the data directory (DATA by default)
    "$BIN" --data-dir "${1:-$DATA}" serve --listen "127.0.0.1:$PORT" 2>/dev/null &
    SERVER=$!
    until curl -sf --max-time 5 "http://127.0.0.1:$PORT/readyz" >/dev/null; do
        kill -0 "$SERVER" 2>/dev/null || { echo "the server did not start" >&2; exit 1; }
        sleep 0.2
    done
    echo "resident memory after start: $(grep VmRSS /proc/$SERVER/status)"
}
searches() { # $1: a name for the output files; more arguments go to wrk (e.g. a header)
    local name="$1"; shift
    echo "== wrk: GET /api/v1/search, the query log (bench/queries/queries.txt), 32 connections, $DURATION ($name)"
    wrk -t2 -c32 -d"$DURATION" --latency "$@" -s bench/queries.lua "http://127.0.0.1:$PORT" | tee "$OUT/search-$name.txt" | grep -E "Requests/sec|99%|50%|Non-2xx"
    echo "== wrk: the query log, each search also in a box and a year, 32 connections, $DURATION ($name)"
    MODE=combined wrk -t2 -c32 -d"$DURATION" --latency "$@" -s bench/queries.lua "http://127.0.0.1:$PORT" | tee "$OUT/search-combined-$name.txt" | grep -E "Requests/sec|99%|50%|Non-2xx"
}

echo "== serve, without the search result cache"
ADMIN_TOKEN="$("$BIN" --data-dir "$DATA" token create --user bench-admin --role admin 2>/dev/null)"
FATHOM_SEARCH_CACHE=0 serve
# Anonymous readers search through the label filter; an admin sees everything, without it.
searches uncached
searches uncached-admin -H "Authorization: Bearer $ADMIN_TOKEN"
echo "== wrk: smoke test, GET /api/v1/search?q={one of 16 words}&facets=(5), 32 connections, $DURATION"
wrk -t2 -c32 -d"$DURATION" --latency -s bench/search.lua "http://127.0.0.1:$PORT" | tee "$OUT/search-smoke.txt" | grep -E "Requests/sec|99%|50%|Non-2xx"
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true

echo "== serve (still without the search result cache: every search figure is of searches run)"
FATHOM_SEARCH_CACHE=0 serve

echo "== wrk: GET /healthz, 32 connections, $DURATION"
wrk -t2 -c32 -d"$DURATION" --latency "http://127.0.0.1:$PORT/healthz" | tee "$OUT/healthz.txt" | grep -E "Requests/sec|99%|50%"
echo "== wrk: GET /api/v1/datasets/{random id}, 32 connections, $DURATION"
IDS="$OUT/ids.txt" wrk -t2 -c32 -d"$DURATION" --latency -s bench/get-dataset.lua "http://127.0.0.1:$PORT" | tee "$OUT/dataset.txt" | grep -E "Requests/sec|99%|50%|Non-2xx"
echo "== wrk: GET /datasets/{random id} (the page for people), 32 connections, $DURATION"
PAGES=1 IDS="$OUT/ids.txt" wrk -t2 -c32 -d"$DURATION" --latency -s bench/get-dataset.lua "http://127.0.0.1:$PORT" | tee "$OUT/dataset-page.txt" | grep -E "Requests/sec|99%|50%|Non-2xx"
echo "== wrk: GET /search?… (the page for people: 20 results, 12 facets), the query log, 32 connections, $DURATION"
PAGES=1 wrk -t2 -c32 -d"$DURATION" --latency -s bench/queries.lua "http://127.0.0.1:$PORT" | tee "$OUT/search-page.txt" | grep -E "Requests/sec|99%|50%|Non-2xx"
echo "== the search page's size: its HTML, and a first visit's assets as sent compressed (basemap excluded)"
html=$(curl -s -o /dev/null -w '%{size_download}' "http://127.0.0.1:$PORT/search?q=temperature")
assets=0
for asset in $(curl -s "http://127.0.0.1:$PORT/search?q=temperature" | grep -o '/assets/[^"]*' | grep -v '/assets/land' | sort -u); do
    assets=$((assets + $(curl -s -H 'Accept-Encoding: gzip' -o /dev/null -w '%{size_download}' "http://127.0.0.1:$PORT$asset")))
done
echo "HTML $html bytes; first visit $((html + assets)) bytes" | tee "$OUT/page-size.txt"
echo "== wrk: the same with an API token (checked against the database at most every 5 s), $DURATION"
IDS="$OUT/ids.txt" wrk -t2 -c32 -d"$DURATION" --latency -H "Authorization: Bearer $ADMIN_TOKEN" -s bench/get-dataset.lua "http://127.0.0.1:$PORT" | tee "$OUT/dataset-token.txt" | grep -E "Requests/sec|99%|50%|Non-2xx"
echo "== resident memory after the core loads (before any search): $(grep VmHWM /proc/$SERVER/status)"


echo "== walking every page, limit=1000"
python3 bench/walk.py "http://127.0.0.1:$PORT" | tee "$OUT/walk.txt"

echo "== resident memory after import and load"
grep -E "VmRSS|VmHWM" "/proc/$SERVER/status"

# The index above is freshly rebuilt: one segment, no deletions. Writes leave it as the indexer's commits
# do: the patched documents deleted in their segment, and new small segments. On a copy of the data.
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
cp -a "$DATA/." "$WRITES/"
echo "== serve a copy of the data, without the search result cache"
FATHOM_SEARCH_CACHE=0 serve "$WRITES"
echo "== wrk: the query log's searches while 3,000 datasets are patched through the API (the load may outlast them), $DURATION"
python3 bench/patch.py "http://127.0.0.1:$PORT" "$ADMIN_TOKEN" "$OUT/ids.txt" 3000 > "$OUT/patch.txt" &
PATCHER=$!
wrk -t2 -c32 -d"$DURATION" --latency -s bench/queries.lua "http://127.0.0.1:$PORT" | tee "$OUT/search-writes.txt" | grep -E "Requests/sec|99%|50%|Non-2xx"
wait "$PATCHER" || { cat "$OUT/patch.txt"; echo "the patches failed" >&2; exit 1; }
cat "$OUT/patch.txt"
caught_up() { curl -sf --max-time 5 "http://127.0.0.1:$PORT/readyz" | grep -q '"search_lag":0'; }
for _ in $(seq 300); do caught_up && break; sleep 0.2; done
caught_up || { echo "the index did not catch up with the writes within a minute" >&2; exit 1; }
python3 -c 'import json, sys; print("segments (documents, deleted):", [(s["max_doc"], (s.get("deletes") or {}).get("num_deleted_docs", 0)) for s in json.load(open(sys.argv[1]))["segments"]])' "$WRITES/search/meta.json"
echo "== wrk: the query log's searches after the writes, $DURATION"
wrk -t2 -c32 -d"$DURATION" --latency -s bench/queries.lua "http://127.0.0.1:$PORT" | tee "$OUT/search-after-writes.txt" | grep -E "Requests/sec|99%|50%|Non-2xx"

#!/usr/bin/env bash
# Instructions per search request, counted by callgrind: steady where wrk's throughput on a shared
# 2-core machine drifts by a third from minute to minute. The server runs under valgrind on an imported
# data directory; after one warm-up round, N keyword searches with five facets (the words of
# bench/search.lua) are counted inside hyper's dispatcher, from reading a request to writing its response.
#
# A search long enough for tokio's blocking pool (see SHORT_SEARCH_READS) runs outside the dispatcher
# and is not counted; the keyword searches of 100,000 datasets are all short.
#
# usage: BENCH_DATA=DIR bench/instructions.sh [N]       (N = 320 by default; a multiple of 16)
#        BIN=path/to/fathom …                          another build (default target/release/fathom)
#        EXTRA='&bbox=-5,50,10,62&datetime=2015-01-01/2015-12-31' …   appended to every search
#        KEEP=FILE …                                   keeps callgrind's profile (for callgrind_annotate)
set -euo pipefail
N="${1:-320}"
if [ "$N" -lt 16 ] || [ $((N % 16)) -ne 0 ]; then
    echo "N must be a multiple of 16 (one search of each word a round)" >&2
    exit 1
fi
DATA="$(realpath "${BENCH_DATA:?BENCH_DATA=DIR: a data directory that bench/run.sh imported}")"
BIN="$(realpath "${BIN:-$(dirname "$0")/../target/release/fathom}")"
PORT="${BENCH_PORT:-8095}"
command -v valgrind >/dev/null || { echo "valgrind is needed: apt-get install valgrind" >&2; exit 1; }
export FATHOM_LOG=warn FATHOM_RATE_LIMIT_PER_ADDRESS=0 FATHOM_RATE_LIMIT_PER_TOKEN=0 FATHOM_SEARCH_CACHE=0
OUT="$(mktemp -d)"
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT/cg" \
    "$BIN" --data-dir "$DATA" serve --listen "127.0.0.1:$PORT" 2>/dev/null &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$OUT"' EXIT
until curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null; do
    kill -0 "$SERVER" || { echo "the server did not start" >&2; exit 1; }
    sleep 1
done
words="ctd glider multibeam acoustics sonar temperature waves sediment currents ais bathymetry salinity hydrophone spectra cores shipping"
round() {
    for word in $words; do
        curl -sf -o /dev/null "http://127.0.0.1:$PORT/api/v1/search?q=$word&facets=keyword,organisation,format,licence,theme&limit=20${EXTRA:-}"
    done
}
round
callgrind_control -i on "$SERVER" >/dev/null 2>&1
for _ in $(seq $((N / 16))); do round; done
callgrind_control -i off "$SERVER" >/dev/null 2>&1
callgrind_control -d "$SERVER" >/dev/null 2>&1
sleep 1
dump="$OUT/cg.1"
[ -s "$dump" ] || { echo "callgrind wrote no dump" >&2; exit 1; }
[ -z "${KEEP:-}" ] || cp "$dump" "$KEEP"
callgrind_annotate --inclusive=yes "$dump" > "$OUT/inclusive.txt"
callgrind_annotate "$dump" > "$OUT/own.txt"
requests=$(awk '/Dispatcher<D,Bs,I,T>::poll_catch/ {gsub(",", "", $1); print $1; exit}' "$OUT/inclusive.txt")
[ -n "$requests" ] || { echo "no instructions counted in hyper's dispatcher" >&2; exit 1; }
echo "instructions per search request: $((requests / N))"
echo "the most costly functions (their own instructions, over all $N requests and the server's other work):"
grep -E '^ *[0-9,]+ \(' "$OUT/own.txt" | sed -n 2,16p | cut -c1-150

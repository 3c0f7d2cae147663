#!/usr/bin/env bash
# The soak: serves N datasets with the defaults (the result cache on) and loads them for MINUTES with
# the query log's searches and gets (bench/soak.lua, 16 connections), reading the server's resident
# memory every 10 s. It fails when any request failed, or when the resident memory of the last two
# thirds of the run strays more than 5 % from where that part started.
#
# usage: bench/soak.sh [N] [MINUTES]     (100000 and 30 by default; samples in bench/out/soak-rss.csv)
#        BENCH_DATA=DIR bench/soak.sh    reuses the data bench/run.sh imported into DIR
#        BENCH_BIN=path/to/fathom bench/soak.sh   another build (by default, target/release/fathom, built)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-100000}"
MINUTES="${2:-30}"
PORT="${BENCH_PORT:-8089}"
OUT=bench/out
mkdir -p "$OUT"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }

BIN="${BENCH_BIN:-target/release/fathom}"
[ -n "${BENCH_BIN:-}" ] || cargo build --release -p fathom --quiet
DATA="${BENCH_DATA:-$(mktemp -d)}"
trap 'kill "${SERVER:-0}" "${SAMPLER:-0}" 2>/dev/null || true; [ -n "${BENCH_DATA:-}" ] || rm -rf "$DATA"' EXIT
export FATHOM_LOG=warn FATHOM_RATE_LIMIT_PER_ADDRESS=0 FATHOM_RATE_LIMIT_PER_TOKEN=0

if [ ! -e "$DATA/fathom.db" ]; then
    echo "== generating and importing $N datasets (seed 42)"
    python3 bench/generate.py "$N" 42 > "$OUT/datasets.ndjson"
    "$BIN" --data-dir "$DATA" import --kind organisations bench/organisations.ndjson 2>/dev/null
    "$BIN" --data-dir "$DATA" import "$OUT/datasets.ndjson" 2>&1 | tail -1
fi
"$BIN" --data-dir "$DATA" export 2>/dev/null | python3 -c '
import json, random, sys
ids = [json.loads(line)["id"] for line in sys.stdin]
random.Random(42).shuffle(ids)
print("\n".join(ids[:20000]))' > "$OUT/soak-ids.txt"

"$BIN" --data-dir "$DATA" serve --listen "127.0.0.1:$PORT" 2>/dev/null &
SERVER=$!
until curl -sf --max-time 5 "http://127.0.0.1:$PORT/readyz" >/dev/null; do
    kill -0 "$SERVER" 2>/dev/null || { echo "the server did not start" >&2; exit 1; }
    sleep 0.2
done

echo "seconds,rss_kb" > "$OUT/soak-rss.csv"
(
    start=$(date +%s)
    while kill -0 "$SERVER" 2>/dev/null; do
        echo "$(($(date +%s) - start)),$(awk '/VmRSS/ {print $2}' "/proc/$SERVER/status")" >> "$OUT/soak-rss.csv"
        sleep 10
    done
) &
SAMPLER=$!

echo "== wrk: searches and gets (bench/soak.lua), 16 connections, $MINUTES min"
IDS="$OUT/soak-ids.txt" wrk -t2 -c16 -d"${MINUTES}m" --timeout 5s --latency -s bench/soak.lua "http://127.0.0.1:$PORT" | tee "$OUT/soak.txt"
kill "$SAMPLER"
grep VmHWM "/proc/$SERVER/status"

python3 - "$OUT/soak-rss.csv" "$OUT/soak.txt" "$MINUTES" <<'PY'
import csv, re, sys
samples = [(int(r["seconds"]), int(r["rss_kb"])) for r in csv.DictReader(open(sys.argv[1]))]
report = open(sys.argv[2]).read()
minutes = int(sys.argv[3])
settled = [kb for s, kb in samples if s >= minutes * 60 / 3]
base = settled[0]
low, high = min(settled), max(settled)
for minute in range(0, minutes + 1, max(1, minutes // 10)):
    kb = [kb for s, kb in samples if s <= minute * 60][-1]
    print(f"minute {minute:>3}: {kb / 1024:7.1f} MB")
print(f"last {minutes - minutes // 3} min: from {base / 1024:.1f} MB, between {low / 1024:.1f} and {high / 1024:.1f} MB "
      f"({(low - base) / base:+.1%} to {(high - base) / base:+.1%})")
errors = re.search(r"Socket errors: (.*)", report)
non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", report)
failed = []
if errors:
    failed.append(f"socket errors: {errors.group(1)}")
if non_2xx:
    failed.append(f"{non_2xx.group(1)} responses not 2xx")
if high > base * 1.05 or low < base * 0.95:
    failed.append("resident memory strayed more than 5 %")
if failed:
    sys.exit("the soak failed: " + "; ".join(failed))
print("the soak passed: no failed request, resident memory within 5 %")
PY

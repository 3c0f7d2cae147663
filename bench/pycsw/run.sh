#!/usr/bin/env bash
# The pycsw 2.6 side of the comparison: sets up pycsw with N templated ISO 19139 records (setup.sh,
# skipping what exists in /tmp/pycsw), serves it with 2 gunicorn workers on 127.0.0.1:8000
# (serve.sh) and measures CSW GetRecords (AnyText search) and GetRecordById with wrk, 32 connections.
#
# usage: bench/pycsw/run.sh [N]      (default 10000; results in bench/out/pycsw-*.txt)
set -euo pipefail
cd "$(dirname "$0")"
DURATION="${BENCH_DURATION:-20s}"
OUT=../out
URL=http://127.0.0.1:8000/
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }

./setup.sh "${1:-10000}"

./serve.sh &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true' EXIT
until curl -sf "${URL}?service=CSW&request=GetCapabilities" >/dev/null; do sleep 0.5; done
# pycsw answers errors as 200 ExceptionReports, so check one request of each kind first
curl -sfG "$URL" -d 'service=CSW&version=2.0.2&request=GetRecords&typenames=csw:Record&resulttype=results&elementsetname=brief' \
    --data-urlencode "constraintlanguage=CQL_TEXT" --data-urlencode "constraint=csw:AnyText like '%ocean%'" \
    | grep -o 'numberOfRecordsMatched="[0-9]*"' || { echo "GetRecords failed" >&2; exit 1; }
curl -sf "${URL}?service=CSW&version=2.0.2&request=GetRecordById&elementsetname=full&id=$(head -1 "$OUT/pycsw-ids.txt")" \
    | grep -q '<csw:Record>' || { echo "GetRecordById failed" >&2; exit 1; }

echo "== wrk: CSW GetRecords, AnyText like %word%, maxRecords=20, summary, 32 connections, $DURATION"
wrk -t2 -c32 -d"$DURATION" --latency -s getrecords.lua "$URL" | tee "$OUT/pycsw-getrecords.txt" \
    | grep -E "Requests/sec|99%|50%|Non-2xx|errors"
echo "== wrk: CSW GetRecordById (random id, full), 32 connections, $DURATION"
IDS="$OUT/pycsw-ids.txt" wrk -t2 -c32 -d"$DURATION" --latency -s getrecordbyid.lua "$URL" \
    | tee "$OUT/pycsw-getrecordbyid.txt" | grep -E "Requests/sec|99%|50%|Non-2xx|errors"

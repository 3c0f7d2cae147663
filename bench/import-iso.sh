#!/usr/bin/env bash
# ISO 19139 import throughput: the 509 Stanford records of the standards corpus, each copied COPIES
# times under a new fileIdentifier (one file per record, the slowest layout), imported with
# `fathom import --format iso19139` into a fresh catalogue, then imported again (all unchanged).
#
# usage: bench/import-iso.sh [COPIES]    (default 20: 10,180 records; BENCH_BIN=PATH uses that binary;
#                                          FATHOM_STANDARDS=DIR finds the corpus)
set -euo pipefail
cd "$(dirname "$0")/.."
COPIES="${1:-20}"
STANDARDS="${FATHOM_STANDARDS:-$(cd .. && pwd)/shared/standards}"
BIN="${BENCH_BIN:-target/release/fathom}"
[ -n "${BENCH_BIN:-}" ] || cargo build --release -p fathom --quiet
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/records"
python3 - "$STANDARDS/corpus/iso19139/stanford-earthworks" "$WORK/records" "$COPIES" <<'PY'
import pathlib, re, sys
source, target, copies = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), int(sys.argv[3])
for path in sorted(source.glob("*.xml")):
    text = path.read_text()
    for n in range(copies):
        copy = re.sub(r"(<(?:gmd:)?fileIdentifier>\s*<gco:CharacterString>)([^<]+)", rf"\g<1>\g<2>-copy{n}", text, count=1)
        (target / f"{path.stem}-{n}.xml").write_text(copy)
PY
records=$(ls "$WORK/records" | wc -l)
export FATHOM_LOG=warn
"$BIN" --data-dir "$WORK/data" import --kind organisations bench/organisations.ndjson 2>/dev/null
for run in first again; do
    start=$(date +%s.%N)
    "$BIN" --data-dir "$WORK/data" import --format iso19139 --organisation cmre "$WORK/records" 2>&1 | tail -1
    seconds=$(echo "$(date +%s.%N) - $start" | bc)
    echo "ISO 19139 import ($run): $records records in $seconds s: $(echo "$records / $seconds" | bc) records/s"
done

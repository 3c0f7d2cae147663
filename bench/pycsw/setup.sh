#!/usr/bin/env bash
# Sets up pycsw 2.6 for the comparison benchmark; each step is skipped when its result exists.
#   1. a venv in /tmp/pycsw/venv with requirements.txt
#   2. N templated ISO 19139 records in /tmp/pycsw/records (template.py)
#   3. the SQLite repository /tmp/pycsw/records.db, loaded with them (takes minutes: ~30 records/s),
#      and the loaded identifiers, shuffled, in bench/out/pycsw-ids.txt
#
# usage: bench/pycsw/setup.sh [N]     (default 10000; delete /tmp/pycsw/records* to start over)
set -euo pipefail
cd "$(dirname "$0")"
N="${1:-10000}"
W=/tmp/pycsw
OUT=../out
mkdir -p "$W" "$OUT"

if [ ! -x "$W/venv/bin/pycsw-admin.py" ]; then
    echo "== venv with pycsw 2.6"
    python3 -m venv "$W/venv"
    nice -n 19 "$W/venv/bin/pip" install -q -r requirements.txt
fi

if [ ! -d "$W/records" ]; then
    echo "== templating $N records"
    nice -n 19 "$W/venv/bin/python" template.py "$N" "$W/records.tmp"
    mv "$W/records.tmp" "$W/records"
fi

if [ ! -e "$W/records.db" ]; then
    echo "== setup_db and load_records (slow)"
    rm -f "$W/records.db.tmp"
    sed "s#$W/records.db#$W/records.db.tmp#" pycsw.cfg > "$W/load.cfg"  # load aside, then rename
    "$W/venv/bin/pycsw-admin.py" -c setup_db -f "$W/load.cfg" >/dev/null
    start=$(date +%s)
    PYTHONWARNINGS=ignore::FutureWarning nice -n 19 \
        "$W/venv/bin/pycsw-admin.py" -c load_records -f "$W/load.cfg" -p "$W/records" -l ERROR
    mv "$W/records.db.tmp" "$W/records.db"
    echo "load_records: $(( $(date +%s) - start )) s for $(ls "$W/records" | wc -l) files" > "$OUT/pycsw-load.txt"
fi

"$W/venv/bin/python" - "$W/records.db" > "$OUT/pycsw-ids.txt" <<'EOF'
import random, sqlite3, sys
ids = [r[0] for r in sqlite3.connect(sys.argv[1]).execute("select identifier from records order by identifier")]
random.Random(42).shuffle(ids)
print("\n".join(ids))
EOF
echo "records in the repository: $(wc -l < "$OUT/pycsw-ids.txt") ($(cat "$OUT/pycsw-load.txt"))"

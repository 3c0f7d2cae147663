#!/usr/bin/env bash
# Serves pycsw 2.6 (bench/pycsw/pycsw.cfg, the repository made by setup.sh) with gunicorn on
# 127.0.0.1:8000, 2 sync worker processes (WORKERS overrides), in the foreground; stop it with kill PID.
#
# usage: bench/pycsw/serve.sh
set -euo pipefail
cd "$(dirname "$0")"
export PYCSW_CONFIG="$PWD/pycsw.cfg" PYTHONWARNINGS=ignore::FutureWarning
# pycsw.wsgi prints every request path to stdout: drop it
exec /tmp/pycsw/venv/bin/gunicorn --workers "${WORKERS:-2}" --bind 127.0.0.1:8000 \
    --error-logfile /tmp/pycsw/gunicorn.log pycsw.wsgi:application > /dev/null

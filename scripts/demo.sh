#!/usr/bin/env bash
# Serve the demo: the site on 127.0.0.1:$PORT (8000 unless given), a Celery worker and beat,
# stopped together. SITE_URL, which the links in notification mail use, follows the port.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8000}"
case "$PORT" in (*[!0-9]*|'') echo "PORT must be a number, not '$PORT'" >&2; exit 2;; esac
export SITE_URL="${SITE_URL:-http://127.0.0.1:$PORT}"
mkdir -p var
trap 'kill 0' EXIT INT TERM
.venv/bin/celery -A kla worker --loglevel=INFO --concurrency=2 &
# One beat only: a second one stands by on the beat lock (kla/beat.py, docs/scale-out.md).
.venv/bin/celery -A kla beat --loglevel=INFO --schedule=var/celerybeat-schedule &
echo "KLA Kota Metro: http://127.0.0.1:$PORT  (Ctrl-C stops the site, worker and beat)"
.venv/bin/python manage.py runserver "127.0.0.1:$PORT" --noreload

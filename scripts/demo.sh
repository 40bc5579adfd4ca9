#!/usr/bin/env bash
# Serve the demo: the site on 127.0.0.1:8000, a Celery worker and beat, stopped together.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
trap 'kill 0' EXIT INT TERM
.venv/bin/celery -A kla worker --loglevel=INFO --concurrency=2 &
.venv/bin/celery -A kla beat --loglevel=INFO --schedule=var/celerybeat-schedule &
echo "KLA Kota Metro: http://127.0.0.1:8000  (Ctrl-C stops the site, worker and beat)"
.venv/bin/python manage.py runserver 127.0.0.1:8000 --noreload

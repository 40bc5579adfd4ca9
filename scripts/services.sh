#!/usr/bin/env bash
# Make sure PostgreSQL, Redis and Chromium are there and running for the test suite.
# Installs with apt-get when missing and we are root (as in CI); starts what is down.
# --without-browser (make bench): PostgreSQL and Redis only, Chromium neither checked nor installed.
set -euo pipefail

browser=1
if [ "${1:-}" = "--without-browser" ]; then
  browser=""
fi

as_root() { [ "$(id -u)" = 0 ]; }
apt_updated=""
apt_install() {
  if ! as_root; then
    echo "services: $* missing and not root: install it and rerun" >&2
    return 1
  fi
  if [ -z "$apt_updated" ]; then
    apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# PostgreSQL
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  apt_install postgresql postgresql-client
fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
# A fresh install asks for a password on TCP: give the postgres role the one we use.
if ! PGPASSWORD=postgres psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
  if as_root; then
    su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
  fi
fi

# Redis
if ! command -v redis-server >/dev/null 2>&1; then
  apt_install redis-server
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done
fi

# Chromium for the browser journeys
if [ -z "$browser" ]; then
  echo "services: PostgreSQL and Redis ready"
  exit 0
fi
if [ ! -x /usr/bin/chromium ]; then
  apt_install chromium
fi
# PgBouncer for the pooler test (tests/kla/test_pooler.py starts its own on a free port and
# skips when it is absent); nothing runs here.
if ! command -v pgbouncer >/dev/null 2>&1 && [ ! -x /usr/sbin/pgbouncer ]; then
  apt_install pgbouncer || echo "services: pgbouncer not installed: the pooler test is skipped" >&2
fi
echo "services: PostgreSQL, Redis and Chromium ready"

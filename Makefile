# Two commands do all the set-up: `make demo` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEMO_PASSWORD ?= metro2026
# make demo PORT=8001 serves on another port; the links in mail follow it (SITE_URL).
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres:postgres@127.0.0.1:5432/postgres
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
PYTEST_ARGS ?=
# Every target here is the demo's or a developer's: plain http, the demo's own secret key
# (kla/settings.py). A deployment sets SECRET_KEY and leaves KLA_DEMO unset.
export KLA_DEMO := 1

.PHONY: demo test test-fast check install install-dev lint typecheck imports migrations-check lock vendor bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.base: requirements/base.lock | $(VENV)/bin/python
	$(PY) -m pip install -q --require-hashes --no-deps -r requirements/base.lock
	touch $@

$(VENV)/.dev: requirements/dev.lock | $(VENV)/bin/python
	$(PY) -m pip install -q --require-hashes --no-deps -r requirements/dev.lock
	touch $@ $(VENV)/.base

install: $(VENV)/.base
install-dev: $(VENV)/.dev

demo: export SITE_URL ?= http://127.0.0.1:$(PORT)
demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_metro --demo-users --password '$(DEMO_PASSWORD)'
	$(PY) manage.py trail_keygen
	$(PY) manage.py collectstatic --noinput -v0
	@echo "Demo accounts: admin, verifikator, verifikator2, bapperida, inspektorat, op-<kode> (password: $(DEMO_PASSWORD))"
	PORT='$(PORT)' scripts/demo.sh

# The whole suite on PostgreSQL and Redis, browser journeys included.
test: install-dev
	scripts/services.sh
	DATABASE_URL='$(TEST_DATABASE_URL)' REDIS_URL='$(TEST_REDIS_URL)' \
	  DJANGO_ALLOW_ASYNC_UNSAFE=true scripts/pytest.sh $(PYTEST_ARGS)

# The suite on the embedded SQLite default that make demo uses, with no server at all: the
# tests that need PostgreSQL and Redis (marked postgres) or a browser are left out.
test-fast: install-dev
	env -u DATABASE_URL -u REDIS_URL DJANGO_ALLOW_ASYNC_UNSAFE=true \
	  scripts/pytest.sh -m "not postgres and not browser" $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install-dev
	$(VENV)/bin/mypy kla roles workflows tests bench

# The layers of docs/architecture.md and no circles (pyproject.toml, [tool.importlinter]).
imports: install-dev
	$(VENV)/bin/lint-imports

migrations-check: install-dev
	$(PY) manage.py makemigrations --check --dry-run

# Everything CI checks before the tests: style, types, the import contract, migrations.
check: lint typecheck imports migrations-check

# Regenerate the lock files after changing pyproject.toml.
lock: install-dev
	$(VENV)/bin/pip install -q uv
	$(VENV)/bin/uv pip compile pyproject.toml --python-version 3.11 --generate-hashes -q -o requirements/base.lock
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -q -o requirements/dev.lock
	$(VENV)/bin/uv pip compile pyproject.toml --extra bench --python-version 3.11 --generate-hashes -q -o requirements/bench.lock

# Re-vendor the front-end assets after changing package.json: npm installs what
# package-lock.json pins, and scripts/vendor_assets.py copies it into kla/static/vendor.
vendor:
	npm install --package-lock-only --ignore-scripts --no-audit --no-fund
	npm ci --ignore-scripts --no-audit --no-fund
	$(PYTHON) scripts/vendor_assets.py

# The benches need the base and the bench extra (requirements/bench.lock): no test tools, no
# browser. Each makes its own scratch databases (BENCH_DATABASE_PREFIX) and drops only those.
$(VENV)/.bench: requirements/bench.lock | $(VENV)/bin/python
	$(PY) -m pip install -q --require-hashes --no-deps -r requirements/bench.lock
	touch $@ $(VENV)/.base

# make bench BENCH=pages runs one bench (python -m bench NAME).
BENCH ?=
bench: $(VENV)/.bench
	scripts/services.sh --without-browser
	DATABASE_URL='$(TEST_DATABASE_URL)' REDIS_URL='$(TEST_REDIS_URL)' $(PY) -m bench $(BENCH)

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache

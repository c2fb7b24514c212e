# Two commands matter: `make run` (set up, seed demo data, serve) and `make test` (set up, test).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
# Three database roles, each process holding only its own credentials (docs/security.md):
# the owner migrates, the worker role seeds and runs Celery, the runtime role serves requests.
export DATABASE_URL ?= postgres://dsr_app:dsr_app@127.0.0.1:5432/dsr
export DATABASE_OWNER_URL ?= $(shell echo '$(DATABASE_URL)' | sed -E 's#//[^@]*@#//dsr_owner:dsr_owner@#')
export DATABASE_WORKER_URL ?= $(shell echo '$(DATABASE_URL)' | sed -E 's#//[^@]*@#//dsr_worker:dsr_worker@#')
AS_OWNER := env -u DATABASE_WORKER_URL DATABASE_URL='$(DATABASE_OWNER_URL)'
AS_WORKER := env -u DATABASE_OWNER_URL DATABASE_URL='$(DATABASE_WORKER_URL)'

.PHONY: help setup services venv assets static browser migrate run dev test lint format bench bench-against clean backup restore

help:
	@echo "make run    set everything up, seed demo data, serve it as users see it (DEBUG off)"
	@echo "make dev    the same with Django's development server: DEBUG on, auto-reload"
	@echo "make test   set everything up, lint, and run the whole test suite"
	@echo "make lint   ruff check and format check, migrations check, deploy check"
	@echo "make format ruff fix and format"
	@echo "make bench  benchmarks at 100x Scotland's volume (separate database)"
	@echo "make bench-against [REV=e50741e]  that build and this one, one after the other"
	@echo "make backup / make restore FILE=... [DATABASE=...]  pg_dump and pg_restore"

services:
	@bash scripts/services.sh

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -e '.[dev]'
	@touch $@

venv: $(VENV)/.installed

assets:
	@bash scripts/assets.sh

browser:
	@bash scripts/browser.sh

migrate: services venv
	@bash scripts/services.sh --require-database
	@$(AS_OWNER) $(PY) manage.py migrate --noinput -v0

static: venv assets
	@$(PY) manage.py collectstatic --noinput -v0

setup: services venv assets migrate static

# make run serves the service as its users will see it: DEBUG off (the service's own error pages),
# static files collected and served by whitenoise, gunicorn. make dev is for working on the code.
run: setup
	@$(AS_WORKER) $(PY) manage.py seed_demo --quiet
	@HOST=$(HOST) PORT=$(PORT) bash scripts/run.sh serve

dev: setup
	@$(AS_WORKER) $(PY) manage.py seed_demo --quiet
	@HOST=$(HOST) PORT=$(PORT) bash scripts/run.sh dev

# Lint first, then the whole suite. pytest's own exit code is kept (5: no tests were collected,
# which fails like any other error; .ci/run reports it). The suite makes its own database
# (test_<name>) as the owner role; it does not migrate yours.
test: services venv assets static browser lint
	@$(VENV)/bin/pytest -q

lint: venv
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(PY) manage.py makemigrations --check --dry-run -v0
	@DSR_ENV=production DJANGO_SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') \
		DJANGO_ALLOWED_HOSTS=dsr.example.scot $(PY) manage.py check --deploy --fail-level WARNING

# Benchmarks on a separate database seeded once at 100x (bench/README.md); knobs:
# BENCH_QUICK=1, BENCH_REQUESTS, BENCH_LOAD=0, BENCH_LOAD_SECONDS, BENCH_RESEED=1, ...
bench: setup
	@bash bench/run.sh

# The reference build (REV, default e50741e) and this checkout benchmarked one after the other on
# this machine; writes bench/COMPARISON.md (bench/README.md, "Against the reference build").
bench-against: setup
	@REV=$(or $(REV),e50741e) bash bench/against.sh

# Back up the database (pg_dump, custom format) to var/backups/, or restore FILE into a new
# database (DATABASE, default <name>_restored); docs/operations.md, "Back up and restore".
backup: services
	@bash scripts/backup.sh backup $(FILE)

restore: services
	@bash scripts/backup.sh restore $(FILE) $(DATABASE)

format: venv
	@$(VENV)/bin/ruff check --fix .
	@$(VENV)/bin/ruff format .

clean:
	rm -rf staticfiles var test-artifacts

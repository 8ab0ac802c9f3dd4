# Redress: the make targets are the interface (README names them; CI calls `make test`).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# PostgreSQL for the second test pass; CI must have it, a laptop may not.
# A database name of its own per run, so runs at the same time never share test databases.
ifndef TEST_POSTGRES_URL
TEST_POSTGRES_URL := postgres://postgres@127.0.0.1:5432/redress_$(shell date +%s%N)
endif
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
XDIST ?= -n 2
# Browser tests drive Debian's Chromium: Playwright cannot download its own browser here.
CHROMIUM := /usr/bin/chromium
# Letters (WeasyPrint): Pango and HarfBuzz's fast font subsetter; fallback fonts for
# names beyond Open Sans (which ships in claims/delivery/letter_assets): DejaVu for Arabic,
# Hebrew and more, Droid Sans Fallback for Chinese, Japanese and Korean.
LETTER_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-droid-fallback

.PHONY: help install run run-prod test test-sqlite test-postgres chromium letter-packages sample-letter lint format bench clean

help:
	@echo "make run    install, migrate, load the demo scheme, start web + Celery worker + beat"
	@echo "make run-prod  the production topology on this machine: gunicorn, a worker per queue,"
	@echo "               beat, on the local PostgreSQL and Redis (docs/deployment.md)"
	@echo "make test   install test tools and run the whole suite (SQLite, then PostgreSQL)"
	@echo "make lint   ruff, mypy and the layer contracts (import-linter)"
	@echo "make bench  run the benchmarks in bench/"
	@echo "make sample-letter  remake the sample settlement letter and its PNGs in docs/"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --editable . 2>&1 | grep -v "is ignored" || true
	$(BIN)/python -c "import django, celery, honcho"
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --editable ".[test]" 2>&1 | grep -v "is ignored" || true
	$(BIN)/python -c "import django, celery, pytest, xdist, factory, playwright, axe_playwright_python"
	touch $@ $(VENV)/.installed-run

install: $(VENV)/.installed-run

run: $(VENV)/.installed-run letter-packages
	DEBUG=true $(BIN)/python manage.py migrate --noinput
	DEBUG=true $(BIN)/python manage.py load_demo
	DEBUG=true PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho --procfile Procfile start

# The production topology on one machine (docs/deployment.md), against the PostgreSQL and
# Redis already running here: its own database (created if missing) and Redis database,
# its own keys under var/prod, JSON logs. Plain HTTP on loopback, so no HTTPS redirect and
# no Secure cookies; a real deployment sits behind HTTPS and leaves both on.
PROD_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/redress_prod
PROD_REDIS_URL ?= redis://127.0.0.1:6379/14
PROD_VAR_DIR ?= $(CURDIR)/var/prod
PROD_PORT ?= 8000
PROD_ENV = DEBUG=false DATABASE_URL=$(PROD_DATABASE_URL) REDIS_URL=$(PROD_REDIS_URL) \
  CELERY_BROKER_URL=$(PROD_REDIS_URL) REDRESS_VAR_DIR=$(PROD_VAR_DIR) \
  SECRET_KEY="$$(cat $(PROD_VAR_DIR)/secret_key)" \
  BANK_DETAILS_KEYS="$$(cat $(PROD_VAR_DIR)/bank_details_key)" \
  ALLOWED_HOSTS=127.0.0.1,localhost SITE_URL=http://127.0.0.1:$(PROD_PORT) PORT=$(PROD_PORT) \
  SESSION_COOKIE_SECURE=false CSRF_COOKIE_SECURE=false SECURE_SSL_REDIRECT=false \
  STATIC_MANIFEST=true LOG_FORMAT=json \
  WEB_CONCURRENCY=$${WEB_CONCURRENCY:-3} PATH="$(CURDIR)/$(BIN):$$PATH"

run-prod: $(VENV)/.installed-run letter-packages
	@mkdir -p $(PROD_VAR_DIR) && chmod 700 $(PROD_VAR_DIR)
	@test -s $(PROD_VAR_DIR)/secret_key || (umask 077 && $(BIN)/python -c \
	  "import secrets; print(secrets.token_urlsafe(50))" > $(PROD_VAR_DIR)/secret_key)
	@test -s $(PROD_VAR_DIR)/bank_details_key || (umask 077 && $(BIN)/python -c \
	  "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())" \
	  > $(PROD_VAR_DIR)/bank_details_key)
	$(BIN)/python -m config.create_database $(PROD_DATABASE_URL)
	$(PROD_ENV) $(BIN)/python manage.py migrate --noinput
	$(PROD_ENV) $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(PROD_ENV) $(BIN)/python manage.py load_demo --allow-without-debug
	$(PROD_ENV) $(BIN)/honcho --procfile Procfile.prod start

test: $(VENV)/.installed-test
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

# Root (CI, a fresh machine) installs Debian's chromium; anyone else is told how, and the
# browser tests skip locally (in CI a skip is a failure, see tests/conftest.py).
chromium:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "== Installing Debian's chromium for the browser tests"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get -o DPkg::Lock::Timeout=300 update -qq; \
	  apt-get -o DPkg::Lock::Timeout=300 install -y -qq chromium >/dev/null; \
	  $(CHROMIUM) --version; \
	elif [ "$${CI:-}" = "true" ]; then \
	  echo "CI must run the browser tests, but $(CHROMIUM) is missing and only root can install it." >&2; exit 1; \
	else \
	  echo "== NOTE: no $(CHROMIUM), so the browser tests (tests/browser) will be skipped."; \
	  echo "   Install it with: sudo apt-get install chromium"; \
	fi

test-sqlite: $(VENV)/.installed-test chromium letter-packages
	@echo "== Test suite on SQLite (tests marked postgres run in the PostgreSQL pass)"
	env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL $(BIN)/pytest $(XDIST) -m "not postgres" $(PYTEST_ARGS)

test-postgres: $(VENV)/.installed-test chromium letter-packages
	@if $(BIN)/python -c "import psycopg, sys; psycopg.connect('$(TEST_POSTGRES_URL)'.rsplit('/', 1)[0] + '/postgres', connect_timeout=3).close()" 2>/dev/null; then \
	  echo "== Test suite on PostgreSQL ($(TEST_POSTGRES_URL)) with Redis cache ($(TEST_REDIS_URL))"; \
	  DATABASE_URL=$(TEST_POSTGRES_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest $(XDIST) $(PYTEST_ARGS); \
	elif [ "$${CI:-}" = "true" ]; then \
	  echo "PostgreSQL is not reachable at $(TEST_POSTGRES_URL), and CI must run the PostgreSQL pass." >&2; exit 1; \
	else \
	  echo "== SKIPPED: the PostgreSQL pass (no server at $(TEST_POSTGRES_URL)); CI runs it."; \
	fi

# Root (CI, a fresh machine) installs what letters need from Debian; anyone else is told.
letter-packages:
	@missing=""; \
	if command -v dpkg-query >/dev/null; then \
	  for package in $(LETTER_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "ok installed" || missing="$$missing $$package"; \
	  done; \
	fi; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "== Installing for letters:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get -o DPkg::Lock::Timeout=300 update -qq; \
	  apt-get -o DPkg::Lock::Timeout=300 install -y -qq $$missing >/dev/null; \
	else \
	  echo "Letters need these Debian packages:$$missing" >&2; \
	  echo "Install them with: sudo apt-get install$$missing" >&2; exit 1; \
	fi

# The sample settlement letter and its page images in docs/ (docs/letters.md shows them).
sample-letter: $(VENV)/.installed-run letter-packages
	@command -v pdftoppm >/dev/null || { [ "$$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null; } || { echo "Install poppler-utils for pdftoppm" >&2; exit 1; }
	$(BIN)/python docs/sample_letter.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	SECRET_KEY=lint $(BIN)/mypy claims config
	$(BIN)/lint-imports

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.installed-test
	@for script in bench/*.py; do grep -q '__main__' $$script || continue; echo "== $$script"; $(BIN)/python $$script; done

clean:
	rm -rf $(VENV) var

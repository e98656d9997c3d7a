# troubleflow — every target is one line; `make help` lists them.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: help install run test test-sqlite test-postgres lint fmt clean bench bench-quick bench-tools

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	rm -rf $(VENV) && $(PYTHON) -m venv $(VENV) && $(BIN)/pip install -q -U pip && $(BIN)/pip install -q -e '.[dev]' && touch $@

install: $(STAMP) ## create .venv and install troubleflow with its dev tools

run: $(STAMP) ## migrate the SQLite database and start API + worker on http://127.0.0.1:8621
	$(BIN)/troubleflow serve

test: test-sqlite test-postgres ## the whole suite on SQLite, then again on PostgreSQL

test-sqlite: $(STAMP) ## the suite on SQLite only
	$(BIN)/pytest -q -p no:cacheprovider --cov=troubleflow --cov-report=term:skip-covered

test-postgres: $(STAMP) ## the suite on PostgreSQL ($(PG_URL)); skipped with a reason when unreachable outside CI
	$(BIN)/python tests/pg_available.py "$(PG_URL)" && TROUBLEFLOW_TEST_DATABASE_URL="$(PG_URL)" $(BIN)/pytest -q -p no:cacheprovider || test $$? -eq 75

bench-tools: ## install the wrk load generator from Debian when missing (bench/run.py falls back to Python)
	command -v wrk >/dev/null || (command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk) || echo "wrk unavailable: using the Python load generator"

bench: $(STAMP) bench-tools ## full benchmarks: 10k and 1M tickets, SQLite and PostgreSQL, 3 runs (long)
	$(BIN)/python bench/run.py

bench-quick: $(STAMP) bench-tools ## one-minute benchmark smoke run (10k tickets, SQLite)
	$(BIN)/python bench/run.py --quick

lint: $(STAMP) ## ruff and mypy (strict)
	$(BIN)/ruff check src tests bench && $(BIN)/mypy

fmt: $(STAMP) ## format the code
	$(BIN)/ruff format src tests && $(BIN)/ruff check --fix src tests

clean: ## remove the virtualenv and local databases
	rm -rf $(VENV) troubleflow.db troubleflow.db-wal troubleflow.db-shm troubleflow.db-writer.lock

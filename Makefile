# Two commands set everything up on a fresh machine:
#   make run    create .venv, install, load demo data into the embedded SQLite store, serve on :8000
#   make test   the whole suite (starts PostgreSQL if it is down, installs the browser if missing)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000
# Python code the linters and the formatter look at (hotline/ only holds symlinks to the rooms).
CODE   := domain application projections intake web infra entrypoints hotline tests bench scripts

.PHONY: install run test test-fast check lint format typecheck imports services system-deps screenshots bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	@# No HOTLINE_CIPHER_KEY: a local key file encrypts the events (kept if it exists; back it up).
	@test -n "$$HOTLINE_CIPHER_KEY" || $(BIN)/hotline keys generate --if-missing \
		--out "$${HOTLINE_CIPHER_KEY_FILE:-$${HOTLINE_DATA_DIR:-var}/cipher.key}"
	$(BIN)/hotline demo
	$(BIN)/hotline serve --demo --host $(HOST) --port $(PORT)

services:
	scripts/ensure-services

system-deps:
	scripts/ensure-system-deps

# The habits: lint, format, types, and the import contracts (docs/architecture.md).
lint: install
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)

format: install
	$(BIN)/ruff format $(CODE)
	$(BIN)/ruff check --fix $(CODE)

typecheck: install
	$(BIN)/mypy

imports: install
	$(BIN)/lint-imports

check: lint typecheck imports

test: install services system-deps check
	$(PY) -m pytest

screenshots: install system-deps
	$(PY) scripts/screenshots.py

bench: install services
	@# Minutes: generates (once) and keeps the 1M-event data set in PostgreSQL; see bench/README.md.
	$(PY) -m bench all

test-fast: install
	$(PY) -m pytest tests/memory features

clean:
	rm -rf $(VENV) var/*.sqlite3* .pytest_cache .mypy_cache .ruff_cache build dist

# ckad-tutor: `make run` serves the app, `make test` runs every check, `make bench` measures.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
export CKAD_DATABASE_URL ?= sqlite:///$(CURDIR)/instance/ckad.db

.PHONY: run serve install install-dev test lint format openapi bench soak clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the dependency list changed (a second `make run` starts in seconds).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	@mkdir -p instance
	$(BIN)/flask db upgrade
	$(BIN)/flask content load
	@echo
	@echo "ckad-tutor is starting on http://$(HOST):$(PORT)  (API docs: http://$(HOST):$(PORT)/docs)"
	@echo "Next: create an account, then read a chapter:"
	@echo "  curl -s -X POST http://$(HOST):$(PORT)/api/v1/auth/register -H 'Content-Type: application/json' \\"
	@echo "       -d '{\"username\": \"ada\", \"password\": \"choose-a-long-one\"}'"
	@echo "  curl -s http://$(HOST):$(PORT)/api/v1/chapters -H 'Authorization: Bearer <access_token>'"
	@echo
	exec $(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) --access-logfile - app:app

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	$(BIN)/flask content check > /dev/null
	$(BIN)/python -m pytest

# Regenerate the committed contract from the code's schemas.
openapi: install-dev
	CKAD_DATABASE_URL=sqlite:// $(BIN)/flask openapi write --format=yaml openapi.yaml

bench: install-dev
	$(BIN)/python -m bench

# Ten minutes of mixed traffic, then every review checked in the database (see bench/soak.py).
soak: install-dev
	$(BIN)/python -m bench.soak

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .hypothesis

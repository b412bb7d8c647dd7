# ketaclinic: `make run` to try it, `make test` to check it. See README.md.
SHELL := /bin/bash
UV_VERSION := 0.13.8
TOOLS := .venv-tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
# `make run` and friends are development: they choose the dev settings (manage.py defaults to production).
DEV_SETTINGS := DJANGO_SETTINGS_MODULE=config.settings.dev
MANAGE := $(DEV_SETTINGS) $(PY) manage.py
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
HOST ?= 127.0.0.1
PORT ?= 8000
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install run serve test test-pg test-browser lint typecheck bench ci totp clean

$(UV):
	@python=$$(scripts/find-python) && "$$python" -m venv $(TOOLS) && $(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python "$$(scripts/find-python)"
	@touch $@

# uPlot and any other browser library come from npm; `npm ci` installs exactly what package-lock.json says.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: $(VENV)/.installed node_modules/.package-lock.json

run: install
	@mkdir -p var
	$(MANAGE) migrate --noinput
	$(MANAGE) load_demo
	$(MANAGE) collectstatic --noinput --verbosity 0
	@echo "Serving ketaclinic at http://$(HOST):$(PORT)/ (web, task worker, reminders every 5 min, a bedside-monitor simulator on the demo infusion). Ctrl-C stops all."
	@trap 'kill 0' EXIT INT TERM; \
	  $(MANAGE) db_worker --interval 1 & \
	  $(MANAGE) simulate_monitor --visit demo --interval 3 >/dev/null & \
	  while true; do $(MANAGE) send_due_reminders >/dev/null; sleep 300; done & \
	  $(DEV_SETTINGS) $(VENV)/bin/granian --interface asginl --host $(HOST) --port $(PORT) --workers 1 config.asgi:application

test: install
	$(VENV)/bin/pytest -q

test-pg: install
	DATABASE_URL=$(PG_URL) $(VENV)/bin/pytest -q

test-browser: install
	$(VENV)/bin/pytest -q -m browser tests/browser

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: install
	$(VENV)/bin/mypy pharmacokinetics ketaclinic config

# Benchmarks print ratios measured in one run (bench/README.md); BENCH=name runs one.
bench: install
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) -m bench $(BENCH)

ci: lint typecheck test test-pg test-browser

totp: install
	@$(MANAGE) demo_totp $(WHO)

clean:
	rm -rf $(VENV) $(TOOLS) var

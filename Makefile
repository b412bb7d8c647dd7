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
HL7_PORT ?= 2575
# Test processes per suite (pytest-xdist); `auto` is one per core. WORKERS=0 runs in one process.
WORKERS ?= auto
# The browser suite: each worker starts its own server on its own database; a file's tests stay on one worker
# (they follow one another through the demo's records).
BROWSER_WORKERS ?= 2
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Start-up is mostly compiling imports: the packages are compiled once at install (uv's --compile-bytecode) and
# our own modules on first import, kept in __pycache__ even where the environment says not to write bytecode
# (a machine with PYTHONDONTWRITEBYTECODE set compiled every import of every process: ~3.9 s CPU for one
# `manage.py check` against ~1.9 s with the bytecode kept; bench/README.md, bench_startup).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: install run serve test test-pg test-browser lint typecheck bench ci totp clean

$(UV):
	@python=$$(scripts/find-python) && "$$python" -m venv $(TOOLS) && $(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --compile-bytecode --python "$$(scripts/find-python)"
	@# The ICD-10-CM list read once from its package (seconds) into the environment, for every process after.
	$(PY) -m ketaclinic.screening.catalogues
	@touch $@

# uPlot and any other browser library come from npm; `npm ci` installs exactly what package-lock.json says.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: $(VENV)/.installed node_modules/.package-lock.json

# Ctrl-C reaches every process of the group; the background ones ignore it (a shell's background jobs do), so
# the trap stops them, after clearing itself (the `kill 0` it used signalled its own shell again, re-entering
# the trap until bash crashed). Links in e-mails (sent by the task worker) follow HOST and PORT.
# Start-up (bench/README.md, bench_startup): migrate and the demo in one process (`load_demo --migrate`: a
# Django start-up less); collectstatic beside it (it needs no database), running the system checks, once;
# the commands on the critical path skip them (`--skip-checks`: each check run imports every URL and view).
# The server starts next, and the helpers once it has answered an HTTP request (not merely accepted a
# connection: the application loads on the first request, and five helpers' own start-up, a Django process
# each, would compete with it for the cores).
run: install
	@mkdir -p var
	@$(MANAGE) collectstatic --noinput --verbosity 0 & statics=$$!; \
	  trap 'kill $$statics 2>/dev/null' EXIT; \
	  $(MANAGE) load_demo --migrate --skip-checks && wait $$statics
	@echo "Serving ketaclinic at http://$(HOST):$(PORT)/ (web, task worker, reminders, chain checkpoints, lost tasks queued again and the rescan of held outside records every 5 min, the HL7 listener on $(HOST):$(HL7_PORT) and a bedside monitor sending ORU^R01 over MLLP for the demo infusion). Ctrl-C stops all."
	@export KETACLINIC_BASE_URL="http://$(HOST):$(PORT)"; \
	  trap 'trap - EXIT INT TERM; kill $$(jobs -p) 2>/dev/null; wait' EXIT INT TERM; \
	  $(DEV_SETTINGS) $(VENV)/bin/granian --interface asginl --host $(HOST) --port $(PORT) --workers 1 config.asgi:application & \
	  server=$$!; \
	  until (exec 3<>/dev/tcp/$(HOST)/$(PORT) && printf 'GET /accounts/login/ HTTP/1.0\r\nHost: $(HOST):$(PORT)\r\n\r\n' >&3 && read -r status <&3 && [[ $$status == HTTP/* ]]) 2>/dev/null; do \
	    kill -0 $$server 2>/dev/null || exit 1; sleep 0.2; done; \
	  $(MANAGE) db_worker --interval 1 --skip-checks & \
	  $(MANAGE) scan_documents --every 300 --skip-checks >/dev/null & \
	  $(MANAGE) hl7_listen --host $(HOST) --port $(HL7_PORT) --skip-checks & \
	  $(MANAGE) hl7_simulate_monitor --visit demo --interval 3 --host $(HOST) --port $(HL7_PORT) --skip-checks >/dev/null & \
	  (trap 'kill $$pause 2>/dev/null; exit 0' TERM; \
	   while true; do $(MANAGE) send_due_reminders --skip-checks >/dev/null; $(MANAGE) checkpoint_chains --skip-checks >/dev/null; $(MANAGE) hl7_send_outbound --skip-checks >/dev/null; $(MANAGE) requeue_lost_tasks --skip-checks >/dev/null; sleep 300 & pause=$$!; wait $$pause; done) & \
	  wait $$server

# pytest exits 5 when it collected no test: make fails on it like on any other non-zero status.
test: install
	$(VENV)/bin/pytest -q -n $(WORKERS)

# Each worker gets its own database: test_<name>_gw0, _gw1 ... (KETACLINIC_TEST_DB names the stem).
test-pg: install
	DATABASE_URL=$(PG_URL) $(VENV)/bin/pytest -q -n $(WORKERS)

test-browser: install
	$(VENV)/bin/pytest -q -m browser -n $(BROWSER_WORKERS) --dist loadfile tests/browser

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

# SQM — two commands on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PY ?= python3
UV := .tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin
VENDOR := src/sqm/web/static/vendor
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: demo test install assets browser lint typecheck unit bench clean

$(UV):
	$(PY) -m venv .tools
	.tools/bin/pip install --quiet uv

$(BIN)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --extra dev --python $(PY)
	touch $@

install: $(BIN)/.installed assets

# Front-end libraries come from the npm registry and are served by SQM itself (no CDN).
assets: $(VENDOR)/.installed
$(VENDOR)/.installed: assets/package.json assets/package-lock.json
	cd assets && npm ci --no-audit --no-fund --silent
	mkdir -p $(VENDOR)
	cp assets/node_modules/echarts/dist/echarts.min.js $(VENDOR)/
	cp assets/node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/
	touch $@

# Headless Chromium from Debian for the real-browser tests (with CJK fonts for screenshots).
browser:
	@command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi 'Noto Sans CJK' || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null)

demo: install
	$(BIN)/sqm demo --reset
	$(BIN)/sqm serve --host 127.0.0.1 --port 8000

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports

typecheck: $(BIN)/.installed
	$(BIN)/mypy

unit: install browser
	$(BIN)/pytest -n 2 --dist loadgroup -q

test: install browser lint typecheck unit

bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .tools var assets/node_modules $(VENDOR)

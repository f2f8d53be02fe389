# Two commands matter: `make demo` (install + serve with a simulated fleet) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ETSY_STATSD := bench/ingest/node_modules/statsd/stats.js

.PHONY: demo serve test lint typecheck unit install system-deps docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/opsradar demo

serve: $(STAMP)
	$(BIN)/opsradar serve

# Debian packages the tests drive for real: chromium (Playwright), victoria-metrics.
system-deps:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "install Debian's chromium (sudo apt-get install chromium)"; exit 1; fi; }

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) $(ETSY_STATSD)
	$(BIN)/pytest

# Etsy's statsd, the peer tests/ingest/test_statsd_vs_etsy.py checks against (pinned by the lock).
$(ETSY_STATSD): bench/ingest/package.json bench/ingest/package-lock.json
	npm ci --prefix bench/ingest --no-audit --no-fund
	touch $@

test: system-deps lint typecheck unit

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

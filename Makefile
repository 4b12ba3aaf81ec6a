# Two commands do everything on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: serve test test-fast index eval bench bench-scale browser clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# the CPU build of torch that lies on disk; a bare `torch` would pull a multi-GB CUDA build
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

browser:
	@test -x $(CHROMIUM) || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

serve: $(STAMP)
	$(VENV)/bin/tracuu serve --host $(HOST) --port $(PORT)

test: $(STAMP) browser
	$(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

index: $(STAMP)
	$(VENV)/bin/tracuu index corpus/

eval: $(STAMP)
	$(VENV)/bin/tracuu eval --report eval/reports/latest

bench: $(STAMP)
	$(VENV)/bin/tracuu eval --benchmark ../shared/benchmarks/alqac-legal --report eval/reports/alqac-legal

# builds archives of 10k, 100k and 1M passages (about 10 GB of RAM and disk while the 1M one is built)
bench-scale: $(STAMP)
	$(VENV)/bin/tracuu bench-scale --report eval/reports/bench-scale.json

clean:
	rm -rf $(VENV) .index test-artifacts .pytest_cache

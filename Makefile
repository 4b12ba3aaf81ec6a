# Two commands do everything on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
HOST ?= 127.0.0.1
PORT ?= 8000

# Debian tools the loaders call: OCR of scanned PDFs (Vietnamese model) and legacy Word .doc files
DOC_TOOLS := tesseract-ocr tesseract-ocr-vie catdoc antiword

.PHONY: serve test test-fast lint index eval bench bench-xquad bench-speed bench-scale bench-upload bench-ask parse-coverage model browser doctools clean

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

doctools:
	@missing=$$(for p in $(DOC_TOOLS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian's" $$missing "for scanned PDFs and .doc files"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing >/dev/null; fi

serve: $(STAMP) doctools
	$(VENV)/bin/tracuu serve --host $(HOST) --port $(PORT)

# ruff (pyflakes, bugbear, import order, pyupgrade) and mypy; settings in pyproject.toml. Runs before the tests.
lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy

test: $(STAMP) lint browser doctools
	$(PY) -m pytest -q

test-fast: $(STAMP) lint doctools
	$(PY) -m pytest -q -m "not slow"

index: $(STAMP) doctools
	$(VENV)/bin/tracuu index corpus/

eval: $(STAMP)
	$(VENV)/bin/tracuu eval --report eval/reports/latest

parse-coverage: $(STAMP)
	$(PY) -m eval.parse_coverage

bench: $(STAMP)
	$(VENV)/bin/tracuu eval --benchmark ../shared/benchmarks/alqac-legal --report eval/reports/alqac-legal

# Rebuilds indexer/models/ from ../shared/training (hours on two cores; resumes from its last checkpoint).
model: $(STAMP)
	$(PY) -m pip install -q -e '.[train]'
	$(PY) -m training

bench-speed: $(STAMP)
	$(PY) -m eval.speed

bench-xquad: $(STAMP)
	$(PY) -m eval.xquad
	$(VENV)/bin/tracuu eval --benchmark .cache/benchmarks/xquad-en-vi --report eval/reports/xquad-en-vi

# builds archives of 10k, 100k and 1M passages (about 10 GB of RAM and disk while the 1M one is built)
bench-scale: $(STAMP)
	$(VENV)/bin/tracuu bench-scale --report eval/reports/bench-scale.json

# a 300-file mixed upload (text, scanned PDFs, .doc, .docx, bad files) through a real `tracuu serve`; OCR makes it
# take 20-40 minutes on two busy cores. .doc files are made with LibreOffice when `soffice` works, else fixture copies.
bench-upload: $(STAMP) doctools
	$(PY) -m eval.upload_bench --report eval/reports/upload-bench.json

# ask and search latency through a warm `tracuu serve` on the seed corpus, side by side
bench-ask: $(STAMP)
	$(PY) -m eval.ask_latency

clean:
	rm -rf $(VENV) .index test-artifacts .pytest_cache .mypy_cache .ruff_cache

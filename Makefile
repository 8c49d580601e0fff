# One command each: `make run` (install, demo data, serve) and `make test` (install, every test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CHROMIUM := /usr/bin/chromium

.PHONY: run test install install-test browser lint constraints bench-checkin bench-pages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==26.3

install: $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'

# The browser tests drive Debian's Chromium (Playwright must not download one); the CJK
# fonts make Chinese readable in the screenshots.
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
		if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
			apt-get install -y -q chromium fonts-noto-cjk >/dev/null \
			|| { apt-get update -q >/dev/null && apt-get install -y -q chromium fonts-noto-cjk >/dev/null; }; \
		else \
			echo "Chromium missing: run 'sudo apt-get install chromium fonts-noto-cjk' (browser tests skip without it)"; \
		fi; \
	fi

run: install
	$(BIN)/gridpoints up

test: install-test browser
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports
	$(BIN)/pytest

lint: install-test
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports
	$(BIN)/ruff format --check src tests bench

constraints: install-test
	$(BIN)/pip freeze --exclude-editable > constraints.txt.new
	{ head -2 constraints.txt; cat constraints.txt.new; } > constraints.txt.tmp
	mv constraints.txt.tmp constraints.txt; rm constraints.txt.new

# Check-in load against `gridpoints serve` and a bare reference, on PostgreSQL (needs wrk).
bench-checkin: install-test
	$(BIN)/python bench/checkin_load.py

# Check-in page load on Slow 3G with a 6x slower CPU, in Debian's Chromium (see README).
bench-pages: install-test browser
	$(BIN)/python -m bench.page_load

# Two commands do everything on a fresh machine: `make book` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BUILD := _build
VENDOR := $(BUILD)/vendor
CHROMIUM := /usr/bin/chromium
BWRAP := /usr/bin/bwrap

.PHONY: help setup book serve test clean

help:
	@echo "make book   build the book (sets up .venv and the JavaScript first)"
	@echo "make test   the whole test suite (same set-up, plus headless Chromium)"
	@echo "make serve  serve the built book on http://127.0.0.1:8000"
	@echo "make clean  remove builds, caches and grading data (keeps .venv and node_modules)"

# Python: the pinned requirements, bplib installed from this folder (editable).
$(BIN)/.installed: requirements.txt constraints.txt bplib/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

# The book's JavaScript, from the lock file; the built book serves it itself.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

$(VENDOR)/.copied: node_modules/.installed
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/html-manager
	cp -r node_modules/mathjax/es5 $(VENDOR)/mathjax
	cp node_modules/requirejs/require.js $(VENDOR)/require.js
	cp node_modules/@jupyter-widgets/html-manager/dist/embed-amd.js \
	   node_modules/@jupyter-widgets/html-manager/dist/*.{woff2,woff,ttf,eot,svg} $(VENDOR)/html-manager/
	@touch $@

setup: $(BIN)/.installed $(VENDOR)/.copied

# jupyter-cache keys on the notebook alone, so a change to bplib must empty the cache.
book: setup
	@hash=$$(cat $$(find bplib -name "*.py" | sort) bplib/pyproject.toml | sha256sum | cut -c1-16); \
	if [ "$$(cat $(BUILD)/.bplib-hash 2>/dev/null)" != "$$hash" ]; then \
	  rm -rf $(BUILD)/.jupyter_cache $(BUILD)/jupyter_execute; echo "$$hash" > $(BUILD)/.bplib-hash; fi
	@# Sphinx neither re-copies nor overwrites static files when no page changed; the pages
	@# are rewritten from the caches in seconds, so the HTML always starts afresh.
	rm -rf $(BUILD)/html
	$(BIN)/jupyter-book build . -W --keep-going
	@echo "The book is in $(CURDIR)/$(BUILD)/html/index.html"

serve:
	@test -f $(BUILD)/html/index.html || { echo "no book yet: run 'make book' first"; exit 1; }
	$(BIN)/python -m http.server 8000 --bind 127.0.0.1 --directory $(BUILD)/html

# The browser tests drive Debian's Chromium (Playwright's own download cannot work here).
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# The grading sandbox runs each student kernel in bubblewrap (grading/sandbox.py).
$(BWRAP):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap

test: setup $(CHROMIUM) $(BWRAP)
	$(BIN)/python -m pytest tests

clean:
	rm -rf $(BUILD) autograded submitted feedback gradebook.db .pytest_cache

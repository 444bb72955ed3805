# Two commands do everything on a fresh machine: `make book` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

CHROMIUM := /usr/bin/chromium

.PHONY: help setup book wheel serve test clean public

include book.mk

help:
	@echo "make book   build the book (sets up .venv and the JavaScript first)"
	@echo "make test   the whole test suite (same set-up, plus headless Chromium)"
	@echo "make serve  serve the built book on http://127.0.0.1:8000"
	@echo "make public write _public/, the edition for students and readers (no answers)"
	@echo "make clean  remove builds, caches and grading data (keeps .venv and node_modules)"

# The browser tests drive Debian's Chromium (Playwright's own download cannot work here).
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

test: setup $(CHROMIUM)
	$(BIN)/python -m pytest tests

# The public edition: everything students and readers may see, and nothing else.
public: book
	$(BIN)/python tools/public.py

clean:
	rm -rf _public $(BUILD) autograded submitted feedback gradebook.db .pytest_cache

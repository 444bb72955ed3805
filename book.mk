# Building the book: shared by the course's Makefile and the public edition's (make public).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
BUILD := _build
VENDOR := $(BUILD)/vendor
# the packages to install: the course's, or the public edition's book requirements
REQUIREMENTS ?= requirements.txt
# where the built book serves bplib as a wheel, for students who work elsewhere
WHEELS ?= $(BUILD)/html/wheels

# Python: the pinned requirements, bplib installed from this folder (editable).
$(BIN)/.installed: $(REQUIREMENTS) constraints.txt bplib/pyproject.toml $(wildcard grading/pyproject.toml)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r $(REQUIREMENTS)
	@touch $@

# The book's JavaScript, from the lock file; the built book serves it itself.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

$(VENDOR)/.copied: node_modules/.installed
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)
	cp -r node_modules/mathjax/es5 $(VENDOR)/mathjax
	@touch $@

setup: $(BIN)/.installed $(VENDOR)/.copied

# jupyter-cache keys on the notebook alone, so a change to bplib must empty the cache.
book: setup
	@hash=$$(cat $$(find bplib -name "*.py" -o -name "*.npz" | sort) bplib/pyproject.toml | sha256sum | cut -c1-16); \
	if [ "$$(cat $(BUILD)/.bplib-hash 2>/dev/null)" != "$$hash" ]; then \
	  rm -rf $(BUILD)/.jupyter_cache $(BUILD)/jupyter_execute; echo "$$hash" > $(BUILD)/.bplib-hash; fi
	@# Sphinx neither re-copies nor overwrites static files when no page changed; the pages
	@# are rewritten from the caches in seconds, so the HTML always starts afresh.
	rm -rf $(BUILD)/html
	$(BIN)/jupyter-book build . -W --keep-going
	$(build-wheel)
	@echo "The book is in $(CURDIR)/$(BUILD)/html/index.html"

# bplib as a wheel inside the site (wheels/bplib-<version>-py3-none-any.whl): an assignment
# opened anywhere but the course's environment installs it from there.
define build-wheel
rm -rf $(WHEELS) && mkdir -p $(WHEELS)
$(BIN)/python -m pip wheel --quiet --disable-pip-version-check --no-deps \
  --no-build-isolation ./bplib -w $(WHEELS)
rm -rf bplib/build
endef

wheel:
	@test -x $(BIN)/python || { echo "no environment yet: run 'make setup' first"; exit 2; }
	$(build-wheel)

serve:
	@test -f $(BUILD)/html/index.html || { echo "no book yet: run 'make book' first"; exit 1; }
	$(BIN)/python -m http.server 8000 --bind 127.0.0.1 --directory $(BUILD)/html

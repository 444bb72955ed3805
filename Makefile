# Two commands do everything on a fresh machine: `make book` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

CHROMIUM := /usr/bin/chromium
NOTO_CJK := /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
BWRAP := /usr/bin/bwrap
INITDB := $(firstword $(wildcard /usr/lib/postgresql/*/bin/initdb) /usr/lib/postgresql/15/bin/initdb)

.PHONY: help setup book wheel serve test clean public bench bench-grading release collect grade feedback grades

include book.mk

help:
	@echo "make book   build the book (sets up .venv and the JavaScript first)"
	@echo "make test   the whole test suite (same set-up, plus headless Chromium)"
	@echo "make serve  serve the built book on http://127.0.0.1:8000"
	@echo "make bench  time chapter 5's network against numpy, PyTorch and scikit-learn"
	@echo "make bench-grading  autograding's cost per submission, sandbox on and off"
	@echo "make public write _public/, the edition for students and readers (no answers)"
	@echo "make clean  remove the builds and caches (never submissions, grades or the gradebook)"
	@echo
	@echo "Instructors (see the instructor guide; the gradebook is BPCOURSE_DB_URL or gradebook.db):"
	@echo "make release A=01-telephone          check the source and regenerate exercises/A"
	@echo "make collect A=01-telephone ZIP=f.zip  unpack an LMS zip into submitted/"
	@echo "make grade A=01-telephone [JOBS=n]   autograde submitted/*/A, then feedback and grades"
	@echo "make feedback A=01-telephone         feedback/ for every graded student"
	@echo "make grades                          grades.csv for all assignments"

# The browser tests drive Debian's Chromium (Playwright's own download cannot work here).
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# The glossary's Chinese terms need a CJK font in the browser tests (else: empty boxes).
$(NOTO_CJK):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk

# The gradebook tests start a throw-away PostgreSQL server (Debian's package).
$(INITDB):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql

# The grading sandbox runs each student kernel in bubblewrap (grading/sandbox.py).
$(BWRAP):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap

test: setup $(CHROMIUM) $(NOTO_CJK) $(BWRAP) $(INITDB)
	$(BIN)/python -m pytest tests

# The public edition: everything students and readers may see, and nothing else.
public: book
	$(BIN)/python tools/public.py

# Not part of `make test`: PyTorch goes into .venv for the benchmark alone. OPENBLAS_CORETYPE
# and OPENBLAS_L2_SIZE, where this machine sets them, slow a current numpy down, so they are
# unset for this one command (the tests keep them).
bench: setup
	$(BIN)/python -m pip install --quiet --disable-pip-version-check torch==2.13.0
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python bench/bench_network.py

# Not part of `make test` either: what autograding costs per honest submission, for every
# assignment, with the sandbox on and off side by side (run it as root for "on").
bench-grading: setup $(BWRAP)
	$(BIN)/python bench/bench_autograde.py

clean:
	rm -rf _public $(BUILD) .pytest_cache

# --- Instructors: thin wrappers over nbgrader with the course's config (nbgrader_config.py).
# They need the environment (make setup) but never reinstall it; nbgrader runs alembic by
# name, so the environment's bin comes first on PATH.
NBGRADER := PATH="$(abspath $(BIN)):$$PATH" $(BIN)/nbgrader
JOBS ?= 1
need-assignment = @test -n "$(A)" || { echo "name the assignment: make $@ A=01-telephone"; exit 2; }; \
	test -d "solutions/$(A)" || { echo "no assignment '$(A)': solutions/ holds $$(ls solutions | tr '\n' ' ')"; exit 2; }

release: | $(BIN)/.installed
	$(need-assignment)
	@# nbgrader without --force silently keeps an old release; with it, a broken source
	@# would be released: so the source must pass its own tests first.
	$(BIN)/python -c "import sys; from nbgrader.validator import Validator; import glob; \
	  bad = [nb for nb in glob.glob('solutions/$(A)/*.ipynb') if Validator().validate(nb)]; \
	  sys.exit('the source fails its own tests, nothing released: ' + ', '.join(bad) if bad else 0)"
	@# and the grader must be able to judge it: every test cell has a hidden check()
	$(BIN)/python -c "import glob, sys; from grading.judge import reference; \
	  [reference(nb) for nb in glob.glob('solutions/$(A)/*.ipynb')]" \
	  || { echo "the grader cannot judge solutions/$(A) (above): nothing released"; exit 1; }
	$(NBGRADER) generate_assignment $(A) --force
	@echo "released exercises/$(A): commit it with its source"

collect: | $(BIN)/.installed
	$(need-assignment)
	@test -f "$(ZIP)" || { echo "name the LMS's zip of submissions: make collect A=$(A) ZIP=path/to/file.zip"; exit 2; }
	rm -rf downloaded/$(A) && mkdir -p downloaded/$(A)/archive
	cp "$(ZIP)" downloaded/$(A)/archive/
	$(NBGRADER) zip_collect $(A) --force
	@found=$$(ls -d submitted/*/$(A) 2>/dev/null | cut -d/ -f2); \
	  test -n "$$found" || { echo "no file in $(ZIP) matched <student id>_<notebook>.ipynb (BPCOURSE_ZIP_REGEXP): nothing collected"; exit 1; }; \
	  echo "collected $(A) from: $$(echo $$found)"

grade: | $(BIN)/.installed
	$(need-assignment)
	@test -n "$$(ls -d submitted/*/$(A) 2>/dev/null)" || { echo "no submissions: expected submitted/<student>/$(A)/ (make collect, or copy them there)"; exit 2; }
	@# every student is graded, feedback and grades are written even when some submissions
	@# could not be graded; the exit status then still reports the failure
	$(BIN)/python -m grading.batch grade $(A) --jobs $(JOBS); status=$$?; \
	  $(MAKE) --no-print-directory feedback A=$(A) && $(MAKE) --no-print-directory grades && exit $$status

feedback: | $(BIN)/.installed
	$(need-assignment)
	$(NBGRADER) generate_feedback $(A) --force
	@echo "feedback is in feedback/<student>/$(A)/"

grades: | $(BIN)/.installed
	$(NBGRADER) export --to grades.csv
	@echo "grades of every assignment: grades.csv"

# Two commands do everything on a fresh machine: `make book` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

CHROMIUM := /usr/bin/chromium
NOTO_CJK := /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
BWRAP := /usr/bin/bwrap
INITDB := $(firstword $(wildcard /usr/lib/postgresql/*/bin/initdb) /usr/lib/postgresql/15/bin/initdb)

.PHONY: help setup book wheel serve test clean public publish bench bench-grading release collect grade feedback grades report withdraw \
	student-env lock exchange-release exchange-collect release-feedback

include book.mk

help:
	@echo "make book   build the book (sets up .venv and the JavaScript first)"
	@echo "make test   the whole test suite (same set-up, plus headless Chromium)"
	@echo "make serve  serve the built book on http://127.0.0.1:8000"
	@echo "make bench  time chapter 5's network against numpy, PyTorch and scikit-learn"
	@echo "make bench-grading  autograding's cost per submission, sandbox on and off"
	@echo "make public write _public/, the edition for students and readers (no answers),"
	@echo "            a git repository of its own; make publish pushes it (edition.yml)"
	@echo "make clean  remove the builds and caches (never submissions, grades, the gradebook"
	@echo "            or the history of _public/)"
	@echo
	@echo "Instructors (see the instructor guide; the gradebook is BPCOURSE_DB_URL or gradebook.db):"
	@echo "make release A=01-telephone          check the source and regenerate exercises/A"
	@echo "make collect A=01-telephone ZIP=f.zip  an LMS's zip into submitted/ (Canvas, Moodle, Blackboard)"
	@echo "make grade A=01-telephone [JOBS=n] [FORCE=1] [STUDENT=id] [SANDBOX=off]  autograde what changed, feedback, grades"
	@echo "make feedback A=01-telephone         feedback/ for every graded student"
	@echo "make grades                          grades.csv (with a status column), Moodle's worksheets"
	@echo "make grades A=01-telephone CANVAS=export.csv [COLUMN=\"01 Telephone (12345)\"]  fill Canvas's"
	@echo "            exported gradebook (or BLACKBOARD=<Grade Center download>)"
	@echo "make report A=01-telephone           item analysis: scores, pass rates, mistakes, times (HTML, CSV)"
	@echo "make withdraw S=jane_doe [A=01-telephone]  remove a student (withdrawn, or a mistaken collection) everywhere"
	@echo "make student-env DIR=/opt/backprop-student [PYTHON_FOR_STUDENTS=python3.11]  the students' own environment"
	@echo "make lock                            close the course folder (solutions, gradebook, work) to students"
	@echo "make exchange-release A=01-telephone  exercises/A into nbgrader's exchange (BPCOURSE_EXCHANGE)"
	@echo "make exchange-collect A=01-telephone  the exchange's submissions into submitted/"
	@echo "make release-feedback A=01-telephone  feedback/ into the exchange, for students to fetch"

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

# Two workers: the book's build with the tests that read it on one, the nbgrader, sandbox,
# gradebook and unit tests on the other (tests/conftest.py groups them by file).
test: setup $(CHROMIUM) $(NOTO_CJK) $(BWRAP) $(INITDB)
	$(BIN)/python -m pytest -n 2 --durations=20 tests

# The public edition: everything students and readers may see, and nothing else. _public/
# is a git repository of its own (tools/public.py refuses to write into the course's).
public: book
	$(BIN)/python tools/public.py

# Push _public/ to the public repository of edition.yml: refused without one, or when
# _public/ is not a committed repository of its own whose only remote is that one.
publish: | $(BIN)/.installed
	$(BIN)/python tools/public.py --publish

# Not part of `make test`: PyTorch goes into .venv for the benchmark alone (`make bench
# TORCH=no` skips it, and the bench then leaves PyTorch out). OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE, where this machine sets them, slow a current numpy down, so they are
# unset for this one command (the tests keep them).
bench: setup
	$(if $(filter no,$(TORCH)),,$(BIN)/python -m pip install --quiet --disable-pip-version-check torch==2.13.0)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python bench/bench_network.py

# Not part of `make test` either: what autograding costs per honest submission, for every
# assignment, with the sandbox on and off side by side (run it as root for "on").
bench-grading: setup $(BWRAP)
	$(BIN)/python bench/bench_autograde.py

clean:
	@# _public/ is the edition's own repository: its history stays, only its built site goes
	rm -rf _public/_build $(BUILD) .pytest_cache

# --- Instructors: each target is one line calling `python -m grading` (grading/cli.py,
# `python -m grading --help`), with the course's config (nbgrader_config.py). They need the
# environment (make setup) but never reinstall it; nbgrader runs alembic by name, so the
# environment's bin comes first on PATH.
GRADING := PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m grading
JOBS ?= 1
SANDBOX ?= on
FORCE ?=

release: | $(BIN)/.installed
	$(GRADING) release "$(A)"

collect: | $(BIN)/.installed
	$(GRADING) collect "$(A)" "$(ZIP)"

grade: | $(BIN)/.installed
	$(GRADING) grade "$(A)" --jobs "$(JOBS)" --sandbox "$(SANDBOX)" $(if $(FORCE),--force) $(if $(STUDENT),--student "$(STUDENT)")

feedback: | $(BIN)/.installed
	$(GRADING) feedback "$(A)" --jobs "$(JOBS)"

grades: | $(BIN)/.installed
	$(GRADING) grades $(if $(A),--assignment "$(A)") $(if $(CANVAS),--canvas "$(CANVAS)") $(if $(BLACKBOARD),--blackboard "$(BLACKBOARD)") $(if $(COLUMN),--column "$(COLUMN)")

report: | $(BIN)/.installed
	$(GRADING) report "$(A)"
withdraw: | $(BIN)/.installed
	$(GRADING) withdraw "$(S)" $(if $(A),--assignment "$(A)")

student-env: | $(BIN)/.installed
	$(GRADING) student-env "$(DIR)" $(if $(PYTHON_FOR_STUDENTS),--python "$(PYTHON_FOR_STUDENTS)")

lock: | $(BIN)/.installed
	$(GRADING) lock

exchange-release: | $(BIN)/.installed
	$(GRADING) exchange-release "$(A)" $(if $(FORCE),--force)

exchange-collect: | $(BIN)/.installed
	$(GRADING) exchange-collect "$(A)"

release-feedback: | $(BIN)/.installed
	$(GRADING) release-feedback "$(A)"

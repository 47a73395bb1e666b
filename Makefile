# Two commands for learners: `make lab` and `make test`.
# Everything is installed with pip into .venv; nothing else is needed but python3 and make.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
EXTRAS ?= lab,test,lint
# The tested version of every dependency (per Python version): what CI ran is what a learner gets.
CONSTRAINTS := constraints.txt
PIP_QUIET ?= --quiet
# JupyterLab refuses to run as root unless asked to (containers, CI machines).
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
PORT ?= 8888
NBVAL_FLAGS := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
# Notebooks run one per worker (--dist loadfile keeps every notebook's cells together).
XDIST_FLAGS := -n 2 --dist loadfile
# Two test workers already fill two cores: one BLAS thread each avoids oversubscription
# (and is how the committed notebook outputs are produced by `make execute-notebooks`).
ONE_THREAD := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

.PHONY: help venv lab test test-lib test-notebooks test-grade test-grade-answers sandbox lint exercises check-exercises execute-notebooks bench browser-test clean

help:
	@echo "make lab               install into $(VENV) (first time) and start JupyterLab at notebooks/01"
	@echo "make test              install into $(VENV) if needed and run the whole test suite"
	@echo "make test-lib          only the pytest suite in tests/"
	@echo "make test-notebooks    only nbval on notebooks/ and solutions/"
	@echo "make test-grade        only the grader's tests (a class with hostile submissions)"
	@echo "make test-grade-answers every answer of tests/answers/ graded in the sandbox, as in the notebook (slow)"
	@echo "make sandbox           install bubblewrap for the grader's sandbox (apt-get, as root) and check it works"
	@echo "make lint              ruff and mypy (configured in pyproject.toml)"
	@echo "make exercises         regenerate exercises/ from solutions/"
	@echo "make execute-notebooks re-execute notebooks/ and solutions/ in place (maintainers)"
	@echo "make bench             run the benchmarks under bench/ and write bench/RESULTS.md"
	@echo "make browser-test      run every notebook in JupyterLab in headless chromium (screenshots in build/browser/)"

venv: $(STAMP)

# JupyterLab >= 4.4 sends widget messages to kernel subshells, which ipykernel >= 7 runs on
# threads of their own, so widget callbacks would draw concurrently with running cells
# (matplotlib is not thread-safe). The course's JupyterLab keeps them on the main shell; the
# widgets also serialise their drawing (backprop_lib/plotting/threadsafe.py) for every other setup.
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.d/backprop-course.json

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_QUIET) --upgrade pip
	$(PY) -m pip install $(PIP_QUIET) -c $(CONSTRAINTS) -e ".[$(EXTRAS)]"
	@mkdir -p $(dir $(LAB_OVERRIDES))
	@echo '{"@jupyterlab/apputils-extension:kernels-settings": {"commsOverSubshells": "disabled"}}' > $(LAB_OVERRIDES)
	@touch $(STAMP)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --ip=127.0.0.1 --port=$(PORT) $(ROOT_FLAG) notebooks/01_chain_rule.ipynb

test: $(STAMP)
	$(ONE_THREAD) $(PY) -m pytest $(XDIST_FLAGS) tests notebooks solutions $(NBVAL_FLAGS)

test-lib: $(STAMP)
	$(ONE_THREAD) $(PY) -m pytest $(XDIST_FLAGS) tests

test-notebooks: $(STAMP)
	$(ONE_THREAD) $(PY) -m pytest $(XDIST_FLAGS) notebooks solutions $(NBVAL_FLAGS)

test-grade: $(STAMP)
	$(ONE_THREAD) $(PY) -m pytest tests/test_grade.py tests/test_grade_channel.py

# Every realistic answer of tests/answers/ (600+ notebooks) graded through the sandbox must get the
# verdict and hint tests/test_answers.py gets in the notebook (about 10 minutes on 2 cores).
ANSWERS_CLASS := build/answers_class
test-grade-answers: $(STAMP)
	rm -rf $(ANSWERS_CLASS) && mkdir -p $(ANSWERS_CLASS)
	$(PY) tests/grading_fixtures/answers_class.py $(ANSWERS_CLASS)/class
	$(ONE_THREAD) $(PY) -m backprop_lib.grade $(ANSWERS_CLASS)/class --out $(ANSWERS_CLASS)/grades.csv --jobs 2 --quiet > /dev/null
	$(PY) tests/grading_fixtures/answers_class.py $(ANSWERS_CLASS)/class --compare $(ANSWERS_CLASS)/grades.csv

# The grader runs every notebook in a bubblewrap sandbox (Debian package `bubblewrap`); without
# it, it falls back to process isolation and says so loudly. As root this installs it.
sandbox: $(STAMP)
	@command -v bwrap >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y bubblewrap; \
		else echo "WARNING: bubblewrap is missing: sudo apt-get install -y bubblewrap" >&2; fi; }
	@$(PY) -c "from backprop_lib.grade import sandbox; i = sandbox.detect(); \
		print('grader sandbox: bubblewrap works' if i.sandboxed else 'WARNING: no grader sandbox: ' + str(i.warning))"

# ruff: pyflakes, pycodestyle, bugbear and a complexity limit; mypy on backprop_lib. Both are
# pinned in the `lint` extra and configured in pyproject.toml.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

exercises: $(STAMP)
	$(PY) -m backprop_lib.exercises

check-exercises: $(STAMP)
	$(PY) -m backprop_lib.exercises --check

execute-notebooks: $(STAMP)
	$(ONE_THREAD) $(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.timeout=600 notebooks/*.ipynb solutions/*.ipynb
	$(PY) -m backprop_lib.exercises

# The benchmarks' references: PyTorch (exactly the 2.13.0 CPU build: a plain `torch`
# pulls a multi-GB CUDA build) and micrograd. Installed once, before the extras, so the
# `parity` extra's range is already satisfied.
BENCH_STAMP := $(VENV)/.installed-bench
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install $(PIP_QUIET) "torch==2.13.0"
	$(PY) -m pip install $(PIP_QUIET) -c $(CONSTRAINTS) -e ".[$(EXTRAS),bench,parity]"
	@touch $(BENCH_STAMP)

# Runs every script in bench/ (each with a time limit) and writes bench/RESULTS.md.
bench: $(BENCH_STAMP)
	$(PY) bench/report.py

# Every notebook in notebooks/ and solutions/ run in JupyterLab, driven in Debian's
# chromium by Playwright (the `browser` extra; Playwright's browser downloads are not used).
BROWSER_STAMP := $(VENV)/.installed-browser
$(BROWSER_STAMP): $(STAMP)
	$(PY) -m pip install $(PIP_QUIET) -c $(CONSTRAINTS) -e ".[$(EXTRAS),browser]"
	@touch $(BROWSER_STAMP)

# Runs the widget race in two modes: the course's setting (widget messages on the kernel's
# main shell, from the venv's override above) and JupyterLab's default (kernel subshells).
# No retries: a notebook that fails, fails. BROWSER_FLAGS="--modes course" for a quicker run.
BROWSER_FLAGS ?=
browser-test: $(BROWSER_STAMP)
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
		else echo "chromium is missing: sudo apt-get install -y chromium" >&2; exit 1; fi; }
	@test -f $(LAB_OVERRIDES) || { echo "$(LAB_OVERRIDES) is missing: rm $(STAMP) && make venv" >&2; exit 1; }
	$(PY) tests/browser/run_in_browser.py $(BROWSER_FLAGS)

clean:
	rm -rf $(VENV) build .pytest_cache

# Two commands for learners: `make lab` and `make test`.
# Everything is installed with pip into .venv; nothing else is needed but python3 and make.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
EXTRAS ?= lab,test
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

.PHONY: help venv lab test test-lib test-notebooks exercises check-exercises execute-notebooks bench clean

help:
	@echo "make lab               install into $(VENV) (first time) and start JupyterLab at notebooks/01"
	@echo "make test              install into $(VENV) if needed and run the whole test suite"
	@echo "make test-lib          only the pytest suite in tests/"
	@echo "make test-notebooks    only nbval on notebooks/ and solutions/"
	@echo "make exercises         regenerate exercises/ from solutions/"
	@echo "make execute-notebooks re-execute notebooks/ and solutions/ in place (maintainers)"
	@echo "make bench             run the benchmarks under bench/"

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_QUIET) --upgrade pip
	$(PY) -m pip install $(PIP_QUIET) -e ".[$(EXTRAS)]"
	@touch $(STAMP)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --ip=127.0.0.1 --port=$(PORT) $(ROOT_FLAG) notebooks/01_chain_rule.ipynb

test: $(STAMP)
	$(ONE_THREAD) $(PY) -m pytest $(XDIST_FLAGS) tests notebooks solutions $(NBVAL_FLAGS)

test-lib: $(STAMP)
	$(ONE_THREAD) $(PY) -m pytest $(XDIST_FLAGS) tests

test-notebooks: $(STAMP)
	$(ONE_THREAD) $(PY) -m pytest $(XDIST_FLAGS) notebooks solutions $(NBVAL_FLAGS)

exercises: $(STAMP)
	$(PY) -m backprop_lib.exercises

check-exercises: $(STAMP)
	$(PY) -m backprop_lib.exercises --check

execute-notebooks: $(STAMP)
	$(ONE_THREAD) $(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.timeout=600 notebooks/*.ipynb solutions/*.ipynb
	$(PY) -m backprop_lib.exercises

bench: $(STAMP)
	@for f in bench/*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) build .pytest_cache

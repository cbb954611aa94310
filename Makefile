# lava-fptt: everything starts from `make demo` or `make test` on a fresh clone.
# The virtual environment is created on first use with pinned, known-good versions.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
# torch 2.13.0 is the CPU build available here; any other request pulls CUDA wheels.
TORCH  ?= torch==2.13.0
LAVA   := lava-nc==0.10.0 lava-dl==0.6.0
DEMO   ?= runs/demo
TUTORIAL_TIMEOUT ?= 300
PYTEST_ARGS ?=

.PHONY: env lint demo test test-slow test-lava test-all bench tutorials notebooks docs clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

$(STAMP): pyproject.toml requirements/base.txt requirements/test.txt requirements/lint.txt lava_fptt_compat.pth
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip==24.2"
	$(PY) -m pip install --quiet -r requirements/base.txt "$(TORCH)"
	# NIR peers for the cross-checks (snnTorch, Norse), without their dependencies: see the file.
	$(PY) -m pip install --quiet --no-deps -r requirements/test.txt
	$(PY) -m pip install --quiet -r requirements/lint.txt
	# The Lava wheels declare Requires-Python <3.11 and unmeetable pins (torch<2.4, torchvision):
	# installed as they are, without their dependencies; lava_fptt/compat.py makes them work.
	$(PY) -m pip install --quiet --no-deps --ignore-requires-python $(LAVA)
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -c "import lava_fptt.compat as c; assert c.installed(), 'compat hook not active'"
	touch $(STAMP)

env: $(STAMP)  ## create the virtual environment (first use only)

demo: $(STAMP)  ## train -> export -> run in Lava on the built-in digits data
	$(BIN)/lava-fptt demo --out $(DEMO)

lint: $(STAMP)  ## ruff (style, bugs), mypy (types), import-linter (no import cycles, layers): pyproject.toml
	$(BIN)/ruff check lava_fptt netx_export tools tests benchmarks tutorials
	$(BIN)/mypy
	$(BIN)/lint-imports

test: $(STAMP) lint  ## lint, then the test suite without the tests marked slow
	$(BIN)/pytest -q -m "not slow" $(PYTEST_ARGS) tests

test-slow: $(STAMP)  ## the tests marked slow (over a few seconds each)
	$(BIN)/pytest -q -m slow $(PYTEST_ARGS) tests

test-lava: $(STAMP)  ## the test suites shipped in the lava-nc and lava-dl wheels, on this environment
	$(PY) tools/lava_suites.py

test-all: test test-slow test-lava tutorials  ## what CI runs: every test, Lava's own suites, the tutorials

bench: $(STAMP)  ## benchmarks (tables and plots under benchmarks/results)
	$(PY) benchmarks/run_all.py

tutorials: $(STAMP)  ## run every tutorial headless (figures in tutorials/figures), timing each
	$(PY) tools/run_tutorials.py --timeout $(TUTORIAL_TIMEOUT)

notebooks: $(STAMP)  ## tutorials/*.py as Jupyter notebooks (tutorials/*.ipynb, not versioned)
	$(PY) -m pip install --quiet -r requirements/notebooks.txt
	$(BIN)/jupytext --to ipynb tutorials/[0-9][0-9]_*.py

docs: $(STAMP)  ## regenerate the API reference docs/api.md from the docstrings
	$(PY) tools/api_reference.py --out docs/api.md

clean:  ## remove the environment and run outputs
	rm -rf $(VENV) runs tutorials/runs tutorials/figures

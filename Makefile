# One-command entry points. `make demo` and `make test` set up their own virtual environment.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test test-slow bench city lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,bench,serve,spark]'
	touch $(STAMP)

setup: $(STAMP)

## Nightly audit on the bundled example city; prints the summary and where the outputs are.
demo: $(STAMP)
	$(PY) examples/demo.py

## The test suite (what CI runs).
test: $(STAMP)
	$(PY) -m pytest -q

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

## Benchmarks (not part of the test suite's pass/fail).
bench: $(STAMP)
	$(PY) benchmarks/run.py

lint: $(STAMP)
	$(VENV)/bin/pia-policy lint

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis

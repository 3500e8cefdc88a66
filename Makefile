# Every target sets itself up: a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

BENCH_VENV := .bench-venv
BENCH_PY   := $(BENCH_VENV)/bin/python

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml requirements/dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/labelwise demo

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

# Browser and database tests need Debian's chromium and a PostgreSQL server: the script installs
# and starts them (as root) and exports where they are, in the same shell as pytest.
test: lint
	. scripts/test-services.sh && $(PY) -m pytest -n 2 -q

$(BENCH_VENV)/.installed: pyproject.toml requirements/dev.txt requirements/bench.txt
	test -x $(BENCH_PY) || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_PY) -m pip install --quiet --upgrade pip
	$(BENCH_PY) -m pip install --quiet -r requirements/dev.txt -r requirements/bench.txt
	$(BENCH_PY) -m pip install --quiet --no-deps -e .
	touch $@

bench: $(BENCH_VENV)/.installed
	$(BENCH_PY) benchmarks/run.py
	$(BENCH_PY) benchmarks/out_of_core.py
	$(BENCH_PY) benchmarks/dask_backend.py

clean:
	rm -rf $(VENV) $(BENCH_VENV) build dist src/*.egg-info .pytest_cache .ruff_cache

# Every target sets itself up: a fresh clone needs only `make demo` or `make test`.
SHELL  := /bin/bash
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

LOWEST_VENV := .venv-lowest

BENCH_VENV := .bench-venv
BENCH_PY   := $(BENCH_VENV)/bin/python
# The anchors that need pandas < 3 get environments of their own.
CARD_VENV    := .bench-card-venv
ANCHORS_VENV := .bench-anchors-venv

.PHONY: demo test test-lowest lint bench clean

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
	$(MAKE) test-lowest

# The lowest versions pyproject.toml declares (requirements/lowest.txt), without the other
# extras: every test that needs none of them runs there; the rest skip (services included).
$(LOWEST_VENV)/.installed: pyproject.toml requirements/lowest.txt
	rm -rf $(LOWEST_VENV)
	$(PYTHON) -m venv $(LOWEST_VENV)
	$(LOWEST_VENV)/bin/python -m pip install --quiet -r requirements/lowest.txt
	$(LOWEST_VENV)/bin/python -m pip install --quiet --no-deps -e .
	touch $@

test-lowest: $(LOWEST_VENV)/.installed
	env -u LABELWISE_REQUIRE_SERVICES $(LOWEST_VENV)/bin/python -m pytest -n 2 -q -p no:cacheprovider --disable-warnings

$(BENCH_VENV)/.installed: pyproject.toml requirements/dev.txt requirements/bench.txt
	test -x $(BENCH_PY) || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_PY) -m pip install --quiet --upgrade pip
	$(BENCH_PY) -m pip install --quiet -r requirements/dev.txt -r requirements/bench.txt
	$(BENCH_PY) -m pip install --quiet --no-deps -e .
	touch $@

$(CARD_VENV)/.installed: requirements/bench-card.txt
	test -x $(CARD_VENV)/bin/python || $(PYTHON) -m venv $(CARD_VENV)
	$(CARD_VENV)/bin/python -m pip install --quiet -r requirements/bench-card.txt
	touch $@

$(ANCHORS_VENV)/.installed: pyproject.toml requirements/bench-monitor.txt
	test -x $(ANCHORS_VENV)/bin/python || $(PYTHON) -m venv $(ANCHORS_VENV)
	$(ANCHORS_VENV)/bin/python -m pip install --quiet -r requirements/bench-monitor.txt
	$(ANCHORS_VENV)/bin/python -m pip install --quiet --no-deps -e .
	touch $@

bench: $(BENCH_VENV)/.installed $(CARD_VENV)/.installed $(ANCHORS_VENV)/.installed
	$(BENCH_PY) benchmarks/run.py
	$(BENCH_PY) benchmarks/out_of_core.py
	$(BENCH_PY) benchmarks/dask_backend.py
	$(BENCH_PY) benchmarks/card_profile.py --ydata-python $(CARD_VENV)/bin/python
	$(ANCHORS_VENV)/bin/python benchmarks/monitor_anchors.py
	$(ANCHORS_VENV)/bin/python benchmarks/monitor_kinds.py
	$(BENCH_PY) benchmarks/monitor_findings.py
	$(BENCH_PY) benchmarks/audit_models.py
	$(BENCH_PY) benchmarks/audit_models.py --timing --models old,auto
	$(BENCH_PY) benchmarks/regression_scores.py
	$(BENCH_PY) benchmarks/data_issues.py
	$(BENCH_PY) benchmarks/neighbour_index.py --rows 100000 --features 50
	$(BENCH_PY) benchmarks/consensus.py

clean:
	rm -rf $(VENV) $(LOWEST_VENV) $(BENCH_VENV) $(CARD_VENV) $(ANCHORS_VENV) build dist src/*.egg-info .pytest_cache .ruff_cache

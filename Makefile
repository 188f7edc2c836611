# Two commands on a fresh clone: `make report` and `make test`. Both create the environment first.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
KERNEL ?= liqnb
PARAMS ?= params/article.yaml
DATA_DIR ?= data/raw
SEED   ?= 7
ARGS   ?=

.PHONY: setup report demo test lint format strip lab bench clean-reports

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (liqnb)" >/dev/null
	touch $@

demo: setup
	$(PY) -m helpers demo --scenario article --seed $(SEED) --data-dir $(DATA_DIR) --if-absent

report: setup
	$(PY) -m helpers report --params $(PARAMS) --data-dir $(DATA_DIR) $(ARGS)

# Lint and types first (ruff, mypy), then the suite, plus every committed notebook run by nbval
# (--nbval-lax: a cell that raises fails) on the demo store that `make report` uses;
# --dist loadfile keeps a notebook on one kernel.
test: setup lint
	$(PY) -m helpers demo --scenario article --seed $(SEED) --data-dir data/raw --if-absent
	$(PY) -m pytest -n 2 --dist loadfile --nbval-lax --ignore=tests/fixtures --durations=25 tests notebooks $(ARGS)

lint: setup
	$(VENV)/bin/ruff check src tests notebooks benchmarks
	$(VENV)/bin/ruff format --check src tests notebooks benchmarks
	$(VENV)/bin/mypy

format: setup
	$(VENV)/bin/ruff format src tests notebooks benchmarks
	$(VENV)/bin/ruff check --fix src tests notebooks benchmarks

strip: setup  # notebooks are committed without outputs
	$(VENV)/bin/nbstripout --keep-id --extra-keys "metadata.papermill cell.metadata.papermill cell.metadata.execution" notebooks/*.ipynb

lab: setup
	$(VENV)/bin/jupyter lab notebooks/

# 1M and 20M events by default; `make bench ARGS=--with-100m` (or BENCH_100M=1) adds 100M.
bench: setup
	$(PY) -m pip install --quiet -e ".[dev,bench]"
	$(PY) benchmarks/run.py $(if $(BENCH_100M),--with-100m) $(ARGS)

clean-reports:
	rm -rf reports/[0-9]* reports/index.html

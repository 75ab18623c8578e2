# Two commands for a new user (see README): `make render` and `make test`.
# Both set everything up first; a second run reinstalls nothing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.neuroreel-installed
DEV_STAMP := $(VENV)/.neuroreel-dev-installed

.PHONY: setup setup-dev render test test-all bench gallery clean-cache

setup: $(STAMP)

$(STAMP): requirements.txt scripts/system-deps.sh
	@bash scripts/system-deps.sh
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

setup-dev: $(DEV_STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.txt requirements-slides.txt requirements-cluster.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(DEV_STAMP)

render: setup
	$(PY) render.py --all

test: setup-dev
	$(PY) -m pytest -q

test-all: setup-dev
	$(PY) -m pytest -q -m "slow or not slow"

gallery: setup
	$(PY) -m pipeline.gallery

bench: setup
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	@for b in grid_render render_all toy_training capture power pieces scaling; do echo "== bench/$$b.py"; $(PY) bench/$$b.py || exit 1; done

clean-cache:
	rm -rf data/cache

# Every target does its own set-up on a fresh clone: venv, install, system packages, models.
SHELL := /bin/bash
.SHELLFLAGS := -o errexit -o nounset -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# One stamp per set of extras: the benchmark needs `bench`, the tests `bench` and `dev`.
BENCH_READY := $(VENV)/.installed-bench
TEST_READY := $(VENV)/.installed-dev
ARTIFACTS := model/artifacts/light/manifest.json model/artifacts/heavy/manifest.json

.PHONY: help test lint bench bench-quick throughput micro overhead model serve-flask serve-django clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(BENCH_READY): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --editable '.[bench]'
	bash scripts/system-deps.sh
	touch $@

$(TEST_READY): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --editable '.[bench,dev]'
	bash scripts/system-deps.sh
	touch $@ $(BENCH_READY)

# The apps need only the project's own dependencies, which every extra includes.
$(ARTIFACTS): | $(BENCH_READY)
	$(PY) -m model.train

test: $(TEST_READY) $(ARTIFACTS) ## Set up, then run ruff, the import contracts and the whole test suite
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

lint: $(TEST_READY) ## Run ruff and the import contracts only
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports

bench: $(BENCH_READY) $(ARTIFACTS) ## Set up, then run the comparison benchmark (about 12 minutes)
	$(PY) -m benchmarks run

bench-quick: $(BENCH_READY) $(ARTIFACTS) ## The same pipeline with short phases (about 3 minutes)
	$(PY) -m benchmarks run --quick

throughput: $(BENCH_READY) $(ARTIFACTS) ## wrk: baseline, each framework's floor, Flask, Django; one-row predictions
	$(PY) -m benchmarks throughput --floors

micro: $(BENCH_READY) $(ARTIFACTS) ## Time the model runtime against raw scikit-learn
	$(PY) -m benchmarks micro

overhead: $(BENCH_READY) $(ARTIFACTS) ## In process: each framework's own cost per request, and the model's
	$(PY) -m benchmarks overhead

serve-flask: $(BENCH_READY) $(ARTIFACTS) ## Serve the Flask app on http://127.0.0.1:8001
	bash scripts/serve.sh flask

serve-django: $(BENCH_READY) $(ARTIFACTS) ## Serve the Django app on http://127.0.0.1:8002
	bash scripts/serve.sh django

model: $(BENCH_READY) ## Retrain both model variants
	$(PY) -m model.train

clean: ## Remove the venv, trained models and reports
	rm -rf $(VENV) model/artifacts reports

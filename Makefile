# Every target does its own set-up on a fresh clone: venv, install, system packages, models.
SHELL := /bin/bash
.SHELLFLAGS := -o errexit -o nounset -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
ARTIFACTS := model/artifacts/light/manifest.json model/artifacts/heavy/manifest.json

.PHONY: help test lint bench bench-quick throughput micro overhead model serve-flask serve-django clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(INSTALLED): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --editable '.[dev]'
	bash scripts/system-deps.sh
	touch $@

$(ARTIFACTS): | $(INSTALLED)
	$(PY) -m model.train

test: $(INSTALLED) $(ARTIFACTS) ## Set up, then run ruff and the whole test suite
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest

lint: $(INSTALLED) ## Run ruff only
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

bench: $(INSTALLED) $(ARTIFACTS) ## Set up, then run the comparison benchmark (about 8 minutes)
	$(PY) -m benchmarks run

bench-quick: $(INSTALLED) $(ARTIFACTS) ## The same pipeline with short phases (under 2 minutes)
	$(PY) -m benchmarks run --quick

throughput: $(INSTALLED) $(ARTIFACTS) ## wrk: baseline, each framework's floor, Flask, Django; one-row predictions
	$(PY) -m benchmarks.throughput --floors

micro: $(INSTALLED) $(ARTIFACTS) ## Time the model runtime against raw scikit-learn
	$(PY) -m benchmarks.micro

overhead: $(INSTALLED) $(ARTIFACTS) ## In process: each framework's own cost per request, and the model's
	$(PY) -m benchmarks.overhead

serve-flask: $(INSTALLED) $(ARTIFACTS) ## Serve the Flask app on http://127.0.0.1:8001
	bash scripts/serve.sh flask

serve-django: $(INSTALLED) $(ARTIFACTS) ## Serve the Django app on http://127.0.0.1:8002
	bash scripts/serve.sh django

model: $(INSTALLED) ## Retrain both model variants
	$(PY) -m model.train

clean: ## Remove the venv, trained models and reports
	rm -rf $(VENV) model/artifacts reports

# Every target does its own set-up on a fresh clone: venv, install, system packages, models.
SHELL := /bin/bash
.SHELLFLAGS := -o errexit -o nounset -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# One stamp per lock file: the benchmark needs `bench`, the tests `dev` (which holds `bench`).
BENCH_READY := $(VENV)/.installed-bench
TEST_READY := $(VENV)/.installed-dev
# MLServer has a venv of its own: its dependency tree (FastAPI, uvicorn, pandas, gRPC, ...) stays
# out of the apps' locks. The tests start it from here (tests/mlserver.py).
MLSERVER_VENV := .venv-mlserver
MLSERVER_READY := $(MLSERVER_VENV)/.installed-mlserver
# The peers the benchmark measures beside the apps (python -m benchmarks peers), each in a venv of
# its own from requirements/peers/<peer>.txt; MLServer, the fourth, is the venv above.
PEERS := fastapi litserve bentoml
PEERS_VENV := .venv-peers
PEERS_READY := $(PEERS:%=$(PEERS_VENV)/%/.installed)
# The lock files, one per audience, each with a hash for every distribution; `make lock` writes
# them from pyproject.toml with this version of uv. Each is resolved with the one before it as a
# constraint, so a package has one version in all three: runtime.txt is what the apps' image
# holds, bench.txt adds the `bench` extra, dev.txt the `dev` extra too. mlserver.txt, from
# mlserver.in, is MLServer's own environment, constrained by runtime.txt in the same way.
UV_VERSION := 0.13.8
UV := $(VENV)/uv-$(UV_VERSION)/bin/uv
LOCK_TARGET := --python-version 3.11 --python-platform x86_64-unknown-linux-gnu
COMPILE_FLAGS = --quiet --generate-hashes $(LOCK_TARGET) --custom-compile-command 'make lock' \
	$(LOCK_FLAGS)
COMPILE = $(UV) pip compile pyproject.toml $(COMPILE_FLAGS)
COMPILE_MLSERVER = $(UV) pip compile requirements/mlserver.in $(COMPILE_FLAGS)
COMPILE_PEER = $(UV) pip compile requirements/peers/$(1).in $(COMPILE_FLAGS) \
	--constraint requirements/runtime.txt --output-file requirements/peers/$(1).txt
ARTIFACTS := model/artifacts/light/manifest.json model/artifacts/heavy/manifest.json
# checkov, the scanner tests/test_k8s.py runs over the Kubernetes manifests, lives in a venv of
# its own inside the project's, from a lock of its own: every checkov release since 3.2 caps
# packaging below 24, where the bench lock holds 26, and its ninety-odd packages (boto3,
# aiohttp, networkx, ...) have no place beside the apps and the benchmark. The tests find it as
# checkov/bin/checkov beside the venv that runs them.
CHECKOV_VENV := $(VENV)/checkov
CHECKOV_READY := $(CHECKOV_VENV)/.installed
# `make bench SCENARIO=v2_one` (or v2_batch) also loads the apps through the Open Inference
# Protocol v2, beside the /v1 scenario it mirrors; empty: the default run.
SCENARIO ?=
RUN_SCENARIO = $(if $(SCENARIO),--scenario $(SCENARIO))

.PHONY: help lock mlserver peers batching test lint bench bench-quick throughput micro overhead model serve-flask serve-django clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# The locked distributions, every one checked against its hash, then the project itself, whose
# dependencies the lock already holds. pyproject.toml is a prerequisite for its package list.
$(BENCH_READY): requirements/bench.txt pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --require-hashes --requirement requirements/bench.txt
	$(PY) -m pip install --quiet --no-deps --editable .
	bash scripts/system-deps.sh
	touch $@

# dev.txt holds every pin of bench.txt (tests/test_lock.py), so it makes the bench stamp too.
$(TEST_READY): requirements/dev.txt pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --require-hashes --requirement requirements/dev.txt
	$(PY) -m pip install --quiet --no-deps --editable .
	bash scripts/system-deps.sh
	touch $@ $(BENCH_READY)

$(MLSERVER_VENV)/bin/python:
	$(PYTHON) -m venv $(MLSERVER_VENV)
	$(MLSERVER_VENV)/bin/python -m pip install --quiet --upgrade pip

# Only the lock, hash-checked: MLServer imports nothing of the project.
$(MLSERVER_READY): requirements/mlserver.txt | $(MLSERVER_VENV)/bin/python
	$(MLSERVER_VENV)/bin/python -m pip install --quiet --require-hashes \
		--requirement requirements/mlserver.txt
	touch $@

mlserver: $(MLSERVER_READY) ## Install MLServer, locked, into .venv-mlserver (the tests serve the model with it)

# Each peer's lock alone, hash-checked, into its own venv: a peer imports the project's model/
# from the work tree (PYTHONPATH), never an installed copy.
$(PEERS_VENV)/%/.installed: requirements/peers/%.txt
	$(PYTHON) -m venv $(PEERS_VENV)/$*
	$(PEERS_VENV)/$*/bin/python -m pip install --quiet --upgrade pip
	$(PEERS_VENV)/$*/bin/python -m pip install --quiet --require-hashes \
		--requirement requirements/peers/$*.txt
	touch $@

batching: $(BENCH_READY) $(ARTIFACTS) ## Adaptive batching: each app off and on, light and heavy, capacity at p99 <= 50 ms
	$(PY) -m benchmarks batching

peers: $(PEERS_READY) $(MLSERVER_READY) ## Install the peers (FastAPI, LitServe, BentoML; MLServer), locked, each into its own venv

$(CHECKOV_READY): requirements/checkov.txt | $(PY)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --require-hashes --requirement requirements/checkov.txt
	touch $@

# The apps need only the project's own dependencies, which every lock holds.
$(ARTIFACTS): | $(BENCH_READY)
	$(PY) -m model.train

# What the tests need: the project's venv (the dev lock and the system packages), MLServer's,
# every peer's and checkov's. Each is a venv of its own, so they install side by side (--jobs):
# on a fresh 2-core machine that takes about half the time of one after another.
TEST_SETUP := $(TEST_READY) $(MLSERVER_READY) $(PEERS_READY) $(CHECKOV_READY)

test: ## Set up, then run ruff, the import contracts, mypy and the whole test suite
	$(MAKE) --no-print-directory --jobs=4 $(TEST_SETUP)
	$(MAKE) --no-print-directory $(ARTIFACTS)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(PY) -m pytest
	# The contract suite again with adaptive batching on: the same answers, through the batcher.
	MLAPI_BATCH_MAX_SIZE=8 $(PY) -m pytest --quiet --no-header tests/test_contract.py tests/test_contract_v2.py

lint: $(TEST_READY) ## Run ruff, the import contracts and mypy only
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

bench: $(BENCH_READY) $(ARTIFACTS) ## Set up, then run the comparison benchmark (about 10 minutes); SCENARIO=v2_one adds v2
	$(PY) -m benchmarks run $(RUN_SCENARIO)

bench-quick: $(BENCH_READY) $(ARTIFACTS) ## The same pipeline with short phases (about 5 minutes)
	$(PY) -m benchmarks run --quick $(RUN_SCENARIO)

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

$(UV):
	$(PYTHON) -m venv $(VENV)/uv-$(UV_VERSION)
	$(VENV)/uv-$(UV_VERSION)/bin/pip install --quiet uv==$(UV_VERSION)

# Pins already in a lock are kept while pyproject.toml allows them; LOCK_FLAGS=--upgrade moves
# every package to its newest version, LOCK_FLAGS='--upgrade-package NAME' one package.
lock: | $(UV) ## Resolve requirements/*.txt again from pyproject.toml, mlserver.in and peers/*.in, with hashes
	$(COMPILE) --output-file requirements/runtime.txt
	$(COMPILE) --extra bench --constraint requirements/runtime.txt \
		--output-file requirements/bench.txt
	$(COMPILE) --extra bench --extra dev --constraint requirements/bench.txt \
		--output-file requirements/dev.txt
	$(COMPILE_MLSERVER) --constraint requirements/runtime.txt --output-file requirements/mlserver.txt
	$(call COMPILE_PEER,fastapi)
	$(call COMPILE_PEER,litserve)
	$(call COMPILE_PEER,bentoml)
	$(UV) pip compile requirements/checkov.in $(COMPILE_FLAGS) --output-file requirements/checkov.txt

clean: ## Remove the venvs, trained models and reports
	rm -rf $(VENV) $(MLSERVER_VENV) $(PEERS_VENV) model/artifacts reports

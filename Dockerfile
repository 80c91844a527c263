# Two images from one file, so the apps never carry the benchmark's tools:
#   runtime  the Flask and Django apps under gunicorn, the training job and the nginx proxies:
#            the project's dependencies only (no load generator, no wrk);
#   bench    runtime plus the `bench` extra and wrk, for Locust and the headless benchmark.
# Each installs its lock file from requirements/ with pip's --require-hashes, as `make` does.
# docker-compose.yml names the target of each service.
#
# The base is pinned by patch version AND digest: the model runtime refuses artifacts built with
# other library versions, so an image must be rebuildable exactly. To move to a newer base, change
# both together (`docker buildx imagetools inspect python:<tag>` prints the index digest).
FROM python:3.11.17-slim-bookworm@sha256:2333bd330d12de02514770b3585cad313644316047cdee24a7acfdece6de6efb AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1


# -- builder: a virtual environment holding the apps' dependencies and nothing else ------------
# They come from requirements/runtime.txt, every distribution checked against its hash; the
# locks `make` installs pin the same versions (`make lock` writes all three from pyproject.toml).
# Only that file reaches this layer: editing pyproject.toml or the other locks leaves it cached.
FROM base AS builder

RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:${PATH}"
RUN --mount=type=cache,target=/root/.cache/pip \
    --mount=type=bind,source=requirements/runtime.txt,target=/tmp/runtime.txt \
    pip install --require-hashes --requirement /tmp/runtime.txt


# -- runtime: the apps, the train job and the proxies -------------------------------------------
FROM base AS runtime

# nginx: the production entry point in front of either app (deploy/nginx.conf).
# Debian stable only takes security fixes, and pinning their exact revisions would break the
# build each time one is superseded; the base image digest is the reproducibility pin.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends nginx \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 mlapi \
    && useradd --system --uid 10001 --gid mlapi --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin mlapi

COPY --from=builder /opt/venv /opt/venv

# The code runs from its source tree, not from site-packages: the benchmark finds
# gunicorn.conf.py, its locustfile and reports/ beside its own package, and the model runtime's
# default artifacts directory is model/artifacts. /app mirrors the repository's layout.
# benchmarks/ is here too, although this image cannot run it: the bench stage builds on this one,
# and source is small beside the packages it would need.
ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONPATH=/app \
    GUNICORN_BIND=0.0.0.0:8000

WORKDIR /app
# The lock files too: the bench stage installs from one, and a run records the sha256 of the one
# its environment matches.
COPY requirements/ requirements/
COPY gunicorn.conf.py ./
COPY contract/ contract/
COPY model/ model/
COPY flask_app/ flask_app/
COPY django_app/ django_app/
COPY benchmarks/ benchmarks/
COPY deploy/ deploy/

# The source stays root's and read-only to the server. The only writable places are where the
# train job writes the models (a named volume takes this directory's owner on first use) and
# where the benchmark writes its report.
RUN install --directory --owner=10001 --group=10001 model/artifacts reports

USER 10001:10001
EXPOSE 8000 8080

# Standard library only, so the probe needs nothing the image lacks; it follows GUNICORN_BIND's
# port. urlopen raises on 503 (model not loaded) and on refusal, and python then exits 1.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('GUNICORN_BIND', ':8000').rpartition(':')[2] + '/health/ready', timeout=4)"]

CMD ["gunicorn", "--config", "gunicorn.conf.py", "flask_app.wsgi:app"]


# -- bench: runtime plus the load generators, for Locust and the headless benchmark -------------
FROM runtime AS bench

# Root (numeric, like the user below) only to install; the last USER is unprivileged again.
USER 0:0

# wrk: the benchmark's calibration load generator (taskset comes with util-linux, part of every
# Debian system). The image has no .git, so a run inside it records its commit as "unknown".
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends wrk \
    && rm -rf /var/lib/apt/lists/*

# Installed over the runtime's venv, not into a venv of its own: a second copy of the venv would
# repeat the whole numeric stack in a layer. The bench lock pins every runtime package at the
# runtime lock's version (`make lock` resolves it against that file; tests/test_lock.py checks
# it), so pip adds the bench packages and leaves the runtime's as they are: the bench runs the
# very library versions the train job (runtime image) writes its models with, which the model
# runtime insists on.
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --require-hashes --requirement requirements/bench.txt

USER 10001:10001
EXPOSE 8089

# The runtime's probe asks a gunicorn app; nothing in this image serves one for long.
HEALTHCHECK NONE

CMD ["python", "-m", "benchmarks", "run", "--out", "/app/reports"]

"""The peers: FastAPI, MLServer, LitServe and BentoML serving the same model, registered once.

Each peer is served the way its own documentation serves a scikit-learn model, from a venv of its
own (``make peers``: ``.venv-peers/<peer>/``, MLServer ``.venv-mlserver/``), apart from the
product apps: the benchmark starts it with a command line (``benchmarks.serving.peers``), not
with gunicorn. Every peer runs one server process for requests, batching off, access log off
(the apps write none); what each keeps or adds beyond that is stated here as data
(``settings``, ``per_request``), and the report prints it.

The apps' module files (``fastapi_peer.py`` and its siblings) are run by the peers' own
interpreters; nothing here imports them.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from benchmarks import REPO
from benchmarks.results.vocabulary import Protocol
from model.runtime import sha256_of

HERE = Path(__file__).resolve().parent
# MLServer's scikit-learn runtime, as its documentation names it in model-settings.json.
MLSERVER_IMPLEMENTATION = "mlserver_sklearn.SKLearnModel"


@dataclass(frozen=True)
class Peer:
    """One serving framework, as the benchmark starts and reads it."""

    name: str
    venv: str  # relative to the repository
    protocol: Protocol  # which contract its predictions answer
    ready_path: str  # answers 200 once the model is loaded
    files: tuple[str, ...]  # what a user writes to serve the model, relative to the repository
    distributions: tuple[str, ...]  # whose installed versions the run records
    server: str  # its HTTP server and event loop, as started here
    settings: str  # processes, keep-alive, access log, batching, as started here
    per_request: str  # what it does per request that the apps do not, and the reverse
    uvicorn_app: str | None = None  # "module:attribute" that uvicorn serves, if started so
    kind: Literal["peer", "baseline"] = "peer"  # baseline: no framework, only the model

    @property
    def python(self) -> Path:
        """Return the peer's interpreter."""
        return REPO / self.venv / "bin" / "python"

    def installed(self) -> bool:
        """Return whether its venv exists (``make peers`` makes it)."""
        return self.python.exists()


PEERS: dict[str, Peer] = {
    peer.name: peer
    for peer in (
        Peer(
            "fastapi",
            ".venv-peers/fastapi",
            "v1",
            "/health/ready",
            ("benchmarks/targets/peers/fastapi_peer.py",),
            ("fastapi", "starlette", "pydantic", "uvicorn", "uvloop", "httptools"),
            "uvicorn, uvloop event loop, httptools parser",
            "one uvicorn process (no --workers); keep-alive on (uvicorn's 5 s); access log off "
            "(--no-access-log); the endpoint is a plain def, so FastAPI runs it in its "
            "thread pool, as its documentation says for blocking code",
            "validates the body with pydantic (request model) and the answer again (response "
            "model), runs the view in a worker thread; writes none of the apps' security "
            "headers, request ID or Server-Timing and records no metrics",
            uvicorn_app="fastapi_peer:app",
        ),
        Peer(
            "asgi-baseline",
            ".venv-peers/fastapi",
            "v1",
            "/health/ready",
            ("benchmarks/targets/peers/asgi_baseline.py",),
            ("uvicorn", "uvloop", "httptools"),
            "uvicorn, uvloop event loop, httptools parser (as the FastAPI peer's)",
            "one uvicorn process; keep-alive on (uvicorn's 5 s); access log off",
            "no framework: a bare ASGI callable, the bare-WSGI baseline's twin (same bodies, "
            "security headers, request ID and Server-Timing, no metrics); predicts in the event "
            "loop, no worker thread",
            uvicorn_app="asgi_baseline:app",
            kind="baseline",
        ),
        Peer(
            "mlserver",
            ".venv-mlserver",
            "v2",
            "/v2/health/ready",
            ("benchmarks/targets/peers/mlserver/model-settings.json",),
            ("mlserver", "mlserver-sklearn", "fastapi", "uvicorn", "uvloop"),
            "uvicorn (MLServer's own), uvloop event loop, h11 parser (httptools is not among "
            "MLServer's dependencies)",
            "parallel_workers 0: inference in the server process, one process; keep-alive on "
            "(uvicorn's 5 s); access log off (debug false); adaptive batching off "
            "(max_batch_size 1); its metrics server on a port of its own, as by default",
            "decodes the v2 tensor through its codecs, runs scikit-learn's own predict and then "
            "predict_proba (two passes over the forest, joblib-dispatched, where the apps make "
            "one), gzip middleware, Prometheus metrics; no security headers or request ID",
        ),
        Peer(
            "litserve",
            ".venv-peers/litserve",
            "v1",
            "/health",
            ("benchmarks/targets/peers/litserve_peer.py",),
            ("litserve", "fastapi", "uvicorn", "uvloop", "httptools"),
            "uvicorn (FastAPI) in an API-server process, uvloop, httptools",
            "one API-server process and one inference worker process (LitServe's design: they "
            "pass each request through queues), besides its launcher; keep-alive on (uvicorn's "
            "5 s); access log off; batching off (max_batch_size 1)",
            "hands each request from the API process to the inference worker and the answer "
            "back (two process hops); no validation model, security headers or metrics",
        ),
        Peer(
            "bentoml",
            ".venv-peers/bentoml",
            "v1",
            "/readyz",
            ("benchmarks/targets/peers/bentoml_peer.py",),
            ("bentoml", "starlette", "uvicorn", "pydantic"),
            "BentoML's HTTP server (uvicorn, asyncio), under its process supervisor",
            "one worker process (workers=1) under BentoML's supervisor; keep-alive on; access "
            "log off (logging.access.enabled false); batching off (batchable False, its "
            "default); metrics on, as by default",
            "validates the body against a pydantic model built from the method's signature, "
            "runs the method in a thread, records Prometheus metrics and a trace context per "
            "request, adds a request-ID header",
        ),
    )
}
# The product apps: served by gunicorn (one sync worker, benchmarks.serving.gunicorn), the /v1
# contract, access log off; the sync worker closes every connection after its answer. The sync
# worker was gunicorn.conf.py's default until the gap below was taken apart; it stays the apps'
# setting here, named explicitly, so that the gap's parts are measured from it as before and
# every stored run of this command reads the same way.
SYNC = {"GUNICORN_WORKER_CLASS": "sync"}
APP_SETTINGS = (
    "gunicorn, one sync worker, preloaded; the sync worker closes the connection after every "
    "answer (it has no keep-alive); access log off"
)
# gunicorn's threaded worker with one thread: one request at a time, as the sync worker, but the
# connection is kept alive between requests (gunicorn's keepalive, 5 s here), so the difference
# to the sync worker is connection handling alone. gunicorn.conf.py's default deployment now.
GTHREAD = {"GUNICORN_WORKER_CLASS": "gthread", "GUNICORN_THREADS": "1"}
GTHREAD_SETTINGS = (
    "gunicorn, one gthread worker with one thread, preloaded; keep-alive on (gunicorn's "
    "keepalive, 5 s); access log off"
)


@dataclass(frozen=True)
class Setup:
    """A registry target (an app, the bare-WSGI baseline) on gunicorn with other settings."""

    name: str
    target: str  # its name in benchmarks.targets
    kind: Literal["app", "baseline"]
    env: dict[str, str] = field(default_factory=dict)  # gunicorn.conf.py's, beyond the default
    settings: str = APP_SETTINGS


# What the gap to FastAPI is taken apart with (analysis/gap.py): each app kept alive, and the
# bare-WSGI baseline on either worker.
SETUPS: dict[str, Setup] = {
    setup.name: setup
    for setup in (
        Setup("flask-gthread", "flask", "app", GTHREAD, GTHREAD_SETTINGS),
        Setup("django-gthread", "django", "app", GTHREAD, GTHREAD_SETTINGS),
        Setup("baseline", "baseline", "baseline", SYNC),
        Setup("baseline-gthread", "baseline", "baseline", GTHREAD, GTHREAD_SETTINGS),
    )
}


def mlserver_repository(artifact: Path, root: Path, batch: tuple[int, float] | None = None) -> Path:
    """Write an MLServer model repository for ``artifact`` into ``root``; return its folder.

    The model-settings.json kept beside this module (what a user writes) gets the absolute URI
    of a copy of the model file and the manifest's name and version; ``batch`` turns on
    MLServer's adaptive batching: ``max_batch_size`` requests, ``max_batch_time`` seconds.
    """
    manifest = json.loads((artifact / "manifest.json").read_text())
    folder = root / manifest["name"]
    folder.mkdir(parents=True)
    copy = shutil.copyfile(artifact / manifest["file"], folder / "model.joblib")
    # MLServer unpickles the file unchecked: give it bytes the manifest vouches for.
    if sha256_of(copy) != manifest["sha256"]:
        raise RuntimeError(f"{artifact / manifest['file']} does not match its manifest's sha256")
    settings = json.loads((HERE / "mlserver" / "model-settings.json").read_text())
    settings["name"] = manifest["name"]
    settings["parameters"] |= {"uri": str(copy), "version": manifest["version"]}
    if batch is not None:
        settings["max_batch_size"], settings["max_batch_time"] = batch
    (folder / "model-settings.json").write_text(json.dumps(settings, indent=2))
    return folder

"""gunicorn settings for every app served here (Flask, Django, the bare-WSGI baseline).

One file, so every app runs with identical server settings; each value can be set from the
environment. https://docs.gunicorn.org/en/stable/settings.html
"""

import gc
import glob
import os
import shutil
import sys
import tempfile


def _cpus() -> int:
    # The CPUs this process may run on (taskset narrows it), not the machine's count.
    return len(os.sched_getaffinity(0))


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", _cpus()))
# gthread with one thread: one request at a time per worker, as on the sync worker (for this
# CPU-bound work more threads only bring the GIL's contention back), but the connection is kept
# alive between requests (keepalive below), so a client, or nginx's pool of upstream connections
# (deploy/nginx.conf), does not open a new TCP connection per request: the part of the gap to
# FastAPI that is connection handling (docs/contract.md, "Server settings"). A gthread worker reads
# a request in its thread, as a sync worker does, so a slow client holds it: nginx belongs in front.
# Adaptive batching (MLAPI_BATCH_MAX_SIZE >= 2, model/batching.py) stacks the requests that wait
# beside each other, so a worker must hold several at once: then as many threads as a batch holds
# rows. A sync worker never has a second request waiting, so it cannot batch: on_starting refuses
# that pair.
_BATCH_SIZE = int(os.environ.get("MLAPI_BATCH_MAX_SIZE", "0"))
_BATCHING = _BATCH_SIZE >= 2
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", str(_BATCH_SIZE if _BATCHING else 1)))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
# The largest request line and header gunicorn takes: above nginx's (deploy/nginx.conf), so that
# behind the proxy nginx refuses oversized ones first, in the contract's error format.
limit_request_line = 8190
limit_request_field_size = 8190
# Load the app (and the model) once in the master before forking: a broken artifact stops the
# server at start-up with one line, and workers share the model's memory pages.
preload_app = os.environ.get("GUNICORN_PRELOAD", "true") == "true"
# Move every object the master holds (with preload_app: the app and the model) into the garbage
# collector's permanent generation before each fork. A full collection in a worker then never
# writes to those objects' headers, so the pages they sit on stay shared instead of being copied
# into every worker: without it each Django worker grew from 30 to 56 MiB of its own within its
# first 200 requests (docs/results.md). https://docs.python.org/3/library/gc.html#gc.freeze
gc_freeze = os.environ.get("GUNICORN_GC_FREEZE", "true") == "true"
# Access logging costs time per request and is off unless asked for ("-" is stdout).
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
proc_name = os.environ.get("GUNICORN_PROC_NAME")
# Recent gunicorn opens a control socket at one fixed path per user; several servers side by side
# (as the benchmark runs them) would fight over it, and nothing here uses it.
control_socket_disable = os.environ.get("GUNICORN_CONTROL_SOCKET", "off") == "off"

# -- Metrics: prometheus_client's multiprocess mode ---------------------------------------------
# Each worker writes its metrics to files in one directory, and GET /metrics sums the files, so a
# scrape counts every worker's requests, a dead worker's included
# (https://prometheus.github.io/client_python/multiprocess/). prometheus_client reads the variable
# when it is first imported, which with preload_app is in the master, before any server hook runs:
# raw_env sets it first. Each server gets a directory of its own (the benchmark runs several side
# by side), named after the master's pid (this file is read in the master), unless the variable is
# set; nothing is created or removed while this file is read.
_OWN_METRICS_DIR = os.path.join(tempfile.gettempdir(), f"gunicorn-{os.getpid()}-metrics")
_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or _OWN_METRICS_DIR
raw_env = [f"PROMETHEUS_MULTIPROC_DIR={_metrics_dir}"]


def on_starting(server) -> None:
    """Refuse batching on workers that cannot batch; create the metrics directory, or empty it
    of an earlier run's files, before any fork."""
    if _BATCHING and (worker_class != "gthread" or threads < 2):
        server.log.error(
            "MLAPI_BATCH_MAX_SIZE=%d needs GUNICORN_WORKER_CLASS=gthread and GUNICORN_THREADS >= 2 "
            "(now %s with %d threads): a worker that holds one request at a time never batches",
            _BATCH_SIZE,
            worker_class,
            threads,
        )
        sys.exit(1)
    # The apps make their metrics on a worker's first request, never in the master, so an empty
    # directory now is an empty directory when the first worker starts.
    os.makedirs(_metrics_dir, exist_ok=True)
    for stale in glob.glob(os.path.join(_metrics_dir, "*.db")):
        os.remove(stale)
    server.log.info("Metrics directory: %s", _metrics_dir)


def child_exit(server, worker) -> None:
    """Drop a dead worker's live gauges; its counters and histograms stay in the sums."""
    # Imported here: imported while gunicorn reads this file, before raw_env is applied,
    # prometheus_client would settle on single-process mode in the master and every worker.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, _metrics_dir)


def on_exit(server) -> None:
    """Remove the metrics directory if this server made it; a directory given is left as it is."""
    if _metrics_dir == _OWN_METRICS_DIR and os.path.isdir(_metrics_dir):
        shutil.rmtree(_metrics_dir)


def pre_fork(server, worker):
    """Freeze the master's objects before a worker is forked, when ``gc_freeze`` is on."""
    # Server hooks: https://docs.gunicorn.org/en/stable/settings.html#pre-fork
    if gc_freeze:
        gc.collect()
        gc.freeze()
        server.log.info("gc.freeze() before fork: %d objects frozen", gc.get_freeze_count())

"""Each app behind nginx (deploy/nginx.conf), on the sync worker and on gthread: a one-off check.

deploy/nginx.conf keeps a pool of connections to the app open (``keepalive`` in the upstream,
HTTP/1.1 and an empty Connection header to the app), but the sync worker closes every connection
after its answer, so behind nginx it still accepts one new connection per request; the gthread
worker keeps nginx's. For each app and worker class, one worker: the instructions per one-row
prediction over the app's gunicorn tree (nginx not counted), requests sent one at a time over one
kept connection to nginx (``cost_server``'s windows); before those, a short wrk through nginx
(8 connections; gunicorn and nginx on CPU 0, wrk on CPU 1), for its requests per second and the
CPU per request of the gunicorn tree and of nginx. Printed, not
stored: ``python -m benchmarks.measure.behind_nginx [seconds]``.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from benchmarks.cpus import CpuSet
from benchmarks.load import protocols, wrk
from benchmarks.measure import cost_server
from benchmarks.serving import gunicorn, nginx
from benchmarks.serving.gunicorn import Server, free_port
from benchmarks.serving.processes import ProcessTree
from benchmarks.targets.peers import GTHREAD, SYNC
from model.data import holdout_instances

WORKERS = {"sync": SYNC, "gthread": GTHREAD}
COUNTS = (10, 110)
WARMUP = 10
ENV = {"WEB_CONCURRENCY": "1", "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"}


def counted(app: str, worker: dict[str, str], out: Path, cpus: CpuSet) -> float:
    """Return the instructions per request of ``app``'s gunicorn tree behind nginx."""
    proxies: list[nginx.Proxy] = []
    upstream = free_port()

    def start(wrap: list[str], pinned: CpuSet, log: Path) -> Server:
        server = gunicorn.start(
            app, log, port=upstream, env={**ENV, **worker}, cpus=pinned, wrap=wrap
        )
        proxies.append(nginx.start(upstream, out / "nginx", cpus=pinned))
        proxies[0].wait_ready()
        # Requests and readiness go through nginx; the counted tree is gunicorn's.
        return replace(server, port=proxies[0].port)

    path, body = protocols.path("v1"), protocols.body("v1", holdout_instances(1))
    try:
        found = cost_server.per_request(start, out / "callgrind", cpus, path, body, COUNTS, WARMUP)
    finally:
        for proxy in proxies:
            proxy.stop()
    return found["instructions"]


def timed(app: str, worker: dict[str, str], out: Path, seconds: float) -> str:
    """Return a short wrk check through nginx: req/s and CPU per request (gunicorn, nginx)."""
    server = gunicorn.start(app, out / "timed.log", env={**ENV, **worker}, cpus=CpuSet((0,)))
    server.wait_ready()
    with nginx.start(server.port, out / "timed-nginx", cpus=CpuSet((0,))) as proxy:
        proxy.wait_ready()
        body = protocols.body("v1", holdout_instances(1))
        url = f"http://{gunicorn.HOST}:{proxy.port}{protocols.path('v1')}"
        trees = ProcessTree(server.pid), ProcessTree(proxy.process.pid)
        before = [tree.cpu_seconds() for tree in trees]
        result = wrk.run(url, method="POST", body=body, seconds=seconds, cpus=CpuSet((1,)))
        cpu = [tree.cpu_seconds() - b for tree, b in zip(trees, before, strict=True)]
    server.stop()
    per = [c / max(1, result.requests) * 1e6 for c in cpu]
    rps = (result.requests - result.errors) / result.seconds
    return f"{rps:.0f} req/s, CPU/request gunicorn {per[0]:.0f} us + nginx {per[1]:.0f} us"


def main(seconds: float) -> None:
    """Time, then count, each app on each worker class behind nginx; print one line each."""
    cases = [(app, name) for app in ("flask", "django") for name in WORKERS]
    with tempfile.TemporaryDirectory(prefix="behind-nginx-") as scratch:
        out = {case: Path(scratch) / "-".join(case) for case in cases}
        # The short timed checks first, together, before valgrind loads the machine.
        checks = {}
        for app, name in cases:
            out[app, name].mkdir()
            checks[app, name] = timed(app, WORKERS[name], out[app, name], seconds)
        for app, name in cases:
            instructions = counted(app, WORKERS[name], out[app, name], CpuSet((0, 1)))
            print(f"{app} {name} behind nginx: {instructions / 1e6:.2f} M; {checks[app, name]}")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 3.0)

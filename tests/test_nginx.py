"""nginx in front of the apps (deploy/nginx.conf): slow clients and oversized requests."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.load.probes import probes
from benchmarks.serving import gunicorn, nginx

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(not nginx.available(), reason="nginx is installed by scripts/system-deps"),
]
APPS = ("flask", "django")
HALF_REQUEST = (
    b"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Content-Length: 100\r\n\r\n" + b'{"instan'
)


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple]]:
    """Start each app with nginx in front; yield name -> (server, proxy)."""
    workdir = tmp_path_factory.mktemp("proxy")
    started: dict[str, tuple] = {}
    try:
        for name in APPS:
            server = gunicorn.start(name, workdir / f"{name}.log", env={"WEB_CONCURRENCY": "2"})
            server.wait_ready()
            front = nginx.start(server.port, workdir / f"nginx-{name}")
            front.wait_ready()
            started[name] = (server, front)
        yield started
    finally:
        for server, front in started.values():
            front.stop()
            server.stop()


def hold_half_requests(port: int, count: int = 20) -> list[socket.socket]:
    """Open ``count`` connections that send half a request and then wait."""
    held = []
    for _ in range(count):
        connection = socket.create_connection((gunicorn.HOST, port))
        connection.sendall(HALF_REQUEST)
        held.append(connection)
    time.sleep(0.3)
    return held


def timed_live(port: int, timeout: float) -> tuple[int | str, float]:
    """Ask /health/live; return the status (or the error's name) and the seconds it took."""
    started = time.monotonic()
    try:
        status = gunicorn.get(port, "/health/live", timeout=timeout)[0]
    except OSError as exc:
        status = type(exc).__name__
    return status, time.monotonic() - started


@pytest.mark.parametrize("name", APPS)
def test_slow_clients_do_not_block_others_behind_the_proxy(name: str, stacks: dict) -> None:
    _, front = stacks[name]
    held = hold_half_requests(front.port)
    try:
        answers = [timed_live(front.port, timeout=5) for _ in range(5)]
    finally:
        for connection in held:
            connection.close()
    assert all(status == 200 for status, _ in answers), answers
    assert max(seconds for _, seconds in answers) < 1.5, answers


def test_slow_clients_starve_the_workers_without_the_proxy(tmp_path: Path) -> None:
    """Why the proxy is the production entry point: gunicorn's workers alone are held (the
    default gthread worker reads a request in its one thread, as a sync worker does)."""
    server = gunicorn.start("flask", tmp_path / "flask.log", env={"WEB_CONCURRENCY": "2"})
    try:
        server.wait_ready()
        held = hold_half_requests(server.port)
        try:
            status, seconds = timed_live(server.port, timeout=2)
        finally:
            for connection in held:
                connection.close()
    finally:
        server.stop()
    assert status != 200 or seconds > 1.5, (status, seconds)


def raw_exchange(port: int, request: bytes, chunks: list[bytes] = ()) -> bytes:
    """Send raw bytes (then optional chunks); return what the server answered."""
    with socket.create_connection((gunicorn.HOST, port), timeout=10) as connection:
        connection.sendall(request)
        try:
            for chunk in chunks:
                connection.sendall(chunk)
        except OSError:
            pass  # the server answered and closed before taking everything: read its answer
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.endswith(b"}\n"):
            data = connection.recv(65536)
            if not data:
                break
            answer += data
    return answer


def body_of(answer: bytes) -> tuple[int, bytes]:
    """Split a raw HTTP answer into status and body."""
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def oversized_requests() -> dict[str, tuple[bytes, list[bytes]]]:
    """Return requests nginx must refuse itself, by name."""
    chunk = b"f000\r\n" + b" " * 0xF000 + b"\r\n"
    return {
        "long-url": (
            b"GET /health/live?" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            [],
        ),
        "long-header": (
            b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: "
            + b"b" * 10_000
            + b"\r\n\r\n",
            [],
        ),
        "body-over-limit": (
            b"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
            b"application/json\r\nContent-Length: 3000000\r\n\r\n",
            [b" " * 3_000_000],
        ),
        "chunked-over-limit": (
            b"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
            b"application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
            [chunk] * 40 + [b"0\r\n\r\n"],
        ),
        "short-content-length": (
            b"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
            b"application/json\r\nContent-Length: 12\r\nConnection: close"
            b"\r\n\r\n" + b'{"instances": []}',
            [],
        ),
    }


EXPECTED = {
    "long-url": (414, b'"code":"bad_request"'),
    "long-header": (431, b'"code":"bad_request"'),
    "body-over-limit": (413, b'"code":"payload_too_large"'),
    "chunked-over-limit": (413, b'"code":"payload_too_large"'),
    # nginx forwards the 12 bytes it was told of; the app finds them not to be JSON.
    "short-content-length": (400, b'"code":"malformed_json"'),
}


@pytest.mark.parametrize("case", EXPECTED)
def test_oversized_and_lying_requests_get_the_contract_error(case: str, stacks: dict) -> None:
    request, chunks = oversized_requests()[case]
    answers = {
        name: body_of(raw_exchange(front.port, request, chunks))
        for name, (_, front) in stacks.items()
    }
    status, marker = EXPECTED[case]
    assert answers["flask"] == answers["django"]
    got_status, body = answers["flask"]
    assert got_status == status
    assert marker in body
    assert body.startswith(b'{"error":{"status":%d,' % status)


def test_probes_answer_alike_through_the_proxy(stacks: dict) -> None:
    for probe in probes():
        answers = {
            name: gunicorn.request(front.port, probe.method, probe.path, probe.body, probe.headers)[
                ::2
            ]
            for name, (_, front) in stacks.items()
        }
        direct = gunicorn.request(
            stacks["flask"][0].port, probe.method, probe.path, probe.body, probe.headers
        )[::2]
        assert answers["flask"] == answers["django"], probe.name
        assert answers["flask"] == direct, probe.name


def test_container_entry_point_renders_a_valid_config(tmp_path: Path) -> None:
    """`python -m deploy.nginx` (the compose proxies' command) writes what nginx accepts."""
    # nginx -t binds nothing, but wants a real port number.
    listen = f"{gunicorn.HOST}:{gunicorn.free_port()}"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "deploy.nginx",
            "--listen",
            listen,
            "--upstream",
            "127.0.0.1:8000",
            "--prefix",
            str(tmp_path),
            "--check",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr
    rendered = (tmp_path / "nginx.conf").read_text()
    for name in ("LISTEN", "UPSTREAM", "PREFIX", "MAX_BODY"):
        assert "${" + name + "}" not in rendered
    assert f"listen {listen};" in rendered

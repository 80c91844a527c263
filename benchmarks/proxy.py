"""Run nginx (deploy/nginx.conf) in front of an app on 127.0.0.1, stopped by PID."""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks import servers
from contract import DEFAULT_MAX_BODY_BYTES

TEMPLATE = servers.REPO / "deploy" / "nginx.conf"


def available() -> bool:
    """Return whether nginx is installed."""
    return shutil.which("nginx") is not None


def render(listen: str, upstream: str, prefix: Path, max_body: int = DEFAULT_MAX_BODY_BYTES) -> str:
    """Fill the template's placeholders."""
    text = TEMPLATE.read_text()
    for name, value in {
        "LISTEN": listen,
        "UPSTREAM": upstream,
        "PREFIX": str(prefix),
        "MAX_BODY": str(max_body),
    }.items():
        text = text.replace("${" + name + "}", value)
    return text


@dataclass
class Proxy:
    """An nginx master process."""

    port: int
    process: subprocess.Popen
    log_path: Path

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Wait until nginx accepts connections."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise servers.ServerError(f"nginx exited: {self.log_path.read_text()}")
            try:
                servers.get(self.port, "/health/live", timeout=1.0)
                return
            except OSError:
                time.sleep(0.05)
        raise servers.ServerError(f"nginx was not ready: {self.log_path.read_text()}")

    def stop(self) -> int:
        """Stop nginx gracefully (SIGQUIT), by PID."""
        return servers.stop_process(self.process, signal.SIGQUIT, 10)

    def __enter__(self) -> Proxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(
    upstream_port: int, workdir: Path, port: int | None = None, cpus: str | None = None
) -> Proxy:
    """Start nginx on 127.0.0.1:``port`` proxying to 127.0.0.1:``upstream_port``."""
    port = port or servers.free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "nginx.conf"
    config.write_text(render(f"{servers.HOST}:{port}", f"{servers.HOST}:{upstream_port}", workdir))
    command = ["nginx", "-p", str(workdir), "-c", str(config)]
    if cpus:
        command = ["taskset", "--cpu-list", cpus, *command]
    log_path = workdir / "nginx.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=log)
    return Proxy(port, process, log_path)


def main(argv: list[str] | None = None) -> None:
    """Render deploy/nginx.conf for one upstream and run nginx in the foreground (containers)."""
    import argparse
    import os

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--listen", default="0.0.0.0:8080", help="address nginx listens on")
    parser.add_argument("--upstream", required=True, help="the app, e.g. flask:8000")
    parser.add_argument(
        "--prefix",
        type=Path,
        default=Path(tempfile.gettempdir()) / "nginx",
        help="writable directory for the rendered config, pid and temp files",
    )
    parser.add_argument("--max-body", type=int, default=DEFAULT_MAX_BODY_BYTES)
    parser.add_argument("--check", action="store_true", help="only test the configuration")
    args = parser.parse_args(argv)
    args.prefix.mkdir(parents=True, exist_ok=True)
    config = args.prefix / "nginx.conf"
    config.write_text(render(args.listen, args.upstream, args.prefix, args.max_body))
    command = ["nginx", "-p", str(args.prefix), "-c", str(config)]
    if args.check:
        command.append("-t")
    # exec: nginx becomes the container's main process and receives its signals.
    os.execvp(command[0], command)  # noqa: S606 - nginx replaces this process, on purpose


if __name__ == "__main__":
    main()

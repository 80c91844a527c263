"""Render deploy/nginx.conf for one upstream, and run nginx with it (the containers' proxies).

    python -m deploy.nginx --listen 0.0.0.0:8080 --upstream flask:8000
    python -m deploy.nginx --upstream flask:8000 --check      # only test the configuration

The benchmark and the tests run the same configuration on 127.0.0.1 through
``benchmarks.serving.nginx``, which calls ``render`` here.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from contract import DEFAULT_MAX_BODY_BYTES

TEMPLATE = Path(__file__).resolve().parent / "nginx.conf"


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


def main(argv: list[str] | None = None) -> None:
    """Render deploy/nginx.conf for one upstream and run nginx in the foreground (containers)."""
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

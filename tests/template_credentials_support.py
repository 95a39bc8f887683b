"""Helpers for tests of where template credentials go: HTTP listeners on 127.0.0.1 that record
every request's headers (and can redirect elsewhere), consumers naming a given template URL, and
the real `evobot` entry point run in-process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from evobot_testing import build_file_tree

from bot.clock import ManualClock
from bot.consumer import CONFIG_NAME
from bot.report.provenance import build_provenance, dump_statement
from bot.tree import File


@dataclass
class Listener:
    """A threaded HTTP server on 127.0.0.1 that records the headers of every request.

    It answers 401 (asking for Basic credentials, as a git server does) or, with
    ``redirect_to``, a 301/302 to that base URL with the same path.
    """

    port: int
    requests: list[dict[str, str]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def saw(self, secret: str) -> bool:
        """Whether any request carried ``secret`` in any header."""
        return any(secret in value for r in self.requests for value in r.values())

    @property
    def authorizations(self) -> list[str]:
        return [r["authorization"] for r in self.requests if "authorization" in r]


@contextmanager
def listening(*, redirect_to: str | None = None, status: int = 302) -> Iterator[Listener]:
    """A running :class:`Listener`; stopped when the block ends."""
    listener = Listener(port=0)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            listener.requests.append(
                {"path": self.path, **{k.lower(): v for k, v in self.headers.items()}}
            )
            if redirect_to is not None:
                self.send_response(status)
                self.send_header("Location", redirect_to + self.path)
            else:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="test"')
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = _answer
        do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    listener.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield listener
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def consumer_naming(root: Path, template: str, *, with_provenance: bool = False) -> Path:
    """A consumer directory (not a git work tree) whose `.evobot.yml` names ``template``."""
    files = {
        CONFIG_NAME: (
            f"template: {template}\nversion:\n  ref: v1\n  commit: {'a' * 40}\n"
            "answers:\n  name: demo\n"
        ),
        "README.md": "# demo\n",
    }
    if with_provenance:
        statement = build_provenance(
            tree={"README.md": File(b"# demo\n")},
            template=template,
            commit="a" * 40,
            ref="v1",
            answers={"name": "demo"},
            clock=ManualClock(datetime(2026, 1, 1, tzinfo=UTC).timestamp()),
        )
        files[".evobot/provenance.json"] = dump_statement(statement).decode()
    return build_file_tree(root, files)


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """stdout and stderr with rich's line wrapping undone."""
        return (self.stdout + self.stderr).replace("\n", "")


def run_evobot(capsys: pytest.CaptureFixture[str], *args: str | Path) -> CliResult:
    """Run the real `evobot` entry point in-process; errors become exit codes, as for users."""
    from evobot_cli_support import invoke_evobot

    capsys.readouterr()
    run = invoke_evobot(*args)
    return CliResult(run.code, run.stdout, run.stderr)

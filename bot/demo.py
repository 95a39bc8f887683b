"""`python -m bot.demo`: a template release reaching a consumer service that has local edits.

In a scratch directory it makes a git template repository from `templates/fastapi-service`
(tagged v1.0.0), renders a consumer service from it, edits the consumer, releases v1.1.0 of the
template with a real improvement, evolves the consumer by three-way merge and shows the result.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table

from bot.cli._output import print_json
from bot.consumer import (
    CONFIG_NAME,
    ConsumerConfig,
    TemplateVersion,
    dump_consumer_config,
    load_consumer_config,
)
from bot.errors import EvobotError
from bot.evolution import Evolution, FileStatus, evolve_consumer
from bot.template import open_template, render_template, resolve_answers
from bot.tree import File, Tree, read_tree, write_tree

__all__ = ["DemoError", "DemoResult", "main", "run_demo"]

# The demo styles its own fixed text with markup; every path and message in it is escaped,
# and emoji codes are never read (a demo directory may be called `:x:`).
console = Console(emoji=False, highlight=False)
err_console = Console(stderr=True, emoji=False, highlight=False)

TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "templates" / "fastapi-service"

ANSWERS: dict[str, Any] = {
    "service_name": "orders",
    "description": "Order lookups for the shop front.",
    "owner_team": "checkout",
    "python_version": "3.12",
    "use_database": True,
    "metrics": True,
}

_GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "evobot demo",
    "GIT_AUTHOR_EMAIL": "demo@evobot.invalid",
    "GIT_COMMITTER_NAME": "evobot demo",
    "GIT_COMMITTER_EMAIL": "demo@evobot.invalid",
    "GIT_TERMINAL_PROMPT": "0",
}
_GIT_CONFIG = ("-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", "-c", "core.autocrlf=false")
_SERVICE_TIMEOUT_S = 600


class DemoError(EvobotError):
    """A demo step that failed, or an outcome the demo did not expect."""


# --- The consumer's local edits: a route of its own, its test, and a README section. -----

CONSUMER_API = '''\
"""Order lookups: the first route the orders team added to the generated service."""

from fastapi import APIRouter, HTTPException

router = APIRouter(prefix="/orders", tags=["orders"])

_ORDERS = {"1001": {"id": "1001", "status": "shipped"}}


@router.get("/{order_id}")
async def get_order(order_id: str) -> dict[str, str]:
    order = _ORDERS.get(order_id)
    if order is None:
        raise HTTPException(status_code=404, detail="order not found")
    return order
'''

CONSUMER_API_TEST = '''\
"""The orders team's own route."""

from fastapi.testclient import TestClient


def test_known_order_is_returned(client: TestClient) -> None:
    assert client.get("/orders/1001").json() == {"id": "1001", "status": "shipped"}


def test_unknown_order_is_404(client: TestClient) -> None:
    assert client.get("/orders/9999").status_code == 404
'''

CONSUMER_README_SECTION = """
## On-call

Page `#checkout-oncall`. Runbook: `docs/runbook.md`.
"""

# --- Template v1.1.0: every request gets an id, echoed in a header and logged on every line. --

REQUEST_ID_MODULE = '''\
"""Request ids: each request gets one (or keeps a well-formed one it brought along).

The id is returned in a response header and added to every log line written while the request
is handled, so one request's lines can be found across services.
"""

import re
import uuid
from contextvars import ContextVar

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Ids from clients are accepted only in this shape, so they cannot forge log content.
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{1,128}")

_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being handled in this context, if any."""
    return _current.get()


class RequestIdMiddleware:
    """Reads the request id header (or makes an id), and sets it on the response."""

    def __init__(self, app: ASGIApp, *, header: str) -> None:
        self.app = app
        self.header = header

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get(self.header)
        request_id = given if given and _WELL_FORMED.fullmatch(given) else uuid.uuid4().hex

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[self.header] = request_id
            await send(message)

        token = _current.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _current.reset(token)
'''

REQUEST_ID_TESTS = '''\
"""Every response carries a request id, and so does every log line of that request."""

import io
import json
import logging

from fastapi.testclient import TestClient

from {{ service_name }}.logs import JsonFormatter

HEADER = "{{ request_id_header }}"


def test_a_request_id_is_generated(client: TestClient) -> None:
    response = client.get("/healthz")

    assert len(response.headers[HEADER]) == 32


def test_a_well_formed_request_id_is_kept(client: TestClient) -> None:
    response = client.get("/healthz", headers={HEADER: "req-123"})

    assert response.headers[HEADER] == "req-123"


def test_a_malformed_request_id_is_replaced(client: TestClient) -> None:
    response = client.get("/healthz", headers={HEADER: "bad id\\tinjected"})

    assert response.headers[HEADER] != "bad id\\tinjected"


def test_log_lines_carry_the_request_id(client: TestClient) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("{{ service_name }}", "test"))
    access = logging.getLogger("access")
    access.addHandler(handler)
    try:
        client.get("/healthz", headers={HEADER: "req-456"})
    finally:
        access.removeHandler(handler)

    entry = json.loads(stream.getvalue().splitlines()[-1])
    assert entry["request_id"] == "req-456"
'''

REQUEST_ID_QUESTION = """  request_id_header:
    type: str
    help: HTTP header carrying the request id in and out (one is made when a request has none).
    default: X-Request-ID
    validator:
      regex: '^[A-Za-z0-9-]{1,64}$'
      message: must be an HTTP header name (letters, digits and dashes)
"""

SRC = "files/src/{{ service_name }}"

# (path in the template, text that must occur exactly once, what replaces it)
TEMPLATE_V1_1_EDITS: tuple[tuple[str, str, str], ...] = (
    ("template.yml", "  use_database:\n", REQUEST_ID_QUESTION + "  use_database:\n"),
    (
        f"{SRC}/settings.py.jinja",
        "    readiness_timeout_seconds: float = Field(default=2.0, gt=0)\n",
        "    readiness_timeout_seconds: float = Field(default=2.0, gt=0)\n"
        '    request_id_header: str = "{{ request_id_header }}"\n',
    ),
    (
        f"{SRC}/logs.py.jinja",
        "from typing import Any\n\n",
        "from typing import Any\n\n"
        "from {{ service_name }}.request_id import current_request_id\n\n",
    ),
    (
        f"{SRC}/logs.py.jinja",
        "            **self._static,\n        }\n",
        "            **self._static,\n        }\n"
        "        request_id = current_request_id()\n"
        "        if request_id is not None:\n"
        '            entry["request_id"] = request_id\n',
    ),
    (
        f"{SRC}/main.py.jinja",
        "from {{ service_name }}.middleware import AccessLogMiddleware\n",
        "from {{ service_name }}.middleware import AccessLogMiddleware\n"
        "from {{ service_name }}.request_id import RequestIdMiddleware\n",
    ),
    (
        f"{SRC}/main.py.jinja",
        "        app.add_middleware(AccessLogMiddleware)\n",
        "        app.add_middleware(AccessLogMiddleware)\n"
        "    # Outermost, so that every log line of a request (access log too) carries its id.\n"
        "    app.add_middleware(RequestIdMiddleware, header=settings.request_id_header)\n",
    ),
)

TEMPLATE_V1_1_FILES: dict[str, str] = {
    f"{SRC}/request_id.py": REQUEST_ID_MODULE,
    "files/tests/test_request_id.py.jinja": REQUEST_ID_TESTS,
}


# --- Steps ---------------------------------------------------------------------------------


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, **_GIT_IDENTITY}
    try:
        result = subprocess.run(
            ["git", *_GIT_CONFIG, *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
    except FileNotFoundError:
        raise DemoError("git is not installed; the demo needs it on PATH") from None
    if result.returncode != 0:
        raise DemoError(f"git {' '.join(args)} failed in {cwd}: {result.stderr.strip()}")
    return result.stdout.strip()


def _commit_all(repo: Path, message: str, *, tag: str | None = None) -> str:
    _git(repo, "add", "--all")
    _git(repo, "commit", "--quiet", "--message", message)
    if tag is not None:
        _git(repo, "tag", tag)
    return _git(repo, "rev-parse", "HEAD")


def make_template_repo(repo: Path) -> str:
    """Copy the built-in template into a fresh git repository tagged v1.0.0; return the commit."""
    if not (TEMPLATE_DIR / "template.yml").is_file():
        raise DemoError(
            f"{TEMPLATE_DIR}: the built-in template is missing",
            hint="run the demo from an evobot source checkout (pip install -e .)",
        )
    shutil.copytree(TEMPLATE_DIR, repo, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _git(repo, "init", "--quiet", "--initial-branch", "main")
    return _commit_all(repo, "fastapi-service template v1.0.0", tag="v1.0.0")


def render_consumer(template_repo: Path, dest: Path, answers: Mapping[str, Any]) -> ConsumerConfig:
    """First render of a consumer through the library API, `.evobot.yml` included."""
    with open_template(str(template_repo)) as template:
        resolved = resolve_answers(template.manifest, answers)
        tree = render_template(template, resolved.values)
        config = ConsumerConfig(
            template=str(template_repo),
            version=TemplateVersion(ref=template.ref, commit=template.commit),
            answers=resolved.values,
        )
    tree[CONFIG_NAME] = File(dump_consumer_config(config).encode())
    write_tree(dest, tree)
    _git(dest, "init", "--quiet", "--initial-branch", "main")
    _commit_all(dest, f"Render fastapi-service {config.version.ref}")
    return config


def _replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    if text.count(old) != 1:
        raise DemoError(f"{path}: expected {old.strip()!r} exactly once, found {text.count(old)}")
    path.write_text(text.replace(old, new), encoding="utf-8")


def edit_consumer(consumer: Path) -> None:
    """What a service team does after the first render: a route of its own and README notes."""
    package = consumer / "src" / "orders"
    (package / "api.py").write_text(CONSUMER_API, encoding="utf-8")
    (consumer / "tests" / "test_api.py").write_text(CONSUMER_API_TEST, encoding="utf-8")
    _replace_once(
        package / "main.py",
        "from orders import __version__\n",
        "from orders import __version__\nfrom orders.api import router as api_router\n",
    )
    _replace_once(
        package / "main.py",
        "    app.include_router(health_router)\n",
        "    app.include_router(health_router)\n    app.include_router(api_router)\n",
    )
    with (consumer / "README.md").open("a", encoding="utf-8") as readme:
        readme.write(CONSUMER_README_SECTION)
    _commit_all(consumer, "Add order lookups and on-call notes")


def release_template_v1_1(repo: Path) -> str:
    """The platform team's improvement: request ids in headers and logs, a new question."""
    for rel, old, new in TEMPLATE_V1_1_EDITS:
        _replace_once(repo / rel, old, new)
    for rel, text in TEMPLATE_V1_1_FILES.items():
        (repo / rel).write_text(text, encoding="utf-8")
    return _commit_all(repo, "Request ids: header in and out, on every log line", tag="v1.1.0")


def _run(command: Sequence[str], cwd: Path) -> tuple[bool, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "ORDERS_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    try:
        result = subprocess.run(
            list(command),
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=_SERVICE_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return False, f"timed out after {_SERVICE_TIMEOUT_S} s"
    output = (result.stdout + result.stderr).strip()
    return result.returncode == 0, output


def check_service(consumer: Path) -> dict[str, str]:
    """Run the evolved service's own checks with this interpreter: ruff, bandit, and pytest.

    pytest, aiosqlite and greenlet come with `evobot[dev]` (what `make demo` installs); without
    them the service's test suite is reported as skipped rather than failing for the wrong reason.
    """
    python = sys.executable
    results: dict[str, str] = {}
    checks: dict[str, list[str]] = {
        "ruff check": [python, "-m", "ruff", "check", "--no-cache", "."],
        "ruff format": [python, "-m", "ruff", "format", "--no-cache", "--check", "."],
        "bandit": [python, "-m", "bandit", "-q", "-c", "pyproject.toml", "-r", "src"],
    }
    needed = ("pytest", "aiosqlite", "greenlet")
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if not missing:
        checks["pytest"] = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    for name, command in checks.items():
        ok, output = _run(command, consumer)
        last = output.splitlines()[-1] if output else ""
        if ok:
            results[name] = f"passed: {last}" if last else "passed"
        else:
            results[name] = f"FAILED: {output[-2000:]}"
    if missing:
        results["pytest"] = f"skipped: {', '.join(missing)} not installed (pip install -e '.[dev]')"
    return results


@dataclass
class DemoResult:
    """What the demo did and saw, for the rich summary and for `--json`."""

    demo_dir: Path
    template_repo: Path
    consumer: Path
    evolution: Evolution
    kept: dict[str, bool] = field(default_factory=dict)
    arrived: dict[str, bool] = field(default_factory=dict)
    second_run_changed: bool = True
    service_checks: dict[str, str] = field(default_factory=dict)
    main_py_diff: str = ""

    @property
    def ok(self) -> bool:
        checks_ok = not any(v.startswith("FAILED") for v in self.service_checks.values())
        return (
            not self.evolution.conflicts
            and all(self.kept.values())
            and all(self.arrived.values())
            and not self.second_run_changed
            and checks_ok
        )

    def to_json(self) -> dict[str, Any]:
        evolution = self.evolution
        return {
            "demo_dir": str(self.demo_dir),
            "template_repo": str(self.template_repo),
            "consumer": str(self.consumer),
            "from": evolution.from_version.model_dump(),
            "to": evolution.to_version.model_dump(),
            "files": [{"path": o.path, "status": str(o.status)} for o in evolution.files],
            "conflicts": list(evolution.conflicts),
            "local_edits_kept": self.kept,
            "template_changes_arrived": self.arrived,
            "second_update_is_noop": not self.second_run_changed,
            "service_checks": self.service_checks,
            "ok": self.ok,
        }


def _say(quiet: bool, message: str) -> None:
    if not quiet:
        console.print(message, highlight=False)


def run_demo(demo_dir: Path, *, run_service_checks: bool = True, quiet: bool = False) -> DemoResult:
    """Run every step in ``demo_dir`` (which must be empty or absent) and return what happened."""
    if demo_dir.exists() and not demo_dir.is_dir():
        raise DemoError(f"{demo_dir}: exists and is not a directory; the demo needs an empty one")
    try:
        demo_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DemoError(f"{demo_dir}: cannot create the demo directory: {exc.strerror}") from None
    if any(demo_dir.iterdir()):
        raise DemoError(f"{demo_dir}: not empty; the demo needs an empty directory")
    template_repo = demo_dir / "template-repo"
    consumer = demo_dir / "orders-service"

    _say(quiet, "[bold]1.[/] template repository from templates/fastapi-service, tagged v1.0.0")
    make_template_repo(template_repo)
    _say(quiet, "[bold]2.[/] render the orders service from v1.0.0 and commit it")
    render_consumer(template_repo, consumer, ANSWERS)
    _say(quiet, "[bold]3.[/] the orders team edits it: a /orders route, its test, README notes")
    edit_consumer(consumer)
    before = read_tree(consumer)
    _say(quiet, "[bold]4.[/] the platform team releases v1.1.0: request ids in headers and logs")
    release_template_v1_1(template_repo)
    _say(quiet, "[bold]5.[/] evolve the orders service to v1.1.0 (three-way merge) and commit")
    evolution = evolve_consumer(before, load_consumer_config(consumer))
    write_tree(consumer, evolution.tree, delete=evolution.deleted)
    _commit_all(consumer, f"evobot: fastapi-service {evolution.to_version.ref}")

    after = read_tree(consumer)
    result = DemoResult(demo_dir, template_repo, consumer, evolution)
    result.kept = _local_edits_kept(before, after)
    result.arrived = _template_changes_arrived(after)
    result.main_py_diff = _diff(before, after, "src/orders/main.py")
    _say(quiet, "[bold]6.[/] run the update again: it must change nothing")
    result.second_run_changed = evolve_consumer(after, load_consumer_config(consumer)).changed
    if run_service_checks:
        _say(quiet, "[bold]7.[/] run the evolved service's own checks")
        result.service_checks = check_service(consumer)
    return result


def _text(tree: Tree, path: str) -> str:
    f = tree.get(path)
    return f.data.decode("utf-8") if f is not None else ""


def _diff(before: Tree, after: Tree, path: str) -> str:
    lines = difflib.unified_diff(
        _text(before, path).splitlines(keepends=True),
        _text(after, path).splitlines(keepends=True),
        fromfile=f"a/{path}",
        tofile=f"b/{path}",
    )
    return "".join(lines)


def _local_edits_kept(before: Tree, after: Tree) -> dict[str, bool]:
    main_py = _text(after, "src/orders/main.py")
    api, api_test = "src/orders/api.py", "tests/test_api.py"
    return {
        f"{api} untouched": after.get(api) == before[api],
        f"{api_test} untouched": after.get(api_test) == before[api_test],
        "main.py still includes the /orders router": "app.include_router(api_router)" in main_py
        and "from orders.api import router as api_router" in main_py,
        "README.md keeps the on-call section": "## On-call" in _text(after, "README.md"),
    }


def _template_changes_arrived(after: Tree) -> dict[str, bool]:
    config = _text(after, CONFIG_NAME)
    return {
        "src/orders/request_id.py added": "src/orders/request_id.py" in after,
        "main.py installs RequestIdMiddleware": "RequestIdMiddleware"
        in _text(after, "src/orders/main.py"),
        "log lines carry request_id": "current_request_id()" in _text(after, "src/orders/logs.py"),
        "new question answered with its default": "request_id_header: X-Request-ID" in config,
        ".evobot.yml records v1.1.0": "ref: v1.1.0" in config,
    }


_STATUS_STYLE = {
    FileStatus.UNCHANGED: "dim",
    FileStatus.UPDATED: "cyan",
    FileStatus.ADDED: "green",
    FileStatus.DELETED: "yellow",
    FileStatus.CONFLICT: "bold red",
}


def _mark(ok: bool) -> str:
    return "[green]yes[/]" if ok else "[bold red]NO[/]"


def show(result: DemoResult) -> None:
    """The rich summary for people."""
    evolution = result.evolution
    table = Table(
        title=f"fastapi-service {evolution.from_version.ref} -> {evolution.to_version.ref}",
        title_justify="left",
    )
    table.add_column("file")
    table.add_column("status")
    table.add_column("detail", overflow="fold")
    unchanged = 0
    for outcome in evolution.files:
        if outcome.status is FileStatus.UNCHANGED:
            unchanged += 1
            continue
        style = _STATUS_STYLE.get(outcome.status, "")
        table.add_row(
            escape(outcome.path), f"[{style}]{outcome.status}[/]", escape(outcome.detail or "")
        )
    table.caption = f"{unchanged} more files unchanged"
    console.print(table)

    if result.main_py_diff:
        console.print(
            Panel(
                Syntax(result.main_py_diff.rstrip("\n"), "diff", theme="ansi_dark", word_wrap=True),
                title="what the evolution changed in src/orders/main.py, next to the team's edits",
                expand=False,
            )
        )
    conflicts = escape(", ".join(evolution.conflicts)) if evolution.conflicts else "[green]none[/]"
    console.print(f"conflicts: {conflicts}")
    checks = Table.grid(padding=(0, 2))
    for label, ok in {**result.kept, **result.arrived}.items():
        checks.add_row(_mark(ok), label)
    checks.add_row(_mark(not result.second_run_changed), "a second update changes nothing")
    for name, said in result.service_checks.items():
        ok = not said.startswith("FAILED")
        checks.add_row(_mark(ok), escape(f"service {name}: {said.splitlines()[0]}"))
    console.print(Panel(checks, title="local edits kept, template changes arrived", expand=False))
    console.print(
        f"demo directory: [bold]{escape(str(result.demo_dir))}[/]\n"
        f"  template repository: {escape(str(result.template_repo))}  (git tag)\n"
        f"  consumer service:    {escape(str(result.consumer))}  (git log --stat)",
        highlight=False,
    )


def _configure_logging() -> None:
    # Library logs are for operators: warnings and up, on stderr, never mixed into the output.
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m bot.demo`; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m bot.demo",
        description="Render a service from the FastAPI template, edit it, release a new template "
        "version and evolve the service, keeping its edits.",
    )
    parser.add_argument("--dir", type=Path, help="empty directory to work in (default: a new one)")
    parser.add_argument(
        "--keep",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="keep the demo directory afterwards to look around (default: keep)",
    )
    parser.add_argument(
        "--skip-service-checks",
        action="store_true",
        help="do not run the evolved service's ruff and pytest",
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    args = parser.parse_args(argv)
    _configure_logging()

    demo_dir = args.dir or Path(tempfile.mkdtemp(prefix="evobot-demo-"))
    try:
        result = run_demo(
            demo_dir, run_service_checks=not args.skip_service_checks, quiet=args.json
        )
    except EvobotError as exc:
        err_console.print(f"[bold red]error:[/] {escape(exc.diagnostics())}", highlight=False)
        if demo_dir.is_dir():
            err_console.print(f"demo directory left for inspection: {escape(str(demo_dir))}")
        return exc.exit_code
    if args.json:
        print_json(result.to_json())
    else:
        show(result)
    for name, said in result.service_checks.items():
        if said.startswith("FAILED"):
            err_console.print(f"[bold red]service {name}[/]\n{escape(said)}", highlight=False)
    if not args.keep and result.ok:
        shutil.rmtree(demo_dir, ignore_errors=True)
        if not args.json:
            console.print("demo directory removed (--no-keep)")
    if not result.ok:
        err_console.print("[bold red]the demo did not go as expected[/] (see above)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`evobot demo` (the whole loop) for people and machines: the live progress view, then the
summary table (or `--json`); `--serve` keeps everything up afterwards and prints where."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
from rich.live import Live
from rich.markup import escape

from bot.demo._console import console, err_console, print_json
from bot.demo.live import progress_view, summary_table, summary_text
from bot.demo.loop import LoopOptions, Running, ServiceStarter, run_loop
from bot.demo.summary import Summary
from bot.errors import EvobotError

__all__ = ["DASHBOARD_PATH", "show_loop"]

DASHBOARD_PATH = "/dashboard"


def _dashboard(url: str) -> str | None:
    """The service's dashboard URL, if this service serves one."""
    try:
        answer = httpx.get(url + DASHBOARD_PATH, timeout=5, trust_env=False)
    except httpx.HTTPError:
        return None
    return url + DASHBOARD_PATH if answer.status_code == 200 else None


def _serve(running: Running, json_output: bool) -> None:
    url = running.service.url
    dashboard = _dashboard(url)
    out = err_console if json_output else console
    lines = [
        f"service:  {url}  (/healthz, /readyz, /metrics)",
        f"dashboard: {dashboard}"
        if dashboard
        else "dashboard: not served by this evobot yet (the rollout is in the service's store)",
        f"emulator: {running.gh.api_url}",
        "up until Ctrl-C",
    ]
    for line in lines:
        out.print(escape(line), highlight=False)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        out.print("stopping")


def show_loop(
    work_dir: Path,
    start_service: ServiceStarter,
    *,
    repos: int,
    json_output: bool,
    serve: bool,
    options: LoopOptions | None = None,
) -> int:
    """Run the loop in ``work_dir``; print it; the exit code (0 only when the story happened)."""
    options = options or LoopOptions(repos=repos)
    quiet = json_output

    def say(text: str) -> None:
        if not quiet and live is None:
            console.print(escape(text), highlight=False)

    live: Live | None = None

    def tick(running: Running) -> None:
        nonlocal live
        if quiet:
            return
        if live is None:
            live = Live(progress_view(running), console=console, refresh_per_second=4)
            live.start()
        else:
            live.update(progress_view(running))

    def after(running: Running, summary: Summary) -> None:
        nonlocal live
        if live is not None:
            live.stop()
            live = None
        _print(summary, work_dir, json_output)
        if serve:
            _serve(running, json_output)

    try:
        summary = run_loop(work_dir, start_service, options, say=say, on_tick=tick, after=after)
    except EvobotError as exc:
        if live is not None:
            live.stop()
        err_console.print(f"[bold red]error:[/] {escape(exc.diagnostics())}", highlight=False)
        err_console.print(f"demo directory left for inspection: {escape(str(work_dir))}")
        return exc.exit_code
    finally:
        if live is not None:
            live.stop()
    return 0 if summary.ok else 1


def _print(summary: Summary, work_dir: Path, json_output: bool) -> None:
    if json_output:
        print_json({**summary.data, "demo_dir": str(work_dir)})
        return
    console.print()
    console.print(summary_table(summary))
    line = summary_text(summary)
    if summary.ok:
        console.print(escape(line), style="bold green", highlight=False)
    else:
        err_console.print(escape(line), style="bold red", highlight=False)
    console.print(f"demo directory: {escape(str(work_dir))}", highlight=False)

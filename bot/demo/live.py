"""The loop's output for people: a live view of the rollout while it runs (rich), then the
summary table. Repository names and texts are printed literally (escaped, never markup)."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from bot.demo.loop import Running
from bot.demo.summary import Summary

__all__ = ["progress_view", "summary_table", "summary_text"]

_STYLE = {
    "merged": "green",
    "green": "green",
    "success": "green",
    "completed": "bold green",
    "passed": "green",
    "open": "cyan",
    "opening": "cyan",
    "pending": "dim",
    "baking": "yellow",
    "wave-baking": "yellow",
    "wave-open": "cyan",
    "halted": "bold red",
    "failure": "bold red",
    "reverted": "bold red",
    "failed": "bold red",
    "closed": "yellow",
}


def _cell(value: Any) -> Text:
    text = "-" if value is None else str(value)
    return Text(text, style=_STYLE.get(text, ""))


def _table(summary: Summary, title: str) -> Table:
    data = summary.data
    table = Table(title=title, title_justify="left", caption="* canary", caption_justify="left")
    table.add_column("wave")
    table.add_column("repository", no_wrap=True)
    for column in ("evobot", "PR", "PR CI", "main CI", "revert"):
        table.add_column(column)
    for wave in data["waves"]:
        label = f"{wave['number']} {wave['status']}"
        for consumer in wave["consumers"]:
            pr = f"#{consumer['pr']} {consumer['pr_state']}" if consumer["pr"] else "-"
            revert = f"#{consumer['revert_pr']}" if consumer["revert_pr"] else "-"
            name = consumer["repo"] + (" *" if consumer["canary"] else "")
            table.add_row(
                _cell(label),
                Text(name),
                _cell(consumer["status"]),
                Text(pr, style=_STYLE.get(consumer["pr_state"], "")),
                _cell(consumer["checks"]["pr"]),
                _cell(consumer["checks"]["default_branch"]),
                Text(revert, style="bold red" if consumer["revert_pr"] else ""),
            )
            label = ""
    return table


def progress_view(running: Running) -> RenderableType:
    """What the live view shows now: the rollout's status, its waves, the last few steps."""
    summary = running.summary()
    state = summary.status or "not begun yet"
    header = Text.assemble(
        ("rollout ", "bold"), (running.key, ""), ("  ", ""), (state, _STYLE.get(state, "bold"))
    )
    recent = Text("\n".join(running.story[-6:]), style="dim")
    return Group(header, _table(summary, ""), recent)


def summary_table(summary: Summary) -> RenderableType:
    data = summary.data
    rollout = data["rollout"]
    state = rollout["state"] or "not begun"
    title = f"{rollout['template']} {rollout['version']}: {state}"
    parts: list[RenderableType] = [_table(summary, escape(title))]
    for revert in data["revert_prs"]:
        parts.append(
            Text(
                f"revert PR {revert['repo']}#{revert['number']} ({revert['state']}): "
                f"{revert['title']}"
            )
        )
    return Group(*parts)


def summary_text(summary: Summary) -> str:
    """One line saying how the story ended."""
    data = summary.data
    if data["stopped"]:
        return f"the loop stopped: {data['stopped']}"
    state = data["rollout"]["state"]
    if summary.ok:
        resumed = data["resumed_by"]
        return (
            f"canary wave, waves advanced, {data['broken_consumer']} broke after its merge and "
            f"got a revert PR, the rollout halted, @{resumed['user']} resumed it on "
            f"{resumed['repo']}#{resumed['number']}, and it {state}"
        )
    return f"the rollout ended {state}, not as the demo expects (see the table)"

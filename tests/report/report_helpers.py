"""Helpers of the report tests: a real template git repository and a consumer rendered from it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from conftest import build_file_tree, git_commit_all, git_init

from bot.consumer import ConsumerConfig, TemplateVersion, dump_consumer_config
from bot.report.provenance import PROVENANCE_PATH, build_provenance, dump_statement
from bot.template import open_template, render_template, resolve_answers
from bot.tree import File, write_tree

TEMPLATE_FILES: dict[str, str | bytes] = {
    "template.yml": (
        "name: tiny-service\n"
        "questions:\n"
        "  service_name:\n"
        "    type: str\n"
        "    default: demo\n"
        "skip_if_exists:\n"
        "  - CHANGELOG.md\n"
    ),
    "files/README.md.jinja": "# {{ service_name }}\n\nGenerated.\n",
    "files/src/{{ service_name }}/app.py.jinja": 'NAME = "{{ service_name }}"\n',
    "files/CHANGELOG.md": "# Changelog\n",
    "files/logo.bin": b"\x00\x01\x02binary",
}


def make_template_repo(root: Path, tag: str = "v1.0.0") -> tuple[Path, str]:
    """A git repository holding TEMPLATE_FILES, tagged ``tag``; returns (path, commit)."""
    git_init(root)
    build_file_tree(root, TEMPLATE_FILES)
    return root, git_commit_all(root, "template", tag=tag)


def fixed_clock() -> datetime:
    return datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def render_consumer(template: Path, dest: Path, answers: dict[str, str]) -> dict[str, File]:
    """Render like `evobot render` does: files, `.evobot.yml` and the provenance file."""
    with open_template(str(template)) as resolved:
        values = resolve_answers(resolved.manifest, answers).values
        tree = render_template(resolved, values)
        config = ConsumerConfig(
            template=str(template),
            version=TemplateVersion(ref=resolved.ref, commit=resolved.commit),
            answers=values,
        )
        statement = build_provenance(
            tree=tree,
            template=config.template,
            ref=resolved.ref,
            commit=resolved.commit,
            answers=config.answers,
            clock=fixed_clock,
            new_id=lambda: "test-invocation",
        )
    full = dict(tree)
    full[".evobot.yml"] = File(dump_consumer_config(config).encode())
    full[PROVENANCE_PATH] = File(dump_statement(statement))
    write_tree(dest, full)
    return tree

"""How a template written for copier or cookiecutter is rendered: the settings evobot honours.

A :class:`Dialect` rides on the :class:`~bot.template.manifest.Manifest` that
:mod:`bot.template.copier` or :mod:`bot.template.cookiecutter` builds from a `copier.yml` or a
`cookiecutter.json`; `template.yml` cannot set it. Everything here is data: no template code
(tasks, hooks, migrations scripts, Jinja extensions) is ever run by evobot.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ENVOPS_KEYS", "Dialect", "DialectKind"]

DialectKind = Literal["copier", "cookiecutter"]

# The Jinja environment options a copier template may set in `_envops` (all plain data).
ENVOPS_KEYS = frozenset(
    {
        "block_start_string",
        "block_end_string",
        "variable_start_string",
        "variable_end_string",
        "comment_start_string",
        "comment_end_string",
        "line_statement_prefix",
        "line_comment_prefix",
        "trim_blocks",
        "lstrip_blocks",
        "newline_sequence",
        "keep_trailing_newline",
        "autoescape",
        "undefined",
        "optimized",
        "cache_size",
        "auto_reload",
    }
)


class Dialect(BaseModel):
    """The copier or cookiecutter rendering rules of one template.

    ``exclude``/``skip_if_exists`` are copier's gitignore-style patterns (rendered with the
    answers before use); ``copy_without_render`` are cookiecutter's fnmatch patterns.
    ``not_run`` lists, for the report, every task, migration script and hook the template asks
    to run: evobot runs none of them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: DialectKind
    config_file: str
    templates_suffix: str = ".jinja"
    envops: dict[str, Any] = Field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    skip_if_exists: tuple[str, ...] = ()
    answers_file: str = ".copier-answers.yml"
    secret_questions: tuple[str, ...] = ()
    questions: dict[str, dict[str, Any]] = Field(default_factory=dict)
    messages: dict[str, str] = Field(default_factory=dict)
    not_run: tuple[str, ...] = ()
    # cookiecutter: the whole `cookiecutter.json` (private `_` keys included), in its order
    context: dict[str, Any] = Field(default_factory=dict)
    copy_without_render: tuple[str, ...] = ()
    project_dir: str = ""
    now: str | None = Field(
        default=None,
        description="the template version's commit time (ISO 8601): what `{% now %}` shows",
    )

    @property
    def delimiters(self) -> tuple[str, ...]:
        """What starts Jinja in this dialect; text holding none of them renders as itself."""
        ops = self.envops
        found = [
            str(ops.get("variable_start_string", "{{")),
            str(ops.get("block_start_string", "{%")),
            str(ops.get("comment_start_string", "{#")),
        ]
        for key in ("line_statement_prefix", "line_comment_prefix"):
            if ops.get(key):
                found.append(str(ops[key]))
        return tuple(found)

    @property
    def undefined(self) -> Literal["default", "strict"]:
        """copier's default is Jinja's lenient Undefined; cookiecutter's is strict."""
        if self.kind == "cookiecutter":
            return "strict"
        return "strict" if self.envops.get("undefined") == "jinja2.StrictUndefined" else "default"

    def worker_options(self) -> dict[str, Any]:
        """What the render worker needs to build this dialect's Jinja environment."""
        envops = {k: v for k, v in self.envops.items() if k != "undefined"}
        return {"kind": self.kind, "envops": envops, "undefined": self.undefined, "now": self.now}

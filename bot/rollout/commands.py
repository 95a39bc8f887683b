"""``/evobot <verb> [args]`` in PR and issue comments: parsing and who may command.

Pure: `parse_command` reads a comment body (the first ``/evobot`` line outside code blocks and
quotes; verbs case-insensitive; arguments split like a shell, quotes kept together) and never
raises; `authorize` decides from a permission string; `PermissionCache` keeps the API's answers
for a short while on an injected clock.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Literal

from bot.clock import Clock

__all__ = [
    "HELP_TEXT",
    "ROLLOUT_WIDE",
    "VERBS",
    "WRITE_PERMISSIONS",
    "Authorization",
    "Command",
    "PermissionCache",
    "authorize",
    "is_command_comment",
    "parse_command",
]

Verb = Literal[
    "rebase",
    "recreate",
    "retry",
    "skip",
    "pause",
    "resume",
    "promote",
    "rollback",
    "status",
    "help",
]

VERBS: dict[str, tuple[str, ...]] = {
    # verb: the flags it takes
    "rebase": (),
    "recreate": (),
    "retry": (),
    "skip": (),
    "pause": ("--rollout",),
    "resume": ("--rollout",),
    "promote": ("--full",),
    "rollback": (),
    "status": (),
    "help": (),
}

HELP_TEXT = """\
evobot commands (comment `/evobot <verb>` on an evolution PR; write permission needed):

- `/evobot rebase` — re-evolve this PR onto the current default branch
- `/evobot recreate` — rebuild this PR from scratch, dropping commits pushed to its branch
- `/evobot retry` — evolve this repository again after a closed, blocked or failing PR
- `/evobot skip` — skip this template version for this repository (closes the PR)
- `/evobot pause` / `/evobot resume` — hold or release this repository; with `--rollout`, the \
whole rollout (needs write permission on the template repository)
- `/evobot promote` — end the current wave's bake time now; `--full` opens every remaining \
wave (template repository permission)
- `/evobot rollback` — revert every merged consumer of this rollout (template repository \
permission)
- `/evobot status` — where this repository and its rollout stand
- `/evobot help` — this text
"""

WRITE_PERMISSIONS = frozenset({"admin", "maintain", "write"})

_PREFIX = re.compile(r"^/evobot(?:\s+(?P<rest>.*))?$", re.IGNORECASE)
_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})")


@dataclass(frozen=True)
class Command:
    """A parsed command. ``verb`` is lower-cased; an unknown one is kept in ``unknown`` with
    ``verb`` set to ``help``. ``error`` says what is wrong with the arguments, if anything."""

    verb: Verb
    flags: frozenset[str] = frozenset()
    args: tuple[str, ...] = ()
    text: str = ""
    unknown: str | None = None
    error: str | None = None

    @property
    def rollout_wide(self) -> bool:
        """Whether it acts on the whole rollout, so needs permission on the template repo."""
        return self.verb in ("promote", "rollback") or (
            self.verb in ("pause", "resume") and "--rollout" in self.flags
        )


ROLLOUT_WIDE = ("promote", "rollback", "pause --rollout", "resume --rollout")


def _command_lines(body: str) -> list[str]:
    """Lines outside fenced code blocks, not quoted, with leading whitespace dropped."""
    lines: list[str] = []
    fence: str | None = None
    for raw in body.splitlines():
        line = raw.strip()
        found = _FENCE.match(line)
        if fence is not None:
            if (
                found
                and found.group("fence")[0] == fence[0]
                and len(found.group("fence")) >= len(fence)
            ):
                fence = None
            continue
        if found:
            fence = found.group("fence")
            continue
        if raw.startswith(("    ", "\t")) or line.startswith(">"):
            continue  # indented code, or someone quoting an earlier command
        lines.append(line)
    return lines


def _split(rest: str) -> tuple[list[str], str | None]:
    try:
        return shlex.split(rest, comments=False, posix=True), None
    except ValueError as exc:  # an unbalanced quote
        return rest.split(), f"cannot read the arguments ({exc})"


def parse_command(body: str | None) -> Command | None:
    """The first command in a comment ``body``, or None when it holds none. Never raises."""
    if not body:
        return None
    for line in _command_lines(body):
        match = _PREFIX.match(line)
        if match is None:
            continue
        words, error = _split(match.group("rest") or "")
        if not words:
            return Command("help", text=line)
        name = words[0].lower()
        if name not in VERBS:
            return Command("help", text=line, unknown=words[0][:50])
        verb: Verb = name  # type: ignore[assignment]
        flags = frozenset(w.lower() for w in words[1:] if w.startswith("--"))
        args = tuple(w for w in words[1:] if not w.startswith("--"))
        bad = sorted(flags - set(VERBS[verb]))
        if bad and error is None:
            allowed = ", ".join(VERBS[verb]) or "none"
            error = f"`{verb}` does not take {', '.join(bad)} (it takes: {allowed})"
        if args and error is None:
            error = f"`{verb}` takes no arguments, got {' '.join(args)[:80]!r}"
        return Command(verb, flags, args, line, error=error)
    return None


def is_command_comment(action: str, sender_login: str | None, sender_type: str | None) -> bool:
    """Only newly created comments by people count: edits and bots' comments are ignored."""
    if action != "created" or not sender_login:
        return False
    return sender_type != "Bot" and not sender_login.endswith("[bot]")


@dataclass(frozen=True)
class Authorization:
    allowed: bool
    reason: str


def authorize(
    command: Command,
    user: str,
    *,
    repo: str,
    permission: str,
    template_repo: str | None = None,
    template_permission: str | None = None,
) -> Authorization:
    """Whether ``user`` may give ``command``: write, maintain or admin on ``repo``; a
    rollout-wide verb also needs it on ``template_repo``. The reason is the reply's text."""
    if permission not in WRITE_PERMISSIONS:
        return Authorization(
            False,
            f"@{user} has {permission or 'no'} permission on {repo}; evobot takes commands "
            "from people with write, maintain or admin permission",
        )
    if command.rollout_wide:
        if template_repo is None:
            return Authorization(
                False, f"`{command.text}` acts on a whole rollout, and this PR belongs to none"
            )
        if template_permission not in WRITE_PERMISSIONS:
            return Authorization(
                False,
                f"`{command.text}` acts on the whole rollout; @{user} needs write, maintain or "
                f"admin permission on the template repository {template_repo} "
                f"(has {template_permission or 'none'})",
            )
    return Authorization(True, f"@{user} has {permission} permission on {repo}")


@dataclass
class PermissionCache:
    """Permission answers by (repo, user), kept ``ttl`` seconds of ``clock``'s time."""

    clock: Clock
    ttl: float = 60.0
    _entries: dict[tuple[str, str], tuple[float, str]] = field(default_factory=dict)

    def get(self, repo: str, user: str) -> str | None:
        key = (repo.lower(), user.lower())
        found = self._entries.get(key)
        if found is None:
            return None
        if self.clock.now() >= found[0]:
            del self._entries[key]
            return None
        return found[1]

    def put(self, repo: str, user: str, permission: str) -> None:
        self._entries[(repo.lower(), user.lower())] = (self.clock.now() + self.ttl, permission)

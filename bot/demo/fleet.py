"""The demo fleet: the FastAPI service template as a repository on the emulator (v1.0.0, with a
`rollout.yml`), N consumer services rendered from it with varied answers (two in the canary
ring), the edits each team made afterwards, and template v1.1.0 — request ids in headers and
logs, the same release the local walk-through evolves.

Data for the emulator's seed, and the two pushes made through its handle once it runs: the
teams' edits (`edit_consumers`) and the release (`release`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from bot.demo.steps import (
    CONSUMER_README_SECTION,
    TEMPLATE_DIR,
    TEMPLATE_V1_1_FILES,
    DemoError,
    template_v1_1_edits,
)
from bot.emulator.testing import EmulatorHandle
from bot.tree import read_tree

__all__ = [
    "CANARIES",
    "MAINTAINER",
    "ORG",
    "RELEASE",
    "ROLLOUT_POLICY",
    "TEMPLATE_REPO",
    "ConsumerSpec",
    "Fleet",
    "LocalEdit",
    "edit_consumers",
    "edited_files",
    "make_fleet",
    "release",
    "release_files",
]

ORG = "acme"
TEMPLATE_REPO = f"{ORG}/fastapi-service"
FIRST = "v1.0.0"
RELEASE = "v1.1.0"
CANARIES = 2
MAINTAINER = "maria"  # maintains every repository: merges PRs, answers the bot
PLATFORM = "pat"  # the platform engineer who releases the template
PEOPLE = {MAINTAINER: "maintain", PLATFORM: "write"}
# Canaries first, then half of the rest, then all; no bake time, so waves pass once green.
ROLLOUT_POLICY: dict[str, Any] = {"waves": [50, 100], "bake_seconds": 0}
# CI of every repository: a file with an unresolved conflict marker fails it. Fast and honest
# for an emulated fleet (the services' own test suites are what the local walk-through runs).
GREEN_CI: dict[str, Any] = {"fail_if_content_matches": "(?m)^(<<<<<<<|>>>>>>>) ", "name": "ci"}
RED_CI: dict[str, Any] = {"always": "failure", "name": "ci"}

_NAMES = (
    "orders",
    "billing",
    "search",
    "inventory",
    "shipping",
    "catalog",
    "reviews",
    "accounts",
    "pricing",
    "notify",
    "ledger",
    "returns",
    "loyalty",
    "checkout",
    "refunds",
    "tracking",
)
_TEAMS = ("checkout", "payments", "discovery", "logistics")
_PYTHONS = ("3.12", "3.11", "3.13")


@dataclass(frozen=True)
class LocalEdit:
    """What a service team changed after the first render, as a commit on its default branch:
    whole new files, and ``(old, new)`` replacements that must each match once."""

    message: str
    add: dict[str, str] = field(default_factory=dict)
    replace: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    append: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ConsumerSpec:
    repo: str
    answers: dict[str, Any]
    canary: bool
    edit: LocalEdit

    @property
    def service_name(self) -> str:
        return str(self.answers["service_name"])


@dataclass(frozen=True)
class Fleet:
    template_repo: str
    consumers: tuple[ConsumerSpec, ...]

    @property
    def canaries(self) -> tuple[str, ...]:
        return tuple(c.repo for c in self.consumers if c.canary)

    def seed(self) -> dict[str, Any]:
        """The emulator's seed: the template at v1.0.0 and every consumer rendered from it.
        The App is installed later (so the service hears of the installation)."""
        template = {
            "full_name": self.template_repo,
            "from_dir": str(TEMPLATE_DIR),
            "files": {"rollout.yml": yaml.safe_dump(ROLLOUT_POLICY, sort_keys=False)},
            "tags": [FIRST],
            "collaborators": PEOPLE,
            "ci": None,
        }
        repos: list[dict[str, Any]] = [template]
        for spec in self.consumers:
            repos.append(
                {
                    "full_name": spec.repo,
                    "render": {
                        "template": self.template_repo,
                        "ref": FIRST,
                        "answers": spec.answers,
                        "ring": "canary" if spec.canary else None,
                    },
                    "ci": GREEN_CI,
                    "collaborators": PEOPLE,
                }
            )
        return {"app": {}, "installations": [], "repos": repos, "random_seed": 10}


def _answers(n: int) -> dict[str, Any]:
    name = _NAMES[n] if n < len(_NAMES) else f"service{n + 1}"
    return {
        "service_name": name,
        "description": f"The {name} service of the shop.",
        "owner_team": _TEAMS[n % len(_TEAMS)],
        "python_version": _PYTHONS[n % len(_PYTHONS)],
        "http_port": 8000 if n % 2 == 0 else 8080,
        "use_database": n % 3 != 2,
        "metrics": n % 4 != 3,
    }


_ROUTE = '''"""{title}: the first route the {name} team added to the generated service."""

from fastapi import APIRouter, HTTPException

router = APIRouter(prefix="/{name}", tags=["{name}"])

_ITEMS = {{"1001": {{"id": "1001", "status": "ok"}}}}


@router.get("/{{item_id}}")
async def get_item(item_id: str) -> dict[str, str]:
    item = _ITEMS.get(item_id)
    if item is None:
        raise HTTPException(status_code=404, detail="not found")
    return item
'''


def _edit(n: int, name: str) -> LocalEdit:
    """Four kinds of local edit, in turn: a route of the team's own wired into main.py, README
    on-call notes (a file the template leaves to the team), an extra dependency, a CHANGELOG."""
    kind = n % 4
    if kind == 0:
        main = f"src/{name}/main.py"
        return LocalEdit(
            message=f"Add {name} lookups",
            add={f"src/{name}/api.py": _ROUTE.format(title=name.capitalize(), name=name)},
            replace={
                main: (
                    (
                        f"from {name} import __version__\n",
                        f"from {name} import __version__\nfrom {name}.api import router as api\n",
                    ),
                    (
                        "    app.include_router(health_router)\n",
                        "    app.include_router(health_router)\n    app.include_router(api)\n",
                    ),
                )
            },
        )
    if kind == 1:
        return LocalEdit(
            message="On-call notes",
            append={"README.md": CONSUMER_README_SECTION.replace("checkout", name)},
        )
    if kind == 2:
        return LocalEdit(
            message="Depend on httpx for outgoing calls",
            replace={
                "pyproject.toml": (
                    (
                        '    "pydantic-settings>=2.3",\n',
                        '    "pydantic-settings>=2.3",\n    "httpx>=0.27",\n',
                    ),
                )
            },
        )
    return LocalEdit(
        message="Changelog entry for the first deploy",
        append={"CHANGELOG.md": f"\n- First deploy of {name} to staging.\n"},
    )


def make_fleet(repos: int, *, canaries: int = CANARIES) -> Fleet:
    """``repos`` consumers (at least 3: two canaries and a wave), varied answers and edits."""
    if repos < canaries + 1:
        raise DemoError(
            f"--repos {repos}: the demo needs at least {canaries + 1} consumers "
            f"({canaries} canaries and one more)"
        )
    consumers = []
    for n in range(repos):
        answers = _answers(n)
        consumers.append(
            ConsumerSpec(
                repo=f"{ORG}/{answers['service_name']}-service",
                answers=answers,
                canary=n < canaries,
                edit=_edit(n, str(answers["service_name"])),
            )
        )
    return Fleet(TEMPLATE_REPO, tuple(consumers))


def edited_files(
    edit: LocalEdit, read: Callable[[str], str | None], repo: str
) -> dict[str, str | bytes | None]:
    """The files of ``edit`` applied to what ``read(path)`` returns from the consumer."""
    files: dict[str, str | bytes | None] = dict(edit.add)
    for path, replacements in edit.replace.items():
        text = read(path)
        if text is None:
            raise DemoError(f"{repo}: {path} is missing; the local edit cannot be made")
        for old, new in replacements:
            if text.count(old) != 1:
                raise DemoError(f"{repo}: {path}: expected {old.strip()!r} exactly once")
            text = text.replace(old, new)
        files[path] = text
    for path, tail in edit.append.items():
        files[path] = (read(path) or "") + tail
    return files


def release_files(read: Callable[[str], str | None]) -> dict[str, str | bytes | None]:
    """Template v1.1.0 as changed files of the template repository (``read`` gives v1.0.0's)."""
    files: dict[str, str | bytes | None] = {}
    for edit in template_v1_1_edits():
        text = files.get(edit.path)
        current = text if isinstance(text, str) else read(edit.path)
        if current is None or current.count(edit.old) != 1:
            raise DemoError(f"template {edit.path}: the v1.1.0 edit does not apply")
        files[edit.path] = current.replace(edit.old, edit.new)
    for rel, f in read_tree(TEMPLATE_V1_1_FILES).items():
        files[rel] = f.data
    return files


def _reader(gh: EmulatorHandle, repo: str) -> Callable[[str], str | None]:
    def read(path: str) -> str | None:
        data = gh.read_file(repo, "main", path)
        return data.decode("utf-8") if data is not None else None

    return read


def edit_consumers(gh: EmulatorHandle, fleet: Fleet) -> None:
    """Each team's local edit, committed on its default branch by the maintainer."""
    for spec in fleet.consumers:
        files = edited_files(spec.edit, _reader(gh, spec.repo), spec.repo)
        gh.push_commit(spec.repo, "main", files, spec.edit.message, author=MAINTAINER)


def release(gh: EmulatorHandle, fleet: Fleet) -> str:
    """The platform engineer commits v1.1.0 to the template and pushes its tag; the key of the
    rollout the service should begin."""
    sha = gh.push_commit(
        fleet.template_repo,
        "main",
        release_files(_reader(gh, fleet.template_repo)),
        "Request ids: header in and out, on every log line",
        author=PLATFORM,
    )
    gh.emulator.move_ref(fleet.template_repo, f"refs/tags/{RELEASE}", sha, pusher=PLATFORM)
    return f"{fleet.template_repo}@{RELEASE}"

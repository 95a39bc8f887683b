"""Helpers for forge tests: an emulator seeded with a template and consumers, and a forge on it.

A module of its own rather than a second conftest.py, which would shadow tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot.emulator.clock import EmulatorClock
from bot.emulator.handle import EmulatorHandle
from bot.emulator.testing import running_emulator
from bot.forge import AppCredentials, BackoffPolicy, ForgeSettings, GitHubForge
from bot.pipeline import EvolvePrOptions, EvolvePrResult, GitTemplateFetcher, evolve_pr

MANIFEST = "name: svc\nquestions:\n  name:\n    type: str\n    default: demo\n"
README_V1 = "# {{ name }}\n\nline 1\nline 2\nline 3\nline 4\nline 5\n"
README_V2 = "# {{ name }}\n\nline 1\nline 2\nline 3\nline 4 (v2)\nline 5\n"
INSTALLATION = 7

WRITES = ("POST ", "PATCH ", "PUT ", "DELETE ")


def seed(consumers: int = 1, **extra: Any) -> dict[str, Any]:
    """A template ``acme/tpl`` tagged v1..v3 and ``consumers`` repos rendered from v1."""
    repos: list[dict[str, Any]] = [
        {
            "full_name": "acme/tpl",
            "files": {
                "template.yml": MANIFEST,
                "files/README.md": README_V1,
                "files/app.py": "print('v1')\n",
                "files/old.txt": "removed in v2\n",
            },
            "commits": [
                {"message": "v1", "tag": "v1"},
                {
                    "message": "v2",
                    "files": {"files/README.md": README_V2, "files/app.py": "print('v2')\n"},
                    "delete": ["files/old.txt"],
                    "tag": "v2",
                },
                {"message": "v3", "files": {"files/app.py": "print('v3')\n"}, "tag": "v3"},
            ],
        }
    ]
    for n in range(1, consumers + 1):
        repos.append(
            {
                "full_name": f"acme/svc{n}",
                "render": {"template": "acme/tpl", "ref": "v1", "answers": {"name": f"svc{n}"}},
                **extra.pop(f"svc{n}", {}),
            }
        )
    return {
        "installations": [{"id": INSTALLATION, "account": "acme"}],
        "repos": repos,
        **extra,
    }


def make_forge(emu: EmulatorHandle, **settings: Any) -> GitHubForge:
    """A forge on ``emu`` with the App's credentials and the emulator's clock."""
    settings.setdefault("backoff", BackoffPolicy(base=0.5, cap=4.0))
    return GitHubForge(
        AppCredentials(str(emu.app_id), emu.private_key_pem),
        settings=ForgeSettings(**{"base_url": emu.api_url, "timeout": 10, **settings}),
        clock=emu.clock,
    )


@contextmanager
def emulated(
    state_dir: Path, *, speed: float = 200.0, **seed_extra: Any
) -> Iterator[tuple[EmulatorHandle, GitHubForge]]:
    """A running emulator (clock ``speed`` times faster) and a forge talking to it."""
    with running_emulator(seed(**seed_extra), state_dir, clock=EmulatorClock(speed=speed)) as emu:
        yield emu, make_forge(emu)


def installation_requests(emu: EmulatorHandle) -> dict[str, int]:
    """Requests the installation made since the last counter reset, per endpoint."""
    data = emu.counters.snapshot()["installations"].get(str(INSTALLATION), {})
    return {k: int(v) for k, v in data.items()}


def writes(counts: dict[str, int]) -> int:
    return sum(n for endpoint, n in counts.items() if endpoint.startswith(WRITES))


def open_pr(
    forge: GitHubForge, tmp_path: Path, repo: str = "acme/svc1", **options: Any
) -> EvolvePrResult:
    """Evolve ``repo`` through the forge and open/update its evolution PR (``options``: the
    fields of :class:`EvolvePrOptions`), on the forge's clock."""
    return evolve_pr(
        forge,
        repo,
        clock=forge.clock,
        templates=GitTemplateFetcher(tmp_path / "template-cache"),
        options=EvolvePrOptions(**options),
    )


class FakeClock:
    """An injected clock whose sleeps take no real time: tests assert on what it was asked."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.t = start
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += max(seconds, 0.0)

"""`pr open` reads a consumer's template with the consumer's own installation token: a consumer
in installation A naming a private template of installation B is refused (no PR, none of B's
files anywhere) unless the operator lists the template in EVOBOT_TEMPLATE_REPOS. A remote
consumer's template that is a local path, or on a host nobody allowed, is refused the same way
whether the path exists or not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from forge_helpers import MANIFEST, README_V1, make_forge

from bot.consumer import CONFIG_NAME
from bot.emulator.handle import EmulatorHandle
from bot.emulator.testing import running_emulator
from bot.errors import TemplateSourceError
from bot.forge import GitHubForge
from bot.pipeline import (
    EvolvePrOptions,
    EvolvePrResult,
    GitTemplateFetcher,
    TemplateAccess,
    evolve_pr,
)

SECRET = "beta's confidential line"


def _seed(**consumer_files: str) -> dict[str, Any]:
    """Installation 7 (acme) and 8 (beta); beta owns the private template beta/secret-tpl,
    whose v2 holds a confidential file; acme/svc and beta/svc were rendered from its v1."""
    template: dict[str, Any] = {
        "full_name": "beta/secret-tpl",
        "private": True,
        "files": {"template.yml": MANIFEST, "files/README.md": README_V1},
        "commits": [
            {"message": "v1", "tag": "v1"},
            {
                "message": "v2",
                "files": {
                    "files/app.py": "print('v2')\n",
                    "files/confidential.txt": SECRET + "\n",
                },
                "tag": "v2",
            },
        ],
    }
    rendered = {"template": "beta/secret-tpl", "ref": "v1", "answers": {"name": "svc"}}
    repos: list[dict[str, Any]] = [
        template,
        {"full_name": "acme/svc", "render": rendered},
        {"full_name": "beta/svc", "render": rendered},
    ]
    for name, text in consumer_files.items():
        repos.append({"full_name": f"acme/{name}", "files": {CONFIG_NAME: text, "x.txt": "x\n"}})
    return {
        "installations": [{"id": 7, "account": "acme"}, {"id": 8, "account": "beta"}],
        "repos": repos,
    }


def open_evolution_pr(
    forge: GitHubForge,
    repo: str,
    *,
    access: TemplateAccess,
    vcs_ref: str | None = None,
    cache_dir: Path | None = None,
) -> EvolvePrResult:
    return evolve_pr(
        forge,
        repo,
        clock=forge.clock,
        templates=GitTemplateFetcher(cache_dir),
        options=EvolvePrOptions(vcs_ref=vcs_ref, access=access),
    )


def _evobot_branches(emu: EmulatorHandle, repo: str) -> list[str]:
    return list(emu.emulator.git(repo).refs("refs/heads/evobot/"))


def _nowhere_in_acme(emu: EmulatorHandle) -> None:
    assert _evobot_branches(emu, "acme/svc") == []
    assert SECRET.encode() not in b"".join(emu.files("acme/svc", "main").values())


def test_a_private_template_of_another_installation_is_refused(tmp_path: Path) -> None:
    with running_emulator(_seed(), tmp_path / "emu") as emu:
        forge = make_forge(emu, write_interval=0)
        with pytest.raises(TemplateSourceError) as info:
            open_evolution_pr(
                forge, "acme/svc", cache_dir=tmp_path / "cache", access=TemplateAccess()
            )
        message = info.value.diagnostics()
        assert "beta/secret-tpl cannot be read with acme/svc's own installation token" in message
        assert "EVOBOT_TEMPLATE_REPOS" in message
        _nowhere_in_acme(emu)
        assert not any(
            SECRET.encode() in p.read_bytes()
            for p in (tmp_path / "cache").rglob("*")
            if p.is_file()
        )


def test_the_cache_of_another_installation_is_no_way_around_the_check(tmp_path: Path) -> None:
    with running_emulator(_seed(), tmp_path / "emu") as emu:
        forge = make_forge(emu, write_interval=0)
        cache = tmp_path / "cache"
        # beta's own consumer fills the mirror and the checkout cache with the template.
        opened = open_evolution_pr(forge, "beta/svc", cache_dir=cache, access=TemplateAccess())
        assert opened.action == "created"
        v2 = emu.emulator.git("beta/secret-tpl").resolve("v2")
        assert v2 is not None
        with pytest.raises(TemplateSourceError, match="own installation token"):
            open_evolution_pr(
                forge, "acme/svc", vcs_ref=v2, cache_dir=cache, access=TemplateAccess()
            )
        _nowhere_in_acme(emu)


def test_an_operator_listed_template_is_read_for_any_consumer(tmp_path: Path) -> None:
    with running_emulator(_seed(), tmp_path / "emu") as emu:
        forge = make_forge(emu, write_interval=0)
        shared = TemplateAccess(shared_repos=frozenset({"beta/secret-tpl"}))
        result = open_evolution_pr(forge, "acme/svc", cache_dir=tmp_path / "cache", access=shared)
        assert result.action == "created"
        assert (result.from_version, result.to_version) == ("v1", "v2")
        assert emu.files("acme/svc", result.branch)["app.py"] == b"print('v2')\n"
        # The same through the environment, as the CLI and the service read it.
        assert TemplateAccess.from_env({"EVOBOT_TEMPLATE_REPOS": "Beta/Secret-Tpl, x/y"}).is_shared(
            "beta/secret-tpl"
        )


def _config(template: str) -> str:
    return f"template: {template}\nversion:\n  ref: v1\n  commit: {'a' * 40}\n"


def test_a_remote_consumer_cannot_name_a_local_path_or_another_host(tmp_path: Path) -> None:
    existing = tmp_path / "existing-template"
    existing.mkdir()
    (existing / "template.yml").write_text(MANIFEST)
    sources = {
        "exists": str(existing),
        "missing": str(tmp_path / "missing-template"),
        "fileurl": f"file://{existing}",
        "elsewhere": "https://templates.example.com/acme/tpl.git",
        "ssh": "git@github.com:acme/tpl.git",
    }
    seed = _seed(**{name: _config(src) for name, src in sources.items()})
    with running_emulator(seed, tmp_path / "emu") as emu:
        forge = make_forge(emu, write_interval=0)
        messages = {}
        for name in sources:
            with pytest.raises(TemplateSourceError) as info:
                open_evolution_pr(forge, f"acme/{name}", access=TemplateAccess())
            messages[name] = info.value.diagnostics()
            assert _evobot_branches(emu, f"acme/{name}") == []
            assert "must be an https URL of a repository on an allowed host" in messages[name]
        # The same words whether the path exists or not: nothing about the machine leaks.
        assert messages["exists"].replace(sources["exists"], "PATH").replace(
            "acme/exists", "REPO"
        ) == messages["missing"].replace(sources["missing"], "PATH").replace("acme/missing", "REPO")
        assert "template.yml" not in messages["exists"]

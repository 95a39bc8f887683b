"""A template cannot write into a consumer's `.git/`: not by a templated name at `evobot update`
(a `core.fsmonitor` command in `.git/config` would run at the next `git status`), not by a
literal `files/.git/` at `evobot render` (a hook would run at the first commit), not in any of
the forms git itself treats as `.git`, and not through migrations or `protect`."""

from __future__ import annotations

from pathlib import Path

import pytest
from evobot_testing import git, git_commit_all, git_init
from security_support import MANIFEST, git_quiet, release, run_evobot, tree_bytes, write_template

from bot.errors import ManifestError, RenderError
from bot.template import open_template, render_template

GIT_NAME = '{{ ".git" }}'


def _hostile_config(marker: Path) -> str:
    # `;:` swallows the arguments git appends to a hook command run through the shell.
    return (
        f'[core]\n\trepositoryformatversion = 0\n\tbare = false\n\tfsmonitor = "touch {marker};:"\n'
    )


@pytest.fixture
def consumer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A consumer rendered by `evobot render` from template v1.0.0 and committed."""
    template = git_init(tmp_path / "template")
    release(template, "v1.0.0", {"README.md.jinja": "# {{ name }}\n"})
    dest = tmp_path / "consumer"
    rendered = run_evobot(capsys, "render", template, dest, "--data", "name=billing")
    assert rendered.code == 0, rendered.stderr
    git_init(dest)
    git_commit_all(dest, "rendered")
    return dest


def test_update_refuses_a_template_writing_git_config_and_hooks(
    tmp_path: Path, consumer: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "fsmonitor-ran"
    hook_marker = tmp_path / "post-checkout-ran"
    release(
        tmp_path / "template",
        "v2.0.0",
        {
            f"{GIT_NAME}/config": _hostile_config(marker),
            f"{GIT_NAME}/hooks/post-checkout": f"#!/bin/sh\ntouch {hook_marker}\n",
        },
        executable=[f"{GIT_NAME}/hooks/post-checkout"],
    )
    before = tree_bytes(consumer)

    result = run_evobot(capsys, "update", consumer)

    assert result.code != 0, result.stdout
    assert "Traceback" not in result.stderr
    assert result.message.startswith("error:"), result.stderr
    assert f"files/{GIT_NAME}/config" in result.message  # the template file to blame
    assert "'.git/config'" in result.message  # the path it would have written
    assert "git's own directory" in result.message
    assert tree_bytes(consumer) == before  # .git/config, hooks and work tree untouched
    git_quiet(consumer, "status")
    git_quiet(consumer, "checkout", "-q", "-b", "after-update")
    assert not marker.exists(), "the template's fsmonitor command ran"
    assert not hook_marker.exists(), "the template's post-checkout hook ran"


def test_render_refuses_a_literal_git_dir_in_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "post-commit-ran"
    template = write_template(
        tmp_path / "template",
        {
            "README.md.jinja": "# {{ name }}\n",
            ".git/hooks/post-commit": f"#!/bin/sh\ntouch {marker}\n",
        },
        executable=[".git/hooks/post-commit"],
    )
    dest = tmp_path / "consumer"

    result = run_evobot(capsys, "render", template, dest)

    assert result.code != 0, result.stdout
    assert "Traceback" not in result.stderr
    assert "files/.git/hooks/post-commit" in result.message
    assert "'.git/hooks/post-commit'" in result.message
    assert not (dest / ".git").exists()
    # What a person does next with the directory must not run anything of the template's.
    dest.mkdir(exist_ok=True)
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "--allow-empty", "-m", "first")
    assert not marker.exists(), "the template's post-commit hook ran"


@pytest.mark.parametrize(
    "name",
    [
        ".GIT",
        ".Git",
        ".git.",
        ".git ",
        ".git. . ",
        ".git::$INDEX_ALLOCATION",
        ".git:stream",
        "git~1",
        "GIT~1",
        ".g\u200cit",
        "\ufeff.git",
    ],
)
def test_render_refuses_every_form_git_treats_as_its_directory(tmp_path: Path, name: str) -> None:
    root = write_template(tmp_path / "t", {f"sub/{name}/config": "x\n", "ok.txt": "ok\n"})
    with open_template(str(root)) as template, pytest.raises(RenderError) as caught:
        render_template(template, {"name": "x"})
    assert f"files/sub/{name}/config" in caught.value.message
    assert repr(name) in caught.value.message


def test_templated_name_is_checked_after_rendering(tmp_path: Path) -> None:
    root = write_template(
        tmp_path / "t",
        {"{{ name }}/hooks/pre-commit": "#!/bin/sh\n"},
        manifest="name: svc\nquestions:\n  name: {type: str, default: '.Git'}\n",
    )
    with open_template(str(root)) as template, pytest.raises(RenderError) as caught:
        render_template(template, {"name": ".Git"})
    assert "files/{{ name }}/hooks/pre-commit" in caught.value.message
    assert ".git in any letter case" in caught.value.message


def test_update_refuses_a_migration_renaming_into_git_dir(
    tmp_path: Path, consumer: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = MANIFEST + (
        "migrations:\n  - version: '2.0.0'\n    rename_files: {README.md: .git/hooks/pre-commit}\n"
    )
    release(tmp_path / "template", "v2.0.0", {}, manifest=manifest)
    before = tree_bytes(consumer)

    result = run_evobot(capsys, "update", consumer)

    assert result.code != 0
    assert "migrations.0.rename_files" in result.message
    assert "'.git/hooks/pre-commit'" in result.message
    assert tree_bytes(consumer) == before


@pytest.mark.parametrize("key", ["rename_files: {a.txt: .GIT/config}", "delete_files: [.git/x]"])
def test_manifest_refuses_migration_paths_into_git_dir(tmp_path: Path, key: str) -> None:
    from bot.template.manifest import parse_manifest

    with pytest.raises(ManifestError) as caught:
        parse_manifest(f"name: t\nmigrations:\n  - version: '2'\n    {key}\n")
    assert "git's own directory" in caught.value.message


def test_update_refuses_a_protect_entry_naming_git_dir(
    consumer: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = consumer / ".evobot.yml"
    config.write_text(config.read_text() + "protect:\n- .git/hooks\n")
    git_commit_all(consumer, "protect")

    result = run_evobot(capsys, "update", consumer)

    assert result.code != 0
    assert "protect.0" in result.message
    assert "'.git/hooks'" in result.message

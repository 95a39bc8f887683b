"""A `template.yml` (or a consumer's `.evobot.yml`) that is a symlink is refused without being
followed: no line of the file it points to reaches the output, valid YAML or not."""

from __future__ import annotations

from pathlib import Path

import pytest
from evobot_testing import build_file_tree, git_commit_all, git_init
from hostile_files_support import (
    INVALID_YAML_SECRET,
    VALID_YAML_SECRET,
    assert_refused_without_leak,
    host_file,
    run_evobot,
)

MANIFEST = "name: mini\nquestions:\n  service_name: {default: orders}\n"
FILES = {"files/README.md.jinja": "# {{ service_name }}\n"}


@pytest.mark.parametrize("content", [VALID_YAML_SECRET, INVALID_YAML_SECRET])
def test_git_template_whose_manifest_links_to_a_host_file(tmp_path: Path, content: str) -> None:
    secret = host_file(tmp_path, content)
    repo = git_init(tmp_path / "tpl")
    build_file_tree(repo, FILES)
    (repo / "template.yml").symlink_to(secret)
    git_commit_all(repo, "v1", tag="v1.0.0")

    proc = run_evobot(tmp_path, "render", "tpl", "out")
    assert_refused_without_leak(proc, "template.yml: is a symlink", "never follows a link")
    assert str(secret) not in proc.stderr  # not even where it points
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("content", [VALID_YAML_SECRET, INVALID_YAML_SECRET])
def test_plain_template_whose_manifest_links_to_a_host_file(tmp_path: Path, content: str) -> None:
    secret = host_file(tmp_path, content)
    build_file_tree(tmp_path / "tpl", FILES)
    (tmp_path / "tpl" / "template.yml").symlink_to(secret)
    proc = run_evobot(tmp_path, "render", "tpl", "out")
    assert_refused_without_leak(proc, "template.yml: is a symlink")


def test_a_manifest_linking_inside_the_template_is_refused_too(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "tpl")
    build_file_tree(repo, {**FILES, "real.yml": MANIFEST})
    (repo / "template.yml").symlink_to("real.yml")
    git_commit_all(repo, "v1", tag="v1.0.0")
    proc = run_evobot(tmp_path, "render", "tpl", "out")
    assert_refused_without_leak(proc, "template.yml: is a symlink")


@pytest.mark.parametrize("content", [VALID_YAML_SECRET, INVALID_YAML_SECRET])
def test_update_to_a_version_whose_manifest_is_a_link_fails_cleanly(
    tmp_path: Path, content: str
) -> None:
    secret = host_file(tmp_path, content)
    repo = git_init(tmp_path / "tpl")
    build_file_tree(repo, {**FILES, "template.yml": MANIFEST})
    git_commit_all(repo, "v1", tag="v1.0.0")
    assert run_evobot(tmp_path, "render", str(repo), "svc").returncode == 0
    git_init(tmp_path / "svc")
    git_commit_all(tmp_path / "svc", "rendered")
    (repo / "template.yml").unlink()
    (repo / "template.yml").symlink_to(secret)
    git_commit_all(repo, "v2", tag="v2.0.0")

    proc = run_evobot(tmp_path / "svc", "update", ".")
    assert_refused_without_leak(proc, "template.yml: is a symlink")


@pytest.mark.parametrize("content", [VALID_YAML_SECRET, INVALID_YAML_SECRET])
def test_a_consumer_config_that_is_a_link_is_not_followed(tmp_path: Path, content: str) -> None:
    secret = host_file(tmp_path, content)
    repo = git_init(tmp_path / "tpl")
    build_file_tree(repo, {**FILES, "template.yml": MANIFEST})
    git_commit_all(repo, "v1", tag="v1.0.0")
    consumer = tmp_path / "svc"
    assert run_evobot(tmp_path, "render", str(repo), "svc").returncode == 0
    (consumer / ".evobot.yml").unlink()
    (consumer / ".evobot.yml").symlink_to(secret)

    proc = run_evobot(consumer, "update", ".")
    assert_refused_without_leak(proc, ".evobot.yml: is a symlink")

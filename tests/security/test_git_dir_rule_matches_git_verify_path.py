"""`git_dir_rule` refuses exactly the path components git treats as its own directory: every
form is checked against the predicate and against real git's `verify_path` (with NTFS and HFS+
protection on), and ordinary names beginning with `.git` or `git` pass both."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from evobot_testing import git_init
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import RenderError, WriteError
from bot.tree import git_dir_rule, refuse_git_dir

EMPTY_BLOB = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"

REFUSED = {
    ".git/config": ".git in any letter case",
    ".GIT/config": ".git in any letter case",
    ".Git/hooks/post-checkout": ".git in any letter case",
    "a/.GIT/b": ".git in any letter case",
    "deep/er/.gIt": ".git in any letter case",
    ".git./config": "trailing dots",
    ".git /config": "trailing dots",
    ".git. . ./config": "trailing dots",
    ".git::$INDEX_ALLOCATION/config": "NTFS alternate stream",
    ".git:stream": "NTFS alternate stream",
    "git~1/config": "8.3 short name",
    "GIT~1/hooks/x": "8.3 short name",
    "Git~1./config": "8.3 short name",
    "git~1::$INDEX_ALLOCATION/x": "8.3 short name",
    ".g\u200cit/config": "HFS+",
    ".gi\u200dt/config": "HFS+",
    "\u200e.git/config": "HFS+",
    ".git\u202e/config": "HFS+",
    ".G\u206aIT\ufeff/hooks/x": "HFS+",
    "x\\.git\\config": ".git in any letter case",
}

ALLOWED = [
    ".github/workflows/ci.yml",
    ".gitignore",
    ".gitkeep",
    ".gitattributes",
    ".gitmodules",
    ".git-blame-ignore-revs",
    "git/config",
    "src/git/hooks.py",
    ".git~1/x",
    "git~10/x",
    "git~2/x",
    "agit/x",
    ".gi/t",
    "a.git/x",
    ".g\u00eft/x",
    ".gİt/x",
    ".g\u200bit/x",  # ZERO WIDTH SPACE is not among the code points HFS+ ignores
]


@pytest.mark.parametrize(("path", "rule"), sorted(REFUSED.items()))
def test_each_git_dir_form_is_refused_naming_the_rule(path: str, rule: str) -> None:
    found = git_dir_rule(path)
    assert found is not None
    assert "git's own directory" in found
    assert rule in found or rule.lower() in found.lower()
    with pytest.raises(RenderError) as caught:
        refuse_git_dir(path, source="files/x.jinja")
    assert caught.value.message.startswith(f"files/x.jinja: refusing the path {path!r}")


@pytest.mark.parametrize("path", ALLOWED)
def test_ordinary_names_pass(path: str) -> None:
    assert git_dir_rule(path) is None
    refuse_git_dir(path)


def test_the_error_family_is_the_callers() -> None:
    with pytest.raises(WriteError):
        refuse_git_dir(".git/x", error=WriteError)


def _git_accepts(repo: Path, path: str) -> bool:
    result = subprocess.run(
        [
            "git",
            "-c",
            "core.protectNTFS=true",
            "-c",
            "core.protectHFS=true",
            "update-index",
            "--add",
            "--cacheinfo",
            f"100644,{EMPTY_BLOB},{path}",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0


@pytest.fixture(scope="module")
def index_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return git_init(tmp_path_factory.mktemp("index"))


@pytest.mark.parametrize("path", [*sorted(REFUSED), *ALLOWED])
def test_the_predicate_agrees_with_real_git(index_repo: Path, path: str) -> None:
    assert _git_accepts(index_repo, path) == (git_dir_rule(path) is None)


@given(st.text())
def test_any_string_gets_an_answer_and_never_a_crash(path: str) -> None:
    rule = git_dir_rule(path)
    assert rule is None or "git's own directory" in rule


COMPONENT = st.one_of(
    st.sampled_from([".git", ".GIT", "git~1", ".git.", ".git ", ".git:s", "x", ".github"]),
    st.text(alphabet=st.sampled_from(".gitGIT~1 :\u200c\ufeffax"), min_size=1, max_size=7),
)


@given(st.lists(COMPONENT, min_size=1, max_size=4))
def test_a_path_is_refused_when_any_component_is(components: list[str]) -> None:
    path = "/".join(components)
    assert (git_dir_rule(path) is None) == all(git_dir_rule(c) is None for c in components)

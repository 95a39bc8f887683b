"""One path-glob dialect (bot.globs) for template `exclude`/`skip_if_exists`, a
consumer's `protect`, `checks.ignore[].path` and the secrets baseline: the table of what the
documented examples match, and that the matcher never crashes and `**` matches everything."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.checks import Finding, Severity, load_policy
from bot.checks.secrets import load_baseline
from bot.consumer import ConsumerConfig
from bot.errors import CheckError
from bot.globs import path_matches, validate_glob

# (pattern, paths it matches, paths it does not match) — the examples of docs/templates.md.
TABLE = [
    ("*.pyc", ["a.pyc", "src/pkg/a.pyc"], ["a.py", "a.pyc.txt"]),
    ("__pycache__", ["__pycache__/a.pyc", "src/__pycache__/x"], ["src/__pycache__x/a"]),
    ("build", ["build", "build/lib/a.py", "sub/build/x"], ["builds/a", "rebuild"]),
    ("build/", ["build/lib/a.py", "sub/build/x"], ["build", "sub/build"]),
    ("docs/generated", ["docs/generated/a.md"], ["src/docs/generated/a.md", "docs/gen"]),
    ("/Makefile", ["Makefile"], ["sub/Makefile"]),
    ("tests/*.py", ["tests/test_a.py"], ["tests/unit/test_a.py", "src/tests/a.py"]),
    ("tests/*", ["tests/a.py", "tests/unit/test_a.py"], ["tests", "src/tests/a.py"]),
    ("tests/**", ["tests/a.py", "tests/unit/test_a.py"], ["tests", "testsx/a.py"]),
    ("**/fixtures/**", ["fixtures/a", "tests/fixtures/b/c.json"], ["fixtures", "x/fixturesy/a"]),
    ("docs/**/*.md", ["docs/a.md", "docs/x/y/a.md"], ["docs/a.txt", "src/docs/a.md"]),
    ("?.txt", ["a.txt", "d/b.txt"], ["ab.txt", ".txt"]),
    ("[abc].py", ["a.py", "x/c.py"], ["d.py", "ab.py"]),
    ("[!abc].py", ["d.py"], ["a.py", "/.py"]),
    ("[a-c]?", ["a1", "cz"], ["d1", "a"]),
    ("*", ["a", "a/b/c"], []),
    ("**", ["a", "a/b/c", ".hidden/x"], []),
    ("src/*/conf.yml", ["src/a/conf.yml"], ["src/conf.yml", "src/a/b/conf.yml"]),
    (".env*", [".env", ".env.local", "svc/.env.prod"], ["env", "a.env"]),
]


@pytest.mark.parametrize(("pattern", "yes", "no"), TABLE, ids=[row[0] for row in TABLE])
def test_the_documented_examples_match_what_they_say(
    pattern: str, yes: list[str], no: list[str]
) -> None:
    validate_glob(pattern)
    assert [p for p in yes if not path_matches(pattern, p)] == []
    assert [p for p in no if path_matches(pattern, p)] == []


@pytest.mark.parametrize("pattern", ["", "/", "//", "a\\b", "a\0b"])
def test_patterns_that_can_never_match_are_refused(pattern: str) -> None:
    with pytest.raises(ValueError, match="glob"):
        validate_glob(pattern)


_PATTERN_CHARS = st.sampled_from([*"ab/*?[]!^-.\\&~|", "**", "**/", "[!", "[z-a]"])
_PATH_PARTS = st.text(alphabet="ab.*?[]!-\n", min_size=0, max_size=4)


@given(
    pattern=st.lists(_PATTERN_CHARS, max_size=12).map("".join),
    path=st.lists(_PATH_PARTS, min_size=1, max_size=5).map("/".join),
)
def test_the_matcher_never_crashes(pattern: str, path: str) -> None:
    assert path_matches(pattern, path) in (True, False)


@given(pattern=st.text(max_size=20), path=st.text(max_size=30))
def test_the_matcher_never_crashes_on_any_text(pattern: str, path: str) -> None:
    assert path_matches(pattern, path) in (True, False)


@given(path=st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=5).map("/".join))
def test_double_star_matches_every_path(path: str) -> None:
    assert path_matches("**", path)
    first = path.split("/")[0]
    assert path_matches(f"{first}/**", path) == ("/" in path)


def _finding(path: str) -> Finding:
    return Finding(checker="ruff", rule="E501", severity=Severity.LOW, path=path, message="long")


def test_policy_ignores_use_the_same_dialect() -> None:
    policy = load_policy(
        {"ignore": [{"checker": "ruff", "rule": "E*", "path": "tests/*.py", "reason": "long"}]},
        None,
    )
    assert policy.ignored_by(_finding("tests/test_a.py")) is not None
    # `*` stays in one part, as in `protect` and `exclude` (fnmatch's `*` used to cross `/`).
    assert policy.ignored_by(_finding("tests/unit/test_a.py")) is None
    with pytest.raises(CheckError, match=r"checks\.ignore\.0\.path: .*glob '' is empty"):
        load_policy({"ignore": [{"checker": "r", "rule": "x", "path": "", "reason": "r"}]}, None)


def test_baseline_globs_use_the_same_dialect() -> None:
    baseline = load_baseline(
        b'{"skip_paths": [{"glob": "fixtures/*.env", "reason": "fake"}]}', "b.json"
    )
    assert baseline.skips("fixtures/a.env")
    assert not baseline.skips("fixtures/deep/a.env")
    with pytest.raises(CheckError, match=r"b\.json: skip_paths\.0\.glob: .*backslash"):
        load_baseline(b'{"skip_paths": [{"glob": "a\\\\b", "reason": "r"}]}', "b.json")


def test_protect_globs_are_validated_in_the_same_dialect() -> None:
    base = {"template": "t", "version": {"ref": "v1", "commit": "a" * 40}}
    assert ConsumerConfig.model_validate({**base, "protect": ["docs/**"]}).protect == ["docs/**"]
    with pytest.raises(ValueError, match="is empty"):
        ConsumerConfig.model_validate({**base, "protect": ["/"]})

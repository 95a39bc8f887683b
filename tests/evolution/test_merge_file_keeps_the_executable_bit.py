"""A script merged three ways with `git merge-file` keeps its executable bit, whether both
sides merge cleanly or leave conflict markers, and a mode change by the template still lands."""

from __future__ import annotations

from bot.evolution import merge_trees
from bot.tree import File

LINES = "#!/bin/sh\n" + "".join(f"echo {n}\n" for n in range(1, 21))


def script(text: str, executable: bool = True) -> File:
    return File(text.encode(), executable)


def test_clean_merge_of_an_executable_script_stays_executable() -> None:
    base = {"run.sh": script(LINES)}
    new = {"run.sh": script(LINES.replace("echo 2\n", "echo two\n"))}
    ours = {"run.sh": script(LINES.replace("echo 19\n", "echo nineteen\n"))}
    result = merge_trees(base, new, ours)
    merged = result.tree["run.sh"]
    assert b"echo two\n" in merged.data and b"echo nineteen\n" in merged.data  # merge-file ran
    assert merged.executable


def test_conflicted_executable_script_stays_executable() -> None:
    base = {"run.sh": script(LINES)}
    new = {"run.sh": script(LINES.replace("echo 5\n", "echo template\n"))}
    ours = {"run.sh": script(LINES.replace("echo 5\n", "echo consumer\n"))}
    result = merge_trees(base, new, ours)
    assert result.conflicts == ("run.sh",)
    assert result.tree["run.sh"].executable


def test_template_making_a_merged_script_executable_is_applied() -> None:
    base = {"run.sh": script(LINES, executable=False)}
    new = {"run.sh": script(LINES.replace("echo 2\n", "echo two\n"), executable=True)}
    ours = {"run.sh": script(LINES.replace("echo 19\n", "echo nineteen\n"), executable=False)}
    assert merge_trees(base, new, ours).tree["run.sh"].executable

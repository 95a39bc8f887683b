"""The layering contracts in pyproject.toml hold, and breaking one fails the suite and `make lint`.

`lint-imports` reads `[tool.importlinter]`: the core imports no adapter, only the forge's GitHub
adapter imports PyGithub, only the demo and `evobot emulator` import the emulator, the layers of
docs/architecture.md point one way, and the packages of bot/ import each other without cycles.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH first, so the copy under test is analysed rather than the installed package.
    env = {**os.environ, "PYTHONPATH": str(project)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _copy_project(dest: Path) -> Path:
    shutil.copytree(ROOT / "bot", dest / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "pyproject.toml", dest / "pyproject.toml")
    return dest


def test_the_layering_contracts_hold() -> None:
    result = _lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "violation", "broken_contract"),
    [
        ("bot/tree.py", "import bot.forge", "the core imports no adapter"),
        ("bot/evolution/merge.py", "import bot.cli", "the core imports no adapter"),
        ("bot/checks/base.py", "import github", "only bot.forge.github and its transport"),
        ("bot/forge/port.py", "import github", "only bot.forge.github and its transport"),
        ("bot/pipeline/evolve.py", "import bot.forge.github", "the use cases see the forge only"),
        ("bot/pipeline/revert.py", "import bot.forge.fake", "the use cases see the forge only"),
        ("bot/pipeline/fetch.py", "import bot.emulator.core", "the use cases see the forge only"),
        ("bot/cli/pr.py", "import bot.forge.retry", "the CLI builds the forge from bot.forge"),
        ("bot/report/churn.py", "import bot.emulator", "only the demo and `evobot emulator`"),
        ("bot/cli/render.py", "import bot.emulator.core", "only the demo and `evobot emulator`"),
        ("bot/demo/steps.py", "import bot.cli", "bot/ layers"),
        ("bot/demo/run.py", "import bot.cli._output", "no import cycles"),
        ("bot/consumer.py", "import bot.template", "bot/ layers"),
        ("bot/template/render.py", "import bot.forge.port", "bot/ layers"),
    ],
)
def test_an_import_across_the_layers_breaks_the_lint(
    tmp_path: Path, module: str, violation: str, broken_contract: str
) -> None:
    project = _copy_project(tmp_path)
    with (project / module).open("a", encoding="utf-8") as source:
        source.write(f"\n{violation}  # a deliberate layering violation\n")

    result = _lint_imports(project)

    assert result.returncode != 0, result.stdout
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert broken_contract in broken
    assert violation.split()[-1] in broken

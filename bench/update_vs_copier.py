"""Benchmark: per-consumer time of `evobot update` against `copier update` on the same template.

Builds one small service template twice (as an evobot template and as a copier template) in
two git repositories tagged v1.0.0 and v2.0.0, renders N consumers from v1 with each tool,
commits local edits in every consumer, then times each tool updating each consumer to v2 as a
subprocess (interpreter start-up included for both). Prints the per-consumer medians and their
ratio. copier runs from its own virtualenv, bench/.venv-copier, created on first use.

    .venv/bin/python bench/update_vs_copier.py --consumers 20

A figure, not a test: it also checks that both tools kept the local edits and applied v2.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
COPIER_VENV = BENCH_DIR / ".venv-copier"
EVOBOT = Path(sys.executable).with_name("evobot")

GIT_ENV = {
    "GIT_AUTHOR_NAME": "evobot bench",
    "GIT_AUTHOR_EMAIL": "bench@evobot.invalid",
    "GIT_COMMITTER_NAME": "evobot bench",
    "GIT_COMMITTER_EMAIL": "bench@evobot.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
}

APP_V1 = '''"""{{ name }}: a small service."""

import logging

log = logging.getLogger("{{ name }}")


def health() -> dict[str, str]:
    return {"status": "ok"}


def port() -> int:
    return {{ port }}
'''

APP_V2 = APP_V1.replace("import logging\n", "import logging\nimport os\n").replace(
    'return {"status": "ok"}', 'return {"status": "ok", "version": os.environ.get("V", "")}'
)

README_V1 = (
    "# {{ name }}\n\nA service generated from the platform template.\n\n## Running\n\nmake run\n"
)
README_V2 = README_V1.replace("generated from", "generated and kept up to date from")

CI_V1 = (
    "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
    "    steps:\n      - run: make test\n"
)
CI_V2 = CI_V1.replace("on: [push]", "on: [push, pull_request]")


def template_files(version: int) -> dict[str, str]:
    """The template's files (relative to its files directory) at ``version`` 1 or 2."""
    files = {
        "README.md.jinja": README_V1 if version == 1 else README_V2,
        "src/{{ name }}/__init__.py": "",
        "src/{{ name }}/app.py.jinja": APP_V1 if version == 1 else APP_V2,
        ".github/workflows/ci.yml": CI_V1 if version == 1 else CI_V2,
        "Makefile": "run:\n\tpython -m app\n\ntest:\n\tpytest -q\n",
        "config.toml.jinja": '[service]\nname = "{{ name }}"\nport = {{ port }}\n',
    }
    for n in range(20):  # the bulk of a real template: files no one touches
        files[f"docs/page{n:02}.md"] = f"# Page {n}\n\n" + "Some documentation.\n" * 30
    if version == 1:
        files["setup.cfg"] = "[metadata]\nname = legacy\n"
    else:
        files["pyproject.toml.jinja"] = '[project]\nname = "{{ name }}"\nversion = "0.1.0"\n'
    return files


def run(
    cmd: Sequence[str | Path], cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> str:
    proc = subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        env={**os.environ, **GIT_ENV, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{proc.stderr}")
    return proc.stdout


def write(root: Path, files: Mapping[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def commit(root: Path, message: str, tag: str | None = None) -> None:
    run(["git", "add", "-A"], cwd=root)
    run(["git", "commit", "-q", "-m", message], cwd=root)
    if tag:
        run(["git", "tag", tag], cwd=root)


def build_templates(work: Path) -> tuple[Path, Path]:
    """The same template as an evobot template and as a copier template, tagged v1 and v2."""
    evo = work / "template-evobot"
    cop = work / "template-copier"
    for root in (evo, cop):
        root.mkdir()
        run(["git", "init", "-q", "-b", "main"], cwd=root)
    (evo / "template.yml").write_text(
        "name: bench-service\n"
        "questions:\n"
        "  name: {type: str, default: demo}\n"
        "  port: {type: int, default: 8000}\n"
    )
    (cop / "copier.yml").write_text(
        "_subdirectory: files\nname: {type: str, default: demo}\nport: {type: int, default: 8000}\n"
    )
    for version in (1, 2):
        for root in (evo, cop):
            shutil.rmtree(root / "files", ignore_errors=True)
            write(root / "files", template_files(version))
        (cop / "files" / "{{_copier_conf.answers_file}}.jinja").write_text(
            "# Changes here will be overwritten by Copier\n{{ _copier_answers|to_nice_yaml -}}\n"
        )
        for root in (evo, cop):
            commit(root, f"release {version}", tag=f"v{version}.0.0")
    return evo, cop


def local_edits(consumer: Path, name: str) -> None:
    """Edits a service owner would make: lines the template does not touch in v2, a new file."""
    app = consumer / "src" / name / "app.py"
    app.write_text(app.read_text() + "\n\ndef owner_feature() -> str:\n    return 'ours'\n")
    readme = consumer / "README.md"
    readme.write_text(readme.read_text() + "\n## Owners\n\nteam-payments\n")
    (consumer / "src" / name / "extra.py").write_text("VALUE = 1\n")
    commit(consumer, "local edits")


def ensure_copier() -> Path:
    copier = COPIER_VENV / "bin" / "copier"
    if not copier.exists():
        print(f"creating {COPIER_VENV} and installing copier ...", flush=True)
        run([sys.executable, "-m", "venv", COPIER_VENV])
        run([COPIER_VENV / "bin" / "python", "-m", "pip", "install", "--quiet", "copier"])
    return copier


def check(consumer: Path, name: str, tool: str) -> None:
    app = (consumer / "src" / name / "app.py").read_text()
    readme = (consumer / "README.md").read_text()
    problems = []
    if "owner_feature" not in app or "team-payments" not in readme:
        problems.append("local edits lost")
    if "import os" not in app or "kept up to date" not in readme:
        problems.append("v2 not applied")
    if "<<<<<<<" in app or "<<<<<<<" in readme:
        problems.append("unexpected conflict")
    if not (consumer / "pyproject.toml").exists() or (consumer / "setup.cfg").exists():
        problems.append("v2 file additions/deletions not applied")
    if problems:
        raise SystemExit(f"{tool} update of {consumer}: {', '.join(problems)}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--consumers", type=int, default=20, help="consumers per tool (20)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    if args.consumers < 1:
        parser.error("--consumers must be at least 1")
    if not EVOBOT.exists():
        raise SystemExit(f"{EVOBOT} not found; run with the project's .venv/bin/python")
    copier = ensure_copier()
    copier_version = run([copier, "--version"]).strip()
    # `--overwrite` exists for `copier update` only in some releases (9.x updates always overwrite).
    overwrite = ["--overwrite"] if "--overwrite" in run([copier, "update", "--help"]) else []

    work = Path(tempfile.mkdtemp(prefix="evobot-bench-"))
    try:
        evo_template, cop_template = build_templates(work)
        evo_times: list[float] = []
        cop_times: list[float] = []
        for i in range(args.consumers):
            name = f"svc{i:03}"
            evo = work / "evobot" / name
            cop = work / "copier" / name
            run([EVOBOT, "render", evo_template, evo, "--vcs-ref", "v1.0.0", "-d", f"name={name}"])
            run([
                copier, "copy", "--defaults", "--vcs-ref", "v1.0.0",
                "--data", f"name={name}", cop_template, cop,
            ])  # fmt: skip
            for consumer in (evo, cop):
                run(["git", "init", "-q", "-b", "main"], cwd=consumer)
                commit(consumer, "generated")
                local_edits(consumer, name)

            start = time.perf_counter()
            run([EVOBOT, "update", evo])
            evo_times.append(time.perf_counter() - start)

            start = time.perf_counter()
            run([copier, "update", "--defaults", *overwrite, "--vcs-ref", "v2.0.0"], cwd=cop)
            cop_times.append(time.perf_counter() - start)

            check(evo, name, "evobot")
            check(cop, name, "copier")
            print(f"  {name}: evobot {evo_times[-1]:.3f}s  copier {cop_times[-1]:.3f}s", flush=True)

        evo_median = statistics.median(evo_times)
        cop_median = statistics.median(cop_times)
        files = len(template_files(2))
        print()
        print(f"consumers: {args.consumers}, template files: {files}, {copier_version}")
        print(f"evobot update  median per consumer: {evo_median:.3f}s")
        print(f"copier update  median per consumer: {cop_median:.3f}s")
        print(f"ratio copier/evobot: {cop_median / evo_median:.2f}x")
        print("both tools kept every local edit and applied v2 (checked per consumer)")
    finally:
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

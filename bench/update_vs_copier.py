"""Benchmark: a copier fleet evolved by `evobot update --fleet` against `copier update`.

Builds one copier template (copier.yml) tagged v1.0.0 and v2.0.0, makes N consumers of v1 for
each tool (identical bytes, as `copier copy` writes them) with local edits committed, then times,
side by side in one run: one `evobot update --fleet` process over all N (the template fetched once,
work spread over the cores), and `copier update` run once per consumer (as many at a time as
there are cores). Prints both totals and the ratio. copier comes from the dev extra of this
virtualenv, else from bench/.venv-copier (created on first use).

    .venv/bin/python bench/update_vs_copier.py --consumers 500
    .venv/bin/python bench/update_vs_copier.py --consumers 500 --copier-sample 50
    .venv/bin/python bench/update_vs_copier.py --consumers 500 --answer-sets 10

By default every consumer has its own answers (its service name is in its files), so no two
consumers share a render or a merge; `--answer-sets K` gives the N consumers only K distinct
answers (copies of one service per environment, say), where evobot computes each shared render
and merge once. The figures evobot reports for that are printed too.

A figure, not a test: it also checks that both tools kept the local edits and applied v2.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
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


def build_template(work: Path) -> Path:
    """One copier template (copier.yml, files under `files/`), tagged v1.0.0 and v2.0.0.

    evobot reads copier.yml itself, so both tools evolve the very same template and consumers.
    """
    cop = work / "template"
    cop.mkdir()
    run(["git", "init", "-q", "-b", "main"], cwd=cop)
    (cop / "copier.yml").write_text(
        "_subdirectory: files\nname: {type: str, default: demo}\nport: {type: int, default: 8000}\n"
    )
    for version in (1, 2):
        shutil.rmtree(cop / "files", ignore_errors=True)
        write(cop / "files", template_files(version))
        (cop / "files" / "{{_copier_conf.answers_file}}.jinja").write_text(
            "# Changes here will be overwritten by Copier\n{{ _copier_answers|to_nice_yaml -}}\n"
        )
        commit(cop, f"release {version}", tag=f"v{version}.0.0")
    return cop


def local_edits(consumer: Path, name: str) -> None:
    """Edits a service owner would make: lines the template does not touch in v2, a new file."""
    app = consumer / "src" / name / "app.py"
    app.write_text(app.read_text() + "\n\ndef owner_feature() -> str:\n    return 'ours'\n")
    readme = consumer / "README.md"
    readme.write_text(readme.read_text() + "\n## Owners\n\nteam-payments\n")
    (consumer / "src" / name / "extra.py").write_text("VALUE = 1\n")
    commit(consumer, "local edits")


def ensure_copier() -> Path:
    """copier from the dev extra of this virtualenv, else from bench/.venv-copier."""
    beside = Path(sys.executable).with_name("copier")
    if beside.exists():
        return beside
    copier = COPIER_VENV / "bin" / "copier"
    if not copier.exists():
        print(f"creating {COPIER_VENV} and installing copier ...", flush=True)
        run([sys.executable, "-m", "venv", COPIER_VENV])
        run([COPIER_VENV / "bin" / "python", "-m", "pip", "install", "--quiet", "copier"])
    return copier


def answer_name(index: int, answer_sets: int) -> str:
    """The `name` answer of consumer ``index``: its own, or one of ``answer_sets`` shared ones."""
    return f"svc{index % answer_sets if answer_sets else index:03}"


def make_consumers(template: Path, roots: Sequence[Path], count: int, answer_sets: int = 0) -> None:
    """``count`` consumers of v1 under each of ``roots`` (same names, same bytes), with edits.

    Rendered by evobot's core in this process, which is byte-identical to `copier copy` (the
    tests in tests/adopt check it against copier itself) and takes milliseconds, not seconds.
    """
    sys.path.insert(0, str(REPO_ROOT))
    from bot.template import open_template, render_template, resolve_answers
    from bot.tree import write_tree

    with open_template(str(template), vcs_ref="v1.0.0") as opened:
        for i in range(count):
            name = answer_name(i, answer_sets)
            answers = resolve_answers(opened.manifest, {"name": name}).values
            tree = render_template(opened, answers)
            for root in roots:
                consumer = root / f"consumer{i:03}"
                write_tree(consumer, tree)
                run(["git", "init", "-q", "-b", "main"], cwd=consumer)
                commit(consumer, "generated")
                local_edits(consumer, name)


def time_copier(copier: Path, consumers: Sequence[Path], jobs: int) -> float:
    """Wall time of `copier update` run once per consumer, ``jobs`` at a time."""
    overwrite = ["--overwrite"] if "--overwrite" in run([copier, "update", "--help"]) else []
    argv = [str(copier), "update", "--defaults", *overwrite, "--vcs-ref", "v2.0.0", "--quiet"]
    env = {**os.environ, **GIT_ENV}
    start = time.perf_counter()
    running: list[subprocess.Popen[bytes]] = []
    pending = list(consumers)
    while pending or running:
        while pending and len(running) < jobs:
            running.append(
                subprocess.Popen(
                    argv,
                    cwd=pending.pop(0),
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
            )
        proc = running.pop(0)
        _out, err = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"copier update failed: {err.decode(errors='replace')}")
    return time.perf_counter() - start


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
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="cores for both")
    parser.add_argument(
        "--copier-sample",
        type=int,
        default=0,
        help="time copier on this many consumers only and scale (0: all of them)",
    )
    parser.add_argument(
        "--answer-sets",
        type=int,
        default=0,
        help="give the consumers only this many distinct answers (0: each its own)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    if args.consumers < 1:
        parser.error("--consumers must be at least 1")
    if args.answer_sets < 0:
        parser.error("--answer-sets must not be negative")
    if not EVOBOT.exists():
        raise SystemExit(f"{EVOBOT} not found; run with the project's .venv/bin/python")
    copier = ensure_copier()
    copier_version = run([copier, "--version"]).strip()

    work = Path(tempfile.mkdtemp(prefix="evobot-bench-"))
    try:
        template = build_template(work)
        evo_root, cop_root = work / "evobot", work / "copier"
        print(f"making {args.consumers} consumers for each tool ...", flush=True)
        make_consumers(template, (evo_root, cop_root), args.consumers, args.answer_sets)
        names = [f"consumer{i:03}" for i in range(args.consumers)]
        answer = {
            f"consumer{i:03}": answer_name(i, args.answer_sets) for i in range(args.consumers)
        }

        start = time.perf_counter()
        out = run([EVOBOT, "update", "--fleet", evo_root, "--json", "--jobs", str(args.jobs)])
        evo_total = time.perf_counter() - start
        report = json.loads(out)
        statuses = {c["status"] for c in report["consumers"]}
        if statuses != {"updated"}:
            raise SystemExit(f"evobot fleet update: unexpected statuses {statuses}")

        sample = names[: args.copier_sample] if args.copier_sample else names
        cop_total = time_copier(copier, [cop_root / n for n in sample], args.jobs)
        cop_scaled = cop_total * len(names) / len(sample)

        for name in names:
            check(evo_root / name, answer[name], "evobot")
        for name in sample:
            check(cop_root / name, answer[name], "copier")
        files = len(template_files(2))
        print()
        sets = args.answer_sets or args.consumers
        print(
            f"consumers: {args.consumers} ({sets} distinct answers), template files: {files}, "
            f"cores: {args.jobs}"
        )
        print(f"{copier_version}; copier timed on {len(sample)} consumer(s)")
        print(
            f"evobot update --fleet (one process): {evo_total:.2f}s "
            f"({evo_total / len(names) * 1000:.1f} ms a consumer)"
        )
        print(
            f"copier update, once per consumer:   {cop_scaled:.2f}s "
            f"({cop_scaled / len(names) * 1000:.1f} ms a consumer)"
        )
        print(f"ratio copier/evobot: {cop_scaled / evo_total:.1f}x")
        work = report["work"]
        print(
            f"evobot computed {work['renders_run']} render(s) (reused "
            f"{work['renders_reused']}) and ran {work['merges_run']} git merge-file "
            f"(reused {work['merges_reused']})"
        )
        print("both tools kept every local edit and applied v2 (checked per consumer)")
    finally:
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: precision of `evobot check --all` on a corpus of real open-source Python projects.

The corpus is the source distributions of 20 popular projects of different shapes (libraries
with `src/` layouts, frameworks, CLIs, applications), pinned by version, fetched at run time
with pip (``pip download --no-binary :all: --no-deps``) and cached, unpacked, under
``$EVOBOT_CORPUS_DIR`` (default ``~/.cache/evobot/corpus``), so nothing large is committed.
Offline, projects not yet cached are skipped, and with none cached the bench says so and exits 0.

For every project it prints the files checked, the time, the findings by checker, rule and
severity, and every blocking finding in full (for a person to review: each one is either a real
problem or a false finding to fix in a checker); at the end, one Markdown table row per project.
A project holds up to ``--max-files`` files (default 400): beyond that, a deterministic sample
(by path digest) that always keeps every packaging file, so a run stays a few minutes on two
shared cores. The default policy is used, as a new user gets it.

    .venv/bin/python bench/real_repos.py [--projects flask,httpx] [--max-files 400] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import stat
import subprocess
import sys
import tarfile
import time
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.checks import Finding, load_policy, run_checks
from bot.tree import File, Tree

# (distribution, version, shape): pinned, so two runs check the same bytes.
PROJECTS: tuple[tuple[str, str, str], ...] = (
    ("requests", "2.34.2", "HTTP library, src/ layout"),
    ("httpx", "0.28.1", "HTTP client library"),
    ("flask", "3.1.3", "web framework, src/ layout"),
    ("fastapi", "0.165.0", "web framework, docs_src/ examples"),
    ("starlette", "1.10.0", "ASGI framework"),
    ("click", "8.5.1", "CLI library, src/ layout"),
    ("rich", "15.0.0", "terminal library"),
    ("typer", "0.29.2", "CLI framework with docs_src/"),
    ("attrs", "26.1.0", "library, src/ layout, two packages"),
    ("uvicorn", "0.54.0", "ASGI server"),
    ("jinja2", "3.1.6", "template engine, src/ layout"),
    ("werkzeug", "3.1.9", "WSGI library, src/ layout"),
    ("pytest", "9.2.0", "test framework, src/ layout"),
    ("black", "26.10.1", "formatter CLI, src/ layout"),
    ("httpie", "3.2.4", "CLI application"),
    ("datasette", "0.65.5", "web application"),
    ("mkdocs", "1.6.1", "documentation application"),
    ("celery", "5.7.0", "distributed application"),
    ("scrapy", "2.19.0", "framework with extras"),
    ("sqlmodel", "0.0.50", "library with docs_src/"),
)

# Packaging files always kept when a project is sampled: the validator reads them.
_PACKAGING = ("pyproject.toml", "setup.py", "setup.cfg")
_SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".nox"}


def corpus_dir() -> Path:
    base = os.environ.get("EVOBOT_CORPUS_DIR")
    return Path(base) if base else Path.home() / ".cache" / "evobot" / "corpus"


def fetch(name: str, version: str, corpus: Path) -> Path | None:
    """The unpacked sdist of ``name==version``, downloading it once; None when unavailable."""
    unpacked = corpus / "src" / f"{name}-{version}"
    if (unpacked / ".complete").exists():
        return unpacked
    downloads = corpus / "sdists"
    downloads.mkdir(parents=True, exist_ok=True)
    archive = _find_archive(downloads, name, version)
    if archive is None:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-binary",
                ":all:",
                "--no-deps",
                "--dest",
                str(downloads),
                f"{name}=={version}",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        archive = _find_archive(downloads, name, version)
        if archive is None:
            reason = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            print(f"skip {name}=={version}: cannot download ({reason})", file=sys.stderr)
            return None
    unpacked.mkdir(parents=True, exist_ok=True)
    _unpack(archive, unpacked)
    (unpacked / ".complete").write_text(archive.name)
    return unpacked


def _find_archive(downloads: Path, name: str, version: str) -> Path | None:
    wanted = {name.lower().replace("-", "_"), name.lower()}
    for p in sorted(downloads.iterdir()):
        stem = p.name.lower()
        for suffix in (".tar.gz", ".zip", ".tar.bz2"):
            if stem.endswith(suffix):
                base = stem.removesuffix(suffix)
                dist, _, ver = base.rpartition("-")
                if dist.replace("-", "_") in wanted and ver == version:
                    return p
    return None


def _unpack(archive: Path, dest: Path) -> None:
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(dest)  # sdists of pinned, well-known projects
    else:
        with tarfile.open(archive) as tf:
            tf.extractall(dest, filter="data")


def read_project(unpacked: Path, max_files: int) -> tuple[Tree, list[str] | None]:
    """The project's regular files (symlinks and tool state left out), and the sample of
    ``max_files`` of them to check (None: every file). The checkers still see the whole tree,
    so that imports between modules resolve as they would in a full check."""
    tops = [p for p in unpacked.iterdir() if p.is_dir()]
    root = tops[0] if len(tops) == 1 else unpacked
    tree: Tree = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        for name in sorted(filenames):
            full = Path(dirpath) / name
            st = full.lstat()
            if stat.S_ISREG(st.st_mode) and name != "PKG-INFO":
                rel = full.relative_to(root).as_posix()
                tree[rel] = File(full.read_bytes(), bool(st.st_mode & stat.S_IXUSR))
    if len(tree) <= max_files:
        return tree, None

    def keep_always(path: str) -> bool:
        name = path.rsplit("/", 1)[-1]
        return name in _PACKAGING or "requirements" in name or name.startswith("constraints")

    always = sorted(p for p in tree if keep_always(p))
    rest = sorted(
        (p for p in tree if not keep_always(p)),
        key=lambda p: hashlib.sha256(p.encode()).hexdigest(),
    )
    chosen = always + rest[: max(0, max_files - len(always))]
    return tree, sorted(chosen)


@dataclass
class Outcome:
    name: str
    version: str
    shape: str
    files: int
    total_files: int
    seconds: float
    counts: Counter[tuple[str, str, str]]
    blocking: list[Finding]
    errors: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        return {
            "project": f"{self.name}=={self.version}",
            "shape": self.shape,
            "files": self.files,
            "total_files": self.total_files,
            "seconds": round(self.seconds, 2),
            "findings": [
                {"checker": c, "rule": r, "severity": s, "count": n}
                for (c, r, s), n in sorted(self.counts.items())
            ],
            "blocking": [f.model_dump(mode="json") for f in self.blocking],
            "errors": self.errors,
        }


def check_project(
    name: str, version: str, shape: str, tree: Tree, sample: list[str] | None
) -> Outcome:
    policy = load_policy(None, None)
    started = time.perf_counter()
    # `base=tree`: the sample is "changed" only to select it; nothing else is re-judged.
    run = run_checks(tree, changed=sample, policy=policy, cache=None, base=tree)
    seconds = time.perf_counter() - started
    counts = Counter((f.checker, f.rule, f.severity.value) for f in run.findings)
    errors = {n: r.error for n, r in run.per_checker.items() if r.error}
    return Outcome(
        name,
        version,
        shape,
        len(run.paths),
        len(tree),
        seconds,
        counts,
        list(run.verdict.blocking),
        errors,
    )


def print_outcome(o: Outcome) -> None:
    sampled = f" (sampled from {o.total_files})" if o.total_files > o.files else ""
    print(f"\n## {o.name}=={o.version} — {o.shape}")
    print(f"files checked: {o.files}{sampled}; time: {o.seconds:.1f}s")
    for (checker, rule, severity), n in sorted(o.counts.items()):
        print(f"  {checker:<10} {rule:<32} {severity:<8} {n}")
    for name, error in sorted(o.errors.items()):
        print(f"  ERROR {name}: {error}")
    print(f"blocking: {len(o.blocking)}")
    for f in o.blocking:
        where = f"{f.path}:{f.line}" if f.line else f.path
        print(f"  BLOCKS {f.severity.value} {where} {f.checker}/{f.rule} {f.message}")


def table(outcomes: list[Outcome]) -> str:
    lines = [
        "| project | shape | files | time (s) | findings | blocking | blocking by rule |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for o in outcomes:
        by_rule = Counter(f"{f.checker}/{f.rule}" for f in o.blocking)
        rules = ", ".join(f"{r} {n}" for r, n in sorted(by_rule.items())) or "-"
        if o.errors:
            rules += "; errors: " + ", ".join(sorted(o.errors))
        lines.append(
            f"| {o.name} {o.version} | {o.shape} | {o.files} | {o.seconds:.1f} | "
            f"{sum(o.counts.values())} | {len(o.blocking)} | {rules} |"
        )
    total_blocking = sum(len(o.blocking) for o in outcomes)
    lines.append(
        f"| **total** | | {sum(o.files for o in outcomes)} | "
        f"{sum(o.seconds for o in outcomes):.1f} | "
        f"{sum(sum(o.counts.values()) for o in outcomes)} | {total_blocking} | |"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", help="comma-separated subset of the corpus")
    parser.add_argument("--max-files", type=int, default=400)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    wanted = set(args.projects.split(",")) if args.projects else None
    corpus = corpus_dir()
    outcomes: list[Outcome] = []
    for name, version, shape in PROJECTS:
        if wanted is not None and name not in wanted:
            continue
        unpacked = fetch(name, version, corpus)
        if unpacked is None:
            continue
        tree, sample = read_project(unpacked, args.max_files)
        outcome = check_project(name, version, shape, tree, sample)
        outcomes.append(outcome)
        if not args.json:
            print_outcome(outcome)
            sys.stdout.flush()
    if not outcomes:
        print("skipped: no project of the corpus could be fetched (offline?)")
        return 0
    if args.json:
        print(json.dumps([o.to_json() for o in outcomes], indent=2, sort_keys=True))
    else:
        print("\n" + table(outcomes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

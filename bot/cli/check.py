"""`evobot check`: run the checks over a directory and say whether the policy blocks."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from bot.cli._output import JsonOption, console, print_json
from bot.consumer import CONFIG_NAME, parse_consumer_config
from bot.errors import CheckError, EvobotError
from bot.git import Git
from bot.parsing import DocumentError, parse_yaml
from bot.tree import File, Tree

if TYPE_CHECKING:
    from bot.checks import CheckRun

__all__ = ["changed_paths", "register"]

_SEVERITY_STYLE = {
    "critical": "bold red",
    "high": "red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}


# Directories that hold tools' state or installed packages, never a service's own files.
_NEVER_CHECKED = (
    ".git",
    ".venv",
    "venv",
    "node_modules",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".tox",
    ".nox",
)


def _read_for_check(root: Path) -> tuple[Tree, dict[str, str]]:
    """The service's files under ``root``: in a git checkout the files git lists (tracked and
    untracked, not ignored); elsewhere every file outside tool state and virtualenvs.

    Symlinks are never followed: each one is recorded, with where it points, in the second
    result (path -> description), and left out of the tree. A link into the tree names a file
    checked at its own path; one leaving the tree, or dangling (a real repository may commit
    `.agents/skills/x -> ../../../elsewhere`), must not stop the check of everything else.
    """
    listed = _git(root, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    keep = {p for p in listed.split("\0") if p} if listed is not None else None
    tree: Tree = {}
    links: dict[str, str] = {}

    def unlistable(exc: OSError) -> None:
        raise CheckError(f"{exc.filename}: cannot read: {exc.strerror or exc}")

    for dirpath, dirnames, filenames in os.walk(root, onerror=unlistable):
        here = Path(dirpath)
        entries = []
        for d in sorted(dirnames):
            if (here / d).is_symlink():
                entries.append(d)  # os.walk does not descend into it: record it as a link
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in _NEVER_CHECKED
            and not (here / d).is_symlink()
            and not (here / d / "pyvenv.cfg").exists()
        )
        for name in sorted([*filenames, *entries]):
            full = here / name
            rel = full.relative_to(root).as_posix()
            if keep is not None and rel not in keep:
                continue
            if full.is_symlink():
                links[rel] = _describe_link(root, full)
                continue
            try:
                st = full.lstat()
                if stat.S_ISREG(st.st_mode):
                    tree[rel] = File(full.read_bytes(), bool(st.st_mode & stat.S_IXUSR))
            except OSError as exc:
                raise CheckError(f"{full}: cannot read: {exc.strerror or exc}") from None
    return tree, links


def _describe_link(root: Path, link: Path) -> str:
    """Where a symlink points, in words, without following it out of ``root``."""
    try:
        target = str(link.readlink())
    except OSError as exc:
        return f"symlink that cannot be read ({exc.strerror or exc}); not followed"
    resolved = (link.parent / target).resolve(strict=False)
    facts = [] if resolved.is_relative_to(root) else ["outside the tree"]
    if not resolved.exists():
        facts.append("dangling")
    where = ", ".join(facts) or "inside the tree; its target is checked at its own path"
    return f"symlink to {target} ({where}); not followed"


def _git(root: Path, *args: str) -> str | None:
    """Standard output of ``git args`` in ``root``, or None when git fails or cannot run."""
    try:
        result = Git(root, error=CheckError, timeout=60).run(*args, check=False)
    except CheckError:
        return None
    return result.stdout.decode("utf-8", "surrogateescape") if result.ok else None


def _template_commit(root: Path, rev: str) -> str | None:
    shown = _git(root, "show", f"{rev}:./{CONFIG_NAME}")
    try:
        data = parse_yaml(shown) if shown is not None else None
    except DocumentError:
        return None
    version = data.get("version") if isinstance(data, dict) else None
    commit = version.get("commit") if isinstance(version, dict) else None
    return str(commit) if commit else None


def _last_evolution(root: Path, *, depth: int = 50) -> str | None:
    """The newest of the last ``depth`` commits touching `.evobot.yml` that changed its
    template version; edits to answers or check policy alone are not evolutions."""
    log = _git(root, "log", "--format=%H", "-n", str(depth), "--", CONFIG_NAME) or ""
    for commit in log.split():
        if _template_commit(root, commit) != _template_commit(root, f"{commit}^"):
            return commit
    return None


def changed_paths(root: Path) -> tuple[list[str] | None, str]:
    """The paths to check by default, and a description of what they were compared with.

    In a git checkout: files changed since before the last evolution commit (the last commit
    that changed the template version in `.evobot.yml`), or since HEAD when there is none, plus
    untracked files. Elsewhere, and in a repository without commits, every file (None).
    """
    if _git(root, "rev-parse", "--is-inside-work-tree") is None:
        return None, "not a git checkout: every file"
    head = _git(root, "rev-parse", "--verify", "-q", "HEAD")
    if not head:
        return None, "no commits yet: every file"
    base, described = head.strip(), "HEAD"
    evolution = _last_evolution(root)
    if evolution:
        parent = _git(root, "rev-parse", "--verify", "-q", f"{evolution}^")
        if not parent:
            return None, f"last evolution commit {evolution[:12]} is the first commit: every file"
        base, described = parent.strip(), f"before the last evolution commit {evolution[:12]}"
    diff = _git(root, "diff", "--name-only", "--relative", "-z", base)
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "-z")
    if diff is None or untracked is None:
        raise CheckError(f"{root}: cannot list changed files with git")
    paths = {p for p in (diff + untracked).split("\0") if p}
    return sorted(paths), f"changed since {described}"


def _print_run(run: CheckRun, scope: str) -> None:
    summary = Table(title=f"evobot check ({scope})", show_lines=False)
    for col in ("checker", "status", "files", "cached", "findings", "blocking", "time"):
        summary.add_column(col, justify="right" if col in ("files", "cached", "time") else "left")
    for name, result in run.per_checker.items():
        style = {"passed": "green", "failed": "red", "error": "bold red", "disabled": "dim"}[
            result.status
        ]
        counts = ", ".join(f"{n} {sev}" for sev, n in result.counts.items()) or "-"
        summary.add_row(
            name,
            Text(result.status, style=style),
            str(result.files),
            str(result.cached),
            counts,
            str(result.blocking),
            f"{result.duration_s:.2f}s",
        )
    console.print(summary)
    for f in run.findings:
        # One finding a line, like a compiler: readable at any terminal width.
        where = f"{f.path}:{f.line}" if f.line else f.path
        console.print(
            Text.assemble(
                (f"{f.severity.value:<8}", _SEVERITY_STYLE[f.severity.value]),
                f" {where} ",
                (f"{f.checker}/{f.rule}", "dim"),
                f" {f.message}",
            ),
            soft_wrap=True,
        )
    verdict = ("passed", "bold green") if run.verdict.passed else ("blocked", "bold red")
    console.print(Text.assemble("policy: ", verdict))
    for reason in run.verdict.reasons:
        console.print(f"  - {reason}")


def register(app: typer.Typer) -> None:
    """Add `evobot check`."""

    @app.command("check")
    def check(
        path: Annotated[Path, typer.Argument(help="Directory to check.")] = Path(),
        all_files: Annotated[
            bool, typer.Option("--all", help="Check every file, not only the changed ones.")
        ] = False,
        types: Annotated[bool, typer.Option("--types", help="Also type-check with mypy.")] = False,
        json_out: JsonOption = False,
        cache_path: Annotated[
            Path | None,
            typer.Option(
                "--cache",
                help="SQLite cache file (default $EVOBOT_CACHE_DIR/checks.sqlite or "
                "~/.cache/evobot/checks.sqlite).",
            ),
        ] = None,
        no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not use the cache.")] = False,
        org_policy: Annotated[
            Path | None,
            typer.Option(
                "--org-policy",
                envvar="EVOBOT_ORG_POLICY",
                help="Org default check policy (YAML); the consumer's `checks:` overrides it.",
            ),
        ] = None,
    ) -> None:
        """Run the validator, ruff, bandit, secret and license checks; exit 1 if policy blocks."""
        try:
            run, scope, links = _check(path, all_files, types, cache_path, no_cache, org_policy)
        except (EvobotError, OSError) as exc:
            if json_out:
                # A caller parsing stdout always gets a document, also when nothing was checked.
                error = exc.diagnostics() if isinstance(exc, EvobotError) else _os_error(exc)
                print_json({"passed": False, "error": error})
            raise
        if json_out:
            print_json(
                {
                    **run.to_json(),
                    "scope": scope,
                    "skipped": [{"path": p, "reason": why} for p, why in sorted(links.items())],
                }
            )
        else:
            _print_run(run, scope)
            for p, why in sorted(links.items()):
                console.print(
                    Text.assemble((f"{'info':<8}", "dim"), f" {p} ", ("skipped", "dim"), f" {why}")
                )
        if not run.verdict.passed:
            raise typer.Exit(1)


def _os_error(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename is not None else ""
    return f"{where}{exc.strerror or exc}"


def _check(
    path: Path,
    all_files: bool,
    types: bool,
    cache_path: Path | None,
    no_cache: bool,
    org_policy: Path | None,
) -> tuple[CheckRun, str, dict[str, str]]:
    """Read the policy and the tree under ``path``, and check it."""
    # Imported here: the checkers take a third of a second to import, which every other
    # command would pay at start-up.
    from bot.checks import CheckCache, default_cache_path, load_policy, run_checks

    root = path.resolve()
    if not root.is_dir():
        raise CheckError(f"{path}: not a directory")
    config_checks: dict[str, Any] | None = None
    config_file = root / CONFIG_NAME
    if config_file.is_file():
        config = parse_consumer_config(config_file.read_bytes(), source=str(config_file))
        config_checks = config.checks
    policy = load_policy(config_checks, org_policy)
    tree, links = _read_for_check(root)
    if all_files:
        changed, scope = None, "every file"
    else:
        changed, scope = changed_paths(root)
        if changed is not None:
            changed = [p for p in changed if p not in links]
    cache = None
    if not no_cache:
        cache = CheckCache(cache_path or default_cache_path(os.environ))
    try:
        run = run_checks(tree, changed=changed, policy=policy, cache=cache, types=types)
    finally:
        if cache is not None:
            cache.close()
    return run, scope, links

"""Template sources: a local directory, a local git repository or a git URL, at a version.

Real git, run through `bot.git`. A version is a tag, branch or commit; by default the newest
PEP 440 tag, else HEAD. With a cache directory, each URL keeps a bare mirror that later opens only
fetch, so opening one template for hundreds of consumers stays cheap. Extra HTTP headers
(credentials) go to git in its environment only, never into logs or error messages, and git is
told not to follow a redirect while it carries them (a redirect must not take a credential to
another host).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from packaging.version import Version

from bot.errors import TemplateSourceError
from bot.git import Git
from bot.redact import redact_url, redact_urls_in
from bot.template.loader import has_manifest, load_any_manifest
from bot.template.manifest import MANIFEST_NAME, Manifest, parse_tag_version
from bot.tree import NotRegularFileError, raise_read_error, read_regular_file, safe_relpath

__all__ = [
    "ResolvedTemplate",
    "expand_source",
    "is_git_url",
    "list_versions",
    "open_template",
    "redact_url",
    "redact_urls_in",
    "remembering",
    "resolve_ref",
]

_GIT_TIMEOUT_S = 600
_T = TypeVar("_T")


@dataclass(frozen=True)
class ResolvedTemplate:
    """A template opened at one version: where its files are and what it is."""

    source: str
    subdir: str | None
    root: Path  # the directory holding template.yml
    ref: str | None  # the tag or branch people read; None for a bare commit or a plain dir
    commit: str  # full git commit id; for a plain directory a sha1-style content digest
    is_git: bool
    manifest: Manifest
    describe: str | None = None  # `git describe --tags --always` (copier's `_commit`)


# copier's source shortcuts: `gh:owner/name` and `gl:owner/name`.
_SHORTCUTS = {"gh:": "https://github.com/", "gl:": "https://gitlab.com/"}


def expand_source(source: str) -> str:
    """The URL a source shortcut stands for (`gh:o/n` -> `https://github.com/o/n.git`, as
    copier reads it; `git+https://...` -> `https://...`); any other source as it is."""
    for prefix, base in _SHORTCUTS.items():
        if source.startswith(prefix):
            rest = source[len(prefix) :].lstrip("/")
            return base + rest + ("" if rest.endswith(".git") else ".git")
    if source.startswith("git+") and is_git_url(source[4:]):
        return source[4:]
    return source


def _template_name(source: str, subdir: str | None) -> str:
    """A name for a template whose manifest has none (copier, cookiecutter): its repository's."""
    tail = subdir or source.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    tail = tail.rstrip("/").rsplit("/", 1)[-1]
    return tail.removesuffix(".git") or "template"


def is_git_url(source: str) -> bool:
    """Whether ``source`` is a URL git fetches (http, https, file, ssh, git) or scp-like."""
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", source)) or bool(
        re.match(r"^[\w.-]+@[\w.-]+:", source)
    )


def _source_git(git_dir: Path | None, source: str, headers: Sequence[str]) -> Git:
    """Git against one repository (or none yet) of ``source``, with the source's headers.

    Errors name the source without its credentials and never show a header.
    """
    return Git(
        git_dir=git_dir,
        where=redact_url(source),
        error=TemplateSourceError,
        headers=headers,
        timeout=_GIT_TIMEOUT_S,
    )


def _versions(git: Git, *, prereleases: bool) -> list[tuple[Version, str]]:
    out = git.out("for-each-ref", "--format=%(refname:strip=2)", "refs/tags").decode()
    found: list[tuple[Version, str]] = []
    for tag in out.split():
        version = parse_tag_version(tag)
        if version is None or (version.is_prerelease and not prereleases):
            continue
        found.append((version, tag))
    # Equal versions (1.0 and v1.0): the longer tag name sorts last, so the choice is stable.
    return sorted(found, key=lambda vt: (vt[0], len(vt[1]), vt[1]))


# Answers to git questions about local repositories, kept only inside `remembering()`.
_MEMO: ContextVar[dict[tuple[str, ...], object] | None] = ContextVar("_MEMO", default=None)


@contextlib.contextmanager
def remembering() -> Iterator[None]:
    """Within this block, each question to a local template repository (where it is, what a
    ref names, its `describe`) and each cached checkout's manifest is answered once.

    For one run over a fleet, which opens the same template versions hundreds of times; a
    long-lived process must not keep the answers (new tags appear), so nothing is kept after.
    """
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def _memo(key: tuple[str, ...], compute: Callable[[], _T]) -> _T:
    memo = _MEMO.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]  # type: ignore[return-value]


def _resolve_ref(git: Git, vcs_ref: str | None, *, prereleases: bool) -> tuple[str | None, str]:
    if git.headers or is_git_url(git.where):
        return _resolve_ref_now(git, vcs_ref, prereleases=prereleases)
    key = ("ref", str(git.git_dir), vcs_ref or "", str(prereleases))
    return _memo(key, lambda: _resolve_ref_now(git, vcs_ref, prereleases=prereleases))


def _resolve_ref_now(git: Git, vcs_ref: str | None, *, prereleases: bool) -> tuple[str | None, str]:
    """(ref people read, full commit id) for ``vcs_ref`` in ``git``'s repository."""
    if vcs_ref is None:
        versions = _versions(git, prereleases=prereleases)
        if versions:
            tag = versions[-1][1]
            return tag, git.text("rev-parse", "--verify", f"refs/tags/{tag}^{{commit}}")
        commit = git.try_text("rev-parse", "--verify", "HEAD^{commit}")
        if commit is None:
            raise TemplateSourceError(f"{git.where}: the repository has no commits")
        branch = git.try_text("symbolic-ref", "--short", "-q", "HEAD")
        return branch or None, commit
    if vcs_ref.startswith("-"):
        raise TemplateSourceError(f"{vcs_ref!r} is not a valid version")
    for prefix in ("refs/tags/", "refs/heads/", "refs/remotes/origin/"):
        commit = git.try_text("rev-parse", "--verify", "-q", f"{prefix}{vcs_ref}^{{commit}}")
        if commit:
            return vcs_ref, commit
    commit = git.try_text("rev-parse", "--verify", "-q", f"{vcs_ref}^{{commit}}")
    if commit is None:
        raise TemplateSourceError(
            f"{git.where}: no tag, branch or commit named {vcs_ref!r}",
            hint="list the versions with `git tag`; a commit must have been pushed",
        )
    # A commit id: name it by the newest version tag pointing at it, if any.
    tags = git.out("tag", "--points-at", commit).decode().split()
    versions = sorted((v, t) for t in tags if (v := parse_tag_version(t)) is not None)
    return (versions[-1][1] if versions else None), commit


def _extract(git: Git, commit: str, subdir: str | None, dest: Path) -> None:
    """Write the tree of ``commit`` (under ``subdir``) into ``dest``; symlinks kept as links.

    Blobs are read raw (`ls-tree` + `cat-file --batch`), not through `git archive` or a checkout:
    no attributes (`export-subst`, `eol`), no filter drivers a repository's config could name,
    no line-ending conversion — the committed bytes, the same on every machine.
    """
    treeish = f"{commit}:{subdir}" if subdir else f"{commit}^{{tree}}"
    if git.try_text("cat-file", "-t", treeish) != "tree":
        raise TemplateSourceError(
            f"{git.where}: subdirectory {subdir!r} not found at {commit[:12]}"
        )
    entries: list[tuple[str, str, str]] = []
    for record in git.out("ls-tree", "-r", "-z", "--full-tree", treeish).split(b"\0"):
        if not record:
            continue
        meta, _tab, raw_path = record.partition(b"\t")
        mode, kind, oid = meta.decode().split()
        if kind != "blob":
            continue  # submodules (gitlinks) are not part of a template
        entries.append((mode, oid, raw_path.decode("utf-8", errors="surrogateescape")))
    if not entries:
        return
    batch = git.out(
        "cat-file", "--batch", input="".join(f"{oid}\n" for _m, oid, _p in entries).encode()
    )
    real_dest = os.path.realpath(dest)
    pos = 0
    for mode, oid, path in entries:
        header_end = batch.index(b"\n", pos)
        header = batch[pos:header_end].decode().split()
        if header[0] != oid or len(header) != 3:
            raise TemplateSourceError(f"{git.where}: cannot read {path} at {commit[:12]}")
        size = int(header[2])
        data = batch[header_end + 1 : header_end + 1 + size]
        pos = header_end + 1 + size + 1
        target = dest / safe_relpath(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        parent = os.path.realpath(target.parent)
        if not (parent == real_dest or parent.startswith(real_dest + os.sep)):
            raise TemplateSourceError(f"{path}: lies under a symlink; refusing to extract it")
        if mode == "120000":
            target.symlink_to(os.fsdecode(data))
        else:
            target.write_bytes(data)
            target.chmod(0o755 if mode == "100755" else 0o644)


def _local_git_dir(path: Path) -> Path | None:
    """The git dir when ``path`` is a work tree's top level or a bare repository, else None."""
    return _memo(("git-dir", os.path.realpath(path)), lambda: _find_local_git_dir(path))


def _find_local_git_dir(path: Path) -> Path | None:
    probe = _source_git(None, str(path), ())
    top = probe.try_text("-C", str(path), "rev-parse", "--show-toplevel")
    if top and os.path.realpath(top) == os.path.realpath(path):
        git_dir = probe.try_text("-C", str(path), "rev-parse", "--absolute-git-dir")
        return Path(git_dir) if git_dir else None
    bare = probe.try_text("-C", str(path), "rev-parse", "--is-bare-repository")
    if bare == "true":
        git_dir = probe.try_text("-C", str(path), "rev-parse", "--absolute-git-dir")
        if git_dir and os.path.realpath(git_dir) == os.path.realpath(path):
            return Path(git_dir)
    return None


def _content_digest(root: Path) -> str:
    """A sha1-style hex digest of every path, mode and content under ``root``.

    Read as git would record it: a symlink by its target text (never followed), a regular file
    by its bytes. Anything else (a FIFO, socket or device, which could block a read forever) is
    refused by name.
    """
    h = hashlib.sha1(usedforsecurity=False)
    for dirpath, dirnames, filenames in os.walk(root, onerror=raise_read_error):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        links = [d for d in dirnames if (Path(dirpath) / d).is_symlink()]
        for name in sorted([*filenames, *links]):
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            try:
                mode = full.lstat().st_mode
                if stat.S_ISLNK(mode):
                    target = full.readlink()
                    h.update(b"L" + os.fsencode(rel) + b"\0" + os.fsencode(target) + b"\0")
                    continue
                data, executable = read_regular_file(full)
            except NotRegularFileError as exc:
                raise TemplateSourceError(
                    f"{full}: is {exc.kind}; a template holds only regular files and symlinks",
                    hint=f"remove {rel} from the template directory",
                ) from None
            except OSError as exc:
                raise_read_error(exc)
            content = hashlib.sha256(data).digest()
            h.update(b"F" + os.fsencode(rel) + b"\0" + (b"x" if executable else b"-") + content)
    return h.hexdigest()


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.with_suffix(".lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _mirror(
    source: str, headers: Sequence[str], cache_dir: Path, *, need_commit: str | None
) -> Git:
    """A bare mirror of ``source`` in ``cache_dir``, cloned once and fetched on later opens.

    When ``need_commit`` (a full commit id) is already in the mirror, no fetch is needed.
    """
    key = hashlib.sha256(redact_url(source).encode()).hexdigest()[:32]
    mirror = cache_dir / f"{key}.git"
    with _locked(mirror):
        git = _source_git(mirror, source, headers)
        if (mirror / "HEAD").is_file():
            if need_commit and git.try_text("cat-file", "-t", need_commit) == "commit":
                if headers:
                    # The mirror may have been filled with other credentials: these must be
                    # able to read the repository too, or the cache would hand its files out.
                    git.run("ls-remote", "--quiet", "--", source, "HEAD")
                return git
            memo = _MEMO.get()
            fetched = ("fetched", str(mirror))
            if memo is not None and not headers and fetched in memo:
                return git  # fetched once already in this run (see `remembering`)
            # By URL, not by remote name: the stored remote URL holds no credentials.
            git.run("fetch", "--prune", "--force", "--quiet", "--", source, "+refs/*:refs/*")
            if memo is not None:
                memo[fetched] = True
        else:
            tmp = Path(tempfile.mkdtemp(prefix=f"{key}.", dir=cache_dir))
            try:
                cloner = _source_git(None, source, headers)
                cloner.run("clone", "--mirror", "--quiet", "--", source, str(tmp))
                _source_git(tmp, source, ()).run("remote", "set-url", "origin", redact_url(source))
                tmp.rename(mirror)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        return git


def _cached_checkout(git: Git, commit: str, subdir: str | None, cache_dir: Path) -> Path:
    """The files of ``commit`` (under ``subdir``), extracted once into ``cache_dir`` and reused.

    A commit's content never changes, so every later open of it (hundreds in a rollout) finds
    the same directory, and the render worker can reuse what it compiled from it.
    """
    key = commit + (f"-{hashlib.sha256(subdir.encode()).hexdigest()[:12]}" if subdir else "")
    checkouts = cache_dir / "checkouts"
    target = checkouts / key
    if target.is_dir():
        return target
    checkouts.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=checkouts))
    try:
        _extract(git, commit, subdir, tmp)
        try:
            tmp.rename(target)
        except OSError:
            if not target.is_dir():  # not a concurrent open that got there first
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _check_subdir(subdir: str | None) -> str | None:
    if subdir is None or subdir.strip("/") in ("", "."):
        return None
    try:
        return safe_relpath(subdir.strip("/"))
    except Exception:
        raise TemplateSourceError(f"subdirectory {subdir!r} is not a safe relative path") from None


@contextlib.contextmanager
def open_template(
    source: str,
    *,
    subdir: str | None = None,
    vcs_ref: str | None = None,
    git_http_headers: Sequence[str] = (),
    cache_dir: Path | None = None,
    prereleases: bool = False,
) -> Iterator[ResolvedTemplate]:
    """Open ``source`` at ``vcs_ref`` (default: newest PEP 440 tag, else HEAD).

    Yields a :class:`ResolvedTemplate` whose files stay on disk until the ``with`` block ends.
    """
    if not source or source.startswith("-"):
        raise TemplateSourceError(f"{source!r} is not a template source")
    sub = _check_subdir(subdir)
    url = expand_source(source)
    name = _template_name(url, sub)
    with contextlib.ExitStack() as stack:
        if is_git_url(url):
            git = _open_remote(url, git_http_headers, cache_dir, vcs_ref, stack)
        else:
            path = Path(source).expanduser()
            if not path.exists():
                raise TemplateSourceError(f"{source}: no such directory")
            if not path.is_dir():
                raise TemplateSourceError(f"{source}: not a directory")
            git_dir = _local_git_dir(path)
            if git_dir is None:
                root = path / sub if sub else path
                if not root.is_dir():
                    raise TemplateSourceError(f"{source}: subdirectory {sub!r} not found")
                digest = _content_digest(root)
                if vcs_ref is not None and not (len(vcs_ref) >= 7 and digest.startswith(vcs_ref)):
                    raise TemplateSourceError(
                        f"{source}: a plain directory (not a git repository) has no version "
                        f"{vcs_ref!r}; only its current content ({digest[:12]}) can be rendered",
                        hint="make the template a git repository with version tags",
                    )
                manifest = load_any_manifest(root, name=name)
                yield ResolvedTemplate(
                    source=source,
                    subdir=sub,
                    root=root.resolve(),
                    ref=None,
                    commit=digest,
                    is_git=False,
                    manifest=manifest,
                )
                return
            git = _source_git(git_dir, source, ())
        ref, commit = _resolve_ref(git, vcs_ref, prereleases=prereleases)
        if cache_dir is not None:
            checkout = _cached_checkout(git, commit, sub, cache_dir)
        else:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="evobot-template-")))
            checkout = tmp / "template"
            checkout.mkdir()
            _extract(git, commit, sub, checkout)
        if not has_manifest(checkout):  # a link is refused by load_any_manifest
            where = f"{sub}/{MANIFEST_NAME}" if sub else MANIFEST_NAME
            raise TemplateSourceError(
                f"{redact_url(source)}: no {where} at {ref or commit[:12]} "
                "(nor a copier.yml or cookiecutter.json)",
                hint="pass --subdir when the template lives in a subdirectory of the repository",
            )
        if cache_dir is not None:  # a cached checkout of a commit never changes
            manifest = _memo(
                ("manifest", str(checkout), name), lambda: load_any_manifest(checkout, name=name)
            )
        else:
            manifest = load_any_manifest(checkout, name=name)
        describe = None
        if manifest.dialect is not None:
            describe = _memo(
                ("describe", str(git.git_dir), commit),
                lambda: git.try_text("describe", "--tags", "--always", commit),
            )
            # `{% now %}` shows the version's commit time, never the clock: same bytes each run.
            committed = _memo(
                ("committed", str(git.git_dir), commit),
                lambda: git.try_text("log", "-1", "--format=%cI", commit),
            )
            dialect = manifest.dialect.model_copy(update={"now": committed})
            manifest = manifest.model_copy(update={"dialect": dialect})
        yield ResolvedTemplate(
            source=source,
            subdir=sub,
            root=checkout,
            ref=ref,
            commit=commit,
            is_git=True,
            manifest=manifest,
            describe=describe,
        )


def _open_remote(
    source: str,
    headers: Sequence[str],
    cache_dir: Path | None,
    vcs_ref: str | None,
    stack: contextlib.ExitStack,
) -> Git:
    if cache_dir is not None:
        need = vcs_ref if vcs_ref and re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", vcs_ref) else None
        return _mirror(source, headers, cache_dir, need_commit=need)
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="evobot-clone-")))
    bare = tmp / "repo.git"
    _source_git(None, source, headers).run("clone", "--bare", "--quiet", "--", source, str(bare))
    return _source_git(bare, source, headers)


def resolve_ref(
    source: str,
    ref: str,
    *,
    git_http_headers: Sequence[str] = (),
    cache_dir: Path | None = None,
) -> str:
    """The full commit id ``ref`` (a tag, branch, commit or `git describe` name such as
    copier's `_commit: v1.2.0-3-gabc1234`) names in the git template ``source``."""
    url = expand_source(source)
    with contextlib.ExitStack() as stack:
        if is_git_url(url):
            git = _open_remote(url, git_http_headers, cache_dir, None, stack)
        else:
            git_dir = _local_git_dir(Path(url).expanduser())
            if git_dir is None:
                raise TemplateSourceError(
                    f"{source}: not a git repository, so it has no version {ref!r}"
                )
            git = _source_git(git_dir, url, ())
        return _resolve_ref(git, ref, prereleases=True)[1]


def list_versions(
    source: str,
    *,
    git_http_headers: Sequence[str] = (),
    cache_dir: Path | None = None,
    prereleases: bool = False,
) -> list[str]:
    """The PEP 440 version tags of a git template source, oldest first."""
    source = expand_source(source)
    with contextlib.ExitStack() as stack:
        if is_git_url(source):
            git = _open_remote(source, git_http_headers, cache_dir, None, stack)
        else:
            git_dir = _local_git_dir(Path(source))
            if git_dir is None:
                return []
            git = _source_git(git_dir, source, ())
        return [tag for _v, tag in _versions(git, prereleases=prereleases)]

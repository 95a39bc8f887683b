"""Real bare git repositories on disk, driven through `git` (run by `bot.git`).

Blobs are written as loose objects directly (the same bytes `git hash-object -w` writes, without
a process per file); trees go through a temporary index, commits through `git commit-tree`.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.git import Git, GitError, GitResult

__all__ = ["GitCommandError", "GitRepo", "Person", "RawCommit", "TreeEntry"]

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
ZERO = "0" * 40


class GitCommandError(GitError):
    """A git subprocess that failed; ``stderr`` says why."""


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    date: float  # epoch seconds
    tz: str = "+0000"


@dataclass(frozen=True)
class TreeEntry:
    path: str
    mode: str
    type: str  # blob | tree | commit
    sha: str
    size: int | None = None


@dataclass(frozen=True)
class RawCommit:
    sha: str
    tree: str
    parents: tuple[str, ...]
    author: Person
    committer: Person
    message: str


def _parse_person(text: str) -> Person:
    # "Name <email> 1700000000 +0000"
    name_email, _, rest = text.rpartition(">")
    name, _, email = name_email.partition("<")
    stamp, _, tz = rest.strip().partition(" ")
    return Person(name=name.strip(), email=email.strip(), date=float(stamp or 0), tz=tz or "+0000")


class GitRepo:
    """One bare repository. Thread-safe for object writes; ref updates are serialised."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.ref_lock = threading.RLock()
        self._git = Git(path, error=GitCommandError)

    # -- plumbing -------------------------------------------------------------------------
    def git(
        self,
        *args: str,
        input: bytes | None = None,
        env: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> GitResult:
        return self._git.run(*args, input=input, env=env, check=check)

    def out(self, *args: str, input: bytes | None = None) -> str:
        return self.git(*args, input=input).stdout.decode().strip()

    @classmethod
    def init(cls, path: Path, default_branch: str) -> GitRepo:
        """Create an empty bare repository (the layout `git init --bare` writes, without
        spawning it: seeding hundreds of repositories stays fast)."""
        path.mkdir(parents=True, exist_ok=True)
        for sub in ("objects/info", "objects/pack", "refs/heads", "refs/tags", "info"):
            (path / sub).mkdir(parents=True, exist_ok=True)
        (path / "HEAD").write_text(f"ref: refs/heads/{default_branch}\n")
        (path / "config").write_text(
            "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n"
            # Pushes over smart HTTP, fetching any commit by id, deleting the HEAD branch.
            "[http]\n\treceivepack = true\n"
            "[uploadpack]\n\tallowAnySHA1InWant = true\n"
            "[receive]\n\tdenyDeleteCurrent = ignore\n"
        )
        return cls(path)

    # -- objects --------------------------------------------------------------------------
    def write_blob(self, data: bytes) -> str:
        header = f"blob {len(data)}\0".encode()
        sha = hashlib.sha1(header + data, usedforsecurity=False).hexdigest()
        target = self.path / "objects" / sha[:2] / sha[2:]
        if not target.exists():
            target.parent.mkdir(exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(zlib.compress(header + data, 1))
            Path(tmp).chmod(0o444)
            Path(tmp).replace(target)
        return sha

    def object_type(self, sha: str) -> str | None:
        result = self.git("cat-file", "-t", sha, check=False)
        return result.stdout.decode().strip() if result.returncode == 0 else None

    def read_objects(self, shas: Iterable[str]) -> dict[str, tuple[str, bytes]]:
        """``{sha: (type, content)}`` for the objects that exist, in one `cat-file --batch`."""
        wanted = list(dict.fromkeys(shas))
        if not wanted:
            return {}
        out = self.git("cat-file", "--batch", input="".join(s + "\n" for s in wanted).encode())
        data = out.stdout
        found: dict[str, tuple[str, bytes]] = {}
        pos = 0
        for sha in wanted:
            nl = data.index(b"\n", pos)
            header = data[pos:nl].decode()
            pos = nl + 1
            parts = header.split()
            if len(parts) == 2 and parts[1] == "missing":
                continue
            if len(parts) != 3:
                continue
            oid, typ, size = parts[0], parts[1], int(parts[2])
            found[sha] = (typ, data[pos : pos + size])
            found.setdefault(oid, found[sha])
            pos += size + 1
        return found

    def read_blob(self, sha: str) -> bytes | None:
        obj = self.read_objects([sha]).get(sha)
        return obj[1] if obj and obj[0] == "blob" else None

    def resolve(self, rev: str) -> str | None:
        """A full commit id for ``rev`` (sha, branch, tag, ref), or None."""
        if not rev or rev.startswith("-"):
            return None
        result = self.git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
        return result.stdout.decode().strip() if result.returncode == 0 else None

    def resolve_object(self, rev: str) -> str | None:
        if not rev or rev.startswith("-"):
            return None
        result = self.git("rev-parse", "--verify", "--quiet", rev, check=False)
        return result.stdout.decode().strip() if result.returncode == 0 else None

    def read_commit(self, sha: str) -> RawCommit | None:
        obj = self.read_objects([sha]).get(sha)
        if obj is None or obj[0] != "commit":
            return None
        return self._parse_commit(sha, obj[1])

    def read_commits(self, shas: Iterable[str]) -> dict[str, RawCommit]:
        return {
            sha: self._parse_commit(sha, content)
            for sha, (typ, content) in self.read_objects(shas).items()
            if typ == "commit"
        }

    @staticmethod
    def _parse_commit(sha: str, content: bytes) -> RawCommit:
        head, _, message = content.decode(errors="replace").partition("\n\n")
        tree = ""
        parents: list[str] = []
        author = committer = Person("", "", 0)
        for line in head.splitlines():
            key, _, value = line.partition(" ")
            if key == "tree":
                tree = value
            elif key == "parent":
                parents.append(value)
            elif key == "author":
                author = _parse_person(value)
            elif key == "committer":
                committer = _parse_person(value)
        return RawCommit(sha, tree, tuple(parents), author, committer, message)

    def ls_tree(self, tree: str, *, recursive: bool = False) -> list[TreeEntry]:
        args = ["ls-tree", "-z", "-l", "--full-tree"]
        if recursive:
            args += ["-r", "-t"]
        out = self.git(*args, tree).stdout.decode(errors="surrogateescape")
        entries: list[TreeEntry] = []
        for record in out.split("\0"):
            if not record:
                continue
            meta, _, path = record.partition("\t")
            mode, typ, sha, size = meta.split(maxsplit=3)
            entries.append(
                TreeEntry(path, mode, typ, sha, None if size.strip() == "-" else int(size))
            )
        return entries

    def flat_tree(self, tree: str) -> dict[str, tuple[str, str, str]]:
        """``{path: (mode, type, sha)}`` of every non-tree entry under ``tree``."""
        out = self.git("ls-tree", "-r", "-z", "--full-tree", tree).stdout
        flat: dict[str, tuple[str, str, str]] = {}
        for record in out.decode(errors="surrogateescape").split("\0"):
            if record:
                meta, _, path = record.partition("\t")
                mode, typ, sha = meta.split()
                flat[path] = (mode, typ, sha)
        return flat

    def write_flat_tree(self, flat: Mapping[str, tuple[str, str, str]]) -> str:
        """Write nested trees for ``{path: (mode, type, sha)}`` through a temporary index."""
        if not flat:
            return self.write_empty_tree()
        fd, index = tempfile.mkstemp(prefix="evobot-emu-index-")
        os.close(fd)
        Path(index).unlink()
        try:
            lines = "".join(f"{mode} {sha}\t{path}\0" for path, (mode, _t, sha) in flat.items())
            env = {"GIT_INDEX_FILE": index}
            self.git("update-index", "-z", "--index-info", input=lines.encode(), env=env)
            return self.git("write-tree", env=env).stdout.decode().strip()
        finally:
            Path(index).unlink(missing_ok=True)

    def write_empty_tree(self) -> str:
        return self.git("mktree", input=b"").stdout.decode().strip()

    def commit_tree(
        self,
        tree: str,
        parents: Iterable[str],
        message: str,
        author: Person,
        committer: Person | None = None,
    ) -> str:
        committer = committer or author
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        env = {
            "GIT_AUTHOR_NAME": author.name,
            "GIT_AUTHOR_EMAIL": author.email,
            "GIT_AUTHOR_DATE": f"@{int(author.date)} {author.tz}",
            "GIT_COMMITTER_NAME": committer.name,
            "GIT_COMMITTER_EMAIL": committer.email,
            "GIT_COMMITTER_DATE": f"@{int(committer.date)} {committer.tz}",
        }
        return self.git(*args, "-F", "-", input=message.encode(), env=env).stdout.decode().strip()

    # -- refs -----------------------------------------------------------------------------
    def refs(self, prefix: str = "refs/") -> dict[str, str]:
        out = self.out("for-each-ref", "--format=%(refname) %(objectname)", prefix)
        refs: dict[str, str] = {}
        for line in out.splitlines():
            name, _, sha = line.partition(" ")
            if name:
                refs[name] = sha
        return refs

    def ref(self, name: str) -> str | None:
        return self.refs(name).get(name)

    def update_ref(self, name: str, new: str, old: str | None = None) -> None:
        args = ["update-ref", name, new]
        if old is not None:
            args.append(old)
        self.git(*args)

    def delete_ref(self, name: str) -> None:
        self.git("update-ref", "-d", name)

    def set_head(self, branch: str) -> None:
        self.git("symbolic-ref", "HEAD", f"refs/heads/{branch}")

    # -- history --------------------------------------------------------------------------
    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return (
            self.git("merge-base", "--is-ancestor", ancestor, descendant, check=False).returncode
            == 0
        )

    def merge_base(self, a: str, b: str) -> str | None:
        result = self.git("merge-base", a, b, check=False)
        return result.stdout.decode().strip() if result.returncode == 0 else None

    def rev_list(self, spec: str, *, limit: int | None = None) -> list[str]:
        args = ["rev-list", "--topo-order", "--reverse"]
        if limit:
            args.insert(1, f"--max-count={limit}")
        return self.out(*args, spec).split()

    def merge_trees(self, ours: str, theirs: str) -> tuple[str, bool]:
        """Three-way merge of two commits at their merge base; ``(tree, clean)``.

        Uses `git merge-tree --write-tree` (git ≥ 2.38).
        """
        result = self.git("merge-tree", "--write-tree", "--no-messages", ours, theirs, check=False)
        if result.returncode == 128 and b"unrelated histories" in result.stderr:
            return "", False
        if result.returncode not in (0, 1):
            raise self._git.failure(result, "merge-tree")
        tree = result.stdout.decode().split("\n", 1)[0].strip()
        return tree, result.returncode == 0

    def diff(self, old: str, new: str) -> list[tuple[str, str, str, str, int, int]]:
        """``(status, path, old_sha, new_sha, additions, deletions)`` between two trees/commits."""
        raw = self.git("diff-tree", "-r", "-z", "--no-renames", old, new).stdout.decode(
            errors="surrogateescape"
        )
        numstat = self.git(
            "diff-tree", "-r", "-z", "--no-renames", "--numstat", old, new
        ).stdout.decode(errors="surrogateescape")
        counts: dict[str, tuple[int, int]] = {}
        for record in numstat.split("\0"):
            if not record:
                continue
            fields = record.split("\t")
            if len(fields) == 3:
                add, rem, path = fields
                counts[path] = (
                    int(add) if add.isdigit() else 0,
                    int(rem) if rem.isdigit() else 0,
                )
        items = raw.split("\0")
        result: list[tuple[str, str, str, str, int, int]] = []
        i = 0
        while i + 1 < len(items):
            meta, path = items[i], items[i + 1]
            i += 2
            if not meta.startswith(":"):
                continue
            _om, _nm, osha, nsha, change = meta[1:].split()
            added, removed = counts.get(path, (0, 0))
            result.append((change[0], path, osha, nsha, added, removed))
        return result

    def patches(self, old: str, new: str) -> dict[str, str]:
        """Unified diff hunks per path between two trees/commits, from one `git diff`."""
        text = self.git(
            "-c", "core.quotePath=false", "diff", "--no-color", "--no-renames", old, new
        ).stdout.decode(errors="replace")
        result: dict[str, str] = {}
        for chunk in text.split("\ndiff --git "):
            lines = chunk.split("\n")
            path = None
            for line in lines[:8]:
                # git ends a name containing a space with a tab
                if line.startswith("+++ b/"):
                    path = line[6:].removesuffix("\t")
                    break
                if line.startswith("--- a/"):
                    path = line[6:].removesuffix("\t")
            hunk = chunk.find("\n@@")
            if path is not None and hunk >= 0:
                result[path] = chunk[hunk + 1 :].rstrip("\n")
        return result

    def archive(self, commit: str, prefix: str) -> bytes:
        return self.git("archive", "--format=tar.gz", f"--prefix={prefix}/", commit).stdout

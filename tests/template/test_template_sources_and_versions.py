"""Template sources: local repos, plain directories and git URLs, at the right version."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest
from evobot_testing import build_file_tree, git, git_commit_all, git_init

from bot.errors import RenderError, TemplateSourceError
from bot.template import list_versions, open_template, render_template


def _repo_with_tags(root: Path, tags: list[str]) -> dict[str, str]:
    """One commit per tag, each writing its tag into files/version.txt; tag -> commit."""
    git_init(root)
    commits = {}
    for tag in tags:
        build_file_tree(root, {"template.yml": "name: t\n", "files/version.txt": f"{tag}\n"})
        commits[tag] = git_commit_all(root, f"release {tag}", tag=tag)
    return commits


def _version_of(source: str, **kwargs: object) -> tuple[str | None, str, bytes]:
    with open_template(source, **kwargs) as template:  # type: ignore[arg-type]
        tree = render_template(template, {})
        return template.ref, template.commit, tree["version.txt"].data


def test_default_is_the_newest_pep440_tag(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    commits = _repo_with_tags(repo, ["v1.0.0", "1.10.0", "notaversion", "1.9.0", "2.0.0rc1"])
    ref, commit, data = _version_of(str(repo))
    assert (ref, commit, data) == ("1.10.0", commits["1.10.0"], b"1.10.0\n")
    ref, _commit, _data = _version_of(str(repo), prereleases=True)
    assert ref == "2.0.0rc1"
    assert list_versions(str(repo)) == ["v1.0.0", "1.9.0", "1.10.0"]


def test_without_version_tags_head_is_used(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    _repo_with_tags(repo, ["latest"])
    build_file_tree(repo, {"files/version.txt": "head\n"})
    head = git_commit_all(repo, "unreleased")
    assert _version_of(str(repo)) == ("main", head, b"head\n")


def test_vcs_ref_picks_a_tag_a_branch_or_a_commit(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    commits = _repo_with_tags(repo, ["1.0.0", "2.0.0"])
    assert _version_of(str(repo), vcs_ref="1.0.0") == ("1.0.0", commits["1.0.0"], b"1.0.0\n")
    assert _version_of(str(repo), vcs_ref="main")[:2] == ("main", commits["2.0.0"])
    # A bare commit id is named by the version tag pointing at it.
    assert _version_of(str(repo), vcs_ref=commits["1.0.0"])[0] == "1.0.0"
    assert _version_of(str(repo), vcs_ref=commits["1.0.0"][:10])[1] == commits["1.0.0"]
    with pytest.raises(TemplateSourceError, match="no tag, branch or commit named 'nope'"):
        _version_of(str(repo), vcs_ref="nope")


def test_subdirectory_of_a_repository(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    build_file_tree(
        repo,
        {
            "README.md": "many templates\n",
            "templates/svc/template.yml": "name: svc\n",
            "templates/svc/files/app.txt.jinja": "{{ 6 * 7 }}\n",
        },
    )
    git_commit_all(repo, "templates", tag="1.0.0")
    with open_template(str(repo), subdir="templates/svc") as template:
        assert template.subdir == "templates/svc"
        assert template.manifest.name == "svc"
        assert render_template(template, {}) == render_template(template, {})
        assert render_template(template, {})["app.txt"].data == b"42\n"
    with pytest.raises(TemplateSourceError, match="subdirectory 'templates/nope' not found"):
        _version_of(str(repo), subdir="templates/nope")
    with pytest.raises(TemplateSourceError, match=r"no template.yml at 1\.0\.0"):
        _version_of(str(repo))
    with pytest.raises(TemplateSourceError, match="not a safe relative path"):
        _version_of(str(repo), subdir="../elsewhere")


def test_checkout_is_removed_when_the_block_ends(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    _repo_with_tags(repo, ["1.0.0"])
    with open_template(str(repo)) as template:
        root = template.root
        assert (root / "template.yml").is_file()
    assert not root.exists()


def test_git_url_with_a_mirror_cache_fetches_new_versions(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    commits = _repo_with_tags(repo, ["1.0.0"])
    cache = tmp_path / "cache"
    url = repo.as_uri()
    assert _version_of(url, cache_dir=cache)[0] == "1.0.0"
    mirrors = list(cache.glob("*.git"))
    assert len(mirrors) == 1
    # A new release is fetched into the same mirror on the next open.
    build_file_tree(repo, {"files/version.txt": "1.1.0\n"})
    git_commit_all(repo, "release", tag="1.1.0")
    assert _version_of(url, cache_dir=cache)[2] == b"1.1.0\n"
    assert list(cache.glob("*.git")) == mirrors
    # A known commit needs no fetch at all: it still opens with the origin gone.
    shutil.rmtree(repo)
    assert _version_of(url, cache_dir=cache, vcs_ref=commits["1.0.0"])[2] == b"1.0.0\n"
    with pytest.raises(TemplateSourceError, match="git fetch failed"):
        _version_of(url, cache_dir=cache)


def test_git_url_without_cache_clones_to_a_temporary_directory(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    commits = _repo_with_tags(repo, ["0.1.0", "0.2.0"])
    assert _version_of(repo.as_uri(), vcs_ref="0.1.0")[:2] == ("0.1.0", commits["0.1.0"])


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_credentials_never_appear_in_errors(tmp_path: Path) -> None:
    port = _closed_port()
    url = f"http://user:pa55word@127.0.0.1:{port}/org/template.git"
    with (
        pytest.raises(TemplateSourceError) as info,
        open_template(
            url,
            git_http_headers=["Authorization: Basic c2VjcmV0LXRva2Vu"],
            cache_dir=tmp_path / "cache",
        ),
    ):
        pass
    text = info.value.diagnostics()
    assert "git clone failed" in text
    assert "pa55word" not in text
    assert "c2VjcmV0LXRva2Vu" not in text
    assert f"http://127.0.0.1:{port}/org/template.git" in text


def test_plain_directory_refuses_a_version(tmp_path: Path) -> None:
    build_file_tree(tmp_path / "plain", {"template.yml": "name: t\n", "files/version.txt": "a"})
    with pytest.raises(TemplateSourceError, match=r"plain directory .* has no version '1\.0\.0'"):
        _version_of(str(tmp_path / "plain"), vcs_ref="1.0.0")
    # Its current content digest is the one version it has.
    with open_template(str(tmp_path / "plain")) as template:
        digest = template.commit
    assert _version_of(str(tmp_path / "plain"), vcs_ref=digest)[:2] == (None, digest)
    with pytest.raises(TemplateSourceError, match="no such directory"):
        _version_of(str(tmp_path / "missing"))


def test_symlink_out_of_a_git_template_is_refused(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    build_file_tree(repo, {"template.yml": "name: t\n", "files/ok.txt": "ok\n"})
    (repo / "files" / "passwd").symlink_to("/etc/passwd")
    git_commit_all(repo, "evil", tag="1.0.0")
    with open_template(str(repo)) as template, pytest.raises(RenderError, match="files/passwd"):
        render_template(template, {})


def test_bare_repository_path(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    commits = _repo_with_tags(repo, ["3.0.0"])
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "--bare", "-q", str(repo), str(bare))
    assert _version_of(str(bare))[:2] == ("3.0.0", commits["3.0.0"])


def test_cache_reuses_one_checkout_per_commit(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    commits = _repo_with_tags(repo, ["1.0.0", "2.0.0"])
    cache = tmp_path / "cache"
    roots = []
    for ref in ("1.0.0", commits["1.0.0"], "2.0.0"):
        with open_template(repo.as_uri(), vcs_ref=ref, cache_dir=cache) as template:
            roots.append(template.root)
            assert (template.root / "files" / "version.txt").is_file()
    assert roots[0] == roots[1] != roots[2]
    assert roots[0].exists()  # cached checkouts outlive the block; temporary ones do not


def test_committed_bytes_are_read_raw_without_attributes_or_filters(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    marker = tmp_path / "filter-ran"
    build_file_tree(
        repo,
        {
            "template.yml": "name: t\n",
            "files/stamp.txt": "$Format:%H$\n",
            "files/lf.txt": "a\nb\n",
            ".gitattributes": "* filter=evil\nfiles/stamp.txt export-subst\n*.txt eol=crlf\n",
        },
    )
    # A repository's own config may name filter commands; reading a template never runs them.
    git(repo, "config", "filter.evil.smudge", f"touch {marker}; cat")
    git(repo, "config", "filter.evil.clean", "cat")
    git_commit_all(repo, "attributes", tag="1.0.0")
    with open_template(str(repo)) as template:
        tree = render_template(template, {})
    assert tree["stamp.txt"].data == b"$Format:%H$\n"
    assert tree["lf.txt"].data == b"a\nb\n"  # a checkout would have made it CRLF
    assert not marker.exists()


def test_http_headers_reach_the_server_but_not_the_error(tmp_path: Path) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization"))
            self.send_response(403)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/org/template.git"
        headers = ["Authorization: Bearer s3cr3t-t0ken"]
        with (
            pytest.raises(TemplateSourceError) as info,
            open_template(url, git_http_headers=headers),
        ):
            pass
    finally:
        server.shutdown()
        server.server_close()
    assert "Bearer s3cr3t-t0ken" in seen
    assert "s3cr3t-t0ken" not in info.value.diagnostics()


def test_mirror_cache_stores_no_credentials(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    _repo_with_tags(repo, ["1.0.0"])
    bare = tmp_path / "served.git"
    git(tmp_path, "clone", "--bare", "-q", str(repo), str(bare))
    # file:// ignores the user part, which makes it a stand-in for https://user:token@host.
    url = f"file://someone:t0p-s3cret@{bare}"
    cache = tmp_path / "cache"
    for _ in range(2):  # clone, then fetch
        with open_template(url, cache_dir=cache) as template:
            assert template.ref == "1.0.0"
    stored = b"".join(p.read_bytes() for p in cache.rglob("*") if p.is_file())
    assert b"t0p-s3cret" not in stored

"""Git smart HTTP through the real `git http-backend`: clones with an installation token,
anonymous reads of public repos only, and pushes by people that fire push events and CI."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
from evobot_testing import git

from bot.emulator.testing import EmulatorHandle


def _with_token(url: str, token: str) -> str:
    return url.replace("http://", f"http://x-access-token:{token}@")


def _git_fails(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode != 0, f"git {' '.join(args)} unexpectedly succeeded"
    return result.stderr


def test_clone_a_private_repo_with_an_installation_token(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    url = emulator.git_url("acme", "svc")
    _git_fails(tmp_path, "clone", "-q", url, "anon")
    token = emulator.installation_token("acme")
    git(tmp_path, "clone", "-q", _with_token(url, token), "work")
    assert (tmp_path / "work" / "src" / "app.py").read_text() == "print('hi')\n"
    header = f"Authorization: Basic {_basic(token)}"
    git(tmp_path, "-c", f"http.extraHeader={header}", "clone", "-q", url, "viaheader")
    assert (tmp_path / "viaheader" / "README.md").exists()


def _basic(token: str) -> str:
    import base64

    return base64.b64encode(f"x-access-token:{token}".encode()).decode()


def test_public_repos_clone_anonymously(emulator: EmulatorHandle, tmp_path: Path) -> None:
    git(tmp_path, "clone", "-q", emulator.git_url("acme/public-lib"), "lib")
    assert (tmp_path / "lib" / "lib.py").read_text() == "X = 1\n"


def test_a_collaborator_push_moves_the_branch_and_fires_push_and_ci(
    emulator: EmulatorHandle, api: httpx.Client, tmp_path: Path
) -> None:
    url = emulator.git_url("acme/svc")
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", _with_token(url, emulator.user_token("alice")), "work")
    (work / "human.txt").write_text("edited by alice\n")
    git(work, "add", "human.txt")
    git(work, "commit", "-q", "-m", "human edit")
    git(work, "push", "-q", "origin", "HEAD:refs/heads/evobot/svc/1.1.0")
    sha = git(work, "rev-parse", "HEAD")
    assert emulator.branch_sha("acme/svc", "evobot/svc/1.1.0") == sha
    emulator.settle()
    push = next(d for d in emulator.deliveries if d.event == "push")
    assert push.payload["ref"] == "refs/heads/evobot/svc/1.1.0"
    assert push.payload["pusher"]["name"] == "alice"
    assert push.payload["created"] is True
    runs = api.get(f"/repos/acme/svc/commits/{sha}/check-runs").json()
    assert runs["check_runs"][0]["conclusion"] == "success"


def test_push_without_write_permission_is_refused(emulator: EmulatorHandle, tmp_path: Path) -> None:
    url = emulator.git_url("acme/public-lib")
    git(tmp_path, "clone", "-q", url, "lib")
    work = tmp_path / "lib"
    (work / "x.txt").write_text("x\n")
    git(work, "add", "x.txt")
    git(work, "commit", "-q", "-m", "drive-by")
    before = emulator.branch_sha("acme/public-lib", "main")
    mallory = _with_token(url, emulator.user_token("mallory"))
    _git_fails(work, "push", "-q", mallory, "HEAD:refs/heads/main")
    _git_fails(work, "push", "-q", url, "HEAD:refs/heads/main")
    assert emulator.branch_sha("acme/public-lib", "main") == before


def test_tarball_link_downloads_the_tree_without_further_auth(
    emulator: EmulatorHandle, api: httpx.Client, tmp_path: Path
) -> None:
    import io
    import tarfile

    redirect = api.get("/repos/acme/svc/tarball/main")
    assert redirect.status_code == 302
    archive = httpx.get(redirect.headers["Location"], trust_env=False)
    assert archive.status_code == 200
    with tarfile.open(fileobj=io.BytesIO(archive.content), mode="r:gz") as tar:
        names = tar.getnames()
        member = next(m for m in tar.getmembers() if m.name.endswith("/run.sh"))
        assert member.mode & 0o111
    assert any(n.endswith("/src/app.py") for n in names)
    assert all(n.startswith("acme-svc-") for n in names)
    tampered = redirect.headers["Location"].replace("token=", "token=x")
    assert httpx.get(tampered, trust_env=False).status_code == 404


def test_pushing_an_annotated_tag_sends_a_push_event(
    emulator: EmulatorHandle, tmp_path: Path
) -> None:
    url = _with_token(emulator.git_url("acme/svc"), emulator.user_token("alice"))
    git(tmp_path, "clone", "-q", url, "work")
    work = tmp_path / "work"
    git(work, "tag", "-a", "v2.0.0", "-m", "release")
    git(work, "push", "-q", "origin", "v2.0.0")
    emulator.settle()
    push = next(d for d in emulator.deliveries if d.event == "push")
    assert push.payload["ref"] == "refs/tags/v2.0.0"
    assert push.payload["head_commit"]["id"] == git(work, "rev-parse", "HEAD")

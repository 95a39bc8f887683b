"""State survives a restart (repositories, PRs, the generated app key, the delivery log), and
installing the app or adding repositories sends GitHub's installation webhooks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests_emulator_support import client_for

from bot.emulator.testing import running_emulator


def test_a_restarted_emulator_resumes_where_it_stopped(tmp_path: Path) -> None:
    seed: dict[str, Any] = {
        "installations": [{"id": 3, "account": "acme"}],
        "repos": [{"full_name": "acme/svc", "files": {"a.txt": "a\n"}}],
    }
    state = tmp_path / "state"
    with running_emulator(seed, state) as first:
        key = first.private_key_pem
        sha = first.push_commit("acme/svc", "topic", {"b.txt": "b\n"}, author="alice")
        number = first.open_pull("acme/svc", "topic", title="Topic")
        first.settle()
        deliveries = len(first.deliveries)
    assert (state / "app-private-key.pem").stat().st_mode & 0o077 == 0
    with running_emulator(seed, state) as second:
        assert second.private_key_pem == key
        assert second.branch_sha("acme/svc", "topic") == sha
        with client_for(second, second.installation_token("acme")) as api:
            pr = api.get(f"/repos/acme/svc/pulls/{number}").json()
        assert pr["title"] == "Topic"
        assert pr["head"]["sha"] == sha
        assert len(second.deliveries) == deliveries


def test_installing_and_adding_repositories_send_installation_events(tmp_path: Path) -> None:
    seed: dict[str, Any] = {
        "repos": [
            {"full_name": "beta/one", "files": {"a": "a\n"}},
            {"full_name": "beta/two", "files": {"b": "b\n"}},
        ],
    }
    with running_emulator(seed, tmp_path / "state") as handle:
        ident = handle.install("beta", repositories=["beta/one"])
        handle.add_repositories(ident, ["beta/two"])
        handle.settle()
        events = [(d.event, d.action) for d in handle.deliveries]
        assert events == [("installation", "created"), ("installation_repositories", "added")]
        created = handle.deliveries[0].payload
        assert [r["full_name"] for r in created["repositories"]] == ["beta/one"]
        added = handle.deliveries[1].payload
        assert [r["full_name"] for r in added["repositories_added"]] == ["beta/two"]
        with client_for(handle, handle.installation_token("beta")) as api:
            names = [
                r["full_name"] for r in api.get("/installation/repositories").json()["repositories"]
            ]
        assert names == ["beta/one", "beta/two"]

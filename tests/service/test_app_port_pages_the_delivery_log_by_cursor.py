"""The App port against the emulator: installations, an installation's repositories, `.evobot.yml`,
the delivery log page by page (cursor from the `Link` header) and a redelivery keeping its id."""

from __future__ import annotations

from pathlib import Path

import pytest
from evobot_testing import build_file_tree, git_commit_all, git_init
from service_support import CONSUMER, PLAIN, TEMPLATE_FILES, fleet_seed, private_key_pem

from bot.emulator.testing import running_emulator
from bot.forge.auth import AppCredentials
from bot.forge.github import ForgeSettings, GitHubForge
from bot.forge.github_app import GitHubApp, next_cursor


@pytest.mark.parametrize(
    ("link", "cursor"),
    [
        (None, None),
        (
            '<https://api.github.com/app/hook/deliveries?per_page=2&cursor=v1_12>; rel="next"',
            "v1_12",
        ),
        ('<https://x/app/hook/deliveries?page=1>; rel="prev"', None),
    ],
)
def test_the_next_cursor_comes_from_the_link_header(link: str | None, cursor: str | None) -> None:
    assert next_cursor(link) == cursor


def test_the_app_port_against_the_emulator(tmp_path: Path) -> None:
    template = git_init(tmp_path / "template-src")
    build_file_tree(template, TEMPLATE_FILES)
    git_commit_all(template, "v1", tag="v1.0.0")
    seed = fleet_seed(template, private_key_pem())
    seed["installations"] = [{"id": 9, "account": "acme"}]
    with running_emulator(seed, tmp_path / "gh") as gh:
        for i in range(5):
            gh.push_commit(PLAIN, "main", {"n.txt": f"{i}\n"})
        gh.settle()
        forge = GitHubForge(
            AppCredentials(str(gh.app_id), gh.private_key_pem),
            settings=ForgeSettings(base_url=gh.api_url),
        )
        app = GitHubApp(forge)
        assert [(i.id, i.account) for i in app.list_installations()] == [(9, "acme")]
        assert CONSUMER in app.installation_repositories(9)
        assert app.consumer_config(CONSUMER) is not None
        assert app.consumer_config(PLAIN) is None

        seen, cursor, pages = [], None, 0
        while True:
            page = app.hook_deliveries(cursor=cursor, per_page=2)
            seen.extend(page.deliveries)
            pages += 1
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert pages >= 3
        assert [d.id for d in seen] == sorted((d.id for d in gh.deliveries), reverse=True)

        oldest = seen[-1]
        app.redeliver(oldest.id)
        gh.wait_for_deliveries()
        again = app.hook_deliveries(per_page=1).deliveries[0]
        assert again.guid == oldest.guid and again.redelivery

"""The dashboard's pages, over HTTP from loopback: the rollouts with their state and a progress
bar per wave, the outcome metrics per template version, a rollout's consumers (PR, checks,
churn, conflicts, revert) and a consumer's version history."""

from __future__ import annotations

import html as entities
import re

from dashboard_support import Fleet, dashboard_app, local_client
from fastapi.testclient import TestClient

from bot.service.dashboard import DashboardAccess
from bot.store import Store


def _client(store: Store) -> TestClient:
    return local_client(dashboard_app(store, DashboardAccess(bind_host="127.0.0.1")))


def _text(html: str) -> str:
    """Roughly what a person reads: the tags gone, the spaces squeezed."""
    return entities.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def _row(html: str, marker: str) -> str:
    match = re.search(rf"<tr {marker}.*?</tr>", html, re.S)
    assert match, marker
    return _text(match.group(0))


def test_the_rollout_list_shows_states_wave_progress_and_metrics(
    fleet_store: tuple[Store, Fleet],
) -> None:
    store, fleet = fleet_store
    answer = _client(store).get("/dashboard/")

    assert answer.status_code == 200
    html = answer.text
    new = _row(html, f'data-rollout="{fleet.new_key}"')
    assert "fastapi-service 1.4.0" in new
    assert "halted" in new
    assert "acme/search: tests failed on the default branch after the merge" in new
    bars = re.findall(r'<progress value="(\d+)" max="(\d+)"', html)
    # 1.4.0 first (newest): canary 1/1, wave 1 2/3 (one green, one reverted, one open), wave 2
    # not opened; then 1.3.0, completed.
    assert bars == [("1", "1"), ("2", "3"), ("0", "3"), ("1", "1"), ("3", "3"), ("3", "3")]
    assert "completed" in _row(html, f'data-rollout="{fleet.old_key}"')

    metrics = _row(html, f'data-version="{fleet.new_key}"').split()
    # template, version, opened, merged, closed unmerged, reverted, median, before, after
    assert metrics == ["fastapi-service", "1.4.0", "4", "3", "0", "1", "2", "h", "100%", "67%"]
    old = _row(html, f'data-version="{fleet.old_key}"').split()
    assert old == ["fastapi-service", "1.3.0", "7", "7", "0", "0", "3", "h", "100%", "100%"]


def test_a_rollout_page_lists_each_consumer_with_pr_checks_churn_conflicts_and_revert(
    fleet_store: tuple[Store, Fleet],
) -> None:
    store, fleet = fleet_store
    answer = _client(store).get(f"/dashboard/rollouts/{fleet.new_key}")

    assert answer.status_code == 200
    html = answer.text
    search = _row(html, 'data-consumer="acme/search"')
    expected = "acme/search 1 reverted #13 passed failed 5 files, +50 -14 1: app/settings.py"
    assert search == f" {expected} revert #14 open "
    assert 'href="https://github.com/acme/search/pull/14"' in html
    assert _row(html, 'data-consumer="acme/orders"').split()[1:5] == ["1", "green", "#11", "passed"]
    users = _row(html, 'data-consumer="acme/users"').split()
    assert users[:5] == ["acme/users", "1", "open", "#12", "pending"]
    assert _row(html, 'data-consumer="acme/payments"').split()[:4] == [
        "acme/payments",
        "2",
        "pending",
        "—",
    ]
    assert "Median time to merge" in html
    assert "acme/search: tests failed after merge; reverting" in _text(html)


def test_a_consumer_page_shows_its_version_history_prs_and_rollouts(
    fleet_store: tuple[Store, Fleet],
) -> None:
    store, _ = fleet_store
    html = _client(store).get("/dashboard/consumers/acme/orders").text
    text = _text(html)

    assert "Version 1.4.0" in text
    assert "current_version: '1.3.0' -> '1.4.0'" in text
    assert "current_version: '1.2.0' -> '1.3.0'" in text
    assert "created: fastapi-service 1.2.0" in text
    assert "evobot/fastapi-service/1.4.0" in text
    assert re.search(r"1\.4\.0 halted 1 green #11", text)
    assert re.search(r"1\.3\.0 completed 1 green #", text)


def test_unknown_rollouts_and_consumers_are_404_pages(fleet_store: tuple[Store, Fleet]) -> None:
    store, _ = fleet_store
    client = _client(store)

    gone = client.get("/dashboard/rollouts/fastapi-service@9.9.9")
    assert gone.status_code == 404
    assert "No rollout fastapi-service@9.9.9 is stored." in gone.text
    assert client.get("/dashboard/consumers/acme/nothing").status_code == 404


def test_the_dashboard_is_read_only_and_needs_no_external_asset(
    fleet_store: tuple[Store, Fleet],
) -> None:
    store, fleet = fleet_store
    client = _client(store)

    for path in ("/dashboard/", f"/dashboard/rollouts/{fleet.new_key}"):
        assert client.post(path).status_code == 405
        html = client.get(path).text
        assert "<script" not in html
        assert re.findall(r'(?:href|src)="(https?:)?//(?!github\.com)', html) == []
    answer = client.get("/dashboard/")
    assert "script-src" not in answer.headers["content-security-policy"]
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert (
        client.get("/dashboard/static/dashboard.css").headers["content-type"].startswith("text/css")
    )
    assert client.get("/", follow_redirects=False).headers["location"] == "/dashboard/"

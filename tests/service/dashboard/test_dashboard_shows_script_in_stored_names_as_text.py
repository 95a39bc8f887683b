"""Stored names are text on the dashboard: a repository or branch name holding `<script>` (the
store takes what a webhook or a person wrote) is escaped on every page, never run."""

from __future__ import annotations

from dashboard_support import dashboard_app, local_client

from bot.clock import ManualClock
from bot.rollout import Plan, WavePlan, new_rollout
from bot.service.dashboard import DashboardAccess
from bot.store import Store

EVIL_REPO = 'acme/<script>alert("repo")</script>'
EVIL_BRANCH = "evobot/<script>alert('branch')</script>"
EVIL_TEMPLATE = "tpl<img src=x onerror=alert(1)>"


def test_script_in_repo_branch_and_template_names_is_escaped(sqlite_url: str) -> None:
    store = Store.open(sqlite_url, clock=ManualClock(1_800_000_000))
    store.upsert_template(EVIL_TEMPLATE, "https://example.invalid/t", cause="test")
    store.upsert_consumer(EVIL_REPO, template=EVIL_TEMPLATE, current_version="1.0.0", cause="t")
    store.upsert_evolution_pr(EVIL_REPO, 5, branch=EVIL_BRANCH, state="open", cause="test")
    plan = Plan(EVIL_TEMPLATE, "2.0.0", (WavePlan(0, (EVIL_REPO,), 0),))
    state = new_rollout(plan, bake_seconds=0)
    store.create_rollout(state, cause="test")
    client = local_client(dashboard_app(store, DashboardAccess(bind_host="127.0.0.1")))

    pages = [
        client.get("/dashboard/"),
        client.get(f"/dashboard/rollouts/{state.id}"),
        client.get(f"/dashboard/consumers/{EVIL_REPO}"),
        client.get("/dashboard/consumers/acme/<script>nothing</script>"),
    ]

    assert [p.status_code for p in pages] == [200, 200, 200, 404]
    for page in pages:
        assert "<script" not in page.text
        assert "<img" not in page.text
    assert "acme/&lt;script&gt;alert(&#34;repo&#34;)&lt;/script&gt;" in pages[1].text
    assert "evobot/&lt;script&gt;alert(&#39;branch&#39;)&lt;/script&gt;" in pages[2].text
    assert "tpl&lt;img src=x onerror=alert(1)&gt;" in pages[0].text
    assert "acme/&lt;script&gt;nothing&lt;/script&gt;" in pages[3].text
    store.close()

"""Emulated CI: every pushed commit gets a check suite and run from the repo's rule (a real
command in a checkout, a fast file rule, or a fixed outcome), with webhooks; tests can flip it."""

from __future__ import annotations

import time

import httpx

from bot.emulator.testing import EmulatorHandle


def _run_for(api: httpx.Client, sha: str) -> dict[str, object]:
    runs = api.get(f"/repos/acme/svc/commits/{sha}/check-runs").json()["check_runs"]
    assert len(runs) == 1
    run: dict[str, object] = runs[0]
    return run


def test_push_creates_a_check_suite_that_completes_with_webhooks(
    emulator: EmulatorHandle, api: httpx.Client
) -> None:
    sha = emulator.push_commit("acme/svc", "main", {"a.txt": "a\n"}, author="alice")
    emulator.settle()
    run = _run_for(api, sha)
    assert (run["name"], run["status"], run["conclusion"]) == ("ci", "completed", "success")
    suites = api.get(f"/repos/acme/svc/commits/{sha}/check-suites").json()["check_suites"]
    assert [s["conclusion"] for s in suites] == ["success"]
    events = [(d.event, d.action) for d in emulator.deliveries if d.event.startswith("check")]
    assert events == [
        ("check_run", "created"),
        ("check_run", "completed"),
        ("check_suite", "completed"),
    ]


def test_flipping_ci_to_failure_fails_the_next_commit_and_blocks_the_merge(
    emulator: EmulatorHandle, api: httpx.Client
) -> None:
    emulator.set_ci("acme/svc", {"always": "failure"})
    emulator.push_commit("acme/svc", "main", {"base.txt": "1\n"}, author="alice")
    api.post(
        "/repos/acme/svc/git/refs",
        json={"ref": "refs/heads/topic", "sha": emulator.branch_sha("acme/svc", "main")},
    )
    sha = emulator.push_commit("acme/svc", "topic", {"b.txt": "b\n"}, author="alice")
    number = api.post(
        "/repos/acme/svc/pulls", json={"title": "t", "head": "topic", "base": "main"}
    ).json()["number"]
    emulator.settle()
    assert _run_for(api, sha)["conclusion"] == "failure"
    combined = api.get(f"/repos/acme/svc/commits/{sha}/check-suites").json()
    assert combined["check_suites"][0]["conclusion"] == "failure"
    assert api.get(f"/repos/acme/svc/pulls/{number}").json()["mergeable_state"] == "blocked"
    refused = api.put(f"/repos/acme/svc/pulls/{number}/merge", json={})
    assert refused.status_code == 405
    assert 'Required status check "ci"' in refused.json()["message"]

    emulator.set_ci("acme/svc", {"always": "success"})
    fixed = emulator.push_commit("acme/svc", "topic", {"b.txt": "fixed\n"}, author="alice")
    emulator.settle()
    assert _run_for(api, fixed)["conclusion"] == "success"
    assert api.get(f"/repos/acme/svc/pulls/{number}").json()["mergeable_state"] == "clean"
    merged = api.put(f"/repos/acme/svc/pulls/{number}/merge", json={"sha": fixed})
    assert merged.status_code == 200, merged.text
    emulator.settle()
    merge_commit = merged.json()["sha"]
    assert emulator.branch_sha("acme/svc", "main") == merge_commit
    assert _run_for(api, merge_commit)["conclusion"] == "success"


def test_fast_file_rules_judge_paths_and_contents(
    emulator: EmulatorHandle, api: httpx.Client
) -> None:
    emulator.set_ci("acme/svc", {"fail_if_file_matches": "*.orig"})
    bad = emulator.push_commit("acme/svc", "main", {"x.py.orig": "x\n"}, author="alice")
    emulator.settle()
    assert _run_for(api, bad)["conclusion"] == "failure"
    emulator.set_ci("acme/svc", {"fail_if_content_matches": r"^<<<<<<< "})
    conflict = emulator.push_commit(
        "acme/svc", "main", {"x.py.orig": None, "m.py": "<<<<<<< ours\n"}, author="alice"
    )
    emulator.settle()
    run = _run_for(api, conflict)
    assert run["conclusion"] == "failure"
    assert "m.py" in str(run["output"])
    clean = emulator.push_commit("acme/svc", "main", {"m.py": "ok = 1\n"}, author="alice")
    emulator.settle()
    assert _run_for(api, clean)["conclusion"] == "success"


def test_a_real_command_runs_in_a_checkout_of_the_commit(
    emulator: EmulatorHandle, api: httpx.Client
) -> None:
    emulator.set_ci("acme/svc", {"command": "test -x run.sh && grep -q ok flag.txt", "timeout": 30})
    failing = emulator.push_commit("acme/svc", "main", {"flag.txt": "no\n"}, author="alice")
    emulator.settle()
    assert _run_for(api, failing)["conclusion"] == "failure"
    passing = emulator.push_commit("acme/svc", "main", {"flag.txt": "ok\n"}, author="alice")
    emulator.settle()
    assert _run_for(api, passing)["conclusion"] == "success"


def test_a_command_over_its_timeout_is_timed_out(
    emulator: EmulatorHandle, api: httpx.Client
) -> None:
    # A compound command: the shell's children must be stopped too, or the run would hang.
    emulator.set_ci("acme/svc", {"command": "sleep 5; sleep 5", "timeout": 0.3})
    sha = emulator.push_commit("acme/svc", "main", {"t.txt": "t\n"}, author="alice")
    started = time.monotonic()
    emulator.settle()
    assert time.monotonic() - started < 4
    assert _run_for(api, sha)["conclusion"] == "timed_out"


def test_repos_without_a_rule_get_no_checks(emulator: EmulatorHandle, api: httpx.Client) -> None:
    sha = emulator.push_commit("acme/public-lib", "main", {"b.py": "B = 1\n"}, author="alice")
    emulator.settle()
    runs = api.get(f"/repos/acme/public-lib/commits/{sha}/check-runs").json()
    assert runs["total_count"] == 0

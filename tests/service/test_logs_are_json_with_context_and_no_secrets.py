"""The service's log is JSON lines; every line carries delivery_id, repo and job_id (null where
there is none), and over a whole run — installation, App JWTs, installation tokens, a rejected
request carrying the secret in a header — no token, key, JWT or the webhook secret appears."""

from __future__ import annotations

import json
from pathlib import Path

from evobot_testing import build_file_tree, git_commit_all, git_init
from service_support import (
    CONSUMER,
    TEMPLATE_FILES,
    emulator_settings,
    fleet_seed,
    private_key_pem,
    running_service,
    signed,
)

from bot.emulator.testing import running_emulator


def test_a_whole_run_logs_context_and_never_a_secret(tmp_path: Path, sqlite_url: str) -> None:
    template = git_init(tmp_path / "template-src")
    build_file_tree(template, TEMPLATE_FILES)
    git_commit_all(template, "v1", tag="v1.0.0")
    key = private_key_pem()
    with running_emulator(fleet_seed(template, key), tmp_path / "gh") as gh:
        settings = emulator_settings(gh, sqlite_url, tmp_path / "state")
        secret = settings.secret()
        with running_service(settings, workers=2) as svc:
            gh.set_webhook(svc.webhook_url, secret=secret)
            gh.install("acme")
            gh.push_commit(CONSUMER, "evobot/acme-greeter-template/v2", {"a.txt": "1\n"})
            gh.open_pull(CONSUMER, "evobot/acme-greeter-template/v2", title="evolve")
            svc.drain(settle=gh.settle)
            # Someone without the secret sends the secret itself as the delivery id.
            headers, body = signed("ping", {"zen": "x"}, secret="wrong-secret-123")
            headers["X-GitHub-Delivery"] = secret
            assert svc.post(headers, body).status_code == 401
            svc.healer.run_once()  # App JWT requests too
            text = svc.log.getvalue()
            lines = svc.log_lines()

    assert lines, "the service logged nothing"
    assert secret not in text
    pem_body = [line for line in gh.private_key_pem.splitlines() if "PRIVATE KEY" not in line]
    assert not any(part in text for part in pem_body if len(part) > 16)
    assert "ghs_" not in text  # installation tokens
    assert "eyJ" not in text  # JWTs
    for line in lines:
        assert {"delivery_id", "repo", "job_id", "event", "level", "timestamp"} <= set(line)
    done = [line for line in lines if line["event"] == "job.done"]
    assert done and all(line["delivery_id"] and line["job_id"] for line in done)
    assert any(line["repo"] == CONSUMER for line in done)
    assert any(line["event"] == "webhook.rejected" for line in lines)
    json.dumps(lines)  # plain data all the way

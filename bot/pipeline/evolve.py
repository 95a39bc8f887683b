"""`evolve_pr`: evolve one remote consumer and open, update or supersede its evolution PR.

Read the consumer (its default branch and open bot PRs) → evolve it to the template version →
add provenance → run the checks → render the PR body → write the PR. A secret in the template's
output stops the run before any write; an unchanged re-run writes nothing. A consumer generated
by copier (`.copier-answers.yml`) or cruft (`.cruft.json`) is evolved as it is, its answers file
regenerated in that tool's format, and the tasks its template asks to run listed, never run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from bot.checks import CheckCache, CheckRun, Finding, load_policy, run_checks
from bot.clock import Clock
from bot.consumer import CONFIG_NAME
from bot.consumer_formats import (
    FoundConfig,
    find_consumer_config,
)
from bot.errors import ConsumerConfigError
from bot.evolution import Evolution
from bot.evolution.adopt import in_own_format
from bot.forge.port import Forge, PullRequest
from bot.pipeline.evolution_pr import branch_name, open_or_update_evolution_pr, read_consumer
from bot.pipeline.fetch import TemplateFetcher
from bot.pipeline.template_access import (
    TemplateAccess,
    explain_unreadable,
    remote_template_headers,
)
from bot.report.churn import ChurnReport, compute_churn
from bot.report.pr_body import GITHUB_BODY_LIMIT, render_pr_body
from bot.report.provenance import PROVENANCE_PATH, provenance_file, provenance_for_evolution
from bot.template.source import expand_source
from bot.template.source_policy import TemplateUrl, check_remote_source
from bot.tree import File, Tree

__all__ = [
    "SECRET_BLOCK",
    "CheckOptions",
    "ChecksSummary",
    "EvolvePrOptions",
    "EvolvePrResult",
    "evolve_pr",
]

SECRET_BLOCK = "blocked: secret in template output"  # noqa: S105 -- a message, not a secret

Action = Literal["created", "updated", "unchanged", "blocked", "no-change"]


@dataclass(frozen=True)
class CheckOptions:
    """Whether and how the evolved tree is checked before the PR is written."""

    enabled: bool = True
    cache_path: Path | None = None
    org_policy: Path | None = None


@dataclass(frozen=True)
class EvolvePrOptions:
    """What `evolve_pr` does for one consumer.

    ``access`` says where a remote consumer's template may be and which credentials may read
    it; ``labels`` are the organisation's labels for every evolution PR, added to the ones the
    consumer's ``.evobot.yml`` lists under ``pr: labels:`` (default: none; each labelled PR
    costs one more content-creating request). ``notes`` are Markdown paragraphs the entry
    point puts at the top of the PR body (the Action: "CI will not run on this PR").
    """

    vcs_ref: str | None = None
    recreate: bool = False
    checks: CheckOptions = field(default_factory=CheckOptions)
    access: TemplateAccess = field(default_factory=TemplateAccess)
    labels: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChecksSummary:
    """The check policy's verdict on the evolved tree, as the PR body states it."""

    passed: bool
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvolvePrResult:
    """What happened to one consumer's evolution PR, and what it cost in requests.

    ``blocked_by`` is ``"secrets"`` when a secret in the template output stopped every write;
    ``churn`` is what the evolution changes in the consumer (None when nothing changes).
    """

    repo: str
    from_version: str
    to_version: str
    action: Action
    message: str
    conflicts: tuple[str, ...] = ()
    number: int | None = None
    url: str | None = None
    branch: str | None = None
    commit: str | None = None
    superseded: tuple[int, ...] = ()
    labels: tuple[str, ...] = ()
    checks: ChecksSummary | None = None
    blocked_by: Literal["secrets"] | None = None
    churn: ChurnReport | None = None
    requests: int = 0
    auth_requests: int = 0

    def to_json(self) -> dict[str, Any]:
        """The result as `evobot pr open --json` prints it."""
        return {
            "repo": self.repo,
            "from": self.from_version,
            "to": self.to_version,
            "action": self.action,
            "message": self.message,
            "conflicts": list(self.conflicts),
            "number": self.number,
            "url": self.url,
            "branch": self.branch,
            "commit": self.commit,
            "superseded": list(self.superseded),
            "labels": list(self.labels),
            "checks": (
                None
                if self.checks is None
                else {"passed": self.checks.passed, "reasons": list(self.checks.reasons)}
            ),
            "blocked_by": self.blocked_by,
            "churn": None if self.churn is None else self.churn.model_dump(mode="json"),
            "requests": self.requests,
            "auth_requests": self.auth_requests,
        }


def _with_provenance(
    evolution: Evolution, existing: File | None, repo: str, clock: Clock
) -> tuple[Tree, str]:
    """The tree to commit, with `.evobot/provenance.json`, and that file's sha256.

    ``existing`` is the file already on the PR branch (or the default branch): kept byte for
    byte when it records the same build, so an unchanged re-run writes nothing.
    """
    statement = provenance_for_evolution(evolution, clock=clock, consumer=repo)
    f = provenance_file(statement, existing=existing)
    tree = dict(evolution.tree)
    tree[PROVENANCE_PATH] = f
    return tree, hashlib.sha256(f.data).hexdigest()


def _run_checks(
    evolution: Evolution, ours: Tree, target: Tree, options: CheckOptions
) -> CheckRun | None:
    """Check what the evolution changes in ``target`` under the consumer's policy."""
    if not options.enabled:
        return None
    changed = [p for p, f in target.items() if ours.get(p) != f]
    changed += [p for p in ours if p not in target]  # deletions re-check their dependents
    policy = load_policy(evolution.config.checks, options.org_policy)
    cache = CheckCache(options.cache_path) if options.cache_path is not None else None
    return run_checks(target, changed=changed, policy=policy, cache=cache, base=ours)


def _blocking_secrets(check_run: CheckRun | None) -> list[Finding]:
    """The secrets findings that make the policy block: then nothing may be pushed at all."""
    if check_run is None or check_run.verdict.passed:
        return []
    return [f for f in check_run.verdict.blocking if f.checker == "secrets"]


def _secret_block_message(findings: list[Finding], open_pull: PullRequest | None) -> str:
    """Why nothing was pushed, naming rule, path and line of each secret (never its value:
    a secrets finding carries only a fingerprint)."""
    where = ", ".join(
        f"{f.rule} at {f.path}:{f.line}" if f.line else f"{f.rule} at {f.path}"
        for f in findings[:5]
    )
    more = f" and {len(findings) - 5} more" if len(findings) > 5 else ""
    message = f"{SECRET_BLOCK} ({where}{more}); nothing pushed, no PR opened"
    if open_pull is not None:
        message += f"; #{open_pull.number} from an earlier run was left as it was, not updated"
    return message + "; remove the secret from the template and rotate it"


def _found_config(
    repo: str, branch: str, ours: Tree, pin: Callable[[str, str], str]
) -> FoundConfig:
    """The consumer's settings: `.evobot.yml`, else copier's or cruft's answers file."""
    try:
        return find_consumer_config(ours, resolve_ref=pin)
    except ConsumerConfigError as exc:
        if CONFIG_NAME in ours or any(
            p.endswith((".yml", ".json")) and _is_answers(p) for p in ours
        ):
            exc.message = f"{repo}:{exc.message}"
            raise
        raise ConsumerConfigError(
            f"{repo}: no {CONFIG_NAME}, .copier-answers.yml or .cruft.json on {branch}; "
            "not a consumer evobot knows",
            hint=exc.hint,
        ) from None


def _is_answers(path: str) -> bool:
    return path in (".cruft.json",) or ".copier-answers" in path


def _not_run(evolution: Evolution) -> tuple[str, ...]:
    dialect = evolution.template.manifest.dialect
    return tuple(dialect.not_run) if dialect is not None else ()


def _labels(evolution: Evolution, options: EvolvePrOptions) -> tuple[str, ...]:
    """The organisation's labels, then the consumer's own, each once."""
    own = evolution.config.pr.labels if evolution.config.pr is not None else []
    return tuple(dict.fromkeys((*options.labels, *own)))


def evolve_pr(
    forge: Forge,
    repo: str,
    *,
    clock: Clock,
    templates: TemplateFetcher,
    options: EvolvePrOptions | None = None,
) -> EvolvePrResult:
    """Read ``repo`` through ``forge``, evolve it with ``templates``, and open or update its PR.

    The consumer is remote: its template must be an https URL on the forge's git host or a host
    in ``options.access``, and it is read with the consumer's own installation's credentials.
    ``clock`` dates the provenance. Budget: 2 reads (tarball, open bot PRs; a third for a
    consumer without one), then for a new PR 4 writes (tree, commit, branch, PR) and a fifth
    when labels are configured.
    """
    options = options or EvolvePrOptions()
    state = read_consumer(forge, repo)
    ours = state.snapshot.tree
    access = options.access

    def allowed(source: str, where: str) -> TemplateUrl:
        # Before git sees it: a remote consumer's template is an https URL on an allowed host.
        return check_remote_source(
            expand_source(source),
            allowed_hosts=access.allowed_hosts(forge.git_host()),
            where=f"{repo}:{where}",
        )

    def headers(source: str) -> list[str]:
        return remote_template_headers(forge, expand_source(source), repo, access)

    def pin(source: str, ref: str) -> str:
        url = allowed(source, "the template it records")
        with explain_unreadable(repo, url, forge, access):
            return templates.resolve_ref(
                expand_source(source), ref, git_http_headers=headers(source)
            )

    found = _found_config(repo, state.repo.default_branch, ours, pin)
    config = found.config
    url = allowed(config.template, found.path)
    with explain_unreadable(repo, url, forge, access):
        evolution = templates.evolve(
            ours,
            config,
            vcs_ref=options.vcs_ref,
            git_http_headers=headers(config.template),
        )
    evolution = in_own_format(evolution, found, ours, options.vcs_ref)
    base = EvolvePrResult(
        repo=repo,
        from_version=evolution.from_version.ref or evolution.from_version.commit,
        to_version=evolution.to_version.ref or evolution.to_version.commit,
        action="no-change",
        message=f"{repo} is up to date; no PR",
        conflicts=tuple(evolution.conflicts),
    )
    if not evolution.changed:
        return replace(base, requests=forge.requests, auth_requests=forge.auth_requests)

    version = evolution.to_version.ref or evolution.to_version.commit[:12]
    branch = branch_name(evolution.template.manifest.name, version)
    existing = ours.get(PROVENANCE_PATH)
    open_pull = next((p for p in state.open_pulls if p.head_ref == branch), None)
    if open_pull is not None:
        # One request: lets an unchanged re-run recognise its own provenance file.
        data = forge.read_file(repo, PROVENANCE_PATH, ref=open_pull.head_sha)
        existing = File(data) if data is not None else existing
    target, digest = _with_provenance(evolution, existing, repo, clock)
    churn = compute_churn(ours, target)
    check_run = _run_checks(evolution, ours, target, options.checks)
    checks = (
        ChecksSummary(check_run.verdict.passed, tuple(check_run.verdict.reasons))
        if check_run is not None
        else None
    )
    secrets = _blocking_secrets(check_run)
    if secrets:
        return replace(
            base,
            action="blocked",
            blocked_by="secrets",
            message=_secret_block_message(secrets, open_pull),
            number=open_pull.number if open_pull is not None else None,
            url=open_pull.html_url if open_pull is not None else None,
            branch=branch,
            checks=checks,
            churn=churn,
            requests=forge.requests,
            auth_requests=forge.auth_requests,
        )
    labels = _labels(evolution, options)
    notes = "".join(f"{note.strip()}\n\n" for note in options.notes if note.strip())
    outcome = open_or_update_evolution_pr(
        forge,
        state.repo,
        state.snapshot,
        state.open_pulls,
        replace(evolution, tree=target),
        title=f"evobot: update {evolution.template.manifest.name} to {version}",
        body=notes
        + render_pr_body(
            evolution,
            checks=check_run,
            churn=churn,
            provenance_digest=digest,
            repo=repo,
            template_url=evolution.template.source,
            not_run=_not_run(evolution),
            limit=GITHUB_BODY_LIMIT - len(notes.encode()),
        ),
        recreate=options.recreate,
        labels=labels,
        others=state.others,
    )
    return replace(
        base,
        action=outcome.action,
        message=outcome.message,
        number=outcome.number,
        url=outcome.url,
        branch=outcome.branch,
        commit=outcome.commit,
        superseded=outcome.superseded,
        labels=labels,
        checks=checks,
        churn=churn,
        requests=forge.requests,
        auth_requests=forge.auth_requests,
    )

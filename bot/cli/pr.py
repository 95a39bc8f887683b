"""`evobot pr open|revert`: evolve one remote consumer into an evolution PR, or revert one."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli._output import JsonOption, console, print_json
from bot.cli._paths import check_cache_dir
from bot.cli._template_auth import REPOS_ENV, TemplateAccess, refused_by_server
from bot.consumer import CONFIG_NAME, parse_consumer_config
from bot.errors import ConsumerConfigError, TemplateSourceError
from bot.evolution import Evolution, evolve_consumer
from bot.template.source_policy import (
    TemplateUrl,
    check_remote_source,
    credential_may_go_to,
    parse_template_url,
)
from bot.tree import File, Tree

if TYPE_CHECKING:
    from bot.checks import CheckRun, Finding
    from bot.forge import GitHubForge, PullRequest
    from bot.forge.ratelimit import Clock

# bot.forge (PyGithub, cryptography) is imported inside the commands that use it, so that
# every other `evobot` command starts quickly.

__all__ = ["CheckOptions", "evolve_remote", "pr_open", "pr_revert", "register"]

RepoOption = Annotated[str, typer.Option("--repo", help="The consumer repository, OWNER/NAME.")]
WriteIntervalOption = Annotated[
    float,
    typer.Option(
        "--write-interval",
        envvar="EVOBOT_WRITE_INTERVAL",
        min=0.0,
        help="Seconds between content-creating requests per installation (GitHub asks 1).",
    ),
]
BaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        envvar="EVOBOT_GITHUB_URL",
        help="GitHub API URL (Enterprise: https://HOST/api/v3). Default: api.github.com.",
    ),
]


def _forge(base_url: str | None, write_interval: float, clock: Clock | None = None) -> GitHubForge:
    from bot.forge import ForgeSettings, GitHubForge, credentials_from_env
    from bot.forge.archive import ArchiveLimits
    from bot.forge.auth import DEFAULT_API_URL

    settings = ForgeSettings(
        base_url=(base_url or os.environ.get("EVOBOT_GITHUB_URL") or DEFAULT_API_URL).rstrip("/"),
        write_interval=write_interval,
        archive_limits=ArchiveLimits.from_env(os.environ),
        writes_per_hour=_writes_per_hour(os.environ),
    )
    return GitHubForge(credentials_from_env(os.environ), settings=settings, clock=clock)


def _writes_per_hour(env: Mapping[str, str]) -> int:
    """``EVOBOT_WRITES_PER_HOUR`` (default: GitHub's 500), refused unless a positive integer."""
    from bot.errors import ForgeError
    from bot.forge.ratelimit import HOURLY_WRITE_CEILING

    text = env.get("EVOBOT_WRITES_PER_HOUR", "").strip()
    if not text:
        return HOURLY_WRITE_CEILING
    if not text.isdigit() or int(text) < 1:
        raise ForgeError(
            f"EVOBOT_WRITES_PER_HOUR={text!r} is not a positive whole number",
            hint="GitHub allows 500 content-creating requests an hour; set that or less",
        )
    return int(text)


def _template_headers(
    forge: GitHubForge, source: str, consumer: str, access: TemplateAccess
) -> list[str]:
    """Credentials for the template's git URL: only for the GitHub host, and the consumer's own.

    The token is the consumer's installation's, so a consumer cannot read, through the bot, a
    template its own installation cannot read. Only a repository the operator listed in
    ``EVOBOT_TEMPLATE_REPOS`` is read with its own installation's token, for any consumer.
    """
    url = parse_template_url(source)
    if url is None or not credential_may_go_to(source, {forge.git_host()}):
        return []  # another allowed host: fetched without credentials
    template_repo = url.repo
    if template_repo is not None and access.is_shared(template_repo):
        return [forge.git_http_header(template_repo)]
    return [forge.git_http_header(consumer)]


@contextmanager
def _explain_unreadable(
    repo: str, url: TemplateUrl, forge: GitHubForge, access: TemplateAccess
) -> Iterator[None]:
    """A template the consumer's installation may not read is refused, saying what to do."""
    try:
        yield
    except TemplateSourceError as exc:
        shared = url.repo is not None and access.is_shared(url.repo)
        if url.host != forge.git_host() or shared or not refused_by_server(exc.message):
            raise
        raise TemplateSourceError(
            f"{repo}: its template {url.repo or url.path.strip('/')} cannot be read with "
            f"{repo}'s own installation token (from `template:` in its {CONFIG_NAME}); "
            "evobot never borrows another installation's token to read a template",
            hint="install the App with access to the template repository on the consumer's "
            "account, make the template public, or (operator) list it as OWNER/NAME in "
            f"${REPOS_ENV}",
        ) from None


def _with_provenance(evolution: Evolution, existing: File | None, repo: str) -> tuple[Tree, str]:
    """The tree to commit, with `.evobot/provenance.json`, and that file's sha256.

    ``existing`` is the file already on the PR branch (or the default branch): kept byte for
    byte when it records the same build, so an unchanged re-run writes nothing.
    """
    from bot.report.provenance import (
        PROVENANCE_PATH,
        provenance_file,
        provenance_for_evolution,
    )

    statement = provenance_for_evolution(evolution, clock=lambda: datetime.now(UTC), consumer=repo)
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
    from bot.checks import CheckCache, load_policy, run_checks

    changed = [p for p, f in target.items() if ours.get(p) != f]
    changed += [p for p in ours if p not in target]  # deletions re-check their dependents
    policy = load_policy(evolution.config.checks, options.org_policy)
    cache = CheckCache(options.cache_path) if options.cache_path is not None else None
    return run_checks(target, changed=changed, policy=policy, cache=cache, base=ours)


def _body(
    evolution: Evolution,
    ours: Tree,
    target: Tree,
    digest: str,
    repo: str,
    checks: CheckRun | None,
) -> str:
    from bot.report.churn import compute_churn
    from bot.report.pr_body import render_pr_body

    return render_pr_body(
        evolution,
        checks=checks,
        churn=compute_churn(ours, target),
        provenance_digest=digest,
        repo=repo,
        template_url=evolution.template.source,
    )


SECRET_BLOCK = "blocked: secret in template output"  # noqa: S105 -- a message, not a secret


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


@dataclass(frozen=True)
class CheckOptions:
    """Whether and how `pr open` checks the evolved tree before opening the PR."""

    enabled: bool = True
    cache_path: Path | None = None
    org_policy: Path | None = None


def pr_open(
    repo: str,
    *,
    vcs_ref: str | None,
    base_url: str | None,
    cache_dir: Path | None,
    recreate: bool,
    write_interval: float = 1.0,
    checks: CheckOptions | None = None,
) -> dict[str, Any]:
    """Evolve ``repo`` and open or update its evolution PR; the outcome as a dict."""
    forge = _forge(base_url, write_interval)
    return evolve_remote(
        forge, repo, vcs_ref=vcs_ref, cache_dir=cache_dir, recreate=recreate, checks=checks
    )


def evolve_remote(
    forge: GitHubForge,
    repo: str,
    *,
    vcs_ref: str | None = None,
    cache_dir: Path | None = None,
    recreate: bool = False,
    checks: CheckOptions | None = None,
    access: TemplateAccess | None = None,
) -> dict[str, Any]:
    """Read ``repo`` through ``forge``, evolve it, and open/update its PR (used by the bench).

    The consumer is remote: its template must be an https URL on the GitHub host or a host in
    ``access`` (default: from ``EVOBOT_TEMPLATE_HOSTS``/``EVOBOT_TEMPLATE_REPOS``).
    """
    from bot.forge import branch_name, open_or_update_evolution_pr
    from bot.forge.evolution_pr import read_consumer

    state = read_consumer(forge, repo)
    ours = state.snapshot.tree
    if CONFIG_NAME not in ours:
        raise ConsumerConfigError(
            f"{repo}: no {CONFIG_NAME} on {state.repo.default_branch}; not an evobot consumer"
        )
    config = parse_consumer_config(ours[CONFIG_NAME].data, source=f"{repo}:{CONFIG_NAME}")
    access = access or TemplateAccess.from_env(os.environ)
    url = check_remote_source(
        config.template,
        allowed_hosts=access.allowed_hosts(forge.git_host()),
        where=f"{repo}:{CONFIG_NAME}",
    )
    with _explain_unreadable(repo, url, forge, access):
        evolution = evolve_consumer(
            ours,
            config,
            vcs_ref=vcs_ref,
            git_http_headers=_template_headers(forge, config.template, repo, access),
            cache_dir=cache_dir,
        )
    result: dict[str, Any] = {
        "repo": repo,
        "from": evolution.from_version.ref or evolution.from_version.commit,
        "to": evolution.to_version.ref or evolution.to_version.commit,
        "conflicts": list(evolution.conflicts),
    }
    if not evolution.changed:
        result.update(action="no-change", message=f"{repo} is up to date; no PR")
    else:
        from bot.report.provenance import PROVENANCE_PATH

        version = evolution.to_version.ref or evolution.to_version.commit[:12]
        branch = branch_name(evolution.template.manifest.name, version)
        existing = ours.get(PROVENANCE_PATH)
        open_pull = next((p for p in state.open_pulls if p.head_ref == branch), None)
        if open_pull is not None:
            # One request: lets an unchanged re-run recognise its own provenance file.
            data = forge.read_file(repo, PROVENANCE_PATH, ref=open_pull.head_sha)
            existing = File(data) if data is not None else existing
        target, digest = _with_provenance(evolution, existing, repo)
        check_run = _run_checks(evolution, ours, target, checks or CheckOptions())
        if check_run is not None:
            result["checks"] = {
                "passed": check_run.verdict.passed,
                "reasons": list(check_run.verdict.reasons),
            }
        secrets = _blocking_secrets(check_run)
        if secrets:
            result.update(
                action="blocked",
                blocked_by="secrets",
                message=_secret_block_message(secrets, open_pull),
                number=open_pull.number if open_pull is not None else None,
                url=open_pull.html_url if open_pull is not None else None,
                branch=branch,
                commit=None,
                superseded=[],
            )
            result["requests"] = forge.requests
            return result
        evolved = replace(evolution, tree=target)
        outcome = open_or_update_evolution_pr(
            forge,
            state.repo,
            state.snapshot,
            state.open_pulls,
            evolved,
            title=f"evobot: update {evolution.template.manifest.name} to {version}",
            body=_body(evolution, ours, target, digest, repo, check_run),
            recreate=recreate,
        )
        result.update(
            action=outcome.action,
            message=outcome.message,
            number=outcome.number,
            url=outcome.url,
            branch=outcome.branch,
            commit=outcome.commit,
            superseded=list(outcome.superseded),
        )
    result["requests"] = forge.requests
    result["auth_requests"] = forge.auth_requests
    return result


def pr_revert(
    repo: str,
    number: int,
    *,
    base_url: str | None,
    write_interval: float = 1.0,
    labels: Sequence[str] = (),
    clock: Clock | None = None,
) -> dict[str, Any]:
    """Open (or update) the revert PR of merged evolution PR ``number``.

    Budget: 7 reads (the PR, 3 tarballs, the revert PR by branch, check runs, combined status)
    and, the first time, 4 writes (tree, commit, ref, PR) plus one per ``labels`` call; a
    re-run over unchanged content writes nothing.
    """
    from bot.forge import open_revert_pr

    forge = _forge(base_url, write_interval, clock=clock)
    outcome = open_revert_pr(forge, repo, number, read_state=True, labels=labels)
    state = outcome.state
    return {
        "repo": repo,
        "action": outcome.action,
        "message": outcome.message,
        "number": outcome.number,
        "url": outcome.url,
        "branch": outcome.branch,
        "reverted": list(outcome.reverted),
        "conflicts": list(outcome.conflicts),
        "failing_checks": [c.name for c in state.failing] if state is not None else [],
        "checks_unknown": outcome.state_unknown,
        "requests": forge.requests,
        "auth_requests": forge.auth_requests,
    }


def register(app: typer.Typer) -> None:
    """Add `evobot pr open` and `evobot pr revert`."""
    pr = typer.Typer(help="Evolution and revert pull requests on GitHub.", no_args_is_help=True)

    @pr.command("open")
    def open_cmd(
        repo: RepoOption,
        vcs_ref: Annotated[
            str | None, typer.Option("--vcs-ref", help="Template tag, branch or commit.")
        ] = None,
        base_url: BaseUrlOption = None,
        cache_dir: Annotated[
            Path | None, typer.Option("--cache-dir", help="Cache for template clones.")
        ] = None,
        recreate: Annotated[
            bool, typer.Option("--recreate", help="Rebuild the branch over human commits.")
        ] = False,
        write_interval: WriteIntervalOption = 1.0,
        run_checks: Annotated[
            bool,
            typer.Option("--checks/--no-checks", help="Check the evolved tree for the PR body."),
        ] = True,
        check_cache: Annotated[
            Path | None,
            typer.Option("--check-cache", help="SQLite check cache (default: the user cache)."),
        ] = None,
        org_policy: Annotated[
            Path | None,
            typer.Option("--org-policy", envvar="EVOBOT_ORG_POLICY", help="Org check policy."),
        ] = None,
        as_json: JsonOption = False,
    ) -> None:
        """Evolve one remote consumer and open or update its evolution PR."""
        from bot.checks import default_cache_path, load_policy

        check_cache_dir(cache_dir)
        if run_checks and org_policy is not None:
            load_policy(None, org_policy)  # a bad org policy is named before any GitHub call

        result = pr_open(
            repo,
            vcs_ref=vcs_ref,
            base_url=base_url,
            cache_dir=cache_dir,
            recreate=recreate,
            write_interval=write_interval,
            checks=CheckOptions(
                enabled=run_checks,
                cache_path=check_cache or default_cache_path(os.environ),
                org_policy=org_policy,
            ),
        )
        # A secret in the template output stops the run loudly: nothing was pushed anywhere.
        secret_blocked = result.get("blocked_by") == "secrets"
        if as_json:
            print_json(result)
            if secret_blocked:
                raise typer.Exit(1)
            return
        console.print(
            f"{repo}: {result['from']} -> {result['to']}: {result['message']}"
            + (f" {result['url']}" if result.get("url") else "")
            + f" ({result['requests']} requests)",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        if "checks" in result:
            verdict = "passed" if result["checks"]["passed"] else "blocked by policy"
            console.print(f"checks {verdict}", highlight=False)
            for reason in result["checks"]["reasons"]:
                console.print(f"  {reason}", highlight=False, markup=False, soft_wrap=True)
        if secret_blocked:
            raise typer.Exit(1)

    @pr.command("revert")
    def revert_cmd(
        repo: RepoOption,
        number: Annotated[int, typer.Option("--pr", min=1, help="The merged evolution PR.")],
        base_url: BaseUrlOption = None,
        write_interval: WriteIntervalOption = 1.0,
        labels: Annotated[
            list[str] | None,
            typer.Option(
                "--label",
                help="Label the revert PR (repeatable; each costs one more write). Default: none.",
            ),
        ] = None,
        as_json: JsonOption = False,
    ) -> None:
        """Open a PR reverting a merged evolution PR's changes (later edits survive)."""
        result = pr_revert(
            repo, number, base_url=base_url, write_interval=write_interval, labels=labels or ()
        )
        if as_json:
            print_json(result)
            return
        console.print(
            f"{repo}: {result['message']} {result['url'] or ''}"
            f" ({result['requests']} requests, {result['auth_requests']} for App authentication)",
            highlight=False,
            markup=False,
        )
        if result["checks_unknown"]:
            console.print(
                f"  status unknown: {result['checks_unknown']}", highlight=False, markup=False
            )
        for path in result["conflicts"]:
            console.print(f"  conflict: {path}", highlight=False, markup=False)

    app.add_typer(pr, name="pr")

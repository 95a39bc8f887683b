"""Template repositories: a new tag records the template's newest version (the rollout acts on
it); a push to the default branch is recorded in the audit log. Repositories that no stored
consumer names as its template are not template repositories and are left alone."""

from __future__ import annotations

from packaging.version import InvalidVersion, Version

from bot.forge.webhook import WebhookEvent
from bot.service.context import HandlerContext
from bot.service.router import Router
from bot.store import Store

__all__ = ["newer_version", "router", "templates_in"]

router = Router()
MANIFEST = "template.yml"


def templates_in(store: Store, repo: str) -> list[str]:
    """Stored template names released from ``repo`` (``OWNER/REPO`` or ``OWNER/REPO//subdir``)."""
    wanted = repo.lower()
    names = {c.template for c in store.consumers()}
    return sorted(n for n in names if n.split("//", 1)[0] == wanted)


def _parsed(tag: str) -> Version | None:
    try:
        return Version(tag.removeprefix("v").removeprefix("V"))
    except InvalidVersion:
        return None


def newer_version(current: str | None, tag: str) -> bool:
    """Whether ``tag`` replaces ``current`` as the newest version: by version order when both
    are versions (so tag pushes delivered out of order end the same), else the later push."""
    if current is None:
        return True
    old, new = _parsed(current), _parsed(tag)
    if old is None or new is None:
        return current != tag
    return new > old


@router.register("push")
def template_pushed(event: WebhookEvent, context: HandlerContext) -> str | None:
    payload = event.payload
    if event.repository is None or payload.get("deleted"):
        return None
    names = templates_in(context.store, event.repository)
    ref = str(payload.get("ref") or "")
    repository = payload.get("repository") or {}
    default = repository.get("default_branch") or repository.get("master_branch")
    if ref.startswith("refs/tags/"):
        tag = ref.removeprefix("refs/tags/")
        if not names:
            # No consumer names it yet (its installation may not be processed yet): a tag of a
            # repository holding a template manifest is a template version all the same.
            if context.forge.read_file(event.repository, MANIFEST, ref=tag) is None:
                return None
            source = str(repository.get("clone_url") or event.repository)
            names = [event.repository.lower()]
            if context.store.template(names[0]) is None:
                context.store.upsert_template(names[0], source, cause=context.cause)
        for name in names:
            template = context.store.template(name)
            if template is not None and newer_version(template.latest_version, tag):
                context.store.upsert_template(
                    name, template.source, latest_version=tag, cause=context.cause
                )
        return f"template version {tag}"
    if not names:
        return None
    if default and ref == f"refs/heads/{default}":
        after = str(payload.get("after") or "")
        for name in names:
            context.store.append_audit(
                f"template:{name}", f"default branch at {after}", context.cause
            )
        return f"template default branch at {after[:12]}"
    return None

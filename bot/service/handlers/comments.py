"""Issue and PR comments: every one is stored with its delivery; those holding an ``/evobot``
command are marked so the rollout issue's command handling finds them."""

from __future__ import annotations

from bot.forge.webhook import WebhookEvent
from bot.service.context import HandlerContext
from bot.service.router import Router

__all__ = ["COMMAND_PREFIX", "router"]

router = Router()
COMMAND_PREFIX = "/evobot"


@router.register("issue_comment", "created", "edited")
def comment_stored(event: WebhookEvent, context: HandlerContext) -> str | None:
    comment = event.payload.get("comment") or {}
    body = str(comment.get("body") or "") if isinstance(comment, dict) else ""
    if not any(line.strip().startswith(COMMAND_PREFIX) for line in body.splitlines()):
        return None
    sender = (event.payload.get("sender") or {}).get("type")
    if sender == "Bot":
        return None  # the bot's own answers quote commands; never act on them
    context.log.info("command.stored", sender=event.sender)
    return "command stored for the rollout"

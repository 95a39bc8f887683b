"""The web edge: ``POST /webhook`` (verify, store, acknowledge: no work is done here),
``/healthz``, ``/readyz``, ``/metrics`` and the read-only dashboard under ``/dashboard``.
The one place a :class:`WebhookError` becomes an HTTP status; the request body is read at
most once, and never past the 25 MB limit."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from bot.errors import EvobotError, WebhookError
from bot.forge.webhook import MAX_BODY_BYTES, WebhookEvent, parse_event
from bot.service.dashboard import PREFIX, DashboardAccess, DashboardDeps, dashboard_router
from bot.service.metrics import ServiceMetrics
from bot.store import Store

__all__ = ["WebDeps", "create_app", "job_key"]

log = structlog.get_logger("bot.service.web")
# The store's column widths (GitHub's delivery ids are 36-character UUIDs).
DELIVERY_ID_CHARS = 64
ACTION_CHARS = 64


@dataclass(frozen=True)
class WebDeps:
    """What the web edge needs; ``readiness`` lists what keeps the service from being ready;
    ``dashboard`` who may see the dashboard (None: no dashboard)."""

    store: Store
    secret: str = field(repr=False)
    metrics: ServiceMetrics
    readiness: Callable[[], list[str]]
    max_attempts: int = 5
    max_body_bytes: int = MAX_BODY_BYTES
    dashboard: DashboardAccess | None = None


def job_key(event: WebhookEvent) -> str | None:
    """Deliveries about one repository run one at a time, in order (the queue's job key)."""
    if event.repository:
        return f"repo:{event.repository.lower()}"
    if event.installation_id is not None:
        return f"installation:{event.installation_id}"
    return None


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise WebhookError(f"the delivery is {declared} bytes, more than {limit}", status=413)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise WebhookError(f"the delivery is more than {limit} bytes", status=413)
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(deps: WebDeps) -> FastAPI:
    """The service's ASGI application over ``deps`` (nothing is read from the environment)."""
    app = FastAPI(title="evobot", docs_url=None, redoc_url=None, openapi_url=None)
    metrics = deps.metrics

    @app.post("/webhook")
    async def webhook(request: Request) -> Response:
        started = time.perf_counter()
        event_name = request.headers.get("x-github-event", "unknown")[:64]
        try:
            body = await _body(request, deps.max_body_bytes)
            event = parse_event(request.headers, body, deps.secret)
        except WebhookError as exc:
            metrics.deliveries.labels("unknown", "rejected").inc()
            log.info(
                "webhook.rejected",
                status=exc.status,
                reason=exc.message,
                delivery_id=request.headers.get("x-github-delivery", "")[:128] or None,
            )
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        event_name = event.event
        if len(event.delivery_id) > DELIVERY_ID_CHARS:
            metrics.deliveries.labels(event_name, "rejected").inc()
            message = f"the X-GitHub-Delivery header is longer than {DELIVERY_ID_CHARS} characters"
            return JSONResponse({"error": message}, status_code=400)
        try:
            inserted = await run_in_threadpool(
                deps.store.record_delivery,
                event.delivery_id,
                event.event,
                event.action[:ACTION_CHARS] if event.action else None,
                event.installation_id,
                body.decode("utf-8"),
                job_key=job_key(event),
                max_attempts=deps.max_attempts,
            )
        except EvobotError as exc:
            log.error("webhook.not_stored", delivery_id=event.delivery_id, error=exc.message)
            # Not acknowledged: GitHub's delivery log shows the failure and the healer asks
            # for it again once the store is back.
            return JSONResponse({"error": "the delivery could not be stored"}, status_code=503)
        outcome = "accepted" if inserted else "duplicate"
        metrics.deliveries.labels(event_name, outcome).inc()
        metrics.ack_seconds.observe(time.perf_counter() - started)
        log.info(
            "webhook." + outcome,
            delivery_id=event.delivery_id,
            repo=event.repository,
            github_event=event.event,
            action=event.action,
        )
        if inserted:
            return JSONResponse({"delivery_id": event.delivery_id, "queued": True}, 202)
        return JSONResponse({"delivery_id": event.delivery_id, "duplicate": True}, 200)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        problems = deps.readiness()
        if problems:
            return JSONResponse({"status": "not ready", "problems": problems}, 503)
        return JSONResponse({"status": "ready"}, 200)

    @app.get("/metrics")
    def metrics_endpoint() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    if deps.dashboard is not None:
        app.include_router(dashboard_router(DashboardDeps(deps.store, deps.dashboard)))

        @app.get("/", include_in_schema=False)
        def root() -> Response:
            return RedirectResponse(f"{PREFIX}/", status_code=307)

    return app

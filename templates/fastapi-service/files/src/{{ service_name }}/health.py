"""Liveness (`/healthz`) and readiness (`/readyz`) endpoints for the orchestrator."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

logger = logging.getLogger(__name__)

ReadinessCheck = Callable[[], Awaitable[None]]
"""A dependency probe: returns when the dependency is usable, raises when it is not."""

CheckResult = Literal["ok", "failed", "timeout"]

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: dict[str, CheckResult]


async def _run_check(name: str, check: ReadinessCheck, seconds: float) -> CheckResult:
    try:
        async with asyncio.timeout(seconds):
            await check()
    except TimeoutError:
        logger.warning("readiness check timed out", extra={"check": name, "seconds": seconds})
        return "timeout"
    except Exception as exc:  # any failure of a dependency means "not ready", never a 500
        logger.warning(
            "readiness check failed",
            extra={"check": name, "error": type(exc).__name__, "detail": str(exc)[:300]},
        )
        return "failed"
    return "ok"


@router.get("/healthz")
async def healthz() -> Health:
    """Liveness: the process is up and answering. Never touches a dependency."""
    return Health(status="ok")


@router.get(
    "/readyz",
    responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"model": Readiness}},
)
async def readyz(request: Request, response: Response) -> Readiness:
    """Readiness: every registered dependency check passes within its time limit."""
    checks: dict[str, ReadinessCheck] = request.app.state.readiness_checks
    timeout: float = request.app.state.settings.readiness_timeout_seconds
    names = sorted(checks)
    results = await asyncio.gather(*(_run_check(name, checks[name], timeout) for name in names))
    outcome = dict(zip(names, results, strict=True))
    ready = all(result == "ok" for result in outcome.values())
    if not ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Readiness(status="ready" if ready else "unavailable", checks=outcome)

"""Structured JSON logs for the service: one object a line, each carrying ``delivery_id``,
``repo`` and ``job_id`` (null outside a delivery or job), and every line passed through the
forge's scrubber so no token, key, JWT or the webhook secret can reach the log."""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

from bot.forge.auth import scrub

__all__ = ["CONTEXT_KEYS", "configure_logging", "scrubbed_json"]

CONTEXT_KEYS = ("delivery_id", "repo", "job_id")


def _context_keys(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> Any:
    for key in CONTEXT_KEYS:
        event.setdefault(key, None)
    return event


def scrubbed_json(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> str:
    """Render one line of JSON, then scrub it whole (values, keys, exception text alike)."""
    return scrub(json.dumps(event, default=str, sort_keys=True))


class _LockedWriter:
    """Whole lines from several threads, never interleaved."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def msg(self, message: str) -> None:
        with self._lock:
            self._stream.write(message + "\n")
            self._stream.flush()

    log = debug = info = warning = warn = error = critical = exception = msg


def configure_logging(stream: TextIO | None = None, level: int = logging.INFO) -> None:
    """Send structlog's lines to ``stream`` (default stderr) as scrubbed JSON."""
    writer = _LockedWriter(stream or sys.stderr)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _context_keys,
            structlog.processors.format_exc_info,
            scrubbed_json,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=lambda *_args: writer,
        cache_logger_on_first_use=False,
    )

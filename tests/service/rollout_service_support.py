"""Helpers of the rollout-through-the-service tests: the whole loop (`bench/rollout_loop.py`),
what the emulator holds (PRs, comments by marker), and a relay that sends the service every
delivery several times, out of order."""

from __future__ import annotations

import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from rollout_loop import (
    PEOPLE,
    SECRET,
    TEMPLATE,
    Loop,
    consumer_name,
    fleet_seed,
    rollout_loop,
)

from bot.emulator.handle import EmulatorHandle

__all__ = [
    "PEOPLE",
    "SECRET",
    "TEMPLATE",
    "Loop",
    "Relay",
    "bot_comments",
    "consumer_name",
    "evolution_pulls",
    "fleet_seed",
    "markers",
    "rollout_loop",
    "shuffling_relay",
]


def evolution_pulls(gh: EmulatorHandle, repo: str) -> list[dict[str, Any]]:
    """Every PR on an ``evobot/`` branch (evolution or revert) of ``repo``."""
    return [p for p in gh.pulls(repo) if str(p["head_ref"]).startswith("evobot/")]


def bot_comments(gh: EmulatorHandle, repo: str, number: int) -> list[str]:
    """The bodies of the bot's comments on ``repo``#``number``."""
    return [str(c["body"]) for c in gh.comments(repo, number) if str(c["user"]) == gh.bot_login]


def markers(gh: EmulatorHandle, repos: list[str]) -> Counter[str]:
    """Every hidden ``<!-- evobot:... -->`` marker in comments on the repos' PRs, counted."""
    found: Counter[str] = Counter()
    for repo in repos:
        for pull in gh.pulls(repo):
            for body in bot_comments(gh, repo, int(pull["number"])):
                for part in body.split("<!-- evobot:")[1:]:
                    found[f"{repo}#{pull['number']}:{part.split('-->')[0].strip()}"] += 1
    return found


class Relay:
    """Receives the emulator's deliveries and sends each to the service ``copies`` times,
    every batch shuffled: duplicates and disorder, as GitHub may produce them."""

    def __init__(self, target: str, *, copies: int = 3, seed: int = 5) -> None:
        self.target = target
        self.copies = copies
        self.random = random.Random(seed)
        self.pending: list[tuple[dict[str, str], bytes]] = []
        self.sent = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower().startswith("x-") or k.lower() in ("content-type", "user-agent")
                }
                with relay.lock:
                    relay.pending.append((headers, body))
                self.send_response(202)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhook"
        self.threads = [
            threading.Thread(target=self.server.serve_forever, daemon=True),
            threading.Thread(target=self._forward, daemon=True),
        ]

    def _forward(self) -> None:
        with httpx.Client(timeout=30, trust_env=False) as client:
            while not self.stop.is_set():
                time.sleep(0.2)
                with self.lock:
                    batch, self.pending = self.pending, []
                copies = [item for item in batch for _ in range(self.copies)]
                self.random.shuffle(copies)
                for headers, body in copies:
                    client.post(self.target, content=body, headers=headers)
                    self.sent += 1

    def idle(self) -> bool:
        with self.lock:
            return not self.pending


@contextmanager
def shuffling_relay(loop: Loop, *, copies: int = 3) -> Iterator[Relay]:
    """Point the emulator's webhooks at a relay duplicating and shuffling them."""
    relay = Relay(f"{loop.url}/webhook", copies=copies)
    for thread in relay.threads:
        thread.start()
    loop.gh.set_webhook(relay.url, secret=SECRET)
    try:
        yield relay
    finally:
        relay.stop.set()
        relay.server.shutdown()
        loop.gh.set_webhook(f"{loop.url}/webhook")

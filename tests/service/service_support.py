"""Helpers of the service's tests: settings, signed deliveries, the service running in-process
(uvicorn in a thread on a free loopback port) and waiting for its queue to drain."""

from __future__ import annotations

import io
import json
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.forge.webhook import sign
from bot.service import Service, ServiceSettings, load_settings
from bot.service.healing import HealReport
from bot.service.inprocess import serving_in_thread
from bot.service.logs import configure_logging
from bot.service.worker import WorkerPool

SECRET = "service-webhook-secret-for-tests"
_KEY: str | None = None


def private_key_pem() -> str:
    """One RSA key for every test that needs an App key but no GitHub."""
    global _KEY
    if _KEY is None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _KEY = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
    return _KEY


def settings_for(
    database_url: str,
    state_dir: Path,
    *,
    github_url: str = "http://127.0.0.1:9/api/v3",
    **extra: Any,
) -> ServiceSettings:
    values: dict[str, Any] = {
        "app_id": "1",
        "private_key": private_key_pem(),
        "webhook_secret": SECRET,
        "database_url": database_url,
        "state_dir": state_dir,
        "github_url": github_url,
        "heal_interval": 3600.0,
        "shutdown_grace": 5.0,
    }
    values.update(extra)
    return load_settings(**values)


def signed(
    event: str,
    payload: dict[str, Any] | bytes,
    *,
    delivery_id: str | None = None,
    secret: str = SECRET,
) -> tuple[dict[str, str], bytes]:
    """Headers and body of a delivery, signed as GitHub signs it."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(body, secret),
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/tests",
    }
    return headers, body


class RunningService:
    """A service serving on loopback, its workers and healer running in threads."""

    def __init__(self, service: Service, url: str, pool: WorkerPool, log: io.StringIO) -> None:
        self.service = service
        self.url = url
        self.pool = pool
        self.log = log
        self.healer = service.healer()
        # TCP_NODELAY: headers and body go out at once, not 40 ms apart (Nagle + delayed ACK).
        transport = httpx.HTTPTransport(
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
        )
        self.client = httpx.Client(base_url=url, timeout=30, trust_env=False, transport=transport)

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/webhook"

    def post(self, headers: dict[str, str], body: bytes) -> httpx.Response:
        return self.client.post("/webhook", content=body, headers=headers)

    def drain(self, timeout: float = 60.0, *, settle: Callable[[], None] | None = None) -> None:
        """Wait until no job is queued or running (``settle`` first, each round)."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while time.monotonic() < deadline:
            if settle is not None:
                settle()
            stats = self.service.store.queue_stats()
            due = self.service.store.jobs(state="queued", limit=1000)
            if stats.running == 0 and not due:
                quiet += 1
                if quiet >= 3:
                    return
            else:
                quiet = 0
            time.sleep(0.1)
        waiting = [
            (j.id, j.kind, j.state, j.attempts, j.error)
            for j in self.service.store.jobs(limit=1000)
            if j.state in ("queued", "running")
        ]
        raise TimeoutError(f"the queue did not drain: {waiting}")

    def wait_for_heal(self, timeout: float = 30.0) -> HealReport:
        """The first pass of the started healer."""
        deadline = time.monotonic() + timeout
        while self.healer.last is None:
            if time.monotonic() > deadline:
                raise TimeoutError("the healer did not finish a pass")
            time.sleep(0.05)
        return self.healer.last

    def log_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.getvalue().splitlines() if line.strip()]


@contextmanager
def running_service(
    settings: ServiceSettings,
    *,
    workers: int = 2,
    heal: bool = False,
    build: Callable[[ServiceSettings], Service] | None = None,
) -> Iterator[RunningService]:
    """Start the service like `evobot serve` does, but in threads; stop it on exit."""
    log = io.StringIO()
    configure_logging(log)
    service = (build or Service.build)(settings)
    try:
        with serving_in_thread(service.web_app()) as url:
            pool = service.worker_pool(workers)
            running = RunningService(service, url, pool, log)
            pool.start()
            if heal:
                running.healer.start()
            try:
                yield running
            finally:
                running.client.close()
                running.healer.stop()
                pool.stop(settings.shutdown_grace)
    finally:
        service.store.close()
        structlog.reset_defaults()


TEMPLATE_FILES = {
    "template.yml": "name: greeter\nquestions:\n  name:\n    type: str\n    default: world\n",
    "files/hello.txt.jinja": "Hello {{ name }}!\n",
}
TEMPLATE_REPO = "acme/greeter-template"
CONSUMER = "acme/consumer-a"
PLAIN = "acme/plain"


def fleet_seed(template_src: Path, private_key: str) -> dict[str, Any]:
    """A template repository, one consumer rendered from it (canary) and one plain repository;
    the App is installed on nothing yet (tests install it, so the service hears about it)."""
    return {
        "app": {"private_key": private_key},
        "installations": [],
        "repos": [
            {"full_name": TEMPLATE_REPO, "from_git": str(template_src), "ci": None},
            {
                "full_name": CONSUMER,
                "render": {
                    "template": TEMPLATE_REPO,
                    "ref": "v1.0.0",
                    "answers": {"name": "Ada"},
                    "ring": "canary",
                },
                "ci": {"always": "success"},
            },
            {"full_name": PLAIN, "files": {"README.md": "# plain\n"}, "ci": None},
        ],
        "random_seed": 7,
    }


def emulator_settings(
    handle: Any, database_url: str, state_dir: Path, **extra: Any
) -> ServiceSettings:
    """Settings pointing the service at the emulator, as the App the emulator knows."""
    return settings_for(
        database_url,
        state_dir,
        github_url=handle.api_url,
        app_id=str(handle.app_id),
        private_key=handle.private_key_pem,
        **extra,
    )


def store_state(service: Service) -> dict[str, Any]:
    """What the service remembers about the fleet, comparable between two runs."""
    store = service.store
    installation_ids = {c.installation_id for c in store.consumers() if c.installation_id}
    return {
        "installations": sorted(
            (i.id, i.account, i.suspended)
            for i in (store.installation(n) for n in installation_ids)
            if i is not None
        ),
        "consumers": sorted(
            (c.repo, c.template, c.current_version, c.ring, c.paused, c.installation_id)
            for c in store.consumers()
        ),
        "templates": sorted(
            (t.name, t.latest_version)
            for t in (store.template(n) for n in {c.template for c in store.consumers()})
            if t is not None
        ),
        "evolution_prs": sorted(
            (p.repo, p.number, p.branch, p.state, p.head_sha, p.merge_commit, p.check_state)
            for p in store.evolution_prs()
        ),
    }

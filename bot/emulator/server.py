"""Run an emulator: build it from a seed, serve it with uvicorn in a thread or in the foreground."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from bot.emulator.app import create_app
from bot.emulator.clock import EmulatorClock
from bot.emulator.core import Emulator
from bot.emulator.handle import EmulatorHandle
from bot.emulator.seed import Seed, parse_seed
from bot.errors import EvobotError

__all__ = ["EmulatorServer", "ListenError"]


class ListenError(EvobotError):
    """The address or port the emulator was asked to listen on cannot be bound."""


class EmulatorServer:
    """An emulator bound to a loopback socket; ``start()`` serves it from a daemon thread."""

    def __init__(
        self,
        seed: Seed | dict[str, Any],
        state_dir: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: EmulatorClock | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> None:
        parsed = parse_seed(seed)
        if webhook_url is not None or webhook_secret is not None:
            webhook = parsed.webhook.model_copy(
                update={
                    k: v
                    for k, v in (("url", webhook_url), ("secret", webhook_secret))
                    if v is not None
                }
            )
            parsed = parsed.model_copy(update={"webhook": webhook})
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit this: without it, h11's separate header and body
        # writes meet delayed ACKs and every keep-alive request waits ~40 ms.
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.sock.bind((host, port))
            self.sock.listen(256)
        except (OSError, OverflowError) as exc:
            self.sock.close()
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise ListenError(
                f"cannot listen on {host}:{port}: {reason}",
                hint="pick another --port (0 picks a free one) or --host",
            ) from None
        bound_host, bound_port = self.sock.getsockname()[:2]
        self.port = int(bound_port)
        self.emulator = Emulator(
            parsed, state_dir, base_url=f"http://{bound_host}:{self.port}", clock=clock
        )
        self.handle = EmulatorHandle(self.emulator)
        config = uvicorn.Config(
            create_app(self.emulator),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_keep_alive=30,
        )
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def start(self, *, timeout: float = 10.0) -> EmulatorHandle:
        self.emulator.webhooks.start()
        self.emulator.ci.start()
        self.emulator.start_saver()
        self._thread = threading.Thread(
            target=self.server.run,
            kwargs={"sockets": [self.sock]},
            name="emulator-http",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the emulator's HTTP server did not start")
            time.sleep(0.005)
        return self.handle

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the CLI)."""
        self.emulator.webhooks.start()
        self.emulator.ci.start()
        self.emulator.start_saver()
        try:
            self.server.run(sockets=[self.sock])
        finally:
            self.emulator.close()
            self.sock.close()

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.emulator.close()
        self.sock.close()

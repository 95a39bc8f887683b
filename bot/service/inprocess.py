"""The service's web edge served in a thread of this process, on a free loopback port.

`evobot serve` runs uvicorn in the foreground; the whole-loop demo, the rollout benchmark and the
tests run the same ASGI app beside other work, so they serve it here and stop it on exit.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

__all__ = ["loopback_socket", "serving_in_thread"]


def loopback_socket() -> socket.socket:
    """A TCP socket bound to a free port on 127.0.0.1."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Inherited by accepted connections: without it uvicorn's answers on a socket it was handed
    # wait ~40 ms each (Nagle + delayed ACK); uvicorn sets it only on sockets it binds itself.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serving_in_thread(app: Any, *, start_timeout: float = 10.0) -> Iterator[str]:
    """Serve the ASGI ``app`` on a free loopback port in a daemon thread; yield its base URL
    (``http://127.0.0.1:PORT``) once it accepts connections, and stop it on exit."""
    sock = loopback_socket()
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    try:
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise TimeoutError("the service's web edge did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

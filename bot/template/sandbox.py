"""The bounded sandbox: a child process that evaluates template Jinja under time and memory limits.

Jinja's sandbox stops attribute tricks but not endless loops or huge strings, so every piece of
template Jinja (file contents, names, defaults, conditions, validators) runs in a worker process
with `RLIMIT_AS`, a CPU budget per request and a wall-clock timeout. By default each thread
keeps one long-lived worker (:func:`shared_sandbox`), replaced when a render breaks its limits;
a caller passing its own limits gets a worker of its own, closed after use.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import selectors
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from bot.errors import RenderError
from bot.template import _worker

__all__ = ["RenderLimits", "Sandbox", "SandboxFailure", "shared_sandbox", "using_sandbox"]

_WORKER = Path(_worker.__file__).resolve()


@dataclass(frozen=True)
class RenderLimits:
    """Bounds for evaluating a template's Jinja.

    ``in_process=True`` skips the child process (no limits): only for trusted templates.
    """

    timeout_s: float = 30.0
    memory_bytes: int = 1 << 30
    in_process: bool = False


class SandboxFailure(RenderError):
    """The worker reported an error, or hit a limit. ``kind`` and ``file`` say which and where."""

    def __init__(
        self, message: str, *, kind: str, file: str | None = None, line: int | None = None
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.file = file
        self.line = line


def _failure(error: dict[str, Any]) -> SandboxFailure:
    file = error.get("file")
    line = error.get("line")
    where = f"{file}:{line}" if file and line else (file or "")
    text = error.get("message") or "failed"
    message = f"{where}: {text}" if where else text
    return SandboxFailure(message, kind=str(error.get("kind")), file=file, line=line)


class Sandbox:
    """One worker process, started on first use and ended by :meth:`close` (or ``with``)."""

    def __init__(self, limits: RenderLimits | None = None) -> None:
        self.limits = limits or RenderLimits()
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: Any = None
        self._buffer = bytearray()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
            self._proc = subprocess.Popen(
                [sys.executable, "-I", str(_WORKER), str(self.limits.memory_bytes)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                # The worker needs nothing from the environment; tokens stay out of it.
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"},
                close_fds=True,
            )
            self._buffer = bytearray()
        return self._proc

    def close(self) -> None:
        """End the worker (if started) and release its pipes."""
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                if proc.stdin:
                    proc.stdin.close()
                proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()
            if proc.stdout:
                proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def request(self, req: dict[str, Any]) -> dict[str, Any]:
        """Send one request and return the worker's successful answer; failures raise."""
        if self.limits.in_process:
            response = _worker.handle(req, lambda _name: None)
        else:
            response = self._remote(req)
        if not response.get("ok"):
            error = dict(response.get("error") or {})
            if error.get("kind") == "memory":
                error["message"] = (
                    f"ran out of memory (limit {self.limits.memory_bytes:,} bytes); "
                    "a huge string or list?"
                )
            raise _failure(error)
        return response

    def _remote(self, req: dict[str, Any]) -> dict[str, Any]:
        proc = self._start()
        assert proc.stdin is not None and proc.stdout is not None
        current: str | None = None
        try:
            proc.stdin.write(json.dumps({**req, "cpu_s": self.limits.timeout_s}).encode() + b"\n")
            proc.stdin.flush()
        except BrokenPipeError:
            return self._died(proc, current)
        deadline = time.monotonic() + self.limits.timeout_s
        fd = proc.stdout.fileno()
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            scanned = 0  # bytes of the buffer known to hold no newline
            while True:
                end = self._buffer.find(b"\n", scanned)
                while end != -1:
                    message = json.loads(self._buffer[:end])
                    del self._buffer[: end + 1]
                    scanned = 0
                    if "at" in message:
                        current = message["at"]
                    elif message.get("done"):
                        return dict(message)
                    end = self._buffer.find(b"\n")
                scanned = len(self._buffer)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._kill()
                    raise SandboxFailure(
                        f"{current or 'template'}: rendering took longer than "
                        f"{self.limits.timeout_s:g} s (time limit); an endless loop?",
                        kind="timeout",
                        file=current,
                    )
                if not selector.select(timeout=remaining):
                    continue
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    return self._died(proc, current)
                self._buffer.extend(chunk)

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.kill()
            proc.wait()
            if proc.stdin:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
            if proc.stdout:
                proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def _died(self, proc: subprocess.Popen[bytes], current: str | None) -> dict[str, Any]:
        code = proc.wait()
        stderr = b""
        if self._stderr is not None:
            self._stderr.seek(0)
            stderr = self._stderr.read()[-2000:]
        self._kill()
        where = current or "template"
        if code in (-24, -9):  # SIGXCPU / SIGKILL from the CPU limit
            raise SandboxFailure(
                f"{where}: rendering used more than its CPU time limit "
                f"({self.limits.timeout_s:g} s); an endless loop?",
                kind="timeout",
                file=current,
            )
        if b"MemoryError" in stderr:
            raise SandboxFailure(
                f"{where}: rendering ran out of memory (limit {self.limits.memory_bytes:,} bytes)",
                kind="memory",
                file=current,
            )
        detail = stderr.decode(errors="replace").strip().splitlines()[-1:] or [f"exit {code}"]
        raise SandboxFailure(
            f"{where}: the render worker failed: {detail[0]}", kind="crash", file=current
        )


_shared = threading.local()
_all_shared: weakref.WeakSet[Sandbox] = weakref.WeakSet()


def shared_sandbox() -> Sandbox:
    """This thread's long-lived sandbox with the default limits.

    Calls that pass no sandbox and no limits use it, so a process rendering many consumers
    (``evobot update`` renders twice per consumer, a rollout hundreds of times) starts one worker
    per thread instead of one per call. The worker exits when this process does.
    """
    sandbox: Sandbox | None = getattr(_shared, "sandbox", None)
    if sandbox is None or getattr(_shared, "pid", None) != os.getpid():
        sandbox = Sandbox(RenderLimits())
        _shared.sandbox = sandbox
        _shared.pid = os.getpid()
        _all_shared.add(sandbox)
    return sandbox


def _close_shared() -> None:
    for sandbox in list(_all_shared):
        sandbox.close()


atexit.register(_close_shared)


def using_sandbox(
    sandbox: Sandbox | None, limits: RenderLimits | None
) -> contextlib.AbstractContextManager[Sandbox]:
    """The caller's ``sandbox`` (left open), the thread's shared one when neither a sandbox nor
    limits are given, or a new one closed after use."""
    if sandbox is not None:
        return contextlib.nullcontext(sandbox)
    if limits is None:
        return contextlib.nullcontext(shared_sandbox())
    return Sandbox(limits)

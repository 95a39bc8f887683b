"""Emulated CI: each pushed commit gets a check suite and a check run from the repo's CI rule.

A rule is a real command run in a checkout of the commit, a fast file rule, or a fixed
outcome. Runs go queued → in_progress → completed on a worker thread, with webhooks.
"""

from __future__ import annotations

import fnmatch
import os
import queue
import re
import signal
import subprocess
import tempfile
import threading
import time
from typing import TYPE_CHECKING, Any

import structlog

from bot.emulator.gitstore import GitRepo
from bot.emulator.seed import CiRule

if TYPE_CHECKING:
    from bot.emulator.core import Emulator

__all__ = ["CiRunner", "evaluate_rule", "run_in_checkout"]

log = structlog.get_logger(__name__)
J = dict[str, Any]


def evaluate_rule(emu: Emulator, full_name: str, sha: str, rule: CiRule) -> tuple[str, str, str]:
    """``(conclusion, title, summary)`` of ``rule`` on commit ``sha``."""
    repo = emu.git(full_name)
    if rule.always:
        return rule.always, f"always {rule.always}", f"The CI rule says {rule.always}."
    if rule.fail_if_file_matches or rule.fail_if_content_matches:
        commit = repo.read_commit(sha)
        assert commit is not None
        entries = [e for e in repo.ls_tree(commit.tree, recursive=True) if e.type == "blob"]
        if rule.fail_if_file_matches:
            bad = [e.path for e in entries if fnmatch.fnmatch(e.path, rule.fail_if_file_matches)]
            if bad:
                return (
                    "failure",
                    "forbidden file",
                    f"Files match {rule.fail_if_file_matches}: " + (", ".join(bad[:20])),
                )
        if rule.fail_if_content_matches:
            pattern = re.compile(rule.fail_if_content_matches.encode(), re.MULTILINE)
            objects = repo.read_objects(e.sha for e in entries)
            bad = [e.path for e in entries if pattern.search(objects[e.sha][1])]
            if bad:
                return (
                    "failure",
                    "forbidden content",
                    (f"Content matches {rule.fail_if_content_matches}: " + ", ".join(bad[:20])),
                )
        return "success", "all good", "No file breaks the rule."
    if rule.command:
        code, output = run_in_checkout(repo, sha, rule.command, rule.timeout)
        tail = "\n".join(output.splitlines()[-40:])
        if code == -1:
            return "timed_out", f"{rule.command} timed out", tail
        if code == 0:
            return "success", f"{rule.command} passed", tail
        return "failure", f"{rule.command} failed (exit {code})", tail
    return "success", "nothing to run", "The CI rule runs nothing."


class CiRunner:
    """Creates suites/runs at push time and completes them on a worker thread."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self._queue: queue.Queue[int | None] = queue.Queue()
        self._pending = 0
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start the runners (``ci_workers`` in the seed: CI jobs that run at once)."""
        if not self._threads:
            for n in range(max(1, self.emu.seed.ci_workers)):
                thread = threading.Thread(target=self._run, name=f"emulator-ci-{n}", daemon=True)
                thread.start()
                self._threads.append(thread)

    def stop(self) -> None:
        for _thread in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads = []

    def wait(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{self._pending} CI runs still pending")
                self._cond.wait(left)

    def schedule(self, full_name: str, sha: str, branch: str, before: str) -> J | None:
        emu = self.emu
        rule = emu.ci_rule(full_name)
        if rule is None:
            return None
        now = emu.clock.iso()
        with emu.lock:
            for suite in emu.store.data["check_suites"].values():
                if (
                    suite["repo"] == full_name
                    and suite["head_sha"] == sha
                    and suite["app_id"] == emu.ci_app["id"]
                ):
                    return None
            suite = {
                "id": emu.store.next_id("check_suite"),
                "repo": full_name,
                "head_sha": sha,
                "head_branch": branch,
                "before": before,
                "app_id": emu.ci_app["id"],
                "status": "queued",
                "conclusion": None,
                "created_at": now,
                "updated_at": now,
            }
            emu.store.data["check_suites"][str(suite["id"])] = suite
        return self._queue_run(full_name, suite, rule, now)

    def rerun(self, suite: J) -> None:
        """Run the repo's current rule again on a suite's commit (a re-requested suite)."""
        emu = self.emu
        rule = emu.ci_rule(suite["repo"])
        if rule is None:
            return
        now = emu.clock.iso()
        with emu.lock:
            suite.update(status="queued", conclusion=None, updated_at=now)
        self._queue_run(suite["repo"], suite, rule, now)

    def _queue_run(self, full_name: str, suite: J, rule: CiRule, now: str) -> J:
        """Record a queued check run of ``rule`` in ``suite``, announce it and queue it."""
        emu = self.emu
        with emu.lock:
            run = {
                "id": emu.store.next_id("check_run"),
                "repo": full_name,
                "suite_id": suite["id"],
                "head_sha": suite["head_sha"],
                "name": rule.name,
                "status": "queued",
                "conclusion": None,
                "started_at": now,
                "completed_at": None,
                "external_id": f"emulator-ci-{suite['id']}",
                "details_url": None,
                "output": {"title": None, "summary": None, "text": None},
                "app_id": emu.ci_app["id"],
                "rule": rule.model_dump(),
            }
            emu.store.data["check_runs"][str(run["id"])] = run
        emu.webhooks.emit_check_run(run, "created", emu.ci_sender)
        with self._cond:
            self._pending += 1
        self._queue.put(run["id"])
        return run

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            try:
                self._execute(item)
            except Exception:  # a broken rule must not kill the worker; the run is marked
                log.exception("emulated CI run crashed", run=item)
                self._finish(item, "failure", "CI crashed", "The emulated CI run crashed.")
            finally:
                with self._cond:
                    self._pending -= 1
                    self._cond.notify_all()

    def _execute(self, run_id: int) -> None:
        emu = self.emu
        run = emu.store.data["check_runs"][str(run_id)]
        suite = emu.store.data["check_suites"][str(run["suite_id"])]
        with emu.lock:
            run["status"] = suite["status"] = "in_progress"
            run["started_at"] = suite["updated_at"] = emu.clock.iso()
        rule = CiRule.model_validate(run["rule"])
        conclusion, title, summary = evaluate_rule(emu, run["repo"], run["head_sha"], rule)
        self._finish(run_id, conclusion, title, summary)

    def _finish(self, run_id: int, conclusion: str, title: str, summary: str) -> None:
        emu = self.emu
        run = emu.store.data["check_runs"][str(run_id)]
        suite = emu.store.data["check_suites"][str(run["suite_id"])]
        now = emu.clock.iso()
        with emu.lock:
            run.update(
                status="completed",
                conclusion=conclusion,
                completed_at=now,
                output={"title": title, "summary": summary, "text": None},
            )
            suite.update(status="completed", conclusion=conclusion, updated_at=now)
        emu.webhooks.emit_check_run(run, "completed", emu.ci_sender)
        emu.webhooks.emit_check_suite(suite, "completed")


def run_in_checkout(repo: GitRepo, sha: str, command: str, timeout: float) -> tuple[int, str]:
    """Extract ``sha`` to a temporary directory and run ``command`` there with a shell."""
    with tempfile.TemporaryDirectory(prefix="evobot-emu-ci-") as tmp:
        archive = repo.git("archive", "--format=tar", sha).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        # The seed's own CI command, run by a shell like a workflow's `run:` step, in its own
        # process group so a timeout stops everything it started.
        proc = subprocess.Popen(
            ["/bin/sh", "-c", command],
            cwd=tmp,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            output, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return -1, f"timed out after {timeout:g}s"
        return proc.returncode, output.decode(errors="replace")

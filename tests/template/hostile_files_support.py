"""Run the installed `evobot` on hostile template and consumer files, under a time limit, and
keep a host file holding a line that must never reach the output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EVOBOT = Path(sys.executable).parent / "evobot"
SECRET = "db_password: hunter2-NEVER-PRINT-ME-7f3a"
# A valid manifest: if followed, it would even render, and the secret would land in output.
VALID_YAML_SECRET = f"name: leaked\n{SECRET}\n"
# Invalid YAML whose error message would quote the secret line.
INVALID_YAML_SECRET = f"{SECRET}\n  - : [unclosed\n"


def host_file(tmp_path: Path, content: str) -> Path:
    """A file outside every template and consumer, as /etc/... would be."""
    path = tmp_path / "host" / "secret.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    return path


def run_evobot(cwd: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``evobot ARGS`` as a person runs it; a hang fails the test instead of blocking it."""
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GH_TOKEN")}
    env["COLUMNS"] = "400"
    return subprocess.run(
        [str(EVOBOT), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def assert_refused_without_leak(proc: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error:"), proc.stderr
    assert "hunter2" not in proc.stderr + proc.stdout
    message = " ".join(proc.stderr.split())
    for fragment in fragments:
        assert fragment in message, (fragment, message)

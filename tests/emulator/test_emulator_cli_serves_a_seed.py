"""`evobot emulator serve` runs the emulator as a process from a seed file and resumes its state."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

import bot.emulator as emulator_api


def _serve(seed: Path, state: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from bot.cli import main; main()",
            "emulator",
            "serve",
            "--port",
            "0",
            "--state",
            str(state),
            "--seed",
            str(seed),
        ],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        match = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
        if match:
            return proc, match.group(1)
        if proc.poll() is not None:
            break
    proc.kill()
    pytest.fail("the emulator did not announce its address")


def test_cli_serves_the_seed_and_its_control_api(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yml"
    seed.write_text(
        yaml.safe_dump(
            {
                "installations": [{"id": 7, "account": "acme"}],
                "repos": [
                    {"full_name": "acme/svc", "private": False, "files": {"README.md": "hello\n"}}
                ],
            }
        )
    )
    state = tmp_path / "state"
    proc, base = _serve(seed, state)
    try:
        assert httpx.get(f"{base}/api/v3/repos/acme/svc", trust_env=False).status_code == 200
        token = httpx.post(
            f"{base}/_emulator/tokens", json={"owner": "acme"}, trust_env=False
        ).json()["token"]
        commit = httpx.post(
            f"{base}/_emulator/commit",
            json={"repo": "acme/svc", "branch": "main", "files": {"b.txt": "b\n"}},
            trust_env=False,
        )
        assert commit.status_code == 201
        branch = httpx.get(
            f"{base}/api/v3/repos/acme/svc/branches/main",
            headers={"Authorization": f"token {token}"},
            trust_env=False,
        ).json()
        assert branch["commit"]["sha"] == commit.json()["sha"]
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert (state / "state.json").exists()
    assert (state / "app-private-key.pem").exists()


def test_bad_seed_is_reported_without_a_traceback(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yml"
    seed.write_text("repos:\n  - full_name: not-a-full-name\n")
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from bot.cli import main; main()",
            "emulator",
            "serve",
            "--port",
            "0",
            "--state",
            str(tmp_path / "state"),
            "--seed",
            str(seed),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "expected OWNER/NAME" in result.stderr
    assert "Traceback" not in result.stderr


def test_public_names_are_the_ones_we_mean() -> None:
    assert sorted(emulator_api.__all__) == [
        "CiRule",
        "Delivery",
        "EmulatorClock",
        "EmulatorHandle",
        "EmulatorServer",
        "Seed",
        "SeedError",
        "load_seed",
        "parse_seed",
        "running_emulator",
        "sign",
    ]
    for name in emulator_api.__all__:
        assert getattr(emulator_api, name) is not None

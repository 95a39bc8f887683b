"""`evobot serve` and `evobot worker` refuse to start on a missing or invalid setting, with one
line naming it, and never print a secret; a settings file works like the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from evobot_testing import REPO_ROOT
from service_support import SECRET, private_key_pem

from bot.service import SettingsError, load_settings


def run_evobot(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EVOBOT_")}
    return subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", *args],
        env={**clean, **env},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "app.pem"
    path.write_text(private_key_pem())
    return path


@pytest.mark.parametrize(
    ("env", "named"),
    [
        pytest.param({}, "EVOBOT_WEBHOOK_SECRET is not set", id="no-secret"),
        pytest.param({"EVOBOT_WEBHOOK_SECRET": SECRET}, "EVOBOT_APP_ID", id="no-app"),
        pytest.param(
            {"EVOBOT_WEBHOOK_SECRET": SECRET, "EVOBOT_APP_ID": "1"},
            "EVOBOT_PRIVATE_KEY_FILE",
            id="no-key",
        ),
        pytest.param(
            {"EVOBOT_WEBHOOK_SECRET": "   ", "EVOBOT_APP_ID": "1"},
            "EVOBOT_WEBHOOK_SECRET: must not be empty",
            id="blank-secret",
        ),
        pytest.param(
            {"EVOBOT_WEBHOOK_SECRET": SECRET, "EVOBOT_APP_ID": "1", "EVOBOT_WORKERS": "many"},
            "EVOBOT_WORKERS",
            id="bad-workers",
        ),
        pytest.param(
            {
                "EVOBOT_WEBHOOK_SECRET": SECRET,
                "EVOBOT_APP_ID": "1",
                "EVOBOT_PRIVATE_KEY_FILE": "/nonexistent/app.pem",
            },
            "EVOBOT_PRIVATE_KEY_FILE: cannot read /nonexistent/app.pem",
            id="unreadable-key",
        ),
        pytest.param(
            {"EVOBOT_WEBHOOK_SECRET": SECRET, "EVOBOT_APP_ID": "1", "EVOBOT_PRIVATE_KEY": "nope"},
            "EVOBOT_PRIVATE_KEY: not a PEM private key",
            id="not-a-key",
        ),
    ],
)
@pytest.mark.parametrize("command", ["serve", "worker"])
def test_a_bad_setting_stops_start_up_with_one_line(
    tmp_path: Path, command: str, env: dict[str, str], named: str
) -> None:
    result = run_evobot(command, env={"EVOBOT_STATE_DIR": str(tmp_path), **env})
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and named in lines[0], lines
    assert "Traceback" not in result.stderr and SECRET not in result.stderr + result.stdout


def test_the_settings_file_is_read_and_the_environment_wins(
    tmp_path: Path, key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("EVOBOT_"):
            monkeypatch.delenv(name)
    file = tmp_path / "evobot.env"
    file.write_text(
        f"EVOBOT_APP_ID=12\nEVOBOT_PRIVATE_KEY_FILE={key_file}\n"
        f"EVOBOT_WEBHOOK_SECRET={SECRET}\nEVOBOT_WORKERS=3\n"
    )
    monkeypatch.setenv("EVOBOT_WORKERS", "5")
    settings = load_settings(file)
    assert (settings.app_id, settings.workers, settings.secret()) == ("12", 5, SECRET)
    assert settings.state_dir == Path("evobot-state")
    assert SECRET not in repr(settings) and "PRIVATE" not in repr(settings)
    monkeypatch.setenv("EVOBOT_SETTINGS_FILE", str(tmp_path / "missing.env"))
    with pytest.raises(SettingsError, match="EVOBOT_SETTINGS_FILE: cannot read"):
        load_settings()

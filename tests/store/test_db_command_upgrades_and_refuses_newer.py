"""`evobot db upgrade` / `evobot db current` on the default SQLite file in the state directory."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from evobot_cli_support import invoke_evobot

from bot.store import head_revision


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("EVOBOT_DATABASE_URL", raising=False)
    monkeypatch.setenv("EVOBOT_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


def test_db_upgrade_creates_the_database_in_the_state_directory(state: Path) -> None:
    before = invoke_evobot("db", "current")
    upgraded = invoke_evobot("db", "upgrade")
    after = invoke_evobot("db", "current")

    assert before.exit_code == upgraded.exit_code == after.exit_code == 0
    assert "empty (no schema yet)" in before.output
    assert (state / "evobot.db").is_file()
    assert f"at revision {head_revision()} (the newest this evobot knows)" in after.output


def test_db_current_names_a_database_from_a_newer_evobot(state: Path) -> None:
    assert invoke_evobot("db", "upgrade").exit_code == 0
    with sqlite3.connect(state / "evobot.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0042_later'")

    result = invoke_evobot("db", "current")

    assert result.exit_code != 0
    assert "schema revision 0042_later" in result.message
    assert "Traceback" not in result.output

"""Fixtures for the emulator's own tests: a seeded emulator and httpx clients for it."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from tests_emulator_support import client_for

from bot.emulator.testing import EmulatorHandle, running_emulator

BASIC_SEED: dict[str, Any] = {
    "app": {"id": 9001, "client_id": "Iv1.emulatortests", "slug": "evobot", "name": "evobot"},
    "installations": [{"id": 77, "account": "acme"}],
    "users": {"alice": "User", "mallory": "User"},
    "repos": [
        {
            "full_name": "acme/svc",
            "files": {"README.md": "# svc\n", "src/app.py": "print('hi')\n", "run.sh": "echo\n"},
            "executable": ["run.sh"],
            "ci": {"always": "success"},
            "required_checks": ["ci"],
            "collaborators": {"alice": "write"},
        },
        {"full_name": "acme/public-lib", "private": False, "files": {"lib.py": "X = 1\n"}},
        {"full_name": "other/elsewhere", "files": {"a.txt": "a\n"}},
    ],
}


@pytest.fixture(scope="session")
def app_key_pem() -> str:
    """One RSA key for the whole session: generating one per test is slow."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture
def seed(app_key_pem: str) -> dict[str, Any]:
    data = copy.deepcopy(BASIC_SEED)
    data["app"]["private_key"] = app_key_pem
    return data


@pytest.fixture
def emulator(seed: dict[str, Any], tmp_path: Path) -> Iterator[EmulatorHandle]:
    with running_emulator(seed, tmp_path / "state") as handle:
        yield handle


@pytest.fixture
def api(emulator: EmulatorHandle) -> Iterator[httpx.Client]:
    """An httpx client authenticated with an installation token for `acme`."""
    with client_for(emulator, emulator.installation_token("acme")) as client:
        yield client

"""References to the environment are not secret values; test certificates' keys are low.

Reproduces the full-stack FastAPI template's `docker-compose.yml`
(`SECRET_KEY: ${SECRET_KEY:?Variable not set}`, reported as a secret-looking value) and an
HTTP library's `tests/certs/*.key` (critical, blocking).
"""

from __future__ import annotations

import pytest

from bot.checks.secrets import scan_text

REFERENCES = [
    ("docker-compose.yml", "      SECRET_KEY: ${SECRET_KEY:?Variable not set}\n"),
    ("docker-compose.yml", "      - SECRET_KEY=${SECRET_KEY?Variable not set}\n"),
    ("docker-compose.yml", "      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-Zx8kq2PwLm9Tr4}\n"),
    ("docker-compose.yml", '      DB_PASSWORD: "${DB_PASSWORD}"\n'),
    (".env", "SECRET_KEY=${SECRET_KEY:?Variable not set}\n"),
    (".env", "API_TOKEN=$API_TOKEN_FROM_VAULT\n"),
    ("deploy.yml", "password: {{ env.DB_PASSWORD_VALUE }}\n"),
    (".github/workflows/ci.yml", "  SECRET_TOKEN: ${{ secrets.SECRET_TOKEN_X }}\n"),
    ("app/config.py", 'SECRET_KEY = os.environ["SECRET_KEY_VALUE_1"]\n'),
    ("app/config.py", 'API_KEY = os.getenv("API_KEY_ABCDEF_12")\n'),
]


@pytest.mark.parametrize(("path", "text"), REFERENCES)
def test_environment_references_are_not_reported(path: str, text: str) -> None:
    assert scan_text(text, path) == []


def test_a_literal_value_is_still_reported() -> None:
    [hit] = scan_text("SECRET_KEY=Zx8kq2PwLm9Tr4aB7\n", ".env")
    assert hit.rule == "generic-secret-assignment"


# A syntactically complete key block, its body filler of the right shape (not a real key).
KEY = (
    "-----BEGIN "
    + "PRIVATE KEY-----\n"
    + "\n".join(["MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7" + "Vx3n" * 3] * 5)
    + "\n-----END "
    + "PRIVATE KEY-----\n"
)


def test_private_key_under_tests_is_low_and_says_how_to_accept_it() -> None:
    [hit] = scan_text(KEY, "tests/certs/valid/server/server.key")
    assert hit.rule == "private-key" and hit.severity == "low"
    assert "accept its fingerprint in the baseline" in hit.note
    [shipped] = scan_text(KEY, "deploy/server.key")
    assert shipped.severity == "critical"

"""Real GitHub webhook payloads from the shared fixtures, signed here as GitHub signs them."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import yaml
from evobot_testing import FIXTURES

SECRET = b"webhook-secret-for-tests"
WEBHOOKS = FIXTURES / "webhooks"


def sign(body: bytes, secret: bytes = SECRET) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def examples() -> Iterator[tuple[str, dict[str, Any]]]:
    """(event name, payload) for every example in GitHub's published webhook examples."""
    for entry in json.loads((WEBHOOKS / "examples.json").read_text()):
        for payload in entry.get("examples") or []:
            yield entry["name"], payload


def signature_vector() -> dict[str, str]:
    """GitHub's documented test vector: secret, body and the header it must produce."""
    data: dict[str, str] = yaml.safe_load((WEBHOOKS / "signature-vector.yml").read_text())
    return data


def delivery(
    event: str, payload: dict[str, Any], *, secret: bytes = SECRET
) -> tuple[dict[str, str], bytes]:
    """Headers and body as GitHub sends them."""
    body = json.dumps(payload).encode()
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "X-Hub-Signature-256": sign(body, secret),
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/044aadd",
    }
    return headers, body

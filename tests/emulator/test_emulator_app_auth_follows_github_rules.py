"""App authentication as GitHub does it: RS256 JWTs checked for signature, issuer and lifetime;
installation tokens that expire after an hour of the emulator's clock."""

from __future__ import annotations

import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.emulator.testing import EmulatorHandle


def _jwt(key_pem: str, iss: str, *, iat: int | None = None, exp: int | None = None) -> str:
    now = int(time.time())
    claims = {"iat": now - 60 if iat is None else iat, "exp": now + 540 if exp is None else exp}
    claims["iss"] = iss  # type: ignore[assignment]
    return jwt.encode(claims, key_pem, algorithm="RS256")


def _token_request(handle: EmulatorHandle, app_jwt: str) -> httpx.Response:
    return httpx.post(
        f"{handle.api_url}/app/installations/{handle.installation_id('acme')}/access_tokens",
        headers={"Authorization": f"Bearer {app_jwt}"},
        trust_env=False,
    )


def test_valid_jwt_by_app_id_or_client_id_gets_an_installation_token(
    emulator: EmulatorHandle,
) -> None:
    for iss in (str(emulator.app_id), emulator.client_id):
        response = _token_request(emulator, _jwt(emulator.private_key_pem, iss))
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["token"] and body["expires_at"].endswith("Z")
        repo = httpx.get(
            f"{emulator.api_url}/repos/acme/svc",
            headers={"Authorization": f"token {body['token']}"},
            trust_env=False,
        )
        assert repo.status_code == 200


def test_jwt_signed_with_another_key_is_refused(emulator: EmulatorHandle) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    response = _token_request(emulator, _jwt(pem, str(emulator.app_id)))
    assert response.status_code == 401
    assert response.json()["message"] == "A JSON web token could not be decoded"


@pytest.mark.parametrize(
    ("iat_offset", "exp_offset", "message"),
    [
        (-700, -60, "'Expiration time' claim ('exp') must be a numeric value"),
        (-60, 900, "'Expiration time' claim ('exp') is too far in the future"),
        (300, 500, "'Issued at' claim ('iat') must be an Integer"),
    ],
)
def test_expired_or_overlong_or_future_jwt_gets_githubs_401(
    emulator: EmulatorHandle, iat_offset: int, exp_offset: int, message: str
) -> None:
    now = int(time.time())
    token = _jwt(
        emulator.private_key_pem, str(emulator.app_id), iat=now + iat_offset, exp=now + exp_offset
    )
    response = _token_request(emulator, token)
    assert response.status_code == 401
    assert response.json()["message"].startswith(message)


def test_wrong_issuer_and_missing_jwt_are_refused(emulator: EmulatorHandle) -> None:
    assert _token_request(emulator, _jwt(emulator.private_key_pem, "12345")).status_code == 401
    bare = httpx.get(f"{emulator.api_url}/app", trust_env=False)
    assert bare.status_code == 401


def test_installation_token_expires_after_an_hour_of_emulator_time(
    emulator: EmulatorHandle,
) -> None:
    token = emulator.installation_token("acme")
    headers = {"Authorization": f"token {token}"}
    url = f"{emulator.api_url}/repos/acme/svc"
    assert httpx.get(url, headers=headers, trust_env=False).status_code == 200
    emulator.clock.advance(3599)
    assert httpx.get(url, headers=headers, trust_env=False).status_code == 200
    emulator.clock.advance(2)
    expired = httpx.get(url, headers=headers, trust_env=False)
    assert expired.status_code == 401
    assert expired.json()["message"] == "Bad credentials"


def test_unknown_token_and_jwt_on_repo_routes_are_bad_credentials(
    emulator: EmulatorHandle,
) -> None:
    url = f"{emulator.api_url}/repos/acme/svc"
    for header in ("token ghs_nope", f"Bearer {_jwt(emulator.private_key_pem, '9001')}"):
        response = httpx.get(url, headers={"Authorization": header}, trust_env=False)
        assert response.status_code == 401


def test_scoped_token_reaches_only_the_named_repositories(emulator: EmulatorHandle) -> None:
    app_jwt = _jwt(emulator.private_key_pem, str(emulator.app_id))
    response = httpx.post(
        f"{emulator.api_url}/app/installations/77/access_tokens",
        headers={"Authorization": f"Bearer {app_jwt}"},
        json={"repositories": ["public-lib"]},
        trust_env=False,
    )
    assert response.status_code == 201
    assert response.json()["repository_selection"] == "selected"
    headers = {"Authorization": f"token {response.json()['token']}"}
    base = emulator.api_url
    assert httpx.get(f"{base}/repos/acme/svc", headers=headers, trust_env=False).status_code == 404
    lib = httpx.get(f"{base}/repos/acme/public-lib", headers=headers, trust_env=False)
    assert lib.status_code == 200


def test_people_act_with_their_own_tokens_and_permissions(emulator: EmulatorHandle) -> None:
    emulator.push_commit("acme/svc", "topic", {"t.txt": "t\n"}, author="alice")
    number = emulator.open_pull("acme/svc", "topic", user="alice")
    base = f"{emulator.api_url}/repos/acme/svc"

    def as_user(login: str) -> dict[str, str]:
        return {"Authorization": f"token {emulator.user_token(login)}"}

    comment = httpx.post(
        f"{base}/issues/{number}/comments",
        json={"body": "/evobot recreate"},
        headers=as_user("alice"),
        trust_env=False,
    )
    assert comment.status_code == 201
    assert comment.json()["user"]["login"] == "alice"
    assert comment.json()["author_association"] == "COLLABORATOR"
    stranger = httpx.get(f"{base}/pulls/{number}", headers=as_user("mallory"), trust_env=False)
    assert stranger.status_code == 404
    public = httpx.get(
        f"{emulator.api_url}/repos/acme/public-lib", headers=as_user("mallory"), trust_env=False
    )
    assert public.status_code == 200


def test_anonymous_callers_get_githubs_small_hourly_budget(emulator: EmulatorHandle) -> None:
    url = f"{emulator.api_url}/repos/acme/public-lib"
    first = httpx.get(url, trust_env=False)
    assert first.headers["X-RateLimit-Limit"] == "60"
    write = httpx.post(f"{url}/labels", json={"name": "x"}, trust_env=False)
    assert write.status_code == 401

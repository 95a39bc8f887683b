"""Signing in to the dashboard with GitHub (the OAuth web flow), allowed only to the active
members of one organisation team; against `EVOBOT_GITHUB_URL`, so Enterprise Server works too.

Three requests, all with the person's own token, which is used for nothing else and dropped:
the code is exchanged at ``WEB/login/oauth/access_token``, ``GET /user`` names the person,
``GET /orgs/ORG/teams/TEAM/memberships/LOGIN`` says whether they are an active member.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

import httpx

from bot.errors import EvobotError
from bot.service.dashboard.access import DashboardAccess, github_web_url

__all__ = ["GitHubSignIn", "SignInError"]

SCOPE = "read:org"  # an OAuth App's token needs it to read team membership
TIMEOUT = 10.0


class SignInError(EvobotError):
    """A GitHub sign-in that did not succeed; the message is shown to the person."""


class GitHubSignIn:
    """The OAuth web flow for ``access`` (its client id and secret, org and team)."""

    def __init__(self, access: DashboardAccess, transport: httpx.BaseTransport | None = None):
        self.access = access
        self.api = access.github_url.rstrip("/")
        self.web = github_web_url(self.api)
        self._transport = transport

    def authorize_url(self, state: str, redirect_uri: str) -> str:
        """Where to send the browser to sign in."""
        query = urlencode(
            {
                "client_id": self.access.github_client_id or "",
                "redirect_uri": redirect_uri,
                "scope": SCOPE,
                "state": state,
                "allow_signup": "false",
            }
        )
        return f"{self.web}/login/oauth/authorize?{query}"

    def sign_in(self, code: str, redirect_uri: str) -> str:
        """The login of the person who came back with ``code``, if they are an active member
        of the team; otherwise `SignInError` saying why."""
        with httpx.Client(transport=self._transport, timeout=TIMEOUT) as client:
            token = self._token(client, code, redirect_uri)
            headers = {
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
            }
            user = self._get(client, f"{self.api}/user", headers)
            login = user.json().get("login") if user.status_code == 200 else None
            if not isinstance(login, str) or not login:
                raise SignInError(f"GitHub did not say who signed in (HTTP {user.status_code})")
            org, team = self.access.github_org or "", self.access.github_team or ""
            url = (
                f"{self.api}/orgs/{quote(org, safe='')}/teams/{quote(team, safe='')}"
                f"/memberships/{quote(login, safe='')}"
            )
            membership = self._get(client, url, headers)
        if membership.status_code == 200 and membership.json().get("state") == "active":
            return login
        if membership.status_code in (200, 403, 404):
            raise SignInError(
                f"{login} is not an active member of the team {org}/{team}, "
                "which may see this dashboard"
            )
        raise SignInError(
            f"GitHub answered HTTP {membership.status_code} when asked whether {login} is "
            f"in the team {org}/{team}"
        )

    def _token(self, client: httpx.Client, code: str, redirect_uri: str) -> str:
        try:
            answer = client.post(
                f"{self.web}/login/oauth/access_token",
                data={
                    "client_id": self.access.github_client_id or "",
                    "client_secret": self.access.github_client_secret or "",
                    "code": code,
                    "redirect_uri": redirect_uri,
                },
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise SignInError(f"could not reach {self.web}: {type(exc).__name__}") from None
        try:
            data = answer.json()
        except ValueError:
            data = {}
        token = data.get("access_token") if isinstance(data, dict) else None
        if answer.status_code != 200 or not isinstance(token, str) or not token:
            reason = data.get("error_description") or data.get("error") if data else None
            raise SignInError(
                f"GitHub did not accept the sign-in code (HTTP {answer.status_code}"
                + (f": {reason}" if isinstance(reason, str) else "")
                + ")"
            )
        return token

    def _get(self, client: httpx.Client, url: str, headers: dict[str, str]) -> httpx.Response:
        try:
            return client.get(url, headers=headers)
        except httpx.HTTPError as exc:
            raise SignInError(f"could not reach {self.api}: {type(exc).__name__}") from None

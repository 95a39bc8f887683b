"""Accounts and tokens: the App's key, users, installations, installation and personal tokens.

Tokens are kept as the sha256 of their text, with what they may reach and until when.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import NamedTuple, TypedDict

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.emulator.errors import not_found
from bot.emulator.gitstore import Person
from bot.emulator.seed import Seed, SeedError
from bot.emulator.state import EmulatorState, J

__all__ = [
    "TOKEN_TTL",
    "Accounts",
    "InstallationRecord",
    "InstallationTokenRecord",
    "MintedToken",
    "TokenScope",
    "UserTokenRecord",
]

TOKEN_TTL = 3600.0


class InstallationRecord(TypedDict):
    """An installation of the App on an account; ``repositories`` None means all of them."""

    id: int
    account: str
    account_type: str
    repositories: list[str] | None
    created_at: str


class InstallationTokenRecord(TypedDict):
    """A stored installation token: its installation, expiry and repository scope."""

    installation_id: int
    expires_at: float
    repositories: list[str] | None


class UserTokenRecord(TypedDict):
    """A stored personal token acting as one user."""

    user: str


class MintedToken(NamedTuple):
    """A new installation token and its emulated expiry (epoch seconds)."""

    token: str
    expires_at: float


class TokenScope(NamedTuple):
    """What a live installation token may reach: its installation, and repositories (None: all)."""

    installation_id: int
    repositories: frozenset[str] | None


class Accounts(EmulatorState):
    """The App's key pair, users, installations and tokens."""

    # -- keys -----------------------------------------------------------------------------
    @staticmethod
    def _load_key(seed: Seed, state_dir: Path) -> tuple[bytes, bytes]:
        generated = state_dir / "app-private-key.pem"
        if seed.app.private_key:
            pem = seed.app.private_key.encode()
        elif seed.app.private_key_path:
            try:
                pem = seed.app.private_key_path.read_bytes()
            except OSError as exc:
                raise SeedError(
                    f"cannot read the app's private key {seed.app.private_key_path}: {exc.strerror}"
                ) from exc
        elif generated.exists():
            pem = generated.read_bytes()
        else:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            state_dir.mkdir(parents=True, exist_ok=True)
            generated.touch(mode=0o600)
            generated.write_bytes(pem)
        try:
            loaded = serialization.load_pem_private_key(pem, password=None)
        except ValueError as exc:
            raise SeedError("the app's private key is not a PEM RSA private key") from exc
        public = loaded.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return pem, public

    @property
    def private_key_pem(self) -> str:
        return self._private_key_pem.decode()

    # -- users ----------------------------------------------------------------------------
    def ensure_user(self, login: str, type_: str = "User") -> J:
        with self.lock:
            users: dict[str, J] = self.store.data["users"]
            if login not in users:
                ident = self.app["id"] if login == self.bot_login else self.store.next_id("user")
                users[login] = {"login": login, "id": ident, "type": type_}
            return users[login]

    def user(self, login: str) -> J:
        users: dict[str, J] = self.store.data["users"]
        return users.get(login) or self.ensure_user(login)

    def person(self, login: str) -> Person:
        user = self.user(login)
        return Person(login, f"{user['id']}+{login}@users.noreply.github.com", self.clock.now())

    def bot_person(self) -> Person:
        return Person(
            self.bot_login,
            f"{self.app['id']}+{self.bot_login}@users.noreply.github.com",
            self.clock.now(),
        )

    # -- installations and tokens ---------------------------------------------------------
    def add_installation(
        self,
        ident: int,
        account: str,
        account_type: str = "Organization",
        repositories: list[str] | None = None,
    ) -> InstallationRecord:
        self.ensure_user(account, account_type)
        with self.lock:
            inst: InstallationRecord = {
                "id": ident,
                "account": account,
                "account_type": account_type,
                "repositories": repositories,
                "created_at": self.clock.iso(),
            }
            self.store.data["installations"][str(ident)] = inst
        return inst

    def installation(self, ident: int) -> InstallationRecord:
        inst: InstallationRecord | None = self.store.data["installations"].get(str(ident))
        if inst is None:
            raise not_found()
        return inst

    def installation_repos(self, ident: int) -> list[str]:
        inst = self.installation(ident)
        if inst["repositories"] is not None:
            return [n for n in inst["repositories"] if n in self.store.data["repos"]]
        return sorted(
            n for n, r in self.store.data["repos"].items() if r["owner"] == inst["account"]
        )

    def installation_for_repo(self, full_name: str) -> int | None:
        for key in self.store.data["installations"]:
            if full_name in self.installation_repos(int(key)):
                return int(key)
        return None

    def installation_id(self, owner: str) -> int:
        for key, inst in self.store.data["installations"].items():
            if inst["account"] == owner:
                return int(key)
        raise KeyError(f"no installation for {owner}")

    def mint_token(
        self, installation_id: int, *, repositories: list[str] | None = None
    ) -> MintedToken:
        """A new installation token (only its sha256 is kept) and its emulated expiry."""
        self.installation(installation_id)
        token = "ghs_" + secrets.token_urlsafe(27).replace("-", "a").replace("_", "b")[:36]
        expires = self.clock.now() + TOKEN_TTL
        record: InstallationTokenRecord = {
            "installation_id": installation_id,
            "expires_at": expires,
            "repositories": repositories,
        }
        with self.lock:
            self.store.data["tokens"][_hash(token)] = record
        return MintedToken(token, expires)

    def token_info(self, token: str) -> TokenScope | None:
        """``(installation id, repository scope)`` of a live token, or None."""
        rec = self.store.data["tokens"].get(_hash(token))
        if rec is None or "installation_id" not in rec or rec["expires_at"] <= self.clock.now():
            return None
        repos = rec.get("repositories")
        return TokenScope(
            int(rec["installation_id"]), frozenset(repos) if repos is not None else None
        )

    def mint_user_token(self, login: str) -> str:
        """A personal token acting as ``login`` (a human in tests: comments, pushes, merges)."""
        self.ensure_user(login)
        token = "ghp_" + secrets.token_urlsafe(27).replace("-", "a").replace("_", "b")[:36]
        record: UserTokenRecord = {"user": login}
        with self.lock:
            self.store.data["tokens"][_hash(token)] = record
        return token

    def token_user(self, token: str) -> str | None:
        rec = self.store.data["tokens"].get(_hash(token))
        return rec.get("user") if rec else None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()

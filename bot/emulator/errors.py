"""Errors the emulator answers the way GitHub does: a status, a message and optional `errors`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["ApiError", "not_found", "required_contexts", "validation_failed"]

J = dict[str, Any]


class ApiError(Exception):
    """An error answered the way GitHub answers it: status, message, optional `errors`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[J] | None = None,
        headers: Mapping[str, str] | None = None,
        doc: str = "https://docs.github.com/rest",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = dict(headers or {})
        self.doc = doc

    def body(self) -> J:
        data: J = {
            "message": self.message,
            "documentation_url": self.doc,
            "status": str(self.status),
        }
        if self.errors is not None:
            data["errors"] = self.errors
        return data


def required_contexts(rec: dict[str, Any]) -> list[str]:
    """Checks required on a repository's default branch: by rulesets and by classic protection."""
    contexts = list(rec.get("required_checks", []))
    contexts += [c for c in rec.get("protection_checks", []) if c not in contexts]
    return contexts


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


def validation_failed(resource: str, field: str, code: str = "invalid", **extra: Any) -> ApiError:
    error: J = {"resource": resource, "field": field, "code": code, **extra}
    return ApiError(422, "Validation Failed", errors=[error])

"""Helpers the emulator tests share that are not fixtures: cached loading of big JSON files."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import httpx


@functools.cache
def load_json(path: Path) -> Any:
    """Parse a (large) fixture file once per test process."""
    return json.loads(path.read_text(encoding="utf-8"))


def openapi_to_jsonschema(node: Any, ref_base: str) -> Any:
    """Translate an OpenAPI 3.0 schema to JSON Schema (draft 7).

    ``nullable: true`` becomes a ``null`` type (or an ``anyOf`` with null for ``$ref`` and
    combinators); ``#/components/...`` references are re-rooted at ``ref_base``.
    """
    if isinstance(node, list):
        return [openapi_to_jsonschema(item, ref_base) for item in node]
    if not isinstance(node, dict):
        return node
    out = {
        key: openapi_to_jsonschema(value, ref_base)
        for key, value in node.items()
        if key not in ("nullable", "discriminator", "example", "examples")
    }
    if isinstance(out.get("$ref"), str) and out["$ref"].startswith("#/"):
        out["$ref"] = ref_base + out["$ref"]
    if node.get("nullable") is True:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        else:
            return {"anyOf": [out, {"type": "null"}]}
    return out


class OpenApiResponses:
    """Response schemas of GitHub's OpenAPI description, looked up by operationId + status."""

    URI = "urn:github-openapi"

    def __init__(self, spec: dict[str, Any]) -> None:
        from jsonschema.validators import Draft7Validator
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT7

        self._validator_cls = Draft7Validator
        self.operations: dict[str, dict[str, Any]] = {}
        for item in spec["paths"].values():
            for op in item.values():
                if isinstance(op, dict) and "operationId" in op:
                    self.operations[op["operationId"]] = op
        root = {"components": openapi_to_jsonschema(spec["components"], self.URI)}
        self.registry = Registry().with_resource(
            self.URI, Resource.from_contents(root, default_specification=DRAFT7)
        )

    def validate(self, operation_id: str, status: int, body: Any) -> None:
        """Raise AssertionError/ValidationError unless ``body`` is documented for this status."""
        responses = self.operations[operation_id]["responses"]
        documented = responses.get(str(status))
        assert documented is not None, (
            f"{operation_id}: status {status} is not documented ({sorted(responses)})"
        )
        if "$ref" in documented:
            name = documented["$ref"].rsplit("/", 1)[-1]
            documented = self._component_response(name)
        schema = documented.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            return
        converted = openapi_to_jsonschema(schema, self.URI)
        validator = self._validator_cls(converted, registry=self.registry)
        validator.validate(body)

    def _component_response(self, name: str) -> dict[str, Any]:
        resolved = self.registry.resolver().lookup(f"{self.URI}#/components/responses/{name}")
        contents: dict[str, Any] = resolved.contents
        return contents


def client_for(handle: Any, token: str | None) -> httpx.Client:
    """An httpx client for the emulator's API, with ``token`` when given."""
    headers = {"Accept": "application/vnd.github+json"}
    if token:
        headers["Authorization"] = f"token {token}"
    return httpx.Client(base_url=handle.api_url, headers=headers, timeout=30, trust_env=False)

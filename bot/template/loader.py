"""Which kind of template a directory holds, and its manifest: evobot's `template.yml`, else a
copier `copier.yml`/`copier.yaml`, else a cookiecutter `cookiecutter.json`."""

from __future__ import annotations

import os
from pathlib import Path

from bot.template.cookiecutter import COOKIECUTTER_CONFIG, load_cookiecutter_manifest
from bot.template.copier import COPIER_CONFIG_NAMES, load_copier_manifest
from bot.template.manifest import MANIFEST_NAME, Manifest, load_manifest

__all__ = ["MANIFEST_NAMES", "has_manifest", "load_any_manifest"]

MANIFEST_NAMES = (MANIFEST_NAME, *COPIER_CONFIG_NAMES, COOKIECUTTER_CONFIG)


def has_manifest(directory: Path) -> bool:
    """Whether ``directory`` holds any of the manifests evobot reads (a link counts: it is
    refused, by name, when read)."""
    return any(os.path.lexists(directory / name) for name in MANIFEST_NAMES)


def load_any_manifest(directory: Path, *, name: str | None = None) -> Manifest:
    """The manifest of the template in ``directory``; `template.yml` wins over the others."""
    if os.path.lexists(directory / MANIFEST_NAME):
        return load_manifest(directory)
    if any(os.path.lexists(directory / n) for n in COPIER_CONFIG_NAMES):
        return load_copier_manifest(directory, name=name)
    if os.path.lexists(directory / COOKIECUTTER_CONFIG):
        return load_cookiecutter_manifest(directory, name=name)
    return load_manifest(directory)  # raises, naming template.yml

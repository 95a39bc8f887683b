"""`evobot render` of a cookiecutter template equals what cookiecutter generates, byte for byte.

cookiecutter itself (a dev dependency) generates the project without input; evobot renders the
same template and answers in its sandbox; the trees must be identical.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from adopt_support import (
    EXECUTABLE,
    cookiecutter_generate,
    differences,
    evobot_render,
    template_repo,
)

from bot.tree import read_tree

P = "{{cookiecutter.project_slug}}"

CASES: dict[str, tuple[dict[str, str | bytes], dict[str, Any]]] = {
    "variables, choices, booleans, mappings, private variables": (
        {
            "cookiecutter.json": json.dumps(
                {
                    "project_name": "My Service",
                    "project_slug": "{{ cookiecutter.project_name.lower().replace(' ', '-') }}",
                    "pkg": "{{ cookiecutter.project_slug.replace('-', '_') }}",
                    "license": ["MIT", "Apache-2.0", "{{ cookiecutter.pkg }}-licence"],
                    "use_docker": True,
                    "port": 8000,
                    "meta": {"owner": "{{ cookiecutter.project_name }}", "tier": 2},
                    "_private": "{{ not rendered }}",
                    "__version": "{{ cookiecutter.port }}-v",
                    "__prompts__": {"project_name": "What is it called?"},
                },
                indent=2,
            ),
            f"{P}/README.md": (
                "# {{ cookiecutter.project_name }}\n"
                "{{ cookiecutter.license }} {{ cookiecutter.use_docker }} {{ cookiecutter.port }}\n"
                "{{ cookiecutter.meta.owner }} {{ cookiecutter.meta | jsonify }}\n"
                "{{ cookiecutter._private }} {{ cookiecutter.__version }}\n"
                "{% if cookiecutter.use_docker %}docker{% endif %}\n"
                # the template version's commit time for evobot, the clock for cookiecutter:
                # the same year (the test commits the template a moment before it renders)
                "(c) {% now 'utc', '%Y' %}\n"
            ),
            f"{P}/src/{{{{cookiecutter.pkg}}}}/__init__.py": "NAME = '{{ cookiecutter.pkg }}'\n",
            f"{P}/hooks-are-not-here.txt": "plain text\n",
            "hooks/post_gen_project.py": "raise SystemExit(1)\n",
        },
        {"project_name": "Billing API", "license": "Apache-2.0"},
    ),
    "copy without render, binary files, newlines, executables": (
        {
            "cookiecutter.json": json.dumps(
                {
                    "project_slug": "svc",
                    "_copy_without_render": ["static/*", "*.raw", "vendored"],
                }
            ),
            f"{P}/static/site.css": "{{ not rendered }}\n",
            f"{P}/data.raw": "{{ raw }}\n",
            f"{P}/vendored/{{{{x}}}}.txt": "{{ copied whole }}\n",
            f"{P}/blob.bin": b"\x00\x01{{ cookiecutter.project_slug }}",
            f"{P}/crlf.txt": "line one\r\n{{ cookiecutter.project_slug }}\r\n",
            f"{P}/cr-first.txt": "first\rsecond {{ cookiecutter.project_slug }}\n",
            f"{P}/one-line.txt": "no newline {{ cookiecutter.project_slug }}",
            f"{P}/run.sh": EXECUTABLE + "#!/bin/sh\necho {{ cookiecutter.project_slug }}\n",
            f"{P}/{{% if False %}}never{{% endif %}}.txt": "a name rendering empty\n",
        },
        {},
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_cookiecutter_template_renders_as_cookiecutter(tmp_path: Path, case: str) -> None:
    files, data = CASES[case]
    repo = template_repo(tmp_path / "tpl", [files])
    project = cookiecutter_generate(repo, tmp_path / "out", data)
    theirs = read_tree(project)
    ours = evobot_render(str(repo), data)
    assert differences(ours, theirs) == []

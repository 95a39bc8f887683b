"""The license scan reads SPDX headers, LICENSE texts and dependency metadata, and applies the
allow/deny policy: denied is high, weak copyleft low, unknown info — never a guess."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest
from evobot_testing import REPO_ROOT

from bot.checks import load_policy
from bot.checks.base import CheckContext, Finding
from bot.checks.licenses import LicenseChecker, LicenseOptions, identify_license_text
from bot.errors import CheckError
from bot.tree import File

TAG = "SPDX-License-" + "Identifier:"  # split so this file itself carries no header

MIT_TEXT = """MIT License

Copyright (c) 2024 Orders Team

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""

AGPL_TEXT = """                    GNU AFFERO GENERAL PUBLIC LICENSE
                       Version 3, 19 November 2007

 Copyright (C) 2007 Free Software Foundation, Inc. <https://fsf.org/>
 Everyone is permitted to copy and distribute verbatim copies
 of this license document, but changing it is not allowed.

                            Preamble

  The GNU Affero General Public License is a free, copyleft license for
software and other kinds of works, specifically designed to ensure
cooperation with the community in the case of network server software.
"""

GPL3_TEXT = """                    GNU GENERAL PUBLIC LICENSE
                       Version 3, 29 June 2007

 Copyright (C) 2007 Free Software Foundation, Inc. <https://fsf.org/>

            How to Apply These Terms to Your New Programs

    This program is free software: you can redistribute it and/or modify
    it under the terms of the GNU General Public License as published by
    the Free Software Foundation, either version 3 of the License, or
    (at your option) any later version.
"""

BSD_BODY = """Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:

1. Redistributions of source code must retain the above copyright notice, this
   list of conditions and the following disclaimer.

2. Redistributions in binary form must reproduce the above copyright notice,
   this list of conditions and the following disclaimer in the documentation
   and/or other materials provided with the distribution.
{third}
THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS"
AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE
IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE
FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL
DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR
SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER
CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY,
OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
"""
BSD3_CLAUSE = """
3. Neither the name of the copyright holder nor the names of its
   contributors may be used to endorse or promote products derived from
   this software without specific prior written permission.
"""


def check(
    files: Mapping[str, str | bytes], settings: Mapping[str, object] | None = None
) -> list[Finding]:
    tree = {p: File(c.encode() if isinstance(c, str) else c) for p, c in files.items()}
    # The options go through the policy, as the runner's do: a bad one fails at load.
    policy = load_policy({"checkers": {"licenses": {"options": dict(settings or {})}}}, None)
    options = policy.options_for("licenses", LicenseOptions)
    ctx = CheckContext(tree=tree, paths=sorted(tree), options=options)
    result = LicenseChecker().check_files(sorted(tree), ctx)
    return [f for path in sorted(result) for f in result[path]]


def rules(findings: list[Finding]) -> list[tuple[str, str, str, int | None]]:
    return [(f.path, f.rule, f.severity.value, f.line) for f in findings]


def test_spdx_headers_are_judged_by_the_policy() -> None:
    findings = check(
        {
            "src/gpl.py": f"#!/usr/bin/env python\n# {TAG} GPL-3.0-or-later\n",
            "src/either.c": f"/* {TAG} MIT OR GPL-3.0 */\nint x;\n",
            "src/both.c": f"// {TAG} MIT AND GPL-2.0-only\n",
            "src/lgpl.py": f"# {TAG} LGPL-2.1-or-later\n",
            "src/mit.py": f"# {TAG} MIT\n",
            "src/apache.ts": f"// {TAG} (Apache-2.0 OR MIT) AND BSD-3-Clause\n",
            "src/sspl.go": f"// {TAG} SSPL-1.0\n",
            "src/custom.py": f"# {TAG} LicenseRef-acme-internal\n",
            "src/unlisted.py": f"# {TAG} CC-BY-NC-4.0\n",
        }
    )
    assert rules(findings) == [
        ("src/both.c", "license-denied", "high", 1),
        ("src/custom.py", "license-unknown", "info", 1),
        ("src/gpl.py", "license-denied", "high", 2),
        ("src/lgpl.py", "license-review", "low", 1),
        ("src/sspl.go", "license-denied", "high", 1),
        ("src/unlisted.py", "license-not-allowlisted", "medium", 1),
    ]
    both = findings[0]
    assert "GPL-2.0-only" in both.message and "denied" in both.message


def test_invalid_or_unknown_spdx_ids_are_reported_not_guessed() -> None:
    findings = check(
        {
            "a.py": f"# {TAG} Foo-1.0\n",
            "b.py": f"# {TAG} MIT OR\n",
            "c.py": f"# {TAG} Apache 2.0\n",
            "d.py": f"# {TAG} MIT WITH GPL-3.0\n",
        }
    )
    assert [(f.path, f.rule, f.severity.value) for f in findings] == [
        ("a.py", "spdx-invalid", "low"),
        ("b.py", "spdx-invalid", "low"),
        ("c.py", "spdx-invalid", "low"),
        ("d.py", "spdx-invalid", "low"),
    ]
    assert "unknown SPDX license id(s) Foo-1.0" in findings[0].message


def test_headers_only_in_the_first_8_kb_and_only_as_headers() -> None:
    late = "x = 1\n" * 1500 + f"# {TAG} GPL-3.0-only\n"
    prose = f"Write the `{TAG}` line first, e.g. {TAG} GPL-3.0-only in C.\n"
    assert check({"late.py": late, "docs.md": prose, "logo.png": b"\0" + TAG.encode()}) == []
    assert rules(check({"late.py": late}, {"header_bytes": 20_000})) == [
        ("late.py", "license-denied", "high", 1501)
    ]


def test_license_files_are_identified_by_their_text() -> None:
    apache = (REPO_ROOT / "LICENSE").read_text()
    assert [i.candidates for i in identify_license_text(apache)] == [("Apache-2.0",)]
    assert [i.family for i in identify_license_text(MIT_TEXT)] == ["MIT"]
    assert [i.family for i in identify_license_text(BSD_BODY.format(third=BSD3_CLAUSE))] == [
        "BSD-3-Clause"
    ]
    assert [i.family for i in identify_license_text(BSD_BODY.format(third=""))] == ["BSD-2-Clause"]
    # The full GPL text quotes the "or any later version" notice; that does not make it or-later.
    [gpl] = identify_license_text(GPL3_TEXT)
    assert (gpl.family, gpl.candidates) == ("GPL-3.0", ("GPL-3.0-only", "GPL-3.0-or-later"))
    modified = MIT_TEXT + "\nThe Software shall be used for Good, not Evil.\n" * 3
    # An extra clause is not MIT any more: MIT's text is inside, the whole is unknown.
    assert [(i.family, i.how) for i in identify_license_text(modified)] == [("MIT", "contained")]
    assert identify_license_text("Do what you like, but not on Sundays.\n") == []

    findings = check(
        {
            "LICENSE": MIT_TEXT,
            "vendor/agpl/COPYING": AGPL_TEXT,
            "vendor/gpl/LICENSE.txt": GPL3_TEXT,
            "vendor/odd/LICENCE.md": modified,
            "vendor/apache/LICENSE-APACHE": apache,
        }
    )
    assert rules(findings) == [
        ("vendor/agpl/COPYING", "license-denied", "high", None),
        ("vendor/gpl/LICENSE.txt", "license-denied", "high", None),
        ("vendor/odd/LICENCE.md", "license-text-unknown", "info", None),
    ]
    assert "AGPL-3.0" in findings[0].message
    assert "MIT next to other text" in findings[2].message


PYPROJECT = """\
[project]
name = "orders"
version = "1.0"
license = "MIT"
dependencies = [
    "fastapi>=0.115",
    "copyleft-lib==2.1",
    "weak-lib",
    "mystery-lib",
]

[project.optional-dependencies]
dev = ["either-lib; python_version >= '3.11'"]
"""

PIP_LICENSES = [
    {"Name": "fastapi", "Version": "0.115.0", "License": "MIT License"},
    {"Name": "Copyleft_Lib", "Version": "2.1", "License": "GNU General Public License v3 (GPLv3)"},
    {"Name": "weak-lib", "Version": "1", "License": "LGPL-3.0-or-later"},
    {"Name": "either-lib", "Version": "1", "License": "MIT OR GPL-3.0-only"},
]


def test_dependency_licenses_from_pip_licenses_json() -> None:
    findings = check({"pyproject.toml": PYPROJECT, "licenses.json": json.dumps(PIP_LICENSES)})
    assert rules(findings) == [
        ("pyproject.toml", "dependency-license-denied", "high", 7),
        ("pyproject.toml", "dependency-license-review", "low", 8),
        ("pyproject.toml", "dependency-license-unknown", "info", 9),
    ]
    denied, _, unknown = findings
    assert "copyleft-lib" in denied.message and "licenses.json" in denied.message
    assert unknown.message.startswith("license unknown for dependency mystery-lib")


def test_dependency_licenses_from_mapping_and_dist_info_metadata() -> None:
    requirements = (
        "# pinned\nfastapi==0.115.0 \\\n    --hash=sha256:abc\n-r base.txt\n"
        "agpl-db>=1\nbsd-thing\ncustom\n"
    )
    metadata_expr = (
        "Metadata-Version: 2.4\nName: agpl-db\nVersion: 1.0\nLicense-Expression: AGPL-3.0-only\n"
    )
    metadata_classifier = (
        "Metadata-Version: 2.1\nName: bsd-thing\nVersion: 1.0\nLicense: UNKNOWN\n"
        "Classifier: License :: OSI Approved :: BSD License\n"
    )
    findings = check(
        {
            "requirements.txt": requirements,
            ".evobot/licenses.yml": "fastapi: MIT\ncustom: Dual License\n",
            "vendor/agpl_db-1.0.dist-info/METADATA": metadata_expr,
            "vendor/bsd_thing-1.0.dist-info/METADATA": metadata_classifier,
        }
    )
    assert rules(findings) == [
        ("requirements.txt", "dependency-license-denied", "high", 5),
        ("requirements.txt", "dependency-license-unknown", "info", 7),
    ]
    assert "agpl-db" in findings[0].message and "METADATA" in findings[0].message
    assert (
        "'Dual License'" in findings[1].message and "not an SPDX expression" in findings[1].message
    )


def test_without_recorded_licenses_one_info_finding_says_so() -> None:
    findings = check({"pyproject.toml": PYPROJECT})
    assert rules(findings) == [("pyproject.toml", "dependency-license-unknown", "info", None)]
    assert "5 dependencies" in findings[0].message
    # An empty mapping file records nothing: every dependency is unknown, by name.
    findings = check({"pyproject.toml": PYPROJECT, ".evobot/licenses.yml": ""})
    assert len(findings) == 5
    assert {f.rule for f in findings} == {"dependency-license-unknown"}
    with pytest.raises(CheckError, match=r"licenses\.json: cannot read"):
        check({"pyproject.toml": PYPROJECT, "licenses.json": "{not json"})


def test_policy_settings_allow_deny_and_review() -> None:
    files = {
        "a.py": f"# {TAG} GPL-3.0-only\n",
        "b.py": f"# {TAG} MIT\n",
        "c.py": f"# {TAG} LGPL-3.0-only\n",
    }
    assert rules(check(files, {"allow": ["MIT", "GPL-3.0-only"]})) == [
        ("c.py", "license-review", "low", 1)
    ]
    assert rules(check(files, {"deny": ["MIT"], "allow": ["GPL-*"], "review": []})) == [
        ("b.py", "license-denied", "high", 1),
        ("c.py", "license-not-allowlisted", "medium", 1),
    ]
    # `*_extra` adds to the defaults instead of replacing them.
    assert rules(check(files, {"allow_extra": ["GPL-3.0-only"]})) == [
        ("c.py", "license-review", "low", 1)
    ]
    assert rules(check(files, {"deny_extra": ["LGPL-3.0-only"]})) == [
        ("a.py", "license-denied", "high", 1),
        ("c.py", "license-denied", "high", 1),
    ]
    with pytest.raises(
        CheckError, match=r"\.evobot\.yml: checks\.checkers\.licenses\.options\.deny: Input should"
    ):
        check(files, {"deny": "GPL-*"})
    with pytest.raises(
        CheckError, match=r"options\.allow_extra\.0: Input should be a valid string"
    ):
        check(files, {"allow_extra": [1]})


def test_project_license_field_and_cache_dependencies() -> None:
    pyproject = '[project]\nname = "x"\nversion = "1"\nlicense = "AGPL-3.0-or-later"\n'
    assert rules(check({"pyproject.toml": pyproject})) == [
        ("pyproject.toml", "license-denied", "high", 4)
    ]
    table = '[project]\nname = "x"\nversion = "1"\nlicense = {text = "GNU GPL v3"}\n'
    assert rules(check({"pyproject.toml": table})) == [
        ("pyproject.toml", "license-unknown", "info", 4)
    ]
    table = table.replace("GNU GPL v3", "GPLv3")
    assert rules(check({"pyproject.toml": table})) == [
        ("pyproject.toml", "license-denied", "high", 4)
    ]
    assert check({"pyproject.toml": table.replace("GPLv3", "MIT License")}) == []
    tree = {
        "pyproject.toml": File(pyproject.encode()),
        "licenses.json": File(b"{}"),
        "v/x-1.dist-info/METADATA": File(b"Name: x\n"),
        "src/a.py": File(b""),
    }
    ctx = CheckContext(tree=tree, paths=sorted(tree))
    checker = LicenseChecker()
    assert list(checker.dependencies("pyproject.toml", ctx)) == [
        "licenses.json",
        "v/x-1.dist-info/METADATA",
    ]
    assert list(checker.dependencies("src/a.py", ctx)) == []


def test_a_license_file_that_names_its_spdx_id_needs_no_text() -> None:
    assert check({"LICENSE": f"{TAG} MIT\n\nSee https://spdx.org/licenses/MIT.html\n"}) == []
    assert rules(check({"LICENSE": f"{TAG} AGPL-3.0-only\n"})) == [
        ("LICENSE", "license-denied", "high", 1)
    ]


def test_gpl_text_shipped_with_the_lgpl_is_judged_as_the_lgpl() -> None:
    lgpl = "GNU LESSER GENERAL PUBLIC LICENSE\n   Version 3, 29 June 2007\n"
    findings = check(
        {
            "vendor/lib/COPYING": GPL3_TEXT,
            "vendor/lib/COPYING.LESSER": lgpl,
            "vendor/other/COPYING": GPL3_TEXT,
        }
    )
    assert rules(findings) == [
        ("vendor/lib/COPYING", "license-review", "low", None),
        ("vendor/lib/COPYING.LESSER", "license-review", "low", None),
        ("vendor/other/COPYING", "license-denied", "high", None),
    ]


def test_poetry_tables_and_template_headers() -> None:
    pyproject = (
        '[tool.poetry]\nname = "svc"\ndescription = "uses requests and copyleft-lib"\n\n'
        '[tool.poetry.dependencies]\npython = "^3.11"\nrequests = "^2.32"\n\n'
        '[tool.poetry.group.dev.dependencies]\ncopyleft-lib = "*"\n'
    )
    licenses = "requests: Apache-2.0\ncopyleft-lib: GPL-2.0-or-later\n"
    findings = check(
        {
            "pyproject.toml": pyproject,
            ".evobot/licenses.yml": licenses,
            "src/app.py.jinja": "# " + TAG + " {{ license }}\n",
        }
    )
    assert rules(findings) == [("pyproject.toml", "dependency-license-denied", "high", 10)]


def test_a_misspelt_setting_is_an_error_not_a_silent_default() -> None:
    with pytest.raises(CheckError, match=r"checks\.checkers\.licenses\.options\.alow: unknown key"):
        check({"a.py": "x = 1\n"}, {"alow": ["GPL-3.0-only"]})

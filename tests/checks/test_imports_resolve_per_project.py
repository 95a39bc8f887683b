"""Imports are judged against the project that holds the file: its nearest `pyproject.toml`
(a `backend/` subproject), every way it declares dependencies, guarded imports as optional,
and documentation or example code at low severity.

Reproduces `evobot check --all` on the full-stack FastAPI template (304 high
`unresolved-import` findings for declared dependencies of `backend/`), on an HTTP library
(`simplejson` behind `try: ... except ImportError`, `setuptools` in `setup.py`), and on
frameworks with `docs_src/` examples.
"""

from __future__ import annotations

from real_cases_support import check_tree, of

BACKEND_PYPROJECT = """\
[project]
name = "app"
version = "0.1.0"
requires-python = ">=3.10,<4.0"
dependencies = [
    "fastapi[standard]<1.0.0,>=0.114.2",
    "python-multipart<1.0.0,>=0.0.7",
    "email-validator<3.0.0.0,>=2.1.0.post1",
    "passlib[bcrypt]<2.0.0,>=1.7.4",
    "tenacity<9.0.0,>=8.2.3",
    "pydantic>2.0",
    "sqlmodel<1.0.0,>=0.0.21",
    "psycopg[binary]<4.0.0,>=3.1.13",
    "pyjwt<3.0.0,>=2.8.0",
    "pydantic-settings<3.0.0,>=2.2.1",
    "sentry-sdk[fastapi]<2.0.0,>=1.40.6",
]

[dependency-groups]
dev = ["pytest<8.0.0,>=7.4.3", "mypy<2.0.0,>=1.8.0", "coverage<8.0.0,>=7.4.3"]

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"
"""

FULL_STACK = {
    "backend/pyproject.toml": BACKEND_PYPROJECT,
    "backend/app/__init__.py": "",
    "backend/app/core/__init__.py": "",
    "backend/app/core/config.py": "from pydantic_settings import BaseSettings\nimport sentry_sdk\n",
    "backend/app/core/security.py": "import jwt\nfrom passlib.context import CryptContext\n",
    "backend/app/main.py": "import sentry_sdk\nfrom fastapi import FastAPI\n"
    "from sqlmodel import Session\nfrom tenacity import retry\nimport email_validator\n"
    "import psycopg\n\nfrom app.core import config\n",
    "backend/tests/conftest.py": "import pytest\nfrom sqlmodel import Session\n\n"
    "from app.main import app\n",
    "frontend/package.json": '{"name": "frontend"}\n',
}


def test_backend_subproject_declares_its_own_imports() -> None:
    findings, blocking = check_tree(FULL_STACK)
    assert of(findings, "validator", "unresolved-import") == []
    assert blocking == []


def test_undeclared_import_in_the_subproject_still_blocks_and_names_it() -> None:
    spec = {**FULL_STACK, "backend/app/extra.py": "import redis\n"}
    findings, blocking = check_tree(spec)
    [finding] = of(findings, "validator", "unresolved-import")
    assert finding.path == "backend/app/extra.py" and finding.severity == "high"
    assert "project at backend/" in finding.message
    assert finding in blocking


def test_every_declaration_style_counts() -> None:
    spec = {
        "pyproject.toml": """\
[project]
name = "lib"
version = "1"
[project.optional-dependencies]
socks = ["PySocks>=1.5.6"]
[build-system]
requires = ["setuptools>=61"]
[tool.poetry.dependencies]
python = "^3.10"
orjson = "*"
[tool.poetry.group.test.dependencies]
respx = "*"
[tool.pdm.dev-dependencies]
lint = ["black"]
[tool.uv]
dev-dependencies = ["trustme"]
""",
        "setup.py": "from setuptools import setup\n\nsetup(name='lib')\n",
        "requirements/docs.txt": "sphinx>=7 ; python_version >= '3.9'\n-r base.txt\n",
        "requirements-test.in": "hypothesis\n",
        "constraints.txt": "uvloop==0.19\n",
        "lib/__init__.py": "import socks\nimport orjson\nimport respx\nimport black\n"
        "import trustme\nimport sphinx\nimport hypothesis\nimport uvloop\n",
    }
    findings, _ = check_tree(spec)
    assert of(findings, "validator", "unresolved-import") == []


def test_guarded_imports_and_their_fallbacks_are_optional() -> None:
    spec = {
        "pyproject.toml": '[project]\nname = "requests"\nversion = "1"\n',
        "requests/__init__.py": "",
        "requests/compat.py": """\
from typing import TYPE_CHECKING

try:
    import simplejson as json

    has_simplejson = True
except ImportError:
    import json

if has_simplejson:
    from simplejson import JSONDecodeError
try:
    from http.server import HTTPServer
except ImportError:
    from BaseHTTPServer import HTTPServer
try:
    import OpenSSL
except ModuleNotFoundError:
    OpenSSL = None
else:
    import cryptography
if TYPE_CHECKING:
    import mypy_extensions
""",
    }
    findings, _ = check_tree(spec)
    assert of(findings, "validator", "unresolved-import") == []


def test_docs_and_examples_are_low_or_judged_by_their_own_requirements() -> None:
    spec = {
        "pyproject.toml": '[project]\nname = "fastapi"\nversion = "1"\n'
        'dependencies = ["starlette"]\n',
        "fastapi/__init__.py": "import starlette\n",
        "docs_src/tutorial001.py": "import fastapi\nimport databases\n",
        "scripts/release.py": "import github_release\n",
        "docs/requirements.txt": "mkdocs\n",
        "docs/hooks.py": "import mkdocs\nimport material_plugins\n",
    }
    findings, blocking = check_tree(spec)
    unresolved = {f.path: f for f in of(findings, "validator", "unresolved-import")}
    assert set(unresolved) == {"docs_src/tutorial001.py", "scripts/release.py", "docs/hooks.py"}
    assert unresolved["docs_src/tutorial001.py"].severity == "low"
    assert "example or script code" in unresolved["docs_src/tutorial001.py"].message
    assert unresolved["scripts/release.py"].severity == "low"
    # docs/ has requirements of its own: judged against them, as shipped code is
    assert unresolved["docs/hooks.py"].severity == "high"
    assert [f.path for f in blocking] == ["docs/hooks.py"]


def test_stubs_version_branches_newer_stdlib_and_test_fixture_apps_resolve() -> None:
    """attrs' `.pyi` stubs and `if sys.version_info` branches, 3.14's `annotationlib`,
    flask's `tests/test_apps/blueprintapp` imported by name, and modules a test creates at
    run time (imported inside the test function)."""
    spec = {
        "pyproject.toml": '[project]\nname = "attrs"\nversion = "1"\n',
        "src/attr/__init__.pyi": "from typing_extensions import TypeGuard\n",
        "src/attr/_compat.py": "import sys\n\nif sys.version_info >= (3, 14):\n"
        "    import annotationlib\nelse:\n    import typing_extensions\nimport annotationlib\n",
        "tests/test_apps/blueprintapp/__init__.py": "",
        "tests/test_blueprints.py": "import pytest\n\n\ndef test_bp() -> None:\n"
        "    from blueprintapp import app\n    import site_app\n",
    }
    findings, blocking = check_tree(spec)
    unresolved = of(findings, "validator", "unresolved-import")
    assert [(f.path, f.severity) for f in unresolved] == [("tests/test_blueprints.py", "low")]
    assert "a module the test creates" in unresolved[0].message
    assert blocking == []


def test_requirements_in_nested_directories_belong_to_their_project() -> None:
    """celery keeps its extras in `requirements/extras/*.txt`."""
    spec = {
        "setup.py": "from setuptools import setup\n\nsetup(name='celery')\n",
        "requirements/default.txt": "kombu>=5\n",
        "requirements/extras/redis.txt": "redis>=4\n",
        "celery/__init__.py": "import kombu\nimport redis\nimport amqp\n",
    }
    findings, blocking = check_tree(spec)
    assert of(findings, "validator", "unresolved-import") == []
    assert [f.rule for f in of(findings, "validator")] == ["transitive-import"]  # amqp
    assert blocking == []

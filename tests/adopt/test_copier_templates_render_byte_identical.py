"""`evobot render` of a copier template equals `copier copy` byte for byte (and mode for mode).

Each case is a small template written for one feature of copier.yml; copier itself (a dev
dependency) renders it, evobot renders it in its sandbox, and the trees must be identical.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from adopt_support import EXECUTABLE, copier_copy, differences, evobot_render, template_repo

ANSWERS_FILE = "{{ _copier_conf.answers_file }}.jinja"
ANSWERS = "{{ _copier_answers | to_nice_yaml -}}\n"

CASES: dict[str, tuple[dict[str, str | bytes], dict[str, Any]]] = {
    "types and defaults": (
        {
            "copier.yml": (
                "name:\n  type: str\n  help: The name\n  default: Demo App\n"
                "slug:\n  type: str\n  default: \"{{ name | lower | replace(' ', '-') }}\"\n"
                "port:\n  type: int\n  default: '8{{ 0 }}80'\n"
                "ratio:\n  type: float\n  default: 0.5\n"
                "debug:\n  type: bool\n  default: 'yes'\n"
                "settings:\n  type: yaml\n  default: '{a: 1, b: [x, y]}'\n"
                "payload:\n  type: json\n  default: '{\"k\": [1, 2]}'\n"
                "where:\n  type: path\n  default: src/app\n"
                "untyped: 3\n"
                "nothing:\n  default: null\n"
            ),
            ANSWERS_FILE: ANSWERS,
            "README.md.jinja": (
                "# {{ name }} ({{ slug }})\nport={{ port }} ratio={{ ratio }} debug={{ debug }}\n"
                "a={{ settings.a }} b={{ settings.b | join(',') }} k={{ payload.k }}\n"
                "where={{ where }} untyped={{ untyped + 1 }} nothing={{ nothing }}\n"
            ),
        },
        {"name": "Billing API"},
    ),
    "choices, multiselect, validator, secret, placeholder, when": (
        {
            "copier.yml": (
                "license:\n  type: str\n  choices:\n    MIT licence: mit\n    Apache 2: apache\n"
                "  default: apache\n"
                "python:\n  type: str\n  choices: ['3.11', '3.12']\n  default: '3.12'\n"
                "db:\n  type: str\n  choices:\n    - [PostgreSQL, pg]\n    - [SQLite, sqlite]\n"
                "  default: sqlite\n"
                "flavour:\n  type: str\n  choices: \"{{ ['plain', 'extra'] | to_yaml }}\"\n"
                "  default: extra\n"
                "extras:\n  type: str\n  multiselect: true\n  choices: [docs, ci, docker]\n"
                "  default: [docker, docs]\n"
                "package:\n  type: str\n  placeholder: my_pkg\n  default: pkg\n"
                '  validator: "{% if not package.isidentifier() %}not an identifier{% endif %}"\n'
                "token:\n  type: str\n  secret: true\n  default: hunter2\n"
                "docs_theme:\n  type: str\n  default: material\n"
                "  when: \"{{ 'docs' in extras }}\"\n"
                "ci_only:\n  type: str\n  default: gha\n  when: \"{{ 'ci' in extras }}\"\n"
            ),
            ANSWERS_FILE: ANSWERS,
            "info.txt.jinja": (
                "{{ license }} {{ python }} {{ db }} {{ flavour }} {{ extras }} {{ package }}\n"
                "token={{ token }} theme={{ docs_theme }} ci={{ ci_only }}\n"
            ),
        },
        {"package": "billing"},
    ),
    "settings: subdirectory, suffix, exclude, answers file, messages, tasks, migrations": (
        {
            "copier.yml": (
                "_subdirectory: template\n"
                "_templates_suffix: .tmpl\n"
                "_answers_file: .config/answers.yml\n"
                "_exclude:\n  - '*.bak'\n  - '/skipme'\n  - 'drafts/'\n  - '!drafts/keep.md'\n"
                "_skip_if_exists: [local.cfg]\n"
                "_min_copier_version: '9.0.0'\n"
                "_message_after_copy: 'Created {{ project }}'\n"
                "_message_before_update: 'Updating'\n"
                "_tasks:\n  - git init\n  - [echo, done]\n"
                "_migrations:\n  - version: v2.0.0\n    command: mv old.txt new.txt\n"
                "project: shop\n"
            ),
            "template/{{ _copier_conf.answers_file }}.tmpl": ANSWERS,
            "template/app.py.tmpl": "PROJECT = '{{ project }}'\n",
            "template/app.py.jinja": "kept as it is: {{ project }}\n",
            "template/plain.txt": "not a {{ template }}\n",
            "template/notes.bak": "excluded\n",
            "template/skipme": "excluded at the root\n",
            "template/sub/skipme": "kept: only the root one is excluded\n",
            "template/drafts/a.md": "excluded directory\n",
            "template/local.cfg.tmpl": "local={{ project }}\n",
            "outside.txt": "not under the subdirectory\n",
        },
        {},
    ),
    "empty templates suffix renders every text file": (
        {
            "copier.yml": "_templates_suffix: ''\nwho: world\n",
            ANSWERS_FILE.removesuffix(".jinja"): ANSWERS,
            "hello.txt": "hello {{ who }}\n",
            "data.bin": b"\x00\x01\xff{{ who }}",
            "run.sh": EXECUTABLE + "#!/bin/sh\necho {{ who }}\n",
        },
        {"who": "copier"},
    ),
    "envops: delimiters, trim and lstrip, no trailing newline": (
        {
            "copier.yml": (
                "_envops:\n  block_start_string: '[%'\n  block_end_string: '%]'\n"
                "  variable_start_string: '[['\n  variable_end_string: ']]'\n"
                "  comment_start_string: '[#'\n  comment_end_string: '#]'\n"
                "  trim_blocks: true\n  lstrip_blocks: true\n  keep_trailing_newline: false\n"
                "items:\n  type: yaml\n  default: '[a, b]'\n"
                'name: \'[[ "x" ~ "y" ]]\'\n'
            ),
            "list.txt.jinja": "[# comment #]\n[% for i in items %]\n  - [[ i ]] {{ raw }}\n"
            "[% endfor %]\nname=[[ name ]]\n",
        },
        {},
    ),
    "conditional names, nested directories, include, undefined is empty": (
        {
            "copier.yml": (
                "---\nuse_docs:\n  type: bool\n  default: true\nuse_ci: false\n"
                "pkg: my_pkg\n---\n!include extra/*.yml\n"
            ),
            "extra/more.yml": "author:\n  type: str\n  default: Ada\n",
            "{% if use_docs %}docs{% endif %}/index.md.jinja": "docs by {{ author }}\n",
            "{% if use_ci %}.github{% endif %}/ci.yml": "ci\n",
            "src/{{ pkg }}/__init__.py.jinja": "x = '{{ not_defined }}'\n",
            "src/{{ pkg }}/{% if use_ci %}ci.py{% endif %}.jinja": "ci\n",
            "src/{{ pkg }}/{{ 'data' }}.json.jinja": "{{ {'b': 1, 'a': [1, 2]} | to_nice_json }}\n",
            "conf.yml.jinja": "{{ {'k': pkg} | to_yaml }}{{ _copier_conf.sep }}\n",
            "crlf.txt.jinja": "line one\r\nline {{ pkg }}\r\n",
            ANSWERS_FILE: ANSWERS,
        },
        {},
    ),
    "copier yml sits in the answers": (
        {
            "copier.yaml": "a: 1\nb:\n  type: int\n  default: '{{ a * 2 }}'\n",
            ANSWERS_FILE: "# generated\n{{ _copier_answers | to_json }}\n",
            "sum.txt.jinja": (
                "{{ a + b }} {{ _copier_answers._src_path }} {{ _copier_conf.answers_file }}\n"
            ),
            "__pycache__/x.pyc": b"\x00compiled",
            "~backup": "excluded by default\n",
        },
        {"a": 5},
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_copier_template_renders_as_copier_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    files, data = CASES[case]
    template_repo(tmp_path / "tpl", [files])
    # copier records `_src_path` as given: both run from the same directory with the same path.
    monkeypatch.chdir(tmp_path)
    theirs = copier_copy("tpl", tmp_path / "out", data)
    ours = evobot_render("tpl", data)
    assert differences(ours, theirs) == []

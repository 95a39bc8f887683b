"""`evobot render` over the real CLI: files and .evobot.yml written, JSON output, refusals."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from evobot_cli_support import invoke_evobot
from evobot_testing import build_file_tree, git_commit_all, git_init

from bot.consumer import load_consumer_config


def _template_repo(root: Path) -> tuple[Path, str]:
    git_init(root)
    build_file_tree(
        root,
        {
            "template.yml": (
                "name: svc\n"
                "questions:\n"
                "  service_name: {validator: '[a-z_]+', help: Python package name}\n"
                "  port: {type: int, default: 8000}\n"
                "  metrics: {type: bool, default: false}\n"
                "skip_if_exists: [NOTES.md]\n"
            ),
            "files/{{ service_name }}/app.py.jinja": "PORT = {{ port }}\n",
            "files/{% if metrics %}metrics.py{% endif %}": "metrics\n",
            "files/NOTES.md": "template notes\n",
            "files/run.sh": "#!/bin/sh\n",
        },
    )
    (root / "files" / "run.sh").chmod(0o755)
    return root, git_commit_all(root, "template", tag="v1.2.0")


def test_render_writes_files_and_consumer_config(tmp_path: Path) -> None:
    repo, commit = _template_repo(tmp_path / "tpl")
    dest = tmp_path / "consumer"
    result = invoke_evobot(
        "render", str(repo), str(dest), "--data", "service_name=shop", "-d", "port=9000"
    )
    assert result.exit_code == 0, result.output
    assert "Rendered svc v1.2.0" in result.output
    assert (dest / "shop" / "app.py").read_text() == "PORT = 9000\n"
    assert not (dest / "metrics.py").exists()
    assert (dest / "run.sh").stat().st_mode & 0o100
    config = load_consumer_config(dest)
    assert config.template == str(repo.resolve())
    assert config.version.ref == "v1.2.0"
    assert config.version.commit == commit
    assert config.answers == {"service_name": "shop", "port": 9000, "metrics": False}
    assert config.template_subdir is None


def test_render_json_output_and_data_file(tmp_path: Path) -> None:
    repo, commit = _template_repo(tmp_path / "tpl")
    data_file = tmp_path / "answers.yml"
    data_file.write_text("service_name: api\nmetrics: true\nport: 1\n")
    result = invoke_evobot(
        "render",
        repo.as_uri(),
        str(tmp_path / "out"),
        "--data-file",
        str(data_file),
        "--data",
        "port=81",
        "--json",
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["template"] == repo.as_uri()
    assert report["version"] == {"ref": "v1.2.0", "commit": commit}
    assert report["files"] == ["NOTES.md", "api/app.py", "metrics.py", "run.sh"]
    assert report["answers"] == {"service_name": "api", "port": 81, "metrics": True}
    written = yaml.safe_load((tmp_path / "out" / ".evobot.yml").read_text())
    assert written["template"] == repo.as_uri()


def test_missing_answers_without_a_terminal_fail_naming_them(tmp_path: Path) -> None:
    repo, _commit = _template_repo(tmp_path / "tpl")
    dest = tmp_path / "consumer"
    proc = subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", "render", str(repo), str(dest)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert proc.returncode == 1
    assert "missing answers: service_name" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not dest.exists()


def test_invalid_answer_and_unknown_key(tmp_path: Path) -> None:
    repo, _commit = _template_repo(tmp_path / "tpl")
    result = invoke_evobot("render", str(repo), str(tmp_path / "a"), "-d", "service_name=X")
    assert result.exit_code == 1, result.output
    assert "service_name: must match the regex" in result.message
    assert not (tmp_path / "a").exists()
    result = invoke_evobot(
        "render", str(repo), str(tmp_path / "b"), "-d", "service_name=ok", "-d", "colour=red"
    )
    assert result.exit_code == 0, result.output
    assert "no question asks for colour" in result.stderr


def test_render_error_writes_nothing(tmp_path: Path) -> None:
    repo, _commit = _template_repo(tmp_path / "tpl")
    build_file_tree(repo, {"files/zz_broken.txt.jinja": "{{ oops }}\n"})
    git_commit_all(repo, "broken", tag="v1.3.0")
    dest = tmp_path / "consumer"
    result = invoke_evobot("render", str(repo), str(dest), "-d", "service_name=x")
    assert result.exit_code == 1, result.output
    assert "files/zz_broken.txt.jinja:1: 'oops' is undefined" in result.message
    assert not dest.exists()


def test_occupied_destination_is_refused_unless_forced(tmp_path: Path) -> None:
    repo, _commit = _template_repo(tmp_path / "tpl")
    dest = tmp_path / "consumer"
    build_file_tree(dest, {"NOTES.md": "my own notes\n"})
    args = ["render", str(repo), str(dest), "-d", "service_name=x"]
    result = invoke_evobot(*args)
    assert result.exit_code == 1, result.output
    assert "not empty" in result.message
    result = invoke_evobot(*args, "--force")
    assert result.exit_code == 0, result.output
    assert (dest / "NOTES.md").read_text() == "my own notes\n"  # skip_if_exists
    assert (dest / "x" / "app.py").is_file()
    result = invoke_evobot(*args)
    assert "evobot update" in result.message


def test_subdir_and_vcs_ref_options(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "mono")
    build_file_tree(repo, {"t/template.yml": "name: inner\n", "t/files/v.txt.jinja": "one\n"})
    first = git_commit_all(repo, "one", tag="1.0.0")
    build_file_tree(repo, {"t/files/v.txt.jinja": "two\n"})
    git_commit_all(repo, "two", tag="2.0.0")
    dest = tmp_path / "c"
    result = invoke_evobot(
        "render", str(repo), str(dest), "--subdir", "t", "--vcs-ref", "1.0.0", "--json"
    )
    assert result.exit_code == 0, result.output
    assert (dest / "v.txt").read_text() == "one\n"
    config = load_consumer_config(dest)
    assert (config.template_subdir, config.version.ref, config.version.commit) == (
        "t",
        "1.0.0",
        first,
    )


def test_terminal_prompts_for_missing_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Typed at a terminal: the prompts are real.
    repo, _commit = _template_repo(tmp_path / "tpl")
    dest = tmp_path / "consumer"
    # service_name: invalid first, then valid; port: default; metrics: yes.
    result = invoke_evobot(
        "render", str(repo), str(dest), input="Bad Name\nshop\n\ny\n", terminal=True
    )
    assert result.exit_code == 0, result.output
    assert "must match the regex" in result.stderr
    assert "Python package name" in result.stderr
    assert load_consumer_config(dest).answers == {
        "service_name": "shop",
        "port": 8000,
        "metrics": True,
    }
    assert (dest / "metrics.py").is_file()


def test_render_records_provenance_that_verify_accepts(tmp_path: Path) -> None:
    repo, commit = _template_repo(tmp_path / "tpl")
    dest = tmp_path / "consumer"
    rendered = invoke_evobot("render", str(repo), str(dest), "-d", "service_name=shop")
    assert rendered.exit_code == 0, rendered.output

    statement = json.loads((dest / ".evobot" / "provenance.json").read_text())
    params = statement["predicate"]["buildDefinition"]["externalParameters"]
    assert params["commit"] == commit
    assert "shop/app.py" in {s["name"] for s in statement["subject"]}

    verified = invoke_evobot("verify", str(dest), "--json")
    assert verified.exit_code == 0, verified.output
    (dest / "shop" / "app.py").write_text("PORT = 1\n")  # a consumer edit is not tampering
    assert invoke_evobot("verify", str(dest)).exit_code == 0

"""Templates that loop forever or build huge strings fail cleanly, naming the file."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from template_helpers import FAST_LIMITS, make_template

from bot.errors import ManifestError, RenderError
from bot.template import RenderLimits, Sandbox, open_template, render_template, resolve_answers
from bot.tree import File


def _render(root: Path, limits: RenderLimits = FAST_LIMITS) -> None:
    with open_template(str(root)) as template:
        render_template(template, {}, limits=limits)


def test_endless_loop_hits_the_time_limit(tmp_path: Path) -> None:
    loop = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    root = make_template(tmp_path / "tpl", {"a.txt": "fine\n", "spin.txt.jinja": loop})
    started = time.monotonic()
    with pytest.raises(RenderError, match=r"files/spin.txt.jinja: .*time limit"):
        _render(root, RenderLimits(timeout_s=1.0, memory_bytes=512 << 20))
    assert time.monotonic() - started < 10


def test_ten_gigabyte_string_hits_the_memory_limit(tmp_path: Path) -> None:
    huge = "x\n{{ 'x' | center(10000000000) }}\n"
    root = make_template(tmp_path / "tpl", {"big.txt.jinja": huge})
    with pytest.raises(RenderError, match=r"files/big.txt.jinja:2: .*memory"):
        _render(root)


def test_huge_repetition_is_refused_before_allocating(tmp_path: Path) -> None:
    root = make_template(tmp_path / "tpl", {"big.txt.jinja": "{{ 'x' * 10000000000 }}\n"})
    with pytest.raises(RenderError, match=r"files/big.txt.jinja:1: sandbox violation"):
        _render(root)


def test_endless_default_in_the_manifest_hits_the_time_limit(tmp_path: Path) -> None:
    spin = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    root = make_template(tmp_path / "tpl", {}, {"questions": {"slow": {"default": spin}}})
    with (
        open_template(str(root)) as template,
        pytest.raises(ManifestError, match=r"questions\.slow\.default: .*time limit"),
    ):
        resolve_answers(
            template.manifest, {}, limits=RenderLimits(timeout_s=1.0, memory_bytes=512 << 20)
        )


def test_in_process_rendering_gives_the_same_tree(tmp_path: Path) -> None:
    root = make_template(tmp_path / "tpl", {"{{ n }}.txt.jinja": "{{ n * 2 }}\n", "bin": b"\0"})
    with open_template(str(root)) as template:
        child = render_template(template, {"n": 21})
        trusted = render_template(template, {"n": 21}, limits=RenderLimits(in_process=True))
    assert child == trusted
    assert child["21.txt"].data == b"42\n"


def test_one_sandbox_serves_many_renders_and_recovers_after_a_timeout(tmp_path: Path) -> None:
    spin = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    good = make_template(tmp_path / "good", {"{{ n }}.txt.jinja": "{{ n }}\n"})
    bad = make_template(tmp_path / "bad", {"spin.jinja": spin})
    limits = RenderLimits(timeout_s=1.0, memory_bytes=512 << 20)
    with Sandbox(limits) as sandbox, open_template(str(good)) as ok, open_template(str(bad)) as b:
        for n in range(5):
            assert render_template(ok, {"n": n}, sandbox=sandbox) == {
                f"{n}.txt": File(f"{n}\n".encode())
            }
        with pytest.raises(RenderError, match="time limit"):
            render_template(b, {}, sandbox=sandbox)
        assert render_template(ok, {"n": 7}, sandbox=sandbox)["7.txt"].data == b"7\n"

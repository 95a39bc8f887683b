"""A render worker serves many renders: each gets the full CPU budget, so a long-lived worker's
later healthy render is not killed for the CPU time its earlier renders used."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest
from template_helpers import make_template

from bot.template import RenderLimits, Sandbox, open_template, render_template
from bot.tree import File

# About 0.4 s of CPU a render here; twelve of them use more than twice the 2 s budget.
SPIN = "{% for i in range(k) %}{% for j in range(1000) %}{% endfor %}{% endfor %}done\n"
RENDERS = 12


@pytest.mark.slow
def test_each_render_gets_the_whole_cpu_budget(tmp_path: Path) -> None:
    root = make_template(
        tmp_path / "tpl",
        {"spin.txt.jinja": SPIN},
        {"questions": {"k": {"type": "int", "default": 16000}}},
    )
    limits = RenderLimits(timeout_s=2.0, memory_bytes=512 << 20)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with Sandbox(limits) as sandbox, open_template(str(root)) as template:
        for _ in range(RENDERS):
            assert render_template(template, {"k": 16000}, sandbox=sandbox) == {
                "spin.txt": File(b"done\n")
            }
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    # One worker did it all, and together the renders used more than one budget allows.
    assert used > limits.timeout_s + 2, used

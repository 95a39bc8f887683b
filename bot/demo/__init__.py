"""The demo. `evobot demo` (what `make demo` runs) is the whole loop — emulator, service, a
fleet, a release rolled out in waves, a revert, a halt and a resume (`bot/demo/loop.py`,
docs/demo.md). `evobot demo --local` and `python -m bot.demo` are the walk-through below.

The walk-through: a template release reaching a consumer service that has local edits. In a
scratch directory it makes a git template repository from `templates/fastapi-service`
(tagged v1.0.0), renders a consumer service from it, edits the consumer, releases v1.1.0 of the
template with a real improvement, evolves the consumer by three-way merge and shows the result.
Run it with `python -m bot.demo` or `evobot demo --local`.
"""

from bot.demo.run import DemoResult, run_demo
from bot.demo.show import main
from bot.demo.steps import DemoError

__all__ = ["DemoError", "DemoResult", "main", "run_demo"]

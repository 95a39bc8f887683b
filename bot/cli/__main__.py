"""`python -m bot.cli`: the `evobot` command, for a caller that has the interpreter but not the
script on its PATH (the Action's `evobot action run` starts its commands this way)."""

from bot.cli import main

main()

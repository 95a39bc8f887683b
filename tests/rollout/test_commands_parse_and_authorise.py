"""`/evobot <verb>` comments: parsed without crashing on anything, code and quotes ignored, and
only people with write permission (on the template repo for rollout-wide verbs) obeyed."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.clock import ManualClock
from bot.rollout.commands import (
    VERBS,
    PermissionCache,
    authorize,
    is_command_comment,
    parse_command,
)


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_any_comment_body_parses_without_raising(body: str) -> None:
    command = parse_command(body)
    if command is not None:
        assert command.verb in VERBS


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(VERBS)), st.text(alphabet=" \t'\"\\-abc", max_size=20))
def test_any_arguments_after_a_verb_parse(verb: str, rest: str) -> None:
    command = parse_command(f"/evobot {verb} {rest}")
    assert command is not None and command.verb == verb


def test_verbs_are_case_insensitive_and_flags_read() -> None:
    command = parse_command("Thanks!\n\n/EvoBot PROMOTE --full\n")
    assert command is not None
    assert (command.verb, command.flags, command.error) == ("promote", {"--full"}, None)
    assert command.rollout_wide


def test_code_blocks_and_quotes_are_not_commands() -> None:
    assert parse_command("```\n/evobot rollback\n```") is None
    assert parse_command("~~~~\n/evobot rollback\n~~~\n/evobot rollback\n~~~~") is None
    assert parse_command("> /evobot rollback\nno, don't") is None
    assert parse_command("    /evobot rollback") is None
    assert parse_command("please run /evobot rollback") is None


def test_first_command_after_a_code_block_counts() -> None:
    command = parse_command("```\n/evobot rollback\n```\n/evobot status")
    assert command is not None and command.verb == "status"


def test_unknown_verbs_get_help_and_bad_flags_say_why() -> None:
    unknown = parse_command("/evobot frobnicate now")
    assert unknown is not None and unknown.verb == "help" and unknown.unknown == "frobnicate"
    bare = parse_command("/evobot")
    assert bare is not None and bare.verb == "help" and bare.unknown is None
    bad = parse_command("/evobot promote --everything")
    assert bad is not None and bad.error is not None and "--everything" in bad.error
    quoted = parse_command("/evobot skip 'two words")
    assert quoted is not None and quoted.error is not None
    args = parse_command('/evobot skip "this one"')
    assert (
        args is not None
        and args.args == ("this one",)
        and "takes no arguments" in (args.error or "")
    )


def test_write_maintain_admin_may_command_others_are_told_why() -> None:
    command = parse_command("/evobot rebase")
    assert command is not None
    for permission in ("write", "maintain", "admin"):
        assert authorize(command, "ann", repo="acme/a", permission=permission).allowed
    refused = authorize(command, "bob", repo="acme/a", permission="read")
    assert not refused.allowed
    assert refused.reason.startswith("@bob has read permission on acme/a")


def test_rollout_wide_verbs_need_permission_on_the_template_repo() -> None:
    command = parse_command("/evobot rollback")
    assert command is not None
    refused = authorize(
        command,
        "ann",
        repo="acme/a",
        permission="admin",
        template_repo="acme/tpl",
        template_permission="read",
    )
    assert not refused.allowed and "acme/tpl" in refused.reason
    assert authorize(
        command,
        "ann",
        repo="acme/a",
        permission="write",
        template_repo="acme/tpl",
        template_permission="maintain",
    ).allowed
    pause = parse_command("/evobot pause")
    assert pause is not None and not pause.rollout_wide


def test_bots_and_edits_are_ignored() -> None:
    assert is_command_comment("created", "ann", "User")
    assert not is_command_comment("edited", "ann", "User")
    assert not is_command_comment("created", "evobot[bot]", "Bot")
    assert not is_command_comment("created", "renovate[bot]", "User")
    assert not is_command_comment("deleted", "ann", "User")


def test_permission_cache_expires() -> None:
    clock = ManualClock(100.0)
    cache = PermissionCache(clock, ttl=60)
    cache.put("Acme/A", "Ann", "write")
    assert cache.get("acme/a", "ann") == "write"
    clock.advance(60)
    assert cache.get("acme/a", "ann") is None

"""Every `/evobot` verb, commented on a rollout's PRs through the emulator, is carried out (or
refused) by the service, answered with exactly one reply and written to the audit log; a
person with read permission is refused politely."""

from __future__ import annotations

from pathlib import Path

from rollout_service_support import Loop, bot_comments, consumer_name, fleet_seed, rollout_loop


def command(loop: Loop, repo: str, number: int, body: str, user: str) -> str:
    """Comment ``body`` as ``user``; the bot's one reply to it."""
    comment_id = loop.gh.comment(repo, number, body, user=user)
    marker = f"<!-- evobot:reply:{comment_id} -->"

    def replies() -> list[str]:
        return [b for b in bot_comments(loop.gh, repo, number) if marker in b]

    loop.wait(lambda: bool(replies()), 60, f"a reply to {body!r}")
    loop.quiet()
    (reply,) = replies()
    return reply.replace(marker, "").strip()


def test_every_verb_gets_one_reply_and_an_audit_entry(tmp_path: Path) -> None:
    with rollout_loop(tmp_path, fleet_seed(3, waves=(50.0, 100.0))) as loop:
        canary = consumer_name(1)
        key = loop.release("v1.1.0")
        loop.wait(lambda: bool(loop.mergeable(key)), 120, "the canary's PR to be green")
        ((_, pr),) = loop.mergeable(key)
        said: list[tuple[str, str, int, str]] = []

        def say(user: str, body: str, repo: str = canary, number: int = pr) -> str:
            reply = command(loop, repo, number, body, user)
            said.append((user, body, number, reply))
            return reply

        refused = say("bob", "/evobot rollback")
        assert refused == (
            f"evobot: not carried out: @bob has read permission on {canary}; evobot takes "
            "commands from people with write, maintain or admin permission."
        )
        assert loop.state(key).status == "wave-open"  # type: ignore[union-attr]

        assert say("alice", "/evobot status").startswith(
            "Rollout of acme/tpl v1.1.0: **wave-open**"
        )
        assert "/evobot rebase" in say("alice", "/evobot help")
        assert "does not know `frobnicate`" in say("alice", "/evobot frobnicate")
        assert say("maria", "/evobot pause --rollout").startswith("evobot: done:")
        assert loop.state(key).status == "paused"  # type: ignore[union-attr]
        assert say("maria", "/evobot resume --rollout").startswith("evobot: done:")
        assert loop.state(key).status == "wave-open"  # type: ignore[union-attr]
        assert say("alice", "/evobot rebase").startswith("evobot: `/evobot rebase`:")
        assert say("alice", "/evobot recreate").startswith("evobot: `/evobot recreate`:")

        # Promote ends the canary wave now: the next wave's PR opens.
        assert say("maria", "/evobot promote").startswith("evobot: done:")
        state = loop.wait_status(key)
        wave1 = list(state.in_wave(1))
        assert [c.status for c in wave1] == ["open"]
        second, second_pr = wave1[0].repo, wave1[0].number
        assert second_pr is not None

        assert say("alice", "/evobot pause", second, second_pr).startswith("evobot: done:")
        assert say("alice", "/evobot resume", second, second_pr).startswith("evobot:")
        assert say("alice", "/evobot skip", second, second_pr).startswith("evobot: done:")
        loop.wait(lambda: loop.gh.pull(second, second_pr)["state"] == "closed", 60, "closed")
        assert say("alice", "/evobot retry", second, second_pr).startswith("evobot:")

        # Rollback reverts the merged canary and closes what is open.
        loop.merge(canary, pr)
        loop.wait(
            lambda: loop.wait_status(key).consumer(canary).status == "green",  # type: ignore[union-attr]
            60,
            "the canary to be green",
        )
        assert say("maria", "/evobot rollback").startswith("evobot: done:")
        state = loop.wait_status(key, "rolled-back")
        loop.quiet()
        reverts = [p for p in loop.gh.pulls(canary) if p["head_ref"].startswith("evobot/revert/")]
        assert len(reverts) == 1

        # One reply each (checked by `command`), one audit entry each, in order.
        audit = [
            r
            for n in {pr, second_pr}
            for repo in (canary, second)
            for r in loop.store.audit_log(entity=f"command:{repo}#{n}", limit=100)
        ]
        assert len(audit) == len(said)
        entries = sorted(r.change for r in audit)
        assert (
            sorted(
                f"@{user} `{body}`: "
                + ("refused" if user == "bob" else reply.splitlines()[0][:200])
                for user, body, _n, reply in said
            )
            == entries
        )

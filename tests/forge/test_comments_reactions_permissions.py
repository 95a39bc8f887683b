"""Comments, reactions and collaborator permissions, as the command handlers will use them."""

from __future__ import annotations

from pathlib import Path

from forge_helpers import emulated, open_pr


def test_comment_react_and_read_permissions(tmp_path: Path) -> None:
    with emulated(
        tmp_path / "emu", svc1={"collaborators": {"maintainer": "write", "visitor": "read"}}
    ) as (emu, forge):
        pr = open_pr(forge, tmp_path, vcs_ref="v2")
        command = emu.comment("acme/svc1", pr.number, "/evobot recreate", user="maintainer")
        assert forge.get_permission("acme/svc1", "maintainer") == "write"
        assert forge.get_permission("acme/svc1", "visitor") == "read"
        assert forge.get_permission("acme/svc1", "stranger") in ("none", "read")

        forge.add_reaction("acme/svc1", command, "+1")
        forge.add_reaction("acme/svc1", command, "+1")  # repeating it changes nothing
        reply = forge.create_comment("acme/svc1", pr.number, "Recreating the branch.")
        comments = forge.list_comments("acme/svc1", pr.number)
        assert [c.body for c in comments] == ["/evobot recreate", "Recreating the branch."]
        assert comments[0].user_login == "maintainer"
        assert reply.id == comments[1].id
        assert reply.user_login == emu.bot_login

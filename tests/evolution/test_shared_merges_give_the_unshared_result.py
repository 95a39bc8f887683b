"""A merge memo shared across consumers never changes a result: for any small base, template and
consumer trees, merging many consumers through one `MergeMemo` gives exactly what merging each
alone gives — line endings, final newlines, executable bits, conflicts and `.rej` files included —
whatever the memo's size bound."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.evolution.merge import MergeMemo, merge_trees
from bot.tree import File, Tree

PATHS = ("a.txt", "b.txt", "dir/c.txt")
LINES = ("one\n", "two\n", "three\n", "four\n", "five\n")

texts = st.lists(st.sampled_from(LINES), max_size=6).map(lambda ls: "".join(ls).encode())


@st.composite
def files(draw: st.DrawFn) -> File:
    data = draw(texts)
    if draw(st.booleans()):
        data = data.replace(b"\n", b"\r\n")
    if data and draw(st.booleans()):
        data = data.rstrip(b"\r\n")
    return File(data, draw(st.booleans()))


trees = st.dictionaries(st.sampled_from(PATHS), files(), max_size=len(PATHS))


@st.composite
def fleets(draw: st.DrawFn) -> tuple[Tree, Tree, list[Tree]]:
    base = draw(trees)
    new = draw(trees)
    # Consumers drawn from a small pool, so several of them are the very same tree.
    pool = draw(st.lists(trees, min_size=1, max_size=3))
    consumers = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=5))
    return base, new, consumers


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fleet=fleets(),
    style=st.sampled_from(["inline", "rej"]),
    bound=st.sampled_from([0, 300, 1 << 20]),
)
def test_shared_merges_equal_unshared_merges(
    fleet: tuple[Tree, Tree, list[Tree]], style: str, bound: int
) -> None:
    base, new, consumers = fleet
    memo = MergeMemo(max_bytes=bound)
    conflict_style = "rej" if style == "rej" else "inline"
    for ours in consumers:
        alone = merge_trees(base, new, ours, conflict_style=conflict_style)
        shared = merge_trees(base, new, ours, conflict_style=conflict_style, memo=memo)
        assert shared == alone
        assert memo.bytes <= bound


def test_memo_stays_within_its_bound_dropping_the_least_recently_used() -> None:
    memo = MergeMemo(max_bytes=1200)
    base = {"f.txt": File(b"".join(f"line {n}\n".encode() for n in range(50)))}
    new = {"f.txt": File(base["f.txt"].data.replace(b"line 1\n", b"line one\n"))}
    for n in range(20):
        ours = {"f.txt": File(base["f.txt"].data + f"consumer {n}\n".encode())}
        merge_trees(base, new, ours, memo=memo)
        assert memo.bytes <= 1200
    assert memo.runs == 20
    assert 0 < len(memo) < 20

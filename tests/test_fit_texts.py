"""The helpers that make replies fit Discord: clip, echo, fit_lines and paginate."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from bot.texts.fit import clip, echo, fit_lines, paginate

lines_strategy = st.lists(st.text(min_size=0, max_size=400), max_size=60)


def test_clip_keeps_short_text_and_cuts_long_text_with_an_ellipsis() -> None:
    assert clip("short", 10) == "short"
    assert clip("x" * 2100) == "x" * 1999 + "…"
    assert len(clip("word " * 500, 100)) <= 100


def test_echo_is_one_line_and_at_most_a_hundred_characters() -> None:
    typed = "first line\nsecond   line " + "y" * 2100
    shown = echo(typed)
    assert shown.startswith("first line second line y")
    assert "\n" not in shown
    assert len(shown) == 100
    assert shown.endswith("…")
    assert echo("  19:30 ") == "19:30"


def test_fit_lines_keeps_whole_lines_and_says_how_many_more() -> None:
    lines = [f"line {i:03} " + "z" * 90 for i in range(40)]
    text = fit_lines("Heading", lines, tail="Footer")
    assert len(text) <= 2000
    shown = text.split("\n")
    assert shown[0] == "Heading"
    assert shown[-1] == "Footer"
    kept = shown[1:-2]
    assert kept == lines[: len(kept)]
    assert shown[-2] == f"…and {len(lines) - len(kept)} more"
    assert fit_lines("Heading", lines[:3]) == "\n".join(["Heading", *lines[:3]])


@given(head=st.text(max_size=3000), lines=lines_strategy, tail=st.none() | st.text(max_size=600))
@example(head="Who looked:", lines=["<t:1:f> <@1> viewed " + "g" * 200] * 20, tail=None)
def test_fit_lines_always_fits(head: str, lines: list[str], tail: str | None) -> None:
    assert len(fit_lines(head, lines, tail=tail)) <= 2000
    assert len(fit_lines(head, lines, tail=tail, limit=4096)) <= 4096


@given(head=st.text(max_size=300), lines=lines_strategy)
@example(head="Coming up:", lines=[f"• meeting {i} " + "w" * 300 for i in range(10)])
@example(head="Answers:", lines=["<@123456789012345678>, " * 10] * 9)
def test_every_page_fits_and_every_line_is_on_one_page_in_order(
    head: str, lines: list[str]
) -> None:
    pages = paginate(head, lines, limit=2000)
    assert pages
    assert all(len(page) <= 2000 for page in pages)
    if len(pages) == 1:
        assert pages[0] == "\n".join([head, *lines])
        return
    bodies = []
    for number, page in enumerate(pages, start=1):
        body, marker = page.rsplit("\n", 1)
        assert marker == f"Page {number} of {len(pages)}"
        assert body.startswith(head + "\n")
        bodies.append(body[len(head) + 1 :])
    assert "\n".join(bodies) == "\n".join(lines)


def test_a_line_too_long_for_any_page_is_clipped_not_lost() -> None:
    pages = paginate("Head", ["a" * 5000, "b"], limit=2000)
    assert len(pages) == 2
    assert pages[0].startswith("Head\n" + "a" * 100)
    assert "…" in pages[0]
    assert "\nb\n" in pages[1]

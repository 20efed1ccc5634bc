"""Property tests (hypothesis) for what /trends may reveal: any check-in data, any viewer."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.checkins import entries, mydata, trends
from bot.checkins.crypto import NoteKeys
from bot.checkins.entries import Answers
from bot.checkins.trends import MonthEntry, MonthTrend, summarise
from bot.db import open_database
from bot.groups import service as groups
from bot.groups.model import GroupSettings
from bot.migrate import migrate

K_VALUES = st.integers(min_value=5, max_value=8)
SCORES = st.integers(min_value=1, max_value=5)


def entries_for(members: int) -> st.SearchStrategy[list[MonthEntry]]:
    """Every member checks in one to four times with any answers."""
    one = st.builds(MonthEntry, st.just(""), SCORES, SCORES, SCORES)
    per_member = st.lists(one, min_size=1, max_size=4)
    return st.lists(per_member, min_size=members, max_size=members).map(
        lambda groups: [
            MonthEntry(f"member-{i}", e.mood, e.stress, e.supported)
            for i, rows in enumerate(groups)
            for e in rows
        ]
    )


@st.composite
def month_data(draw: st.DrawFn, max_members: int = 25) -> tuple[int, list[MonthEntry]]:
    k = draw(K_VALUES)
    members = draw(st.integers(min_value=0, max_value=max_members))
    return k, draw(entries_for(members))


def distinct(entries: list[MonthEntry]) -> int:
    return len({e.member for e in entries})


@settings(max_examples=150, deadline=None)
@given(month_data())
def test_no_month_is_shown_with_fewer_than_k_members_besides_the_viewer(
    data: tuple[int, list[MonthEntry]],
) -> None:
    k, entries = data
    trend = summarise("2026-09", entries, k)
    members = distinct(entries)
    if trend.shown:
        # Whoever views, at least K others contributed (the viewer may be one of them).
        assert members - 1 >= k
        assert trend.band in {"5–9", "10–19", "20+"}
        low = {"5–9": 5, "10–19": 10, "20+": 20}[trend.band]
        assert members >= low
        assert (trend.distribution is not None) == (members >= 10)
        for value in (trend.mood, trend.stress, trend.supported):
            assert value is not None
            assert value * 2 == int(value * 2), "means are rounded to 0.5"
    else:
        assert members - 1 < k
        assert trend == MonthTrend(month="2026-09", shown=False), "a hidden month says nothing"


@settings(max_examples=150, deadline=None)
@given(month_data(max_members=12), st.integers(min_value=1, max_value=5), st.data())
def test_adding_or_removing_one_member_in_a_suppressed_month_changes_nothing_shown(
    data: tuple[int, list[MonthEntry]], score: int, draw: st.DataObject
) -> None:
    k, entries = data
    before = summarise("2026-09", entries, k)
    added = [*entries, MonthEntry("someone-new", score, score, score)]
    after_adding = summarise("2026-09", added, k)
    if not before.shown and not after_adding.shown:
        assert before == after_adding
    members = sorted({e.member for e in entries})
    if members:
        gone = draw.draw(st.sampled_from(members))
        removed = summarise("2026-09", [e for e in entries if e.member != gone], k)
        if not before.shown:
            # Fewer people can never make a hidden month visible, and it still says nothing.
            assert removed == before


@settings(max_examples=200, deadline=None)
@given(month_data(), st.data())
def test_one_member_checking_in_more_often_never_outweighs_another(
    data: tuple[int, list[MonthEntry]], draw: st.DataObject
) -> None:
    k, entries = data
    members = sorted({e.member for e in entries})
    if not members:
        return
    frequent = draw.draw(st.sampled_from(members))
    theirs = [e for e in entries if e.member == frequent]
    repeated = entries + theirs * draw.draw(st.integers(min_value=1, max_value=3))
    # Repeating a member's own entries leaves their average, so the month, unchanged.
    assert summarise("2026-09", repeated, k) == summarise("2026-09", entries, k)


@st.composite
def closed_month_story(draw: st.DrawFn) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """September check-ins (member, score), then late entries and deletions by members."""
    september = draw(st.lists(st.tuples(st.integers(1, 12), SCORES), min_size=0, max_size=30))
    late = draw(st.lists(st.integers(1, 15), max_size=6))
    deleted = draw(st.lists(st.integers(1, 12), max_size=6))
    return september, late, deleted


@settings(max_examples=15, deadline=None)
@given(closed_month_story())
def test_a_closed_months_output_never_changes_after_late_entries_or_deletions(
    story: tuple[list[tuple[int, int]], list[int], list[int]],
) -> None:
    september, late, deleted = story
    keys = NoteKeys.from_keys(["Xn6OyW7Y3Y7Jb2bq0Xx3kq3n0p6lUQ4wY6s3b9bYc1E="], b"k" * 32)

    async def run(folder: Path) -> None:
        start = datetime(2026, 9, 1, 9, tzinfo=UTC)
        path = folder / "p.sqlite3"
        await migrate(path, start)
        db = await open_database(path)
        try:
            group = await groups.create_group(
                db, 1, GroupSettings("G", 2, 3, None, "Europe/London"), start
            )
            for member, score in september:
                await groups.join_group(db, group, member, start)
                await entries.record_checkin(
                    db, keys, group, member, Answers(score, score, score), None, start
                )
            october = datetime(2026, 10, 2, tzinfo=UTC)
            first = await trends.view_trends(db, group, 999, 5, october)
            for member in late:
                await groups.join_group(db, group, member, october)
                await entries.record_checkin(
                    db, keys, group, member, Answers(1, 5, 1), None, october
                )
            for member in deleted:
                await mydata.delete_everything(db, keys, member, october)
            again = await trends.view_trends(db, group, 999, 5, october + timedelta(days=3))
            assert again == first
        finally:
            await db.close()

    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(Path(tmp)))

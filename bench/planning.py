"""Planning at scale, with the real services on a real SQLite file: members join, a series is
created (its meetings' announcements, every member's nudges and the rota planned), everyone
answers Going to the next meeting, then that meeting moves (everyone's reminders re-planned).

Figures, not assertions: each beside its target, then one `planning: …` line for comparing
runs. Run alone with `python -m bench.planning`, or as part of `make bench`.
`BENCH_PLANNING_MEMBERS` (default 1000) sets the group's size.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import aiosqlite

from bot.db import copy_wal_back, keep_wal_copied, open_database, transaction
from bot.delivery.outbox import INSERT_DELIVERY, iso
from bot.groups import service as groups
from bot.groups.model import GroupSettings
from bot.meetings import changes, rsvp, series
from bot.meetings.model import Answer, Place, PlaceKind, SeriesDraft
from bot.meetings.queries import upcoming_meetings
from bot.meetings.recurrence import Rule
from bot.migrate import migrate
from bot.planning import Policy

MEMBERS = int(os.environ.get("BENCH_PLANNING_MEMBERS", "1000"))
# Each figure is the median of this many runs, each on a new database (this machine's timings
# vary by a third from one run to the next).
REPEAT = int(os.environ.get("BENCH_PLANNING_REPEAT", "3"))
NOW = datetime(2026, 9, 20, 12, 0, tzinfo=UTC)
GUILD, CHANNEL, ROLE, VOICE = 111, 222, 333, 444
COUNT_OUTBOX = """
SELECT COUNT(*)
FROM outbox
"""
TARGET_SERIES_MS = 150.0
TARGET_ANSWER_MS = 3.0
TARGET_MOVE_MS = 150.0
TARGET_WRITE_MS = 150.0


class WriteTimer:
    """How long each write transaction holds SQLite's write lock (BEGIN IMMEDIATE → COMMIT)."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.longest = 0.0
        self._began: float | None = None
        execute, commit, rollback = conn.execute, conn.commit, conn.rollback

        def timed_execute(sql: str, parameters: Any = None) -> Any:
            if sql.strip().upper().startswith("BEGIN"):
                self._began = time.perf_counter()
            return execute(sql, parameters)

        async def timed_end(end: Callable[[], Awaitable[None]]) -> None:
            await end()
            if self._began is not None:
                self.longest = max(self.longest, time.perf_counter() - self._began)
                self._began = None

        conn.execute = timed_execute  # type: ignore[method-assign]
        conn.commit = lambda: timed_end(commit)  # type: ignore[method-assign]
        conn.rollback = lambda: timed_end(rollback)  # type: ignore[method-assign]


def _draft() -> SeriesDraft:
    return SeriesDraft(
        title="Monthly meet-up",
        rule=Rule.last_weekday(3),
        local_time=clock_time(19, 30),
        duration_minutes=90,
        place=Place.channel(PlaceKind.VOICE, VOICE),
    )


async def measure(folder: Path, members: int = MEMBERS) -> dict[str, float]:
    path = folder / f"planning-{members}.sqlite3"
    await migrate(path, NOW)
    conn = await open_database(path)
    # As in the running bot: the WAL is copied back on a connection of its own meanwhile.
    keeper = asyncio.create_task(keep_wal_copied(path))
    policy = Policy(announce_lead=timedelta(days=14))
    try:
        group = await groups.create_group(
            conn, GUILD, GroupSettings("North", CHANNEL, ROLE, None, "Europe/London"), NOW
        )
        for user_id in range(1, members + 1):
            await groups.join_group(conn, group, 10_000 + user_id, NOW, policy)
        # A member's action rarely comes within a second of a thousand others: the keeper has
        # copied the WAL back by then. Done here before each timed step, so a copy the keeper
        # happens to be making does not land in it.
        await copy_wal_back(conn)
        timer = WriteTimer(conn)
        start = time.perf_counter()
        await series.create_series(conn, group, _draft(), 1, NOW, policy)
        series_s = time.perf_counter() - start
        async with conn.execute(COUNT_OUTBOX) as cursor:
            row = await cursor.fetchone()
        series_rows = int(row[0]) if row else 0
        [meeting, *_] = await upcoming_meetings(conn, group.id, NOW, limit=1)
        answers: list[float] = []
        for user_id in range(1, members + 1):
            start = time.perf_counter()
            await rsvp.answer_meeting(conn, meeting.id, 10_000 + user_id, Answer.GOING, NOW, policy)
            answers.append(time.perf_counter() - start)
        await copy_wal_back(conn)
        start = time.perf_counter()
        await changes.move_meeting(
            conn, meeting, meeting.starts_at + timedelta(days=1), None, NOW, policy
        )
        move_s = time.perf_counter() - start
    finally:
        keeper.cancel()
        await asyncio.gather(keeper, return_exceptions=True)
        await conn.close()
    return {
        "members": members,
        "series_ms": series_s * 1000,
        "answer_ms": statistics.median(answers) * 1000,
        "answer_worst_ms": max(answers) * 1000,
        "move_ms": move_s * 1000,
        "longest_write_ms": timer.longest * 1000,
        "series_rows": series_rows,
        "floor_ms": await insert_floor(folder / f"floor-{members}.sqlite3", series_rows) * 1000,
    }


async def insert_floor(path: Path, rows: int) -> float:
    """The least a write of `rows` outbox rows costs on this machine right now: SQLite alone
    inserting them in one executemany (what creating the series must write, planned or not)."""
    await migrate(path, NOW)
    conn = await open_database(path)
    due = iso(NOW + timedelta(days=30))
    params = [
        {
            "key": f"floor:{n}",
            "scope": f"meeting:{n % 5}:reminders:{n}",
            "kind": "nudge",
            "guild_id": GUILD,
            "channel_id": None,
            "user_id": n,
            "subject_id": n % 5,
            "due_at": due,
            "not_after": due,
            "now": iso(NOW),
        }
        for n in range(rows)
    ]
    try:
        start = time.perf_counter()
        async with transaction(conn):
            await conn.executemany(INSERT_DELIVERY, params)
        return time.perf_counter() - start
    finally:
        await conn.close()


def _verdict(value: float, target: float) -> str:
    return "within" if value < target else "OVER"


async def run(folder: Path) -> str:
    print(f"\nPlanning (real services, one group of {MEMBERS:,} members)")
    small = await measure(folder / "small", 100)
    runs = [await measure(folder / f"run-{n}", MEMBERS) for n in range(REPEAT)]
    figures = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    print(f"  (each figure the median of {REPEAT} runs, each on a new database)")
    for name, key, target in (
        ("create a series", "series_ms", TARGET_SERIES_MS),
        ("one answer (median)", "answer_ms", TARGET_ANSWER_MS),
        ("move the next meeting", "move_ms", TARGET_MOVE_MS),
        ("longest write transaction", "longest_write_ms", TARGET_WRITE_MS),
    ):
        print(
            f"  {name:<28} {figures[key]:9.1f} ms  target < {target:5.0f} ms"
            f"  {_verdict(figures[key], target)}"
        )
    print(
        f"  (floor: SQLite alone inserting the {figures['series_rows']:,.0f} rows creating the"
        f" series writes takes {figures['floor_ms']:.1f} ms on this machine now)"
    )
    print(
        f"  one answer with 100 members {small['answer_ms']:.1f} ms, with {MEMBERS:,}"
        f" {figures['answer_ms']:.1f} ms (worst {figures['answer_worst_ms']:.1f} ms):"
        " should not grow with the group"
    )
    return (
        f"planning: members={MEMBERS} series_ms={figures['series_ms']:.0f}"
        f" answer_ms={figures['answer_ms']:.1f} move_ms={figures['move_ms']:.0f}"
        f" longest_write_ms={figures['longest_write_ms']:.0f}"
        f" (targets: series_ms<{TARGET_SERIES_MS:.0f} answer_ms<{TARGET_ANSWER_MS:.0f}"
        f" move_ms<{TARGET_MOVE_MS:.0f} longest_write_ms<{TARGET_WRITE_MS:.0f})"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        print(asyncio.run(run(Path(tmp))))


if __name__ == "__main__":
    main()

"""Check-ins at scale: 1,000,000 check-ins from 5,000 members in 50 groups over 3 years.

Figures: closing and snapshotting one group's month, building a 12-month /trends view (chart
reported apart), and check-in writes through the service. Run alone with
`python -m bench.trends`, or as part of `make bench`.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.checkins import charts, entries, trends
from bot.checkins.crypto import NoteKeys
from bot.checkins.entries import Answers
from bot.db import open_database, transaction
from bot.groups import service as groups
from bot.groups.model import GroupSettings
from bot.migrate import migrate

GROUPS = 50
MEMBERS = 5_000
CHECKINS = 1_000_000
MONTHS = 36
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
K = 5
WRITES = 3_000
KEY = "Xn6OyW7Y3Y7Jb2bq0Xx3kq3n0p6lUQ4wY6s3b9bYc1E="


def months_back(count: int) -> list[str]:
    return trends.closed_months(NOW, "Europe/London", count)


def line(name: str, value: float, unit: str, target: str) -> None:
    print(f"{name:<44} {value:10.2f} {unit:<4} target {target}")


async def run(folder: Path) -> dict[str, float]:
    rng = random.Random(7)
    keys = NoteKeys.from_keys([KEY], b"bench-member-secret-32-bytes-xxx")
    path = folder / "trends.sqlite3"
    await migrate(path, NOW)
    conn = await open_database(path)
    try:
        made = []
        for number in range(GROUPS):
            made.append(
                await groups.create_group(
                    conn,
                    1,
                    GroupSettings(f"Group {number}", 2, 3, None, "Europe/London"),
                    NOW,
                )
            )
        member_group = {m: made[m % GROUPS] for m in range(1, MEMBERS + 1)}
        member_keys = {m: keys.member_key(m) for m in member_group}
        months = months_back(MONTHS)
        started = time.perf_counter()
        rows = []
        for _ in range(CHECKINS):
            member = rng.randint(1, MEMBERS)
            month = months[rng.randrange(MONTHS)]
            score = rng.randint(1, 5)
            rows.append(
                (
                    member_keys[member],
                    member_group[member].id,
                    month,
                    f"{month}-15T12:00:00+00:00",
                    score,
                    6 - score,
                    rng.randint(1, 5),
                )
            )
        async with transaction(conn):
            await conn.executemany(
                "INSERT INTO checkins (member_key, group_id, month, created_at, mood, stress, "
                "supported) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            await conn.executemany(
                "INSERT INTO group_members (group_id, user_id, joined_at) VALUES (?, ?, ?)",
                [(g.id, m, NOW.isoformat()) for m, g in member_group.items()],
            )
        print(f"(loaded {CHECKINS:,} check-ins in {time.perf_counter() - started:.1f} s)")

        # Close and snapshot one month for a group (each sample a fresh group/month).
        snapshot_samples = []
        for number in range(10):
            group = made[number]
            start = time.perf_counter()
            await trends.snapshot_month(conn, group, months[-1], K, NOW)
            snapshot_samples.append(time.perf_counter() - start)

        # The 12-month view once snapshots exist (what facilitators see every time after).
        view_samples = []
        group = made[20]
        await trends.view_trends(conn, group, 42, K, NOW)
        for _ in range(20):
            start = time.perf_counter()
            shown = await trends.view_trends(conn, group, 42, K, NOW)
            view_samples.append(time.perf_counter() - start)
        first_view = []
        for number in range(30, 35):
            start = time.perf_counter()
            await trends.view_trends(conn, made[number], 42, K, NOW)
            first_view.append(time.perf_counter() - start)

        chart_samples = []
        for _ in range(5):
            start = time.perf_counter()
            await asyncio.to_thread(charts.trends_chart, shown, group.name)
            chart_samples.append(time.perf_counter() - start)

        # Check-in writes through the service (membership check, encryption, one transaction
        # each), with a note on every third.
        writer_group = made[0]
        start = time.perf_counter()
        for number in range(WRITES):
            member = GROUPS * (1 + number % (MEMBERS // GROUPS))  # members of group 0
            note = "a few words about the week" if number % 3 == 0 else None
            await entries.record_checkin(
                conn,
                keys,
                writer_group,
                member,
                Answers(3, 3, 3),
                note,
                NOW + timedelta(seconds=number),
            )
        writes_per_s = WRITES / (time.perf_counter() - start)
    finally:
        await conn.close()
    return {
        "snapshot_ms": statistics.median(snapshot_samples) * 1000,
        "trends_12m_ms": statistics.median(view_samples) * 1000,
        "trends_first_view_ms": statistics.median(first_view) * 1000,
        "chart_ms": statistics.median(chart_samples) * 1000,
        "checkin_writes_per_s": writes_per_s,
    }


def report(figures: dict[str, float]) -> None:
    line("close and snapshot one group's month", figures["snapshot_ms"], "ms", "(reported)")
    line("12-month /trends view (snapshots stored)", figures["trends_12m_ms"], "ms", "< 100 ms")
    line(
        "12-month /trends view, first (12 snapshots)",
        figures["trends_first_view_ms"],
        "ms",
        "(reported)",
    )
    line("trends chart (PNG, apart from the view)", figures["chart_ms"], "ms", "(reported)")
    line("check-in writes through the service", figures["checkin_writes_per_s"], "/s", "> 2000/s")
    print(
        f"trends_12m_ms={figures['trends_12m_ms']:.2f} snapshot_ms={figures['snapshot_ms']:.2f} "
        f"chart_ms={figures['chart_ms']:.2f} "
        f"checkin_writes_per_s={figures['checkin_writes_per_s']:.0f}"
    )


def main(folder: Path | None = None) -> None:
    print(
        f"Check-in trends: {CHECKINS:,} check-ins, {MEMBERS:,} members, {GROUPS} groups, "
        f"{MONTHS} months"
    )
    if folder is not None:
        report(asyncio.run(run(folder)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        report(asyncio.run(run(Path(tmp))))


if __name__ == "__main__":
    main()

"""Group wellbeing trends: closed calendar months only, computed once, shown only when enough
members contributed.

The privacy rules live here and nowhere else:

* One fixed bucket: the calendar month in the group's zone. Nothing can narrow it.
* Each member's entries in a month are averaged first, so a frequent member cannot dominate.
* A month is shown only when at least K members contributed *not counting the viewer*. The
  viewer is always counted out (n - 1 >= K), whoever they are, so what is shown never depends on
  who asks and cannot tell anyone whether the viewer checked in.
* A month is computed once, after it closed, and that snapshot is what is shown from then on:
  later entries or deletions change nothing, so watching the numbers reveals nobody.
* Counts are bands, means are rounded to 0.5, a coarse distribution only from 10 members.
  A suppressed snapshot stores no numbers at all.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.db import transaction
from bot.groups.model import Group
from bot.groups.service import live_groups
from bot.zones import load_zone

MEASURES = ("mood", "stress", "supported")
MONTHS_SHOWN = 12
DISTRIBUTION_FROM = 10
PRIVACY_FLOOR = 5
"""The lowest K Holdfast accepts (config refuses anything below)."""


@dataclass(frozen=True)
class MonthEntry:
    member: str
    mood: int
    stress: int
    supported: int


@dataclass(frozen=True)
class MonthTrend:
    month: str
    """YYYY-MM in the group's zone."""
    shown: bool
    band: str | None = None
    mood: float | None = None
    stress: float | None = None
    supported: float | None = None
    distribution: dict[str, tuple[int, int, int]] | None = None
    """Per measure: rough percentages of members low / in the middle / high."""


def band_for(members: int) -> str:
    if members >= 20:
        return "20+"
    if members >= 10:
        return "10–19"
    return "5–9"


def round_half(value: float) -> float:
    """To the nearest 0.5, halves away from zero (no banker's rounding surprises)."""
    return math.floor(value * 2 + 0.5) / 2


def _round_ten(share: float) -> int:
    return int(math.floor(share * 10 + 0.5) * 10)


def summarise(month: str, entries: Iterable[MonthEntry], k: int) -> MonthTrend:
    """The month as facilitators may see it, from every entry in it (pure)."""
    by_member: dict[str, list[MonthEntry]] = defaultdict(list)
    for entry in entries:
        by_member[entry.member].append(entry)
    members = len(by_member)
    # The viewer is always counted out: shown only with K others besides them.
    if members - 1 < k:
        return MonthTrend(month=month, shown=False)
    averages: dict[str, list[float]] = {name: [] for name in MEASURES}
    for rows in by_member.values():
        for name in MEASURES:
            averages[name].append(sum(getattr(r, name) for r in rows) / len(rows))
    means = {name: round_half(sum(vals) / len(vals)) for name, vals in averages.items()}
    distribution: dict[str, tuple[int, int, int]] | None = None
    if members >= DISTRIBUTION_FROM:
        distribution = {}
        for name, vals in averages.items():
            low = sum(1 for v in vals if v < 2.5) / members
            high = sum(1 for v in vals if v > 3.5) / members
            distribution[name] = (_round_ten(low), _round_ten(1 - low - high), _round_ten(high))
    return MonthTrend(
        month=month,
        shown=True,
        band=band_for(members),
        mood=means["mood"],
        stress=means["stress"],
        supported=means["supported"],
        distribution=distribution,
    )


def current_month(now: datetime, zone: str) -> str:
    return now.astimezone(load_zone(zone)).strftime("%Y-%m")


def closed_months(now: datetime, zone: str, count: int = MONTHS_SHOWN) -> list[str]:
    """The `count` calendar months before the current one in `zone`, oldest first."""
    local = now.astimezone(load_zone(zone))
    year, month = local.year, local.month
    months: list[str] = []
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        months.append(f"{year:04d}-{month:02d}")
    return months[::-1]


SELECT_MONTH_ENTRIES = """
SELECT member_key, mood, stress, supported
FROM checkins
WHERE group_id = :group_id AND month = :month
"""

SELECT_SNAPSHOTS = """
SELECT month, shown, band, mood, stress, supported, distribution
FROM trend_snapshots
WHERE group_id = :group_id AND month >= :first AND month <= :last
"""

INSERT_SNAPSHOT = """
INSERT INTO trend_snapshots (
    group_id, month, shown, band, mood, stress, supported, distribution, computed_at
)
VALUES (
    :group_id, :month, :shown, :band, :mood, :stress, :supported, :distribution, :computed_at
)
ON CONFLICT (group_id, month) DO NOTHING
"""

INSERT_AUDIT = """
INSERT INTO trend_audit (group_id, viewer_id, viewed_at, months)
VALUES (:group_id, :viewer_id, :viewed_at, :months)
"""

SELECT_AUDIT = """
SELECT a.viewer_id, a.viewed_at, a.months, g.name AS group_name
FROM trend_audit AS a
JOIN groups AS g ON g.id = a.group_id
WHERE g.guild_id = :guild_id
ORDER BY a.viewed_at DESC, a.id DESC
LIMIT :limit
"""


def _from_row(row: aiosqlite.Row) -> MonthTrend:
    raw = row["distribution"]
    distribution = (
        {k: (int(v[0]), int(v[1]), int(v[2])) for k, v in json.loads(raw).items()} if raw else None
    )
    return MonthTrend(
        month=row["month"],
        shown=bool(row["shown"]),
        band=row["band"],
        mood=row["mood"],
        stress=row["stress"],
        supported=row["supported"],
        distribution=distribution,
    )


async def _month_entries(conn: aiosqlite.Connection, group_id: int, month: str) -> list[MonthEntry]:
    async with conn.execute(SELECT_MONTH_ENTRIES, {"group_id": group_id, "month": month}) as cur:
        rows = await cur.fetchall()
    return [MonthEntry(r[0], r[1], r[2], r[3]) for r in rows]


async def _snapshot(
    conn: aiosqlite.Connection, group: Group, month: str, k: int, now: datetime
) -> None:
    """Compute and store a closed month (inside the caller's transaction); a month already
    stored is left exactly as it is."""
    if month >= current_month(now, group.timezone):
        raise ValueError(f"month {month} has not closed yet in {group.timezone}")
    trend = summarise(month, await _month_entries(conn, group.id, month), k)
    await conn.execute(
        INSERT_SNAPSHOT,
        {
            "group_id": group.id,
            "month": month,
            "shown": int(trend.shown),
            "band": trend.band,
            "mood": trend.mood,
            "stress": trend.stress,
            "supported": trend.supported,
            "distribution": json.dumps(trend.distribution) if trend.distribution else None,
            "computed_at": now.isoformat(),
        },
    )


async def _stored(
    conn: aiosqlite.Connection, group_id: int, months: Sequence[str]
) -> dict[str, MonthTrend]:
    async with conn.execute(
        SELECT_SNAPSHOTS, {"group_id": group_id, "first": months[0], "last": months[-1]}
    ) as cursor:
        return {row["month"]: _from_row(row) for row in await cursor.fetchall()}


async def snapshot_month(
    conn: aiosqlite.Connection, group: Group, month: str, k: int, now: datetime
) -> MonthTrend:
    async with transaction(conn):
        await _snapshot(conn, group, month, k, now)
    return (await _stored(conn, group.id, [month]))[month]


async def snapshot_closed_months(conn: aiosqlite.Connection, k: int, now: datetime) -> int:
    """For the scheduler: snapshot each live group's month that just closed, once."""
    made = 0
    for group in await live_groups(conn):
        month = closed_months(now, group.timezone, 1)[0]
        if month not in await _stored(conn, group.id, [month]):
            async with transaction(conn):
                await _snapshot(conn, group, month, k, now)
            made += 1
    return made


async def view_trends(
    conn: aiosqlite.Connection, group: Group, viewer_id: int, k: int, now: datetime
) -> list[MonthTrend]:
    """The last 12 closed months, oldest first, snapshotting any not yet stored; the view is
    written to the audit log in the same transaction."""
    months = closed_months(now, group.timezone)
    async with transaction(conn):
        stored = await _stored(conn, group.id, months)
        for month in months:
            if month not in stored:
                await _snapshot(conn, group, month, k, now)
        await conn.execute(
            INSERT_AUDIT,
            {
                "group_id": group.id,
                "viewer_id": viewer_id,
                "viewed_at": now.isoformat(),
                "months": f"{months[0]} to {months[-1]}",
            },
        )
    stored = await _stored(conn, group.id, months)
    return [stored[m] for m in months]


FORMER_FACILITATOR = 0
"""The viewer of an audit row whose viewer deleted their data: the record of the view stays,
the person's id goes (no Discord id is 0)."""


@dataclass(frozen=True)
class AuditEntry:
    viewer_id: int | None
    """None: a former facilitator, who has since deleted their data."""
    viewed_at: datetime
    group_name: str
    months: str


async def audit_log(conn: aiosqlite.Connection, guild_id: int, limit: int = 20) -> list[AuditEntry]:
    async with conn.execute(SELECT_AUDIT, {"guild_id": guild_id, "limit": limit}) as cursor:
        rows = await cursor.fetchall()
    return [
        AuditEntry(
            viewer_id=None if row["viewer_id"] == FORMER_FACILITATOR else row["viewer_id"],
            viewed_at=datetime.fromisoformat(row["viewed_at"]),
            group_name=row["group_name"],
            months=row["months"],
        )
        for row in rows
    ]

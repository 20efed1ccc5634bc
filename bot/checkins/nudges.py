"""The opt-in check-in nudge: a DM, weekly or monthly, at a time and zone the member picks.

Off unless the member turns it on. Each nudge is a row in the outbox (scope `nudge:<user>`),
planned one at a time: setting the preference plans the next one, and `plan_all` (run hourly)
plans the one after once a nudge has gone. A nudge is only a way in; it says nothing about any
check-in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

import aiosqlite

from bot.checkins.card import start_button
from bot.db import transaction
from bot.delivery.dispatcher import RenderContext, Skip
from bot.delivery.outbox import Delivery, PlannedDelivery, iso, replan, replan_many
from bot.delivery.port import Destination, OutgoingMessage
from bot.errors import HoldfastError
from bot.groups.service import check_timezone
from bot.meetings.recurrence import RuleError, parse_local_time, resolve_local
from bot.texts import checkins as texts
from bot.zones import load_zone

KIND = "checkin_nudge"
# A nudge is still welcome a little late (after downtime), but not the next day.
STAYS_USEFUL = timedelta(hours=6)
Cadence = Literal["weekly", "monthly"]
DEFAULT_TIME = "19:00"
WEEKDAY_NAMES = tuple(name.casefold() for name in texts.WEEKDAYS)

UPSERT_NUDGE = """
INSERT INTO checkin_nudges (user_id, cadence, day, local_time, timezone, updated_at)
VALUES (:user_id, :cadence, :day, :local_time, :timezone, :now)
ON CONFLICT (user_id) DO UPDATE
    SET cadence = excluded.cadence, day = excluded.day, local_time = excluded.local_time,
        timezone = excluded.timezone, updated_at = excluded.updated_at
"""

DELETE_NUDGE = """
DELETE FROM checkin_nudges
WHERE user_id = :user_id
"""

SELECT_NUDGE = """
SELECT user_id, cadence, day, local_time, timezone
FROM checkin_nudges
WHERE user_id = :user_id
"""

SELECT_ALL_NUDGES = """
SELECT user_id, cadence, day, local_time, timezone
FROM checkin_nudges
"""

# Every member's nudge still to send, in one read: what is already planned, and whether it is
# due (at its very instant, or waiting for a retry after a Discord error), in which case the
# dispatcher sends it, or skips it once it is no longer useful.
SELECT_PENDING_NUDGES = """
SELECT scope, idempotency_key, due_at, due_at <= :now AS due
FROM outbox
WHERE scope IN (SELECT value FROM json_each(:scopes)) AND state = 'pending'
"""


@dataclass(frozen=True)
class Nudge:
    user_id: int
    cadence: Cadence
    day: int
    """weekly: 0 = Monday … 6 = Sunday; monthly: day of the month, 1–28."""
    local_time: time
    zone: str

    def __post_init__(self) -> None:
        ok = 0 <= self.day <= 6 if self.cadence == "weekly" else 1 <= self.day <= 28
        if not ok:
            raise ValueError(f"day {self.day} does not fit a {self.cadence} nudge")


def parse_day(cadence: Cadence, day: str | None) -> int:
    """Weekly: a weekday or the start of one ("sun"), as 0 = Monday … 6 = Sunday. Monthly: a day
    from 1 to 28 (every month has one)."""
    text = (day or "").strip().casefold()
    if cadence == "weekly":
        matches = [i for i, name in enumerate(WEEKDAY_NAMES) if text and name.startswith(text)]
        if len(matches) != 1:
            raise HoldfastError(texts.nudge_day_needed(cadence))
        return matches[0]
    if not text.isdigit() or not 1 <= int(text) <= 28:
        raise HoldfastError(texts.nudge_day_needed(cadence))
    return int(text)


def parse_nudge(
    user_id: int, cadence: Cadence, day: str | None, at: str | None, zone: str
) -> Nudge:
    """A nudge from what the member typed (the time defaults to 19:00), or a kind error."""
    try:
        local_time = parse_local_time(at or DEFAULT_TIME)
    except RuleError as error:
        raise HoldfastError(str(error)) from None
    return Nudge(user_id, cadence, parse_day(cadence, day), local_time, check_timezone(zone))


def next_nudge_at(nudge: Nudge, after: datetime) -> datetime:
    """The first nudge strictly after `after`, at the member's wall-clock time in their zone
    (DST-safe: a time skipped by the clocks moves forward, a repeated one takes the first)."""
    zone = load_zone(nudge.zone)
    local_day = after.astimezone(zone).date()
    for offset in range(62):
        candidate_day = local_day + timedelta(days=offset)
        if _matches(nudge, candidate_day):
            instant = resolve_local(datetime.combine(candidate_day, nudge.local_time), zone)
            if instant > after:
                return instant
    raise AssertionError("a weekly or monthly day always comes round within 62 days")


def _matches(nudge: Nudge, day: date) -> bool:
    if nudge.cadence == "weekly":
        return day.weekday() == nudge.day
    return day.day == nudge.day


def scope(user_id: int) -> str:
    return f"nudge:{user_id}"


def planned(nudge: Nudge, now: datetime) -> PlannedDelivery:
    due = next_nudge_at(nudge, now)
    return PlannedDelivery(
        key=f"nudge:{nudge.user_id}:{due.isoformat()}",
        scope=scope(nudge.user_id),
        kind=KIND,
        destination=Destination(user_id=nudge.user_id),
        due_at=due,
        not_after=due + STAYS_USEFUL,
    )


def _from_row(row: aiosqlite.Row) -> Nudge:
    return Nudge(
        user_id=row["user_id"],
        cadence=row["cadence"],
        day=row["day"],
        local_time=time.fromisoformat(row["local_time"]),
        zone=row["timezone"],
    )


async def set_nudge(conn: aiosqlite.Connection, nudge: Nudge, now: datetime) -> datetime:
    """Turn the nudge on (or change it); returns when the first one comes."""
    plan = planned(nudge, now)
    async with transaction(conn):
        await conn.execute(
            UPSERT_NUDGE,
            {
                "user_id": nudge.user_id,
                "cadence": nudge.cadence,
                "day": nudge.day,
                "local_time": nudge.local_time.isoformat(timespec="minutes"),
                "timezone": nudge.zone,
                "now": now.isoformat(),
            },
        )
        await replan(conn, scope(nudge.user_id), [plan], now)
    return plan.due_at


async def stop_nudge(conn: aiosqlite.Connection, user_id: int, now: datetime) -> None:
    async with transaction(conn):
        await conn.execute(DELETE_NUDGE, {"user_id": user_id})
        await replan(conn, scope(user_id), [], now)


async def get_nudge(conn: aiosqlite.Connection, user_id: int) -> Nudge | None:
    async with conn.execute(SELECT_NUDGE, {"user_id": user_id}) as cursor:
        row = await cursor.fetchone()
    return _from_row(row) if row else None


async def plan_all(conn: aiosqlite.Connection, now: datetime) -> int:
    """Plan each member's next nudge (the one after a nudge already sent). Returns how many
    scopes changed. A nudge that is due and not yet sent is left to the dispatcher: planning
    the one after it now would cancel it. One short transaction whatever the number of
    members: what is planned is read once, and only the scopes that need a new nudge are
    written."""
    async with conn.execute(SELECT_ALL_NUDGES) as cursor:
        wanted = {
            scope(n.user_id): planned(n, now) for n in map(_from_row, await cursor.fetchall())
        }
    if not wanted:
        return 0
    async with transaction(conn):
        params = {"scopes": json.dumps(list(wanted)), "now": iso(now)}
        async with conn.execute(SELECT_PENDING_NUDGES, params) as cursor:
            pending = await cursor.fetchall()
        left_to_send = {str(row["scope"]) for row in pending if row["due"]}
        as_planned = {
            (str(row["scope"]), str(row["idempotency_key"]), str(row["due_at"])) for row in pending
        }
        changes = {
            name: [plan]
            for name, plan in wanted.items()
            if name not in left_to_send and (name, plan.key, iso(plan.due_at)) not in as_planned
        }
        if changes:
            await replan_many(conn, changes, now)
    return len(changes)


async def render_nudge(
    conn: aiosqlite.Connection, delivery: Delivery, context: RenderContext
) -> OutgoingMessage | Skip:
    user_id = delivery.destination.user_id
    if user_id is None or await get_nudge(conn, user_id) is None:
        return Skip("the member turned nudges off")
    return OutgoingMessage(content=texts.nudge_text(), buttons=(start_button(delivery.marker),))


RENDERERS = {KIND: render_nudge}

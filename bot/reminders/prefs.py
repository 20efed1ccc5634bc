"""Members' reminder preferences and per-group opt-ins: stored, read, and changed together
with the re-plan of every reminder they affect (one transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time

import aiosqlite

from bot.meetings.recurrence import Lead, parse_leads
from bot.reminders.model import Prefs, PrefsChange, QuietHours

SELECT_PREFS = """
SELECT user_id, leads, via, paused, quiet_start, quiet_end, timezone, nudge, missed_you
FROM reminder_prefs
WHERE user_id = :user_id
"""

UPSERT_PREFS = """
INSERT INTO reminder_prefs (
    user_id, leads, via, paused, quiet_start, quiet_end, timezone, nudge, missed_you, updated_at
)
VALUES (
    :user_id, :leads, :via, :paused, :quiet_start, :quiet_end, :timezone, :nudge, :missed_you,
    :now
)
ON CONFLICT (user_id) DO UPDATE
SET leads = excluded.leads, via = excluded.via, paused = excluded.paused,
    quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end,
    timezone = excluded.timezone, nudge = excluded.nudge, missed_you = excluded.missed_you,
    updated_at = excluded.updated_at
"""

SELECT_IS_OPTED_IN = """
SELECT 1
FROM reminder_optins
WHERE group_id = :group_id AND user_id = :user_id
"""

INSERT_OPT_IN = """
INSERT INTO reminder_optins (group_id, user_id, created_at)
VALUES (:group_id, :user_id, :now)
ON CONFLICT (group_id, user_id) DO NOTHING
"""

DELETE_OPT_IN = """
DELETE FROM reminder_optins
WHERE group_id = :group_id AND user_id = :user_id
"""


def _leads_text(leads: Sequence[Lead] | None) -> str | None:
    return ",".join(lead.text for lead in leads) if leads is not None else None


def from_row(row: aiosqlite.Row) -> Prefs:
    """A member's preferences from a row with reminder_prefs' columns (every one `_prefs`
    reads: a query elsewhere that selects them, e.g. reminders' SELECT_SOME_RECIPIENTS, names
    each)."""
    return _prefs(row)


def _prefs(row: aiosqlite.Row) -> Prefs:
    quiet = (
        QuietHours(time.fromisoformat(row["quiet_start"]), time.fromisoformat(row["quiet_end"]))
        if row["quiet_start"] is not None
        else None
    )
    return Prefs(
        user_id=int(row["user_id"]),
        leads=tuple(parse_leads(row["leads"])) if row["leads"] is not None else None,
        via=row["via"],
        paused=bool(row["paused"]),
        quiet=quiet,
        timezone=row["timezone"],
        nudge=bool(row["nudge"]),
        missed_you=bool(row["missed_you"]),
    )


async def get_prefs(conn: aiosqlite.Connection, user_id: int) -> Prefs:
    async with conn.execute(SELECT_PREFS, {"user_id": user_id}) as cursor:
        row = await cursor.fetchone()
    return _prefs(row) if row is not None else Prefs(user_id)


def changed(current: Prefs, change: PrefsChange) -> Prefs:
    leads = current.leads
    if change.use_default_leads:
        leads = None
    elif change.leads is not None:
        leads = change.leads
    quiet = None if change.clear_quiet else (change.quiet or current.quiet)
    return Prefs(
        user_id=current.user_id,
        leads=leads,
        via=change.via or current.via,
        paused=current.paused if change.paused is None else change.paused,
        quiet=quiet,
        timezone=change.timezone or current.timezone,
        nudge=current.nudge if change.nudge is None else change.nudge,
        missed_you=current.missed_you if change.missed_you is None else change.missed_you,
    )


async def store_prefs(conn: aiosqlite.Connection, prefs: Prefs, now: datetime) -> None:
    await conn.execute(
        UPSERT_PREFS,
        {
            "user_id": prefs.user_id,
            "leads": _leads_text(prefs.leads),
            "via": prefs.via,
            "paused": int(prefs.paused),
            "quiet_start": prefs.quiet.start.isoformat("minutes") if prefs.quiet else None,
            "quiet_end": prefs.quiet.end.isoformat("minutes") if prefs.quiet else None,
            "timezone": prefs.timezone,
            "nudge": int(prefs.nudge),
            "missed_you": int(prefs.missed_you),
            "now": now.isoformat(),
        },
    )


async def is_opted_in(conn: aiosqlite.Connection, group_id: int, user_id: int) -> bool:
    async with conn.execute(
        SELECT_IS_OPTED_IN, {"group_id": group_id, "user_id": user_id}
    ) as cursor:
        return await cursor.fetchone() is not None


async def store_opt_in(
    conn: aiosqlite.Connection, group_id: int, user_id: int, on: bool, now: datetime
) -> None:
    params = {"group_id": group_id, "user_id": user_id, "now": now.isoformat()}
    await conn.execute(INSERT_OPT_IN if on else DELETE_OPT_IN, params)

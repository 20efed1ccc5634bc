"""What admins and facilitators may know about deliveries: counts, never content or names.

A member whose DMs are closed is told privately (once per new failure) the next time they use
the bot; facilitators see only how many of their group's members could not be reached.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.delivery import outbox
from bot.delivery.port import CANNOT_DM

# A DM that failed because Discord refused it for good (50007), newer than when the member
# was last told, and not followed by a DM that got through.
SELECT_UNTOLD_UNREACHABLE = f"""
SELECT 1
FROM outbox AS o
LEFT JOIN reminder_prefs AS p ON p.user_id = o.user_id
WHERE o.user_id = :user_id AND o.state = 'failed'
  AND o.last_error LIKE '%({CANNOT_DM})%'
  AND o.updated_at > COALESCE(p.unreachable_told, '')
LIMIT 1
"""

MARK_TOLD = """
INSERT INTO reminder_prefs (user_id, unreachable_told, updated_at)
VALUES (:user_id, :now, :now)
ON CONFLICT (user_id) DO UPDATE
SET unreachable_told = excluded.unreachable_told
"""

COUNT_UNREACHABLE_IN_GROUP = f"""
SELECT COUNT(DISTINCT gm.user_id)
FROM group_members AS gm
JOIN outbox AS o ON o.user_id = gm.user_id AND o.state = 'failed'
WHERE gm.group_id = :group_id
  AND o.last_error LIKE '%({CANNOT_DM})%'
  AND NOT EXISTS (
      SELECT 1 FROM outbox AS later
      WHERE later.user_id = gm.user_id AND later.state = 'sent'
        AND later.sent_at > o.updated_at
  )
"""

# /status is per server: an admin sees their own server's deliveries and nobody else's.
# (Check-in nudges belong to a member, not a server, and carry no guild_id: never counted.)
COUNT_BY_STATE_IN_GUILD = """
SELECT state, COUNT(*)
FROM outbox
WHERE guild_id = :guild_id
GROUP BY state
"""

SELECT_NEXT_DUE_IN_GUILD = """
SELECT MIN(next_attempt_at)
FROM outbox
WHERE guild_id = :guild_id AND state = 'pending'
"""

SELECT_LAST_ERRORS = """
SELECT kind, last_error
FROM outbox
WHERE guild_id = :guild_id AND state = 'failed' AND last_error IS NOT NULL
ORDER BY updated_at DESC, id DESC
LIMIT :limit
"""


@dataclass(frozen=True)
class DeliveryStatus:
    counts: dict[str, int]
    next_due: datetime | None
    last_errors: list[tuple[str, str]]
    """(kind, reason): reasons name what went wrong, never who or what was said."""


async def delivery_status(
    conn: aiosqlite.Connection, guild_id: int, limit: int = 3
) -> DeliveryStatus:
    """One server's deliveries: counts by state, the next due time, the last failure reasons."""
    params = {"guild_id": guild_id}
    counts: dict[str, int] = dict.fromkeys(outbox.STATES, 0)
    async with conn.execute(COUNT_BY_STATE_IN_GUILD, params) as cursor:
        for state, count in await cursor.fetchall():
            counts[str(state)] = int(count)
    async with conn.execute(SELECT_NEXT_DUE_IN_GUILD, params) as cursor:
        row = await cursor.fetchone()
    next_due = outbox.parse(row[0]) if row is not None and row[0] is not None else None
    async with conn.execute(SELECT_LAST_ERRORS, {**params, "limit": limit}) as cursor:
        errors = [(str(row[0]), str(row[1])) for row in await cursor.fetchall()]
    return DeliveryStatus(counts, next_due, errors)


async def should_tell_unreachable(conn: aiosqlite.Connection, user_id: int) -> bool:
    async with conn.execute(SELECT_UNTOLD_UNREACHABLE, {"user_id": user_id}) as cursor:
        return await cursor.fetchone() is not None


async def mark_told(conn: aiosqlite.Connection, user_id: int, now: datetime) -> None:
    await conn.execute(MARK_TOLD, {"user_id": user_id, "now": outbox.iso(now)})


async def unreachable_count(conn: aiosqlite.Connection, group_id: int) -> int:
    async with conn.execute(COUNT_UNREACHABLE_IN_GROUP, {"group_id": group_id}) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row is not None else 0

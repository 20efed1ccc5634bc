"""Members' DM channel ids, kept so a second message costs one request (the send), not two
(opening the DM, then the send). discord.py keeps only the last 128 DM channels in memory."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import aiosqlite

from bot.db import transaction
from bot.delivery.outbox import iso

SELECT_DM_CHANNEL = """
SELECT channel_id
FROM dm_channels
WHERE user_id = :user_id
"""

UPSERT_DM_CHANNEL = """
INSERT INTO dm_channels (user_id, channel_id, stored_at)
VALUES (:user_id, :channel_id, :now)
ON CONFLICT (user_id) DO UPDATE
SET channel_id = excluded.channel_id, stored_at = excluded.stored_at
"""

DELETE_DM_CHANNEL = """
DELETE FROM dm_channels
WHERE user_id = :user_id
"""


class DmChannels:
    """Stored in the database, with a copy in memory. Used by the delivery port only, on the
    dispatcher's own connection (never inside another transaction)."""

    def __init__(self, conn: aiosqlite.Connection, now: Callable[[], datetime]) -> None:
        self.conn = conn
        self.now = now
        self._known: dict[int, int] = {}

    async def get(self, user_id: int) -> int | None:
        if user_id in self._known:
            return self._known[user_id]
        async with self.conn.execute(SELECT_DM_CHANNEL, {"user_id": user_id}) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        self._known[user_id] = int(row[0])
        return self._known[user_id]

    async def put(self, user_id: int, channel_id: int) -> None:
        if self._known.get(user_id) == channel_id:
            return
        self._known[user_id] = channel_id
        async with transaction(self.conn):
            await self.conn.execute(
                UPSERT_DM_CHANNEL,
                {"user_id": user_id, "channel_id": channel_id, "now": iso(self.now())},
            )

    async def forget(self, user_id: int) -> None:
        self._known.pop(user_id, None)
        async with transaction(self.conn):
            await self.conn.execute(DELETE_DM_CHANNEL, {"user_id": user_id})

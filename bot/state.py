"""Small facts the runtime keeps between restarts, in the `bot_state` table."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import aiosqlite

SELECT_STATE = """
SELECT value
FROM bot_state
WHERE key = :key
"""

UPSERT_STATE = """
INSERT INTO bot_state (key, value, updated_at)
VALUES (:key, :value, :updated_at)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
"""


DELETE_STATE = """
DELETE FROM bot_state
WHERE key = :key
"""


async def read_state(conn: aiosqlite.Connection, key: str) -> str | None:
    async with conn.execute(SELECT_STATE, {"key": key}) as cursor:
        row = await cursor.fetchone()
    return str(row[0]) if row else None


async def write_state(conn: aiosqlite.Connection, key: str, value: str, now: datetime) -> None:
    await conn.execute(UPSERT_STATE, {"key": key, "value": value, "updated_at": now.isoformat()})


def command_set_digest(application_id: int, payload: list[dict[str, Any]]) -> str:
    """A stable fingerprint of the command set Discord would receive in a sync."""
    ordered = sorted(payload, key=lambda command: (command.get("type", 1), command["name"]))
    canonical = json.dumps([application_id, ordered], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def command_sync_key(guild_id: int | None) -> str:
    return f"command_sync:{guild_id if guild_id is not None else 'global'}"


async def clear_state(conn: aiosqlite.Connection, key: str) -> None:
    await conn.execute(DELETE_STATE, {"key": key})


def events_forbidden_key(group_id: int) -> str:
    return f"events_forbidden:{group_id}"

"""A big write's pages are copied from the WAL into the database file by the bot's heartbeat,
not on the commit of whoever wrote them: SQLite's automatic checkpoint runs on the call of the
commit that takes the WAL past `wal_autocheckpoint` pages (sqlite3_wal_autocheckpoint), so a
member's click would wait while a big re-plan's pages were copied."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.db import WAL_BACKSTOP_PAGES, copy_wal_back, open_database, transaction
from bot.migrate import migrate

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
INSERT_STATE = """
INSERT INTO bot_state (key, value, updated_at)
VALUES (:key, :value, :now)
"""
# More than SQLite's default of 1,000 pages, well under the backstop.
PAGES = 1_500


async def test_a_big_commit_leaves_its_pages_in_the_wal_until_they_are_copied_back(
    tmp_path: Path,
) -> None:
    assert PAGES < WAL_BACKSTOP_PAGES
    path = tmp_path / "holdfast.sqlite3"
    await migrate(path, NOW)
    conn = await open_database(path)
    try:
        before = path.stat().st_size
        async with transaction(conn):
            await conn.executemany(
                INSERT_STATE,
                [{"key": f"ballast:{n}", "value": "x" * 4000, "now": ""} for n in range(PAGES)],
            )
        assert path.stat().st_size == before, "the commit copied the WAL back on its own time"
        copied = await copy_wal_back(conn)
        assert copied >= PAGES
        assert path.stat().st_size >= before + PAGES * 4000
        assert await copy_wal_back(conn) == copied  # nothing new: the same frames, all copied
    finally:
        await conn.close()

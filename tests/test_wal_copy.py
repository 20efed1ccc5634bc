"""A big write's pages are copied from the WAL into the database file by the bot's keeper, on a
connection of its own, not on the commit of whoever wrote them: SQLite's automatic checkpoint
runs on the call of the commit that takes the WAL past `wal_autocheckpoint` pages
(sqlite3_wal_autocheckpoint), so a member's click would wait while a big re-plan's pages were
copied."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.db import WAL_BACKSTOP_PAGES, copy_wal_back, keep_wal_copied, open_database, transaction
from bot.migrate import migrate
from tests.emulator.harness import poll_until

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
INSERT_STATE = """
INSERT INTO bot_state (key, value, updated_at)
VALUES (:key, :value, :now)
"""
# More than SQLite's default of 1,000 pages, well under the backstop.
PAGES = 1_500


def ballast(pages: int) -> list[dict[str, str]]:
    return [{"key": f"ballast:{n}", "value": "x" * 4000, "now": ""} for n in range(pages)]


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
            await conn.executemany(INSERT_STATE, ballast(PAGES))
        assert path.stat().st_size == before, "the commit copied the WAL back on its own time"
        copied = await copy_wal_back(conn)
        assert copied >= PAGES
        assert path.stat().st_size >= before + PAGES * 4000
        assert await copy_wal_back(conn) == copied  # nothing new: the same frames, all copied
    finally:
        await conn.close()


async def test_the_keeper_copies_another_connections_pages_back_while_it_stays_open(
    tmp_path: Path,
) -> None:
    path = tmp_path / "holdfast.sqlite3"
    await migrate(path, NOW)
    conn = await open_database(path)
    keeper = asyncio.create_task(keep_wal_copied(path, every=0.05))
    try:
        before = path.stat().st_size
        async with transaction(conn):
            await conn.executemany(INSERT_STATE, ballast(PAGES))
        await poll_until(
            lambda: path.stat().st_size >= before + PAGES * 4000 or None,
            what="the keeper to copy the WAL into the database file",
            timeout=10,
        )
        # The writer's connection is still open and usable: the keeper took nothing from it.
        async with conn.execute("SELECT COUNT(*) FROM bot_state") as cursor:
            row = await cursor.fetchone()
        assert row is not None
        assert row[0] >= PAGES
    finally:
        keeper.cancel()
        await asyncio.gather(keeper, return_exceptions=True)
        await conn.close()


async def test_the_keeper_says_why_it_cannot_start_and_leaves_the_backstop(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "not-a-database.sqlite3"
    path.write_bytes(b"this is not SQLite" * 100)
    with caplog.at_level(logging.WARNING, logger="bot.db"):
        await asyncio.wait_for(keep_wal_copied(path, every=0.05), 10)  # returns, raises nothing
    [record] = [r for r in caplog.records if r.name == "bot.db"]
    assert "could not open a connection to copy the write-ahead log back" in record.getMessage()

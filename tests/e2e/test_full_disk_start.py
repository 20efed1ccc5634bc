"""The disk fills while `run` starts: the admin reads where and what to do, not a traceback.

The bot runs as a real process against the emulator with a file-size limit (RLIMIT_FSIZE,
SIGXFSZ ignored), so its writes fail with EFBIG as they would on a full disk.
"""

from __future__ import annotations

import resource
import signal
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from bot.migrate import migrate
from tests.e2e.process import BotProcess
from tests.emulator.server import Emulator

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


LIMIT = 100
"""Bytes any file of the bot process may grow to."""


def full_disk() -> None:
    """In the bot's process: no file may grow past LIMIT bytes, and writing past it fails with
    EFBIG (SIGXFSZ ignored), as on a full disk."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


async def test_a_full_disk_while_starting_names_the_folder_and_leaves_no_half_key_file(
    bot_process: BotProcess, emulator: Emulator, tmp_path: Path
) -> None:
    settings = bot_process.settings
    database = settings.DATABASE_PATH
    await migrate(database, NOW)
    # Another reader keeps the -wal and a full-sized -shm in place, so opening and checking the
    # up-to-date database needs no room: the first write of the start (the generated key file)
    # is the one that finds the disk full.
    reader = sqlite3.connect(database)
    try:
        reader.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()
        process = BotProcess(settings, cwd=tmp_path, preexec=full_disk)
        try:
            await process.start(wait_ready=False)
            assert await process.wait_exit() == 1
        finally:
            await process.cleanup()
    finally:
        reader.close()
    out = process.output
    assert f"Holdfast could not write to {database.parent}: the disk is full" in out, out
    assert "Traceback" not in out
    assert "could not reach Discord" not in out
    assert "unexpected problem" not in out
    assert not database.with_name(database.name + ".keys").exists()
    assert not database.with_name(database.name + ".keys.partial").exists()

"""A second connection opened in the same process must not cost the first its locks: otherwise
another process closing a reader takes the database as unused, checkpoints and deletes the WAL,
and writes made after that are silently lost (found by the 200-member crash test)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.db import open_database
from bot.migrate import migrate

READ_AND_CLOSE = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); {body}; c.close()"


def other_process(path: Path, body: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", READ_AND_CLOSE.format(body=body), str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return done.stdout.strip()


async def test_writes_survive_another_process_closing_a_reader(tmp_path: Path) -> None:
    path = tmp_path / "holdfast.sqlite3"
    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    await migrate(path, now)
    first = await open_database(path)
    second = await open_database(path)  # as the bot does: commands and deliveries apart
    try:
        await first.execute("INSERT INTO bot_state (key, value, updated_at) VALUES ('a', '1', '')")
        other_process(path, "c.execute('SELECT COUNT(*) FROM bot_state').fetchone()")
        await first.execute("INSERT INTO bot_state (key, value, updated_at) VALUES ('b', '2', '')")
        seen = other_process(
            path, "print(c.execute('SELECT group_concat(key) FROM bot_state').fetchone()[0])"
        )
    finally:
        await second.close()
        await first.close()
    assert seen == "a,b"

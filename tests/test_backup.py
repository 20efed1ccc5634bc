from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.backup import BackupError, backup_database
from bot.migrate import migrate

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


async def make_db(tmp_path: Path) -> Path:
    db = tmp_path / "live.sqlite3"
    await migrate(db, NOW)
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE counter (n INTEGER NOT NULL)")
    conn.commit()
    conn.close()
    return db


async def test_backup_of_a_database_being_written_to(tmp_path: Path) -> None:
    db = await make_db(tmp_path)
    stop = threading.Event()
    started = threading.Event()
    written: list[int] = []

    def writer() -> None:
        conn = sqlite3.connect(db, timeout=30)
        conn.execute("PRAGMA journal_mode = WAL")
        n = 0
        while not stop.is_set() and n < 20000:
            n += 1
            # Two rows per transaction: a consistent copy always has an even count.
            conn.execute("INSERT INTO counter (n) VALUES (?)", (n,))
            conn.execute("INSERT INTO counter (n) VALUES (?)", (-n,))
            conn.commit()
            written.append(n)
            if n == 50:
                started.set()
        conn.close()
        started.set()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert started.wait(10), "the writer never got going"
        copies = [backup_database(db, tmp_path / f"copy-{i}.sqlite3") for i in range(3)]
    finally:
        stop.set()
        thread.join(30)

    for copy in copies:
        conn = sqlite3.connect(copy)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            count, total = conn.execute(
                "SELECT COUNT(*), COALESCE(SUM(n), 0) FROM counter"
            ).fetchone()
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
        assert count % 2 == 0
        assert total == 0
        assert count >= 100
        assert "schema_migrations" in tables
    assert written, "the writer kept writing during the backups"


async def test_backup_never_overwrites(tmp_path: Path) -> None:
    db = await make_db(tmp_path)
    target = tmp_path / "keep.sqlite3"
    target.write_bytes(b"precious")
    with pytest.raises(BackupError, match="will not overwrite"):
        backup_database(db, target)
    assert target.read_bytes() == b"precious"


async def test_backup_into_a_folder(tmp_path: Path) -> None:
    db = await make_db(tmp_path)
    folder = tmp_path / "backups"
    folder.mkdir()
    written = backup_database(db, folder)
    assert written.parent == folder
    assert written.exists()
    assert not list(folder.glob("*.partial"))


def test_backup_of_a_missing_database_says_so(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="no database"):
        backup_database(tmp_path / "absent.sqlite3", tmp_path / "copy.sqlite3")

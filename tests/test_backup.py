from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.backup import BackupError, backup_and_keep, backup_database
from bot.config import Settings
from bot.migrate import migrate

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent


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


# --- dated copies, keeping the newest N (the nightly timer) ---------------------------------


async def test_dated_backups_keep_only_the_newest_n_and_touch_nothing_else(
    tmp_path: Path,
) -> None:
    db = await make_db(tmp_path)
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "notes.txt").write_text("the admin's own file")
    (folder / "live-manual.sqlite3").write_bytes(b"")
    nights = [datetime(2026, 11, day, 3, 0, tzinfo=UTC) for day in range(20, 26)]
    for night in nights:
        rotation = backup_and_keep(db, folder, 3, night)
    assert rotation.written.name == "live-20261125T030000Z.sqlite3"
    assert [p.name for p in rotation.removed] == ["live-20261122T030000Z.sqlite3"]
    assert sorted(p.name for p in folder.iterdir()) == [
        "live-20261123T030000Z.sqlite3",
        "live-20261124T030000Z.sqlite3",
        "live-20261125T030000Z.sqlite3",
        "live-manual.sqlite3",
        "notes.txt",
    ]
    copy = sqlite3.connect(rotation.written)
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    copy.close()
    assert rotation.written.stat().st_mode & 0o777 == 0o600


async def test_keep_needs_a_folder_and_at_least_one(tmp_path: Path) -> None:
    db = await make_db(tmp_path)
    with pytest.raises(BackupError, match="keep at least 1"):
        backup_and_keep(db, tmp_path / "b", 0, NOW)
    (tmp_path / "file").write_text("")
    with pytest.raises(BackupError, match="give a folder"):
        backup_and_keep(db, tmp_path / "file", 2, NOW)


async def test_the_backup_command_with_keep_as_the_timer_runs_it(tmp_path: Path) -> None:
    db = await make_db(tmp_path)
    folder = tmp_path / "backups"
    for day in (1, 2, 3):
        backup_and_keep(db, folder, 5, datetime(2026, 1, day, tzinfo=UTC))
    key_file = tmp_path / "live.sqlite3.keys"
    key_file.write_text("k\n")
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    env.update(DATABASE_PATH=str(db), PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-m", "bot", "backup", "--keep", "2", str(folder)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result
    assert "removed 2 older one(s), keeping the newest 2" in result.stdout
    assert f"need the key file {key_file}" in result.stdout
    names = sorted(p.name for p in folder.iterdir())
    assert len(names) == 2
    assert names[0] == "live-20260103T000000Z.sqlite3"
    bad = subprocess.run(
        [sys.executable, "-m", "bot", "backup", "--keep", "none", str(folder)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip() == "--keep: 'none' is not a whole number of 1 or more."

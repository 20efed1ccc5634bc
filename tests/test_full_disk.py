"""A full disk, as an admin meets it: real subprocesses whose file writes fail for lack of room.

The disk is filled portably with the process's file-size limit (RLIMIT_FSIZE, `ulimit -f`): a
write past it fails with EFBIG (SIGXFSZ is ignored), which SQLite reports as a disk I/O error.
That works as root too, and needs no small file system.
"""

from __future__ import annotations

import asyncio
import errno
import os
import resource
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import Settings
from bot.db import DiskFullError, NewDatabase, disk_full, inspect_file
from bot.migrate import load_migrations, migrate

TOKEN = "MTA4NjQ0NjE3NzQ1NjM4NjE2Ng.GxYzAb.abcdefghijklmnopqrstuvwxyz0123456789ABCD"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def file_size_limit(limit: int) -> Callable[[], None]:
    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limited


def holdfast(
    cwd: Path, database: Path, *args: str, limit: int | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    # A Discord nobody listens on: `run` must fail before it ever connects.
    env.update(
        PYTHONPATH=str(Path(__file__).resolve().parent.parent),
        DATABASE_PATH=str(database),
        DISCORD_TOKEN=TOKEN,
        DISCORD_API_BASE_URL="http://127.0.0.1:9/api/v10",
        DISCORD_GATEWAY_URL="ws://127.0.0.1:9/",
    )
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        preexec_fn=None if limit is None else file_size_limit(limit),
    )


def assert_disk_full_sentence(result: subprocess.CompletedProcess[str], folder: Path) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert f"Holdfast could not write to {folder}: the disk is full" in output, output
    assert "Free some space there, then run the same command again." in output
    assert "Traceback" not in output
    assert "OperationalError" not in output
    assert "not a Holdfast database" not in output


def dump(database: Path) -> list[str]:
    conn = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


# Limits that fill the disk at each step of a first migration: switching the new file to WAL,
# growing the -shm, creating schema_migrations, and part-way through the migrations (after
# some have committed).
@pytest.mark.parametrize(
    ("command", "limit"),
    [("migrate", 0), ("migrate", 20000), ("migrate", 150000), ("run", 60000)],
)
def test_a_first_migration_on_a_full_disk_says_so_and_leaves_nothing(
    tmp_path: Path, command: str, limit: int
) -> None:
    folder = tmp_path / "data"
    database = folder / "holdfast.sqlite3"
    result = holdfast(tmp_path, database, command, limit=limit)
    assert_disk_full_sentence(result, folder)
    # Every file and the folder this run made are gone: nothing to mistake for a foreign
    # database later.
    assert not folder.exists(), sorted(p.name for p in folder.iterdir())

    again = holdfast(tmp_path, database, "migrate")
    assert again.returncode == 0, again.stderr
    assert f"Applied {len(load_migrations())} migration(s)" in again.stdout
    # The check `run` makes before it touches a database accepts it.
    assert inspect_file(database)


def test_a_full_disk_in_the_admins_own_folder_takes_back_only_holdfasts_files(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("the admin's", encoding="utf-8")
    database = folder / "holdfast.sqlite3"
    result = holdfast(tmp_path, database, "migrate", limit=20000)
    assert_disk_full_sentence(result, folder)
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "the admin's"


def older_database(folder: Path) -> Path:
    """A Holdfast database three migrations behind, with a row in it."""
    database = folder / "holdfast.sqlite3"
    asyncio.run(migrate(database, NOW, load_migrations()[:2]))
    conn = sqlite3.connect(database)
    conn.execute(
        "INSERT INTO bot_state (key, value, updated_at) VALUES ('kept', 'yes', '2026-11-25')"
    )
    conn.commit()
    conn.close()
    return database


@pytest.mark.parametrize(
    ("limit", "fails_in"),
    [
        # No room even for the 32 KiB -shm that reading a WAL database needs.
        (8192, "reading"),
        # Room for a reader's 32 KiB -shm, not for the copy taken before migrating (36 KiB).
        (34816, "backup"),
        # Room for the copy, but not for the next migration's pages in the -wal.
        (40000, "migration"),
    ],
)
def test_migrating_an_existing_database_on_a_full_disk_leaves_it_as_it_was(
    tmp_path: Path, limit: int, fails_in: str
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    database = older_database(folder)
    before = dump(database)
    size = database.stat().st_size
    assert (size > limit) == (fails_in != "migration"), size

    result = holdfast(tmp_path, database, "migrate", limit=limit)
    assert_disk_full_sentence(result, folder)
    assert dump(database) == before
    # No half-written copy, and no whole one either: it would only repeat the database and
    # take the room a retry needs. (SQLite's own side files and the process lock may stay.)
    left = {p.name for p in folder.iterdir()}
    assert left - {f"{database.name}{s}" for s in ("-wal", "-shm", ".lock")} == {database.name}

    again = holdfast(tmp_path, database, "migrate")
    assert again.returncode == 0, again.stderr
    assert f"Applied {len(load_migrations()) - 2} migration(s)" in again.stdout
    assert "A copy of the database from before was saved" in again.stdout
    assert inspect_file(database)
    assert "INSERT INTO \"bot_state\" VALUES('kept','yes','2026-11-25');" in dump(database)


def test_a_backup_onto_a_full_disk_says_so_and_leaves_nothing(tmp_path: Path) -> None:
    database = tmp_path / "holdfast.sqlite3"
    assert holdfast(tmp_path, database, "migrate").returncode == 0
    backups = tmp_path / "backups"
    backups.mkdir()
    result = holdfast(tmp_path, database, "backup", str(backups / "copy.sqlite3"), limit=65536)
    assert_disk_full_sentence(result, backups)
    assert list(backups.iterdir()) == []


def io_error(code: int) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError("disk I/O error")
    error.sqlite_errorcode = code  # type: ignore[attr-defined]
    return error


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        OSError(errno.EDQUOT, "Disk quota exceeded"),
        OSError(errno.EFBIG, "File too large"),
        io_error(13),  # SQLITE_FULL: SQLite's own word for ENOSPC
    ],
)
def test_every_way_of_running_out_of_room_is_a_full_disk(
    tmp_path: Path, error: BaseException
) -> None:
    full = disk_full(error, tmp_path)
    assert isinstance(full, DiskFullError)
    assert f"could not write to {tmp_path}: the disk is full" in str(full)


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.EACCES, "Permission denied"),
        io_error(11),  # SQLITE_CORRUPT
        io_error(778),  # SQLITE_IOERR_WRITE with plenty of room and no size limit
        ValueError("not a file problem"),
    ],
)
def test_other_failures_are_not_called_a_full_disk(tmp_path: Path, error: BaseException) -> None:
    assert resource.getrlimit(resource.RLIMIT_FSIZE)[0] == resource.RLIM_INFINITY
    assert disk_full(error, tmp_path) is None


async def test_taking_back_a_new_database_and_making_it_again_keeps_it_private(
    tmp_path: Path,
) -> None:
    database = tmp_path / "new" / "holdfast.sqlite3"
    fresh = NewDatabase.before(database)
    await migrate(database, NOW)
    fresh.take_back()
    assert not database.parent.exists()
    await migrate(database, NOW)
    assert database.stat().st_mode & 0o777 == 0o600


async def test_an_existing_database_is_never_taken_back(tmp_path: Path) -> None:
    database = tmp_path / "holdfast.sqlite3"
    await migrate(database, NOW)
    before = dump(database)
    fresh = NewDatabase.before(database)
    (tmp_path / "holdfast.sqlite3.lock").touch()
    fresh.take_back()
    assert dump(database) == before
    assert (tmp_path / "holdfast.sqlite3.lock").exists()

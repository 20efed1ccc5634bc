from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
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


# --- a read-only folder ------------------------------------------------------------------------
#
# Permission bits do not stop root, so when the tests run as root the backup runs as an
# unprivileged user (setpriv, else runuser); as a normal user, chmod is enough.

NOBODY = 65534


def unprivileged_prefix() -> list[str]:
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv"):
        return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    if shutil.which("runuser"):
        return ["runuser", "-u", "nobody", "--"]
    pytest.skip("running as root without setpriv or runuser: permission bits would not apply")


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A temp folder the unprivileged user can reach (pytest's own is root's alone)."""
    prefix = unprivileged_prefix()
    folder = Path(tempfile.mkdtemp(prefix="holdfast-readonly-"))
    os.chmod(folder, 0o755)
    probe = subprocess.run(
        [*prefix, sys.executable, "-c", "import bot"],
        env=cli_env(folder / "absent.sqlite3"),
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if probe.returncode != 0:
        shutil.rmtree(folder)
        pytest.skip(f"the unprivileged user cannot run this Python: {probe.stderr.strip()}")
    try:
        yield folder
    finally:
        for path in [folder, *folder.rglob("*")]:
            if path.is_dir():
                os.chmod(path, 0o755)
        shutil.rmtree(folder)


def cli_env(database: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    env.update(DATABASE_PATH=str(database), PYTHONPATH=str(ROOT))
    return env


def hand_over(*paths: Path) -> None:
    """Make `paths` (and what is in them) the unprivileged user's, as the bot's files are."""
    if os.geteuid() != 0:
        return
    for top in paths:
        for path in [top, *top.rglob("*")]:
            os.chown(path, NOBODY, NOBODY)


def backup_as_user(folder: Path, database: Path, target: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*unprivileged_prefix(), sys.executable, "-m", "bot", "backup", str(target)],
        env=cli_env(database),
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def rows(copy: Path) -> list[int]:
    conn = sqlite3.connect(copy)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return [r[0] for r in conn.execute("SELECT n FROM counter ORDER BY n")]
    finally:
        conn.close()


async def test_backup_from_a_read_only_folder_while_the_bot_is_stopped(shared_tmp: Path) -> None:
    data, out = shared_tmp / "data", shared_tmp / "out"
    data.mkdir()
    out.mkdir()
    db = await make_db(data)
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO counter (n) VALUES (1), (2)")
    conn.commit()
    conn.close()  # the last connection: the -wal is folded in and removed
    hand_over(data, out)
    os.chmod(data, 0o555)
    listing = sorted(p.name for p in data.iterdir())
    assert f"{db.name}-wal" not in listing

    result = backup_as_user(shared_tmp, db, out / "copy.sqlite3")
    assert result.returncode == 0, result.stderr
    assert "Backup written to" in result.stdout
    assert rows(out / "copy.sqlite3") == [1, 2]
    # Nothing was made beside the database: no -wal, -shm or lock file.
    assert sorted(p.name for p in data.iterdir()) == listing


async def test_backup_from_a_read_only_folder_reads_what_the_running_bot_wrote(
    shared_tmp: Path,
) -> None:
    data, out = shared_tmp / "data", shared_tmp / "out"
    data.mkdir()
    out.mkdir()
    db = await make_db(data)
    hand_over(data, out)
    # The running bot: a connection holding the database open in WAL mode, its latest commit
    # still only in the -wal.
    writer = sqlite3.connect(db)
    try:
        writer.execute("PRAGMA journal_mode = WAL")
        writer.execute("PRAGMA wal_autocheckpoint = 0")
        writer.execute("INSERT INTO counter (n) VALUES (7)")
        writer.commit()
        hand_over(data)
        assert (data / f"{db.name}-wal").stat().st_size > 0
        os.chmod(data, 0o555)
        listing = sorted(p.name for p in data.iterdir())

        result = backup_as_user(shared_tmp, db, out / "copy.sqlite3")
        assert result.returncode == 0, result.stderr
        assert rows(out / "copy.sqlite3") == [7]
        assert sorted(p.name for p in data.iterdir()) == listing
    finally:
        writer.close()


async def test_backup_to_a_read_only_destination_says_it_is_not_writable(
    shared_tmp: Path,
) -> None:
    data, out = shared_tmp / "data", shared_tmp / "out"
    data.mkdir()
    out.mkdir()
    db = await make_db(data)
    hand_over(data, out)
    os.chmod(out, 0o555)

    result = backup_as_user(shared_tmp, db, out / "copy.sqlite3")
    assert result.returncode == 1
    assert f"Holdfast cannot write the backup to {out} (Permission denied)" in result.stderr
    assert "not writable" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(out.iterdir()) == []


async def test_backup_of_a_missing_database_in_a_read_only_folder_says_it_is_missing(
    shared_tmp: Path,
) -> None:
    data, out = shared_tmp / "data", shared_tmp / "out"
    data.mkdir()
    out.mkdir()
    hand_over(data, out)
    os.chmod(data, 0o555)

    result = backup_as_user(shared_tmp, data / "holdfast.sqlite3", out / "copy.sqlite3")
    assert result.returncode == 1
    assert f"There is no database at {data / 'holdfast.sqlite3'} to back up" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(out.iterdir()) == []


async def test_backup_from_a_read_only_folder_never_skips_changes_it_cannot_read(
    shared_tmp: Path,
) -> None:
    # What a crash can leave: committed changes in the -wal, no -shm. Reading the file alone
    # would quietly miss them, and reading the -wal needs a -shm this user cannot create.
    live, data, out = shared_tmp / "live", shared_tmp / "data", shared_tmp / "out"
    for folder in (live, data, out):
        folder.mkdir()
    db = await make_db(live)
    writer = sqlite3.connect(db)
    try:
        writer.execute("PRAGMA wal_autocheckpoint = 0")
        writer.execute("INSERT INTO counter (n) VALUES (7)")
        writer.commit()
        for name in (db.name, f"{db.name}-wal"):
            shutil.copy(live / name, data / name)
    finally:
        writer.close()
    copied = data / db.name
    assert (data / f"{db.name}-wal").stat().st_size > 0
    hand_over(data, out)
    os.chmod(data, 0o555)
    listing = sorted(p.name for p in data.iterdir())

    result = backup_as_user(shared_tmp, copied, out / "copy.sqlite3")
    assert result.returncode == 1
    assert f"has changes in its {db.name}-wal file that can only be read" in result.stderr
    assert "Start and stop Holdfast once" in result.stderr
    assert "not a Holdfast database" not in result.stderr
    assert "Traceback" not in result.stderr
    assert list(out.iterdir()) == []
    assert sorted(p.name for p in data.iterdir()) == listing

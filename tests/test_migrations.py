from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.db import (
    BUSY_TIMEOUT_MS,
    NotADatabaseError,
    Step,
    inspect_file,
    open_database,
    run_steps,
    transaction,
)
from bot.migrate import (
    MIGRATIONS_DIR,
    DatabaseNewerError,
    MigrationEditedError,
    MigrationFailedError,
    load_migrations,
    migrate,
)

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def write_migrations(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, sql in files.items():
        (folder / name).write_text(sql, encoding="utf-8")
    return folder


FIRST = {
    "0001_people.sql": "-- People to remember.\nCREATE TABLE people (id INTEGER PRIMARY KEY);\n"
}
SECOND = {
    **FIRST,
    "0002_names.sql": "-- Names for people.\nALTER TABLE people ADD COLUMN name TEXT;\n",
}


def tables(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()


def applied(path: Path) -> list[tuple[int, str]]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.execute("SELECT version, name FROM schema_migrations ORDER BY version"))
    finally:
        conn.close()


async def test_shipped_migrations_apply_to_an_empty_file(tmp_path: Path) -> None:
    db = tmp_path / "nested" / "holdfast.sqlite3"
    result = await migrate(db, NOW)
    shipped = load_migrations(MIGRATIONS_DIR)
    assert result.applied == [m.filename for m in shipped]
    assert result.backup is None
    assert {"schema_migrations", "bot_state"} <= tables(db)
    assert [v for v, _ in applied(db)] == [m.version for m in shipped]


async def test_rerun_is_a_no_op(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    await migrate(db, NOW)
    before = db.read_bytes()
    result = await migrate(db, NOW)
    assert result.applied == []
    assert result.backup is None
    assert len(list(tmp_path.glob("*.bak"))) == 0
    assert len(applied(db)) == len(load_migrations())
    assert db.read_bytes() == before


async def test_new_migration_is_applied_after_a_backup(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    first = write_migrations(tmp_path / "v1", FIRST)
    await migrate(db, NOW, load_migrations(first))
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO people (id) VALUES (7)")
    conn.commit()
    conn.close()

    second = write_migrations(tmp_path / "v2", SECOND)
    result = await migrate(db, NOW, load_migrations(second))
    assert result.applied == ["0002_names.sql"]
    assert result.backup is not None
    assert result.backup.name == "db.sqlite3.before-0002-20261125T090000Z.bak"
    assert applied(result.backup) == [(1, "people")]
    assert applied(db) == [(1, "people"), (2, "names")]
    backup = sqlite3.connect(result.backup)
    assert backup.execute("SELECT id FROM people").fetchall() == [(7,)]
    backup.close()


async def test_edited_migration_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    folder = write_migrations(tmp_path / "m", FIRST)
    await migrate(db, NOW, load_migrations(folder))
    (folder / "0001_people.sql").write_text(
        "-- People to remember.\nCREATE TABLE people (id INTEGER PRIMARY KEY, x TEXT);\n"
    )
    with pytest.raises(MigrationEditedError, match=r"0001_people\.sql has changed"):
        await migrate(db, NOW, load_migrations(folder))


async def test_newer_database_is_refused_and_unchanged(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    await migrate(db, NOW, load_migrations(write_migrations(tmp_path / "new", SECOND)))
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    older = load_migrations(write_migrations(tmp_path / "old", FIRST))
    with pytest.raises(DatabaseNewerError, match=r"newer version of Holdfast \(schema 2"):
        await migrate(db, NOW, older)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest


async def test_a_failing_migration_leaves_no_trace(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    await migrate(db, NOW, load_migrations(write_migrations(tmp_path / "a", FIRST)))
    broken = {
        **FIRST,
        "0002_half.sql": "-- Two steps, the second fails.\n"
        "CREATE TABLE half_done (id INTEGER);\nINSERT INTO no_such_table VALUES (1);\n",
    }
    with pytest.raises(MigrationFailedError, match=r"0002_half\.sql could not be applied"):
        await migrate(db, NOW, load_migrations(write_migrations(tmp_path / "b", broken)))
    assert "half_done" not in tables(db)
    assert applied(db) == [(1, "people")]


@pytest.mark.parametrize(
    "content",
    [
        b"this is a note, not a database\n" * 20,
        b"SQLite format 3\x00" + b"\xff" * 4000,
    ],
    ids=["not-sqlite", "damaged-sqlite"],
)
async def test_corrupt_or_foreign_file_is_refused_and_untouched(
    tmp_path: Path, content: bytes
) -> None:
    db = tmp_path / "db.sqlite3"
    db.write_bytes(content)
    with pytest.raises(NotADatabaseError, match="left it exactly as it was"):
        await migrate(db, NOW)
    assert db.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db.sqlite3"]


async def test_another_programs_sqlite_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "photos.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE photos (id INTEGER)")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    with pytest.raises(NotADatabaseError):
        await migrate(db, NOW)
    assert db.read_bytes() == before


def test_shipped_migration_files_follow_the_rules() -> None:
    migrations = load_migrations(MIGRATIONS_DIR)
    assert migrations, "at least one migration ships"
    for migration in migrations:
        assert migration.reason, migration.filename


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({"0001_People.sql": "-- x reason\n"}, "NNNN_lower_snake"),
        ({"0001_a.sql": "CREATE TABLE a (id INTEGER);\n"}, "first line"),
        ({"0001_a.sql": "-- reason a\n", "0003_c.sql": "-- reason c\n"}, "without gaps"),
    ],
)
def test_badly_formed_migration_folders_are_caught(
    tmp_path: Path, files: dict[str, str], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        load_migrations(write_migrations(tmp_path / "m", files))


async def test_connection_settings_and_transactions(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    await migrate(db, NOW)
    conn = await open_database(db)
    try:
        pragmas = {}
        for name in ("journal_mode", "foreign_keys", "busy_timeout"):
            async with conn.execute(f"PRAGMA {name}") as cursor:
                row = await cursor.fetchone()
                assert row is not None
                pragmas[name] = row[0]
        assert pragmas == {
            "journal_mode": "wal",
            "foreign_keys": 1,
            "busy_timeout": BUSY_TIMEOUT_MS,
        }

        async def insert_then_fail() -> None:
            async with transaction(conn):
                await conn.execute(
                    "INSERT INTO bot_state (key, value, updated_at) VALUES ('a', '1', 'now')"
                )
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            await insert_then_fail()
        async with conn.execute("SELECT COUNT(*) FROM bot_state") as cursor:
            row = await cursor.fetchone()
        assert row is not None
        assert row[0] == 0

        async with transaction(conn):
            await conn.execute(
                "INSERT INTO bot_state (key, value, updated_at) VALUES ('a', '1', 'now')"
            )
        async with conn.execute("SELECT value FROM bot_state WHERE key = 'a'") as cursor:
            row = await cursor.fetchone()
        assert row is not None
        assert row[0] == "1"
    finally:
        await conn.close()


async def test_run_steps_runs_statements_in_order_in_one_trip_and_a_failure_undoes_them(
    tmp_path: Path,
) -> None:
    db = tmp_path / "db.sqlite3"
    await migrate(db, NOW)
    conn = await open_database(db)
    insert = "INSERT INTO bot_state (key, value, updated_at) VALUES (:key, :value, 'now')"
    try:
        trips = 0
        real = conn._execute  # type: ignore[attr-defined]

        async def counted(*args: object, **kwargs: object) -> object:
            nonlocal trips
            trips += 1
            return await real(*args, **kwargs)

        conn._execute = counted  # type: ignore[attr-defined]
        results = await run_steps(
            conn,
            [
                Step(insert, [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}], many=True),
                Step("SELECT COUNT(*) FROM bot_state"),
                Step("SELECT value FROM bot_state WHERE key = :key", {"key": "b"}),
            ],
        )
        del conn._execute  # type: ignore[attr-defined]
        assert trips == 1
        assert [[tuple(row) for row in rows] for rows in results] == [[], [(2,)], [("2",)]]

        with pytest.raises(sqlite3.IntegrityError):
            async with transaction(conn):
                await run_steps(
                    conn,
                    [
                        Step(insert, {"key": "c", "value": "3"}),
                        Step(insert, {"key": "a", "value": "again"}),  # the key is taken
                        Step(insert, {"key": "d", "value": "4"}),
                    ],
                )
        async with conn.execute("SELECT key FROM bot_state ORDER BY key") as cursor:
            assert [row[0] for row in await cursor.fetchall()] == ["a", "b"]
    finally:
        await conn.close()


def damage_last_page(path: Path) -> bytes:
    """Overwrite the last page (a leaf of the rows, far from the schema) with garbage."""
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    data[len(data) - page_size :] = b"\xff" * page_size
    path.write_bytes(bytes(data))
    return bytes(data)


async def test_a_routine_start_reads_the_schema_and_every_page_is_read_before_a_change(
    tmp_path: Path,
) -> None:
    # Start-up must not grow with the database (100,000 pending rows take as long as none), so a
    # start with nothing to apply reads the header and schema only; before migrations change
    # the file, every page is read (the backup's check), and a damaged file is left untouched.
    rows = {
        "0001_notes.sql": "-- Notes.\nCREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\n"
    }
    more = {**rows, "0002_more.sql": "-- More.\nALTER TABLE notes ADD COLUMN extra TEXT;\n"}
    db = tmp_path / "db.sqlite3"
    await migrate(db, NOW, load_migrations(write_migrations(tmp_path / "a", rows)))
    conn = sqlite3.connect(db)
    conn.executemany("INSERT INTO notes (body) VALUES (?)", [("x" * 300,)] * 2000)
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    damaged = damage_last_page(db)

    with pytest.raises(NotADatabaseError):
        inspect_file(db)  # every page: what check-config and backup run
    assert inspect_file(db, thorough=False)
    result = await migrate(db, NOW, load_migrations(tmp_path / "a"))
    assert result.applied == []

    with pytest.raises(NotADatabaseError, match="left it exactly as it was"):
        await migrate(db, NOW, load_migrations(write_migrations(tmp_path / "b", more)))
    assert db.read_bytes() == damaged
    assert applied(db) == [(1, "notes")]
    assert not list(tmp_path.glob("*.bak"))


async def test_0012_keeps_every_outbox_row_and_never_gives_an_id_again(tmp_path: Path) -> None:
    # 0012 rebuilds the outbox (its state check without a temporary table). Ids live on in
    # Discord as markers, so the highest id ever given stays given, even when that row was
    # deleted before the rebuild (/mydata delete); rows, rules and indexes stay as they were.
    db = tmp_path / "db.sqlite3"
    shipped = load_migrations()
    assert shipped[11].filename == "0012_outbox_state_check_without_temporary_table.sql"
    await migrate(db, NOW, shipped[:11])
    conn = sqlite3.connect(db)
    stamp = NOW.isoformat()
    for n in (1, 2, 3):
        conn.execute(
            "INSERT INTO outbox (idempotency_key, scope, kind, user_id, due_at, not_after, "
            "next_attempt_at, created_at, updated_at) VALUES (?, 's', 'k', 5, ?, ?, ?, ?, ?)",
            (f"key:{n}", stamp, stamp, stamp, stamp, stamp),
        )
    conn.execute("DELETE FROM outbox WHERE id >= 2")
    conn.commit()
    conn.close()

    await migrate(db, NOW)
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT id, idempotency_key FROM outbox").fetchall() == [(1, "key:1")]
        cursor = conn.execute(
            "INSERT INTO outbox (idempotency_key, scope, kind, user_id, due_at, not_after, "
            "next_attempt_at, created_at, updated_at) VALUES ('key:4', 's', 'k', 5, ?, ?, ?, ?, ?)",
            (stamp, stamp, stamp, stamp, stamp),
        )
        assert cursor.lastrowid == 4
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            conn.execute("UPDATE outbox SET state = 'lost' WHERE id = 4")
        indexes = {
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        }
        assert {
            "outbox_pending_due",
            "outbox_scope",
            "outbox_in_doubt",
            "outbox_user_state",
        } <= indexes
    finally:
        conn.close()

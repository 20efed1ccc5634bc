"""A database made by the first release (migrations 0001-0005, rows in every table; made by
tests/fixtures/make_release1_db.py) upgrades to the current schema: a copy from before is saved,
nothing is lost, and its key file still opens the members' notes."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from bot.checkins import entries
from bot.checkins.crypto import key_file_path, load_note_keys
from bot.db import open_database
from bot.migrate import load_migrations, migrate
from tests.fixtures.make_release1_db import MEMBERS, NOTE, RELEASE_1

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "release1.sqlite3"
UPGRADED_AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def everything(path: Path, only: dict[str, list[str]] | None = None) -> dict[str, list[tuple]]:
    """Every row of every table (of the tables and columns in `only`, if given), sorted."""
    db = sqlite3.connect(path)
    try:
        tables = only or {
            name: [c[1] for c in db.execute(f"PRAGMA table_info({name})")]
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
        return {
            name: sorted(
                db.execute(f"SELECT {', '.join(columns)} FROM {name}").fetchall(), key=repr
            )
            for name, columns in tables.items()
        }
    finally:
        db.close()


def columns(path: Path) -> dict[str, list[str]]:
    db = sqlite3.connect(path)
    try:
        return {
            name: [c[1] for c in db.execute(f"PRAGMA table_info({name})")]
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
    finally:
        db.close()


def test_the_fixture_is_the_first_release_with_rows_in_every_table() -> None:
    before = everything(FIXTURE)
    assert len(before) == 18
    assert [name for name, rows in before.items() if not rows] == []
    assert [r[0] for r in before["schema_migrations"]] == list(range(1, RELEASE_1 + 1))
    shipped = {m.version: m.checksum for m in load_migrations()[:RELEASE_1]}
    db = sqlite3.connect(FIXTURE)
    recorded = dict(db.execute("SELECT version, checksum FROM schema_migrations"))
    db.close()
    assert recorded == shipped, "the fixture was made by the migrations as shipped"


async def test_a_first_release_database_upgrades_with_a_copy_made_and_nothing_lost(
    tmp_path: Path,
) -> None:
    path = tmp_path / "holdfast.sqlite3"
    shutil.copy(FIXTURE, path)
    shutil.copy(key_file_path(FIXTURE), key_file_path(path))
    key_file_path(path).chmod(0o600)
    old_columns = columns(path)
    before = everything(path)

    result = await migrate(path, UPGRADED_AT)

    newer = [m.filename for m in load_migrations()[RELEASE_1:]]
    assert newer, "there is something to upgrade to"
    assert result.applied == newer
    assert result.backup is not None
    assert result.backup.name == f"holdfast.sqlite3.before-{RELEASE_1 + 1:04d}-20261201T090000Z.bak"
    assert everything(result.backup) == before, "the copy is the database as it was"
    assert result.backup.stat().st_mode & 0o777 == 0o600

    after = everything(path, old_columns)
    for table, rows in before.items():
        if table == "schema_migrations":
            # By version number (repr would put 10 between 1 and 2).
            assert sorted(rows) == sorted(after[table])[: len(rows)]
        else:
            assert after[table] == rows, f"{table} changed in the upgrade"
    assert len(after["schema_migrations"]) == len(load_migrations())

    # The upgraded database still opens with its key file: the member's note reads back.
    conn = await open_database(path)
    try:
        keys = (await load_note_keys(conn, (), path, UPGRADED_AT)).keys
        notes = [c.note for c in await entries.own_checkins(conn, keys, MEMBERS[0])]
    finally:
        await conn.close()
    assert notes == [NOTE]

    # A second run has nothing to do and makes no further copy.
    again = await migrate(path, UPGRADED_AT)
    assert again.applied == []
    assert again.backup is None

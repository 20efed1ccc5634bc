"""Schema migrations: numbered plain `.sql` files in `migrations/`, applied in order, checksummed.

A shipped migration is never edited: the runner refuses to start if one changed, if one the
database has is missing, or if the database is newer than this code. Before touching an
existing database it saves a copy next to it.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import sqlite3
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import aiosqlite

from bot import texts
from bot.backup import backup_database
from bot.db import DatabaseError, cannot_write, disk_full, inspect_file, open_database

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_FILENAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")

CREATE_SCHEMA_MIGRATIONS = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at TEXT NOT NULL
)
"""

SELECT_APPLIED = """
SELECT version, name, checksum
FROM schema_migrations
ORDER BY version
"""


class MigrationError(DatabaseError):
    pass


class DatabaseNewerError(MigrationError):
    pass


class MigrationEditedError(MigrationError):
    pass


class MigrationFailedError(MigrationError):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    reason: str
    sql: str
    checksum: str

    @property
    def filename(self) -> str:
        return f"{self.version:04d}_{self.name}.sql"


@dataclass(frozen=True)
class MigrationResult:
    applied: list[str]
    backup: Path | None
    schema_version: int


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Read and sanity-check every migration file. Problems here are developer mistakes."""
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILENAME.match(path.name)
        if match is None:
            raise ValueError(f"{path.name}: migration files are named NNNN_lower_snake.sql")
        raw = path.read_bytes()
        sql = raw.decode("utf-8")
        first = sql.splitlines()[0] if sql.strip() else ""
        if not first.startswith("-- ") or len(first) < 8:
            raise ValueError(
                f"{path.name}: the first line must be a '-- ' comment giving the reason"
            )
        version = int(match["version"])
        if version in found:
            raise ValueError(f"{path.name}: version {version} is used twice")
        found[version] = Migration(
            version=version,
            name=match["name"],
            reason=first[3:].strip(),
            sql=sql,
            checksum=hashlib.sha256(raw).hexdigest(),
        )
    versions = sorted(found)
    if versions != list(range(1, len(versions) + 1)):
        raise ValueError(f"migration versions must run 1, 2, 3… without gaps; found {versions}")
    return [found[v] for v in versions]


async def migrate(
    path: Path, now: datetime, migrations: list[Migration] | None = None
) -> MigrationResult:
    """Bring the database at `path` up to date, creating it if needed."""
    known = migrations if migrations is not None else load_migrations()
    # The header and schema now; every page only before the file is changed (the backup).
    existed = await asyncio.to_thread(inspect_file, path, thorough=False)
    conn = await open_database(path)
    backup: Path | None = None
    done = 0
    try:
        try:
            await conn.execute(CREATE_SCHEMA_MIGRATIONS)
            applied = await _applied(conn)
        except sqlite3.Error as exc:
            raise cannot_write(exc, path) from exc
        pending = _check_history(path, known, applied)
        if pending and existed and applied:
            stamp = now.strftime("%Y%m%dT%H%M%SZ")
            target = path.with_name(f"{path.name}.before-{pending[0].version:04d}-{stamp}.bak")
            backup = await asyncio.to_thread(backup_database, path, target)
        for migration in pending:
            await _apply(conn, path, migration, now)
            done += 1
        version = known[-1].version if known else 0
        return MigrationResult([m.filename for m in pending], backup, version)
    except BaseException:
        if backup is not None and done == 0:
            # Nothing changed, so this run's copy is the database as it still is: give its
            # space back (on a full disk each retry would otherwise leave one more copy).
            with suppress(OSError):
                backup.unlink()
        raise
    finally:
        await conn.close()


async def schema_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def _applied(conn: aiosqlite.Connection) -> dict[int, tuple[str, str]]:
    async with conn.execute(SELECT_APPLIED) as cursor:
        rows = await cursor.fetchall()
    return {int(r["version"]): (str(r["name"]), str(r["checksum"])) for r in rows}


def _check_history(
    path: Path, known: list[Migration], applied: dict[int, tuple[str, str]]
) -> list[Migration]:
    newest_known = known[-1].version if known else 0
    if applied and max(applied) > newest_known:
        raise DatabaseNewerError(texts.database_newer(path, max(applied), newest_known))
    # Versions run 1..N without gaps (load_migrations checks), so every applied version below
    # the newest known one has its file.
    by_version = {m.version: m for m in known}
    for version, (_name, checksum) in sorted(applied.items()):
        migration = by_version[version]
        if migration.checksum != checksum:
            raise MigrationEditedError(texts.migration_edited(version, migration.name))
    return [m for m in known if m.version not in applied]


async def _apply(
    conn: aiosqlite.Connection, path: Path, migration: Migration, now: datetime
) -> None:
    # executescript cannot take parameters; every value below is an int, a hex digest, a
    # validated lower_snake name or an ISO timestamp, so quoting is safe.
    record = (
        "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES "
        f"({migration.version}, '{migration.name}', '{migration.checksum}', "
        f"'{now.isoformat()}');"
    )
    script = f"BEGIN IMMEDIATE;\n{migration.sql}\n;\n{record}\nCOMMIT;"
    try:
        await conn.executescript(script)
    except sqlite3.Error as exc:
        if conn.in_transaction:
            # SQLite may have rolled back already after an I/O error; either way nothing of
            # this migration stays.
            with suppress(sqlite3.Error):
                await conn.rollback()
        full = disk_full(exc, path.parent)
        if full is not None:
            raise full from exc
        raise MigrationFailedError(texts.migration_failed(migration.filename, str(exc))) from exc

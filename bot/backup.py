"""Consistent copies of a live database with SQLite's online backup API.

Safe while the bot is writing: the backup reads one consistent snapshot, writes it to a
temporary file, checks it, and only then gives it its final name.

A backup only reads the database, so it works when the database's folder is read-only to the
user running it: while the bot runs, SQLite reads the live -wal through the existing -shm; when
the bot is stopped (no -wal), the file is read as immutable and checked unchanged afterwards
(see `connect_read_only`). Nothing is ever written beside the database by a backup in such a
folder.
"""

from __future__ import annotations

import errno
import os
import re
import sqlite3
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot import texts
from bot.db import (
    DatabaseError,
    NotADatabaseError,
    connect_read_only,
    disk_full,
    file_fingerprint,
    inspect_file,
    private_file,
    private_folder,
)

# A destination Holdfast may not write to: permissions, or a read-only file system.
_UNWRITABLE_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})


class BackupError(Exception):
    """Wording for an admin."""


def backup_database(source: Path, target: Path) -> Path:
    """Copy `source` to `target` (a file, or a folder to put it in); never overwrites a file.

    Returns the path written. On any failure nothing is left at the destination.
    """
    try:
        present = inspect_file(source)
    except PermissionError as exc:
        raise BackupError(texts.backup_source_unreadable(source, exc.strerror or "")) from exc
    if not present:
        raise BackupError(texts.backup_source_missing(source))
    try:
        if target.is_dir():
            target = target / f"{source.stem}-backup{source.suffix or '.sqlite3'}"
        if target.exists():
            raise BackupError(texts.backup_target_exists(target))
        partial = target.with_name(target.name + ".partial")
        private_folder(target.parent)
        partial.unlink(missing_ok=True)
    except OSError as exc:
        raise _destination_error(exc, target.parent) from exc
    try:
        # A copy holds members' data too: created 0600 before SQLite writes to it.
        with private_file(partial):
            pass
        _copy(source, partial)
        os.replace(partial, target)
    except BaseException as exc:
        with suppress(OSError):
            partial.unlink(missing_ok=True)
        if isinstance(exc, (OSError, sqlite3.Error)):
            raise _destination_error(exc, target.parent) from exc
        raise
    return target


def _copy(source: Path, partial: Path) -> None:
    before = file_fingerprint(source)
    try:
        src, immutable = connect_read_only(source)
    except sqlite3.Error as exc:
        raise BackupError(texts.backup_source_unreadable(source, str(exc))) from exc
    try:
        dst = sqlite3.connect(partial)
        try:
            # pages=-1 copies everything under one read transaction: a single consistent
            # snapshot even while another connection keeps writing.
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode = DELETE")
            check = dst.execute("PRAGMA integrity_check").fetchone()
        finally:
            dst.close()
    finally:
        src.close()
    if immutable and file_fingerprint(source) != before:
        # Read without locks: a writer that started meanwhile could have torn the copy.
        raise BackupError(texts.backup_source_changed(source))
    if check is None or check[0] != "ok":
        raise NotADatabaseError(texts.not_a_database(source))


def _destination_error(exc: OSError | sqlite3.Error, folder: Path) -> DatabaseError | BackupError:
    full = disk_full(exc, folder)
    if full is not None:
        return full
    if isinstance(exc, OSError) and exc.errno in _UNWRITABLE_ERRNOS:
        return BackupError(texts.backup_target_unwritable(folder, exc.strerror or str(exc)))
    reason = (exc.strerror or str(exc)) if isinstance(exc, OSError) else str(exc)
    return BackupError(texts.backup_failed(folder, reason))


@dataclass(frozen=True)
class Rotation:
    written: Path
    removed: list[Path]


def _dated_name(source: Path, now: datetime) -> str:
    return f"{source.stem}-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}.sqlite3"


def _dated_pattern(source: Path) -> re.Pattern[str]:
    return re.compile(rf"{re.escape(source.stem)}-\d{{8}}T\d{{6}}Z\.sqlite3")


def backup_and_keep(source: Path, folder: Path, keep: int, now: datetime) -> Rotation:
    """A dated copy in `folder` (e.g. holdfast-20261125T030000Z.sqlite3), then only the newest
    `keep` dated copies are kept. Nothing else in the folder is touched, and nothing is removed
    unless the new copy was written and checked first."""
    if keep < 1:
        raise BackupError(texts.backup_keep_at_least_one(keep))
    if folder.exists() and not folder.is_dir():
        raise BackupError(texts.backup_folder_needed(folder))
    try:
        private_folder(folder)
    except OSError as exc:
        raise _destination_error(exc, folder) from exc
    written = backup_database(source, folder / _dated_name(source, now))
    pattern = _dated_pattern(source)
    dated = sorted(p for p in folder.iterdir() if p.is_file() and pattern.fullmatch(p.name))
    removed = dated[:-keep]
    for old in removed:
        old.unlink()
    return Rotation(written, removed)

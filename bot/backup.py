"""Consistent copies of a live database with SQLite's online backup API.

Safe while the bot is writing: the backup reads one consistent snapshot, writes it to a
temporary file, checks it, and only then gives it its final name.
"""

from __future__ import annotations

import os
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot import texts
from bot.db import NotADatabaseError, inspect_file, private_file, private_folder


class BackupError(Exception):
    """Wording for an admin."""


def backup_database(source: Path, target: Path) -> Path:
    """Copy `source` to `target` (a file, or a folder to put it in); never overwrites a file.

    Returns the path written.
    """
    if not inspect_file(source):
        raise BackupError(texts.backup_source_missing(source))
    if target.is_dir():
        target = target / f"{source.stem}-backup{source.suffix or '.sqlite3'}"
    if target.exists():
        raise BackupError(texts.backup_target_exists(target))
    private_folder(target.parent)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    # A copy holds members' data too: created 0600 before SQLite writes to it.
    with private_file(partial):
        pass
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
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
    if check is None or check[0] != "ok":
        partial.unlink(missing_ok=True)
        raise NotADatabaseError(texts.not_a_database(source))
    os.replace(partial, target)
    return target


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
    private_folder(folder)
    written = backup_database(source, folder / _dated_name(source, now))
    pattern = _dated_pattern(source)
    dated = sorted(p for p in folder.iterdir() if p.is_file() and pattern.fullmatch(p.name))
    removed = dated[:-keep]
    for old in removed:
        old.unlink()
    return Rotation(written, removed)

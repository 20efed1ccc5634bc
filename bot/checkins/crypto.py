"""Note encryption (MultiFernet) and keyed member hashes (HMAC-SHA256), and where the keys live.

A copied database file must say neither what was written nor who wrote it. Notes are Fernet
tokens; check-ins name their author only by HMAC-SHA256(member-hash key, Discord id). The
member-hash key is random, stored in the database *wrapped* (encrypted) with the note keys, so
it rotates with them and a database without its keys cannot be linked to anyone. Unwrapping it
at start-up is also the check that the keys match the data.

Keys come from NOTE_ENCRYPTION_KEYS (newest first) when set, otherwise from a key file beside
the database, generated once (0600) so `make run` stays a one-command start.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import aiosqlite
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bot.db import private_file, transaction
from bot.state import read_state, write_state
from bot.texts import checkins as texts

MEMBER_KEY_STATE = "checkins:member_hash_key"
KeySource = Literal["environment", "key file", "given"]


class KeyProblem(Exception):
    """The keys cannot be used with this database; `str()` is wording for an admin."""


@dataclass(frozen=True)
class NoteKeys:
    """Everything needed to write and read check-ins."""

    fernet: MultiFernet
    keys: tuple[str, ...]
    """The Fernet keys, newest first (secret: never logged)."""
    member_secret: bytes
    source: KeySource = "given"

    @classmethod
    def from_keys(cls, keys: list[str] | tuple[str, ...], member_secret: bytes) -> NoteKeys:
        return cls(
            MultiFernet([Fernet(k.encode()) for k in keys]), tuple(keys), member_secret, "given"
        )

    def member_key(self, user_id: int) -> str:
        """The keyed hash that stands for a member in check-in tables."""
        digest = hmac.new(self.member_secret, str(user_id).encode(), hashlib.sha256)
        return digest.hexdigest()

    def encrypt(self, note: str) -> bytes:
        return self.fernet.encrypt(note.encode("utf-8"))

    def decrypt(self, token: bytes) -> str:
        return self.fernet.decrypt(token).decode("utf-8")

    def rotate(self, token: bytes) -> bytes:
        return self.fernet.rotate(token)


def key_file_path(database: Path) -> Path:
    return database.with_name(database.name + ".keys")


def read_key_file(path: Path) -> list[str]:
    """The keys in `path`, newest first. Refused (as ssh refuses a private key) when other
    users could read or change the file: the keys open every note."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyProblem(texts.key_file_too_open(path, mode))
    keys: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            Fernet(text.encode())
        except (ValueError, TypeError):
            raise KeyProblem(texts.key_file_damaged(path)) from None
        keys.append(text)
    if not keys:
        raise KeyProblem(texts.key_file_damaged(path))
    return keys


def write_key_file(path: Path, keys: list[str]) -> None:
    """Write the key file 0600, replacing it atomically (a crash leaves old or new, whole)."""
    body = texts.key_file_header() + "".join(f"{k}\n" for k in keys)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        with private_file(partial) as handle:
            handle.write(body.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except BaseException:
        # A full disk leaves no half-written key file behind.
        with suppress(OSError):
            partial.unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class LoadedKeys:
    keys: NoteKeys
    generated_file: Path | None
    """Set when this start made the key file (the admin is told to back it up)."""


async def load_note_keys(
    conn: aiosqlite.Connection,
    configured: tuple[str, ...],
    database: Path,
    now: datetime,
) -> LoadedKeys:
    """The keys to use with this database: the environment's, else the key file's (made once).

    Raises KeyProblem when the keys do not open this database's data, or when the data exists
    but its key file is gone; plaintext is never a fallback.
    """
    wrapped = await read_state(conn, MEMBER_KEY_STATE)
    key_file = key_file_path(database)
    generated: Path | None = None
    source: KeySource
    if configured:
        keys, source = list(configured), "environment"
    elif key_file.exists():
        keys, source = read_key_file(key_file), "key file"
    elif wrapped is not None:
        raise KeyProblem(texts.key_file_missing(key_file))
    else:
        keys, source = [Fernet.generate_key().decode()], "key file"
        write_key_file(key_file, keys)
        generated = key_file
    fernet = MultiFernet([Fernet(k.encode()) for k in keys])
    if wrapped is None:
        secret = secrets.token_bytes(32)
        async with transaction(conn):
            await write_state(conn, MEMBER_KEY_STATE, fernet.encrypt(secret).decode(), now)
    else:
        try:
            secret = fernet.decrypt(wrapped.encode())
        except InvalidToken:
            raise KeyProblem(texts.keys_do_not_match(source, key_file)) from None
    return LoadedKeys(NoteKeys(fernet, tuple(keys), secret, source), generated)


SELECT_NOTES = """
SELECT id, note
FROM checkins
WHERE note IS NOT NULL
"""

UPDATE_NOTE = """
UPDATE checkins
SET note = :note
WHERE id = :id
"""


async def rotate_keys(conn: aiosqlite.Connection, keys: NoteKeys, now: datetime) -> int:
    """Re-encrypt every note and the wrapped member-hash key with the newest key.

    One transaction: a failure leaves everything as it was. Returns how many notes changed.
    """
    async with transaction(conn):
        wrapped = await read_state(conn, MEMBER_KEY_STATE)
        if wrapped is not None:
            try:
                rotated = keys.rotate(wrapped.encode())
            except InvalidToken:
                raise KeyProblem(texts.keys_do_not_match(keys.source, None)) from None
            await write_state(conn, MEMBER_KEY_STATE, rotated.decode(), now)
        async with conn.execute(SELECT_NOTES) as cursor:
            rows = list(await cursor.fetchall())
        for row in rows:
            try:
                token = keys.rotate(bytes(row["note"]))
            except InvalidToken:
                raise KeyProblem(texts.keys_do_not_match(keys.source, None)) from None
            await conn.execute(UPDATE_NOTE, {"id": row["id"], "note": token})
    return len(rows)

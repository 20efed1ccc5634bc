"""The one way Holdfast talks to SQLite: aiosqlite, WAL, foreign keys on, a busy timeout.

Transactions are explicit (`isolation_level=None` plus `transaction()`), so a multi-statement
write is all-or-nothing and nothing commits by accident.

One discipline for every statement on a connection: **it respects the connection's turn**, the
turn a transaction holds from BEGIN to COMMIT, and runs to its end (every row fetched) in one
step on the connection's thread. A transaction takes the turn; a single statement outside one
waits until nobody holds it and then runs whole before the next BEGIN. The bot shares one
connection between all its handlers (and the dispatcher has a second), so without this a read
could stay open between two awaits while another handler's `BEGIN IMMEDIATE` ran on the same
connection. Once the other connection has committed, that read's snapshot is stale and SQLite
refuses the upgrade at once with "database is locked": the busy timeout does not apply to it.
A read could also land inside another handler's open transaction and see writes that are then
rolled back.

Reads under the turn were chosen over a separate read-only connection: the domain's functions
take one connection and mix reads with writes (a read inside a transaction must see that
transaction's own writes), and aiosqlite already runs a connection's statements one at a time
on its thread, so waiting for the turn costs next to nothing. The task holding the turn
(inside `transaction()` or `write_lock()`) passes straight through.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import logging
import os
import resource
import sqlite3
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TypeVar, cast

import aiosqlite
from aiosqlite.context import contextmanager as aiosqlite_result

from bot import texts

log = logging.getLogger(__name__)

_T = TypeVar("_T")

SQLITE_MAGIC = b"SQLite format 3\x00"
# Long enough for the largest planning transaction (a series for a big group) to finish.
BUSY_TIMEOUT_MS = 15000
# The files hold members' data, so only the bot's own user may read them.
PRIVATE_FILE_MODE = 0o600
PRIVATE_FOLDER_MODE = 0o700
SIDE_FILES = ("-wal", "-shm", "-journal")

# Every page of the file (b-tree structure, no index cross-checks): O(file size).
QUICK_CHECK = """
PRAGMA quick_check
"""

LIST_TABLES = """
SELECT name
FROM sqlite_master
WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
"""

COUNT_SCHEMA = """
SELECT COUNT(*)
FROM sqlite_master
"""

# SQLite's primary result codes (https://www.sqlite.org/rescode.html); an extended code keeps
# its primary one in the low byte, e.g. SQLITE_IOERR_WRITE (778) & 0xFF == SQLITE_IOERR.
SQLITE_PERM, SQLITE_READONLY, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN = 3, 8, 10, 13, 14
# ENOSPC: no space left; EDQUOT: the user's quota is used up; EFBIG: the file would pass the
# largest size this process may write (RLIMIT_FSIZE, `ulimit -f`) or the file system allows.
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
# SQLite says SQLITE_FULL only for ENOSPC; EFBIG and EDQUOT reach it as a plain I/O error. An
# I/O error counts as a full disk when this process has a file-size limit or the folder's disk
# has less than this left.
LOW_SPACE_BYTES = 64 * 1024 * 1024


class DatabaseError(Exception):
    """A problem with the database file; `str()` is wording for an admin."""


class NotADatabaseError(DatabaseError):
    pass


class DatabaseLockedError(DatabaseError):
    pass


class DatabaseUnavailableError(DatabaseError):
    pass


class DiskFullError(DatabaseError):
    """There was no room to write: the disk (or a size limit) is full."""


def _size_limited() -> bool:
    soft, _hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    return soft != resource.RLIM_INFINITY


def _little_room(folder: Path) -> bool:
    existing = next((p for p in [folder, *folder.parents] if p.exists()), None)
    if existing is None:
        return False
    try:
        stats = os.statvfs(existing)
    except OSError:
        return False
    return stats.f_bavail * stats.f_frsize < LOW_SPACE_BYTES


def _primary_code(exc: sqlite3.Error) -> int:
    code = getattr(exc, "sqlite_errorcode", None)
    return int(code) & 0xFF if isinstance(code, int) else 0


def disk_full(exc: BaseException, folder: Path) -> DiskFullError | None:
    """The admin's sentence when `exc` means there was no room to write in `folder`, else None.

    Knows SQLite's full-disk error, its I/O error when the space or the file-size limit ran
    out, and Python's own ENOSPC, EDQUOT and EFBIG.
    """
    if isinstance(exc, DiskFullError):
        return exc
    if isinstance(exc, OSError):
        full = exc.errno in FULL_ERRNOS
    elif isinstance(exc, sqlite3.Error):
        code = _primary_code(exc)
        full = code == SQLITE_FULL or (
            code == SQLITE_IOERR and (_size_limited() or _little_room(folder))
        )
    else:
        return None
    if not full:
        return None
    return DiskFullError(texts.disk_full(Path(os.path.abspath(folder)), _size_limited()))


def cannot_write(exc: sqlite3.Error | OSError, path: Path) -> DatabaseError:
    """The error to raise when writing the database at `path` failed with `exc`."""
    full = disk_full(exc, path.parent)
    if full is not None:
        return full
    reason = (exc.strerror or str(exc)) if isinstance(exc, OSError) else str(exc)
    return DatabaseUnavailableError(texts.database_unwritable(path, reason))


def _wal_has_content(path: Path) -> bool:
    wal = path.with_name(path.name + "-wal")
    try:
        return wal.stat().st_size > 0
    except FileNotFoundError:
        return False


def connect_read_only(path: Path) -> tuple[sqlite3.Connection, bool]:
    """A connection that reads `path` and never writes it; True with it when it is immutable.

    A WAL database can be read without writing beside it only when its -wal and -shm files
    exist, when they can be created, or with `immutable=1` (https://www.sqlite.org/wal.html,
    "Read-Only Databases"). So: `mode=ro` first, which reads the live -wal through the -shm
    while the bot runs; in a folder this process may not write to, and with no -wal holding
    anything, `immutable=1`. Nobody can be writing then (a writer keeps a -wal), but a writer
    could start during a long read, so a caller copying the data checks the file did not change
    (`file_fingerprint`). A -wal with changes in it and no way to read it is an error: reading
    without it would miss committed writes.
    """
    uri = path.resolve().as_uri()
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30)
    try:
        conn.execute(COUNT_SCHEMA).fetchall()
    except sqlite3.OperationalError as exc:
        conn.close()
        if _primary_code(exc) not in (SQLITE_READONLY, SQLITE_CANTOPEN):
            raise
        if _wal_has_content(path):
            raise DatabaseUnavailableError(texts.database_wal_needs_writing(path)) from exc
    else:
        return conn, False
    return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, timeout=30), True


def file_fingerprint(path: Path) -> tuple[int, int, int, bool]:
    """What changes when anyone writes `path`: its inode, size, mtime, and whether a -wal exists."""
    stats = path.stat()
    wal = path.with_name(path.name + "-wal").exists()
    return stats.st_ino, stats.st_size, stats.st_mtime_ns, wal


def inspect_file(path: Path, *, thorough: bool = True) -> bool:
    """True if `path` holds an SQLite database that reads cleanly, False if it is absent/empty.

    Raises NotADatabaseError for anything else. Reads only: a file that is not ours, or is
    damaged, must be left exactly as it was so the admin can still rescue it.

    `thorough` reads every page (`PRAGMA quick_check`, time growing with the file): before a
    migration or a backup, and for check-config. A routine start passes False and reads only the
    header and the schema, so start-up takes as long with 100,000 rows as with none.
    """
    if not path.exists() or path.stat().st_size == 0:
        return False
    if not path.is_file():
        raise NotADatabaseError(texts.not_a_database(path))
    with path.open("rb") as handle:
        if handle.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise NotADatabaseError(texts.not_a_database(path))
    try:
        conn, _immutable = connect_read_only(path)
        try:
            # Reading the schema reads the header and page 1: enough to know the file is ours.
            tables = {row[0] for row in conn.execute(LIST_TABLES)}
            damaged = thorough and conn.execute(QUICK_CHECK).fetchone() != ("ok",)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        # Even a reader may need room: it sizes the -shm of a WAL database.
        full = disk_full(exc, path.parent)
        if full is not None:
            raise full from exc
        if _primary_code(exc) in (SQLITE_PERM, SQLITE_READONLY, SQLITE_IOERR, SQLITE_CANTOPEN):
            # The file could not be read, which says nothing about what is in it.
            raise DatabaseUnavailableError(texts.database_unreadable(path, str(exc))) from exc
        raise NotADatabaseError(texts.not_a_database(path)) from exc
    if damaged:
        raise NotADatabaseError(texts.not_a_database(path))
    if tables and "schema_migrations" not in tables:
        # Some other program's database: adding our tables to it would be a nasty surprise.
        raise NotADatabaseError(texts.not_a_database(path))
    return True


class Turn:
    """Whose turn it is on one connection.

    A transaction (or `write_lock`) holds the turn exclusively, and the task holding it may
    enter again. A single statement outside a transaction only waits until nobody holds the
    turn, then goes straight away: it runs whole before the next holder's BEGIN, so it never
    sees half a transaction, and it does not queue behind every transaction already waiting
    (a click's reply would otherwise wait for the whole crowd's clicks).
    """

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._holder: asyncio.Task[Any] | None = None
        self._free = asyncio.Event()
        self._free.set()

    def _mine(self) -> bool:
        task = asyncio.current_task()
        return task is not None and self._holder is task

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[None]:
        if self._mine():
            yield
            return
        async with self._lock:
            self._holder = asyncio.current_task()
            self._free.clear()
            try:
                yield
            finally:
                self._holder = None
                # Waiting statements wake before the next holder (the lock wakes it after
                # this), so each gets its moment between two transactions.
                self._free.set()

    async def between(self) -> None:
        """Return when a single statement may run: nobody else holds the turn. The caller
        must queue its statement without awaiting anything else first."""
        while self._lock.locked() and not self._mine():
            await self._free.wait()


def _run_to_end(
    conn: sqlite3.Connection, sql: str, parameters: Any
) -> tuple[sqlite3.Cursor, list[Any]]:
    """On the connection's thread: run a statement and fetch every row, so it holds no read
    snapshot once this returns."""
    cursor = conn.execute(sql, parameters)
    rows = cursor.fetchall()
    cursor.close()
    return cursor, rows


def _run_many_to_end(conn: sqlite3.Connection, sql: str, parameters: Any) -> sqlite3.Cursor:
    cursor = conn.executemany(sql, parameters)
    cursor.close()
    return cursor


@dataclass(frozen=True)
class Step:
    """One statement of `run_steps`: `many` runs it once per parameter set (executemany)."""

    sql: str
    parameters: Any = None
    many: bool = False


def _run_steps_to_end(conn: sqlite3.Connection, steps: Sequence[Step]) -> list[list[Any]]:
    results: list[list[Any]] = []
    for step in steps:
        if step.many:
            _run_many_to_end(conn, step.sql, step.parameters)
            results.append([])
        else:
            results.append(_run_to_end(conn, step.sql, step.parameters or [])[1])
    return results


class FetchedCursor(aiosqlite.Cursor):
    """A finished statement's cursor: its rows were all fetched when it ran."""

    def __init__(self, conn: aiosqlite.Connection, cursor: sqlite3.Cursor, rows: list[Any]):
        super().__init__(conn, cursor)
        self._rows = rows

    async def _fetch_chunked(self) -> AsyncIterator[Any]:
        while self._rows:
            yield self._rows.pop(0)

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = self.arraysize if size is None else size
        taken, self._rows = self._rows[:count], self._rows[count:]
        return taken

    async def fetchall(self) -> list[Any]:
        taken, self._rows = self._rows, []
        return taken

    async def close(self) -> None:
        self._rows = []

    async def execute(self, sql: str, parameters: Any = None) -> aiosqlite.Cursor:
        raise TypeError("run each statement with Connection.execute, which takes the turn")

    async def executemany(self, sql: str, parameters: Any) -> aiosqlite.Cursor:
        raise TypeError("run each statement with Connection.executemany, which takes the turn")

    async def executescript(self, sql_script: str) -> aiosqlite.Cursor:
        raise TypeError("run scripts with Connection.executescript, which takes the turn")


class Connection(aiosqlite.Connection):
    """aiosqlite's connection where every statement takes the connection's turn and runs to
    its end (see the module's docstring)."""

    def __init__(self, path: Path) -> None:
        def connector() -> sqlite3.Connection:
            return sqlite3.connect(path, isolation_level=None)

        super().__init__(connector, iter_chunk_size=64)
        self.turn = Turn()

    async def _on_thread(self, fn: Callable[..., _T], *args: Any) -> _T:
        """Run `fn` on the connection's thread (aiosqlite's queue, typed)."""
        return cast(_T, await self._execute(fn, *args))  # type: ignore[no-untyped-call]

    @aiosqlite_result
    async def execute(self, sql: str, parameters: Any = None) -> aiosqlite.Cursor:
        await self.turn.between()
        cursor, rows = await self._on_thread(_run_to_end, self._conn, sql, parameters or [])
        return FetchedCursor(self, cursor, rows)

    @aiosqlite_result
    async def execute_fetchall(self, sql: str, parameters: Any = None) -> Iterable[sqlite3.Row]:
        await self.turn.between()
        _, rows = await self._on_thread(_run_to_end, self._conn, sql, parameters or [])
        return rows

    @aiosqlite_result
    async def execute_insert(self, sql: str, parameters: Any = None) -> Any:
        await self.turn.between()
        return await self._on_thread(self._execute_insert, sql, parameters or [])

    @aiosqlite_result
    async def executemany(self, sql: str, parameters: Any) -> aiosqlite.Cursor:
        await self.turn.between()
        cursor = await self._on_thread(_run_many_to_end, self._conn, sql, parameters)
        return FetchedCursor(self, cursor, [])

    async def run_steps(self, steps: Sequence[Step]) -> list[list[Any]]:
        """Several statements, in order, in one trip to the connection's thread (see
        `run_steps`)."""
        await self.turn.between()
        return await self._on_thread(_run_steps_to_end, self._conn, list(steps))

    @aiosqlite_result
    async def executescript(self, sql_script: str) -> aiosqlite.Cursor:
        async with self.turn():
            cursor = await self._on_thread(self._conn.executescript, sql_script)
            await self._on_thread(cursor.close)
        return FetchedCursor(self, cursor, [])

    @aiosqlite_result
    async def cursor(self) -> aiosqlite.Cursor:
        raise TypeError("run each statement with Connection.execute, which takes the turn")

    async def commit(self) -> None:
        async with self.turn():
            await super().commit()

    async def rollback(self) -> None:
        async with self.turn():
            await super().rollback()


async def open_database(path: Path) -> aiosqlite.Connection:
    """Open (creating if needed) the database at `path`, after checking it is really ours."""
    await asyncio.to_thread(_prepare_location, path)
    try:
        conn = await Connection(path)
    except sqlite3.Error as exc:
        raise DatabaseUnavailableError(texts.database_unwritable(path, str(exc))) from exc
    try:
        conn.row_factory = aiosqlite.Row
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = NORMAL")
        await conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_BACKSTOP_PAGES}")
        await conn.execute("PRAGMA foreign_keys = ON")
        # Deleted rows are overwritten with zeros, so a member's deleted data is not left
        # readable in free pages of the file.
        await conn.execute("PRAGMA secure_delete = ON")
    except sqlite3.DatabaseError as exc:
        await conn.close()
        # Switching a new file to WAL writes its first page: a full disk fails here.
        if _primary_code(exc) in (SQLITE_PERM, SQLITE_READONLY, SQLITE_IOERR, SQLITE_FULL):
            raise cannot_write(exc, path) from exc
        raise NotADatabaseError(texts.not_a_database(path)) from exc
    return conn


# Files this process has already checked, made private and opened. Doing it again would open
# and close the file outside SQLite, and closing *any* descriptor of a file drops every POSIX
# (fcntl) lock the process holds on it, SQLite's included (fcntl(2)). A connection already open
# here would lose its shared lock, and another process closing its own connection (a backup, a
# reader) could then take the file as unused, checkpoint and delete the WAL under us: committed
# writes lost.
_INSPECTED: set[Path] = set()


def _prepare_location(path: Path) -> None:
    resolved = path.resolve()
    if resolved in _INSPECTED:
        return
    inspect_file(path, thorough=False)
    try:
        private_folder(path.parent)
        # SQLite gives the -wal and -shm files the database file's mode, so creating the
        # database 0600 before SQLite opens it makes all three private.
        fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)
        os.close(fd)
        make_private(path)
    except OSError as exc:
        raise cannot_write(exc, path) from exc
    _INSPECTED.add(resolved)


def private_folder(folder: Path) -> None:
    """Create `folder` (and missing parents) 0700; an existing folder is left as the admin made
    it, except that one Holdfast made is kept 0700."""
    missing = [p for p in [folder, *folder.parents] if not p.exists()]
    folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER_MODE)
    for created in missing:
        os.chmod(created, PRIVATE_FOLDER_MODE)


def make_private(path: Path) -> None:
    """Tighten a database (and its side files) made before Holdfast kept them private."""
    for candidate in [path, *(path.with_name(path.name + s) for s in SIDE_FILES)]:
        if candidate.exists():
            os.chmod(candidate, PRIVATE_FILE_MODE)


@contextmanager
def private_file(path: Path) -> Iterator[BinaryIO]:
    """Create a new file only the bot's user can read (fails if it exists)."""
    private_folder(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        yield handle


CHECKPOINT_TRUNCATE = "PRAGMA wal_checkpoint(TRUNCATE)"
CHECKPOINT_PASSIVE = "PRAGMA wal_checkpoint(PASSIVE)"

# SQLite copies the WAL back into the database file on the call of the commit that takes the WAL
# past `wal_autocheckpoint` pages (1,000 by default): a member's click would wait while a big
# re-plan's pages were copied. The bot copies them on a connection of its own instead
# (`keep_wal_copied`, every second, on that connection's thread, so no statement of the bot's
# waits for it), and the automatic copy stays as a backstop far above what a second's writes
# make, so the WAL stays bounded even if the keeper stops.
WAL_BACKSTOP_PAGES = 10_000
WAL_COPY_EVERY_SECONDS = 1.0


async def copy_wal_back(conn: aiosqlite.Connection) -> int:
    """Copy what the WAL holds into the database file, waiting for no reader or writer
    (PASSIVE): the pages a later commit would otherwise copy on its member's time. Returns how
    many pages were in the WAL."""
    async with conn.execute(CHECKPOINT_PASSIVE) as cursor:
        row = await cursor.fetchone()
    return int(row[1]) if row is not None and row[1] > 0 else 0


async def keep_wal_copied(path: Path, every: float = WAL_COPY_EVERY_SECONDS) -> None:
    """Until cancelled: copy the WAL back every `every` seconds, on a connection (and so a
    thread) of its own. A PASSIVE copy waits for no reader or writer and none waits for it;
    with nothing new in the WAL it costs a few microseconds."""
    try:
        conn = await open_database(path)
    except DatabaseError as error:
        # The bot's own connections opened a moment ago; if this one cannot, the backstop
        # copies on commits as SQLite always did.
        log.warning("could not open a connection to copy the write-ahead log back: %s", error)
        return
    try:
        while True:
            try:
                await copy_wal_back(conn)
            except sqlite3.Error as error:
                # The backstop still copies on a commit; the next round tries again.
                log.warning("could not copy the write-ahead log back: %s", error)
            await asyncio.sleep(every)
    finally:
        await conn.close()


async def checkpoint(conn: aiosqlite.Connection, attempts: int = 20) -> bool:
    """Copy the WAL into the database and empty it, so deleted rows leave no copy behind.

    Another connection's open read can hold the checkpoint back; it is retried briefly.
    True when the WAL was emptied.
    """
    for attempt in range(attempts):
        async with conn.execute(CHECKPOINT_TRUNCATE) as cursor:
            row = await cursor.fetchone()
        if row is not None and row[0] == 0:
            return True
        await asyncio.sleep(0.01 * (attempt + 1))
    return False


async def run_steps(conn: aiosqlite.Connection, steps: Sequence[Step]) -> list[list[Any]]:
    """Run `steps` in order, each to its end, and return each one's rows ([] for `many`).

    Each statement is a trip to the connection's thread and back (about 0.1 ms), which is most
    of what a click costs: reads that do not depend on each other, and the writes a plan has
    decided, go together in one trip. A failing step raises, the steps before it having run, as
    if they had been awaited one by one; inside a transaction the caller's rollback undoes them.
    """
    if isinstance(conn, Connection):
        return await conn.run_steps(steps)
    results: list[list[Any]] = []
    for step in steps:
        if step.many:
            await conn.executemany(step.sql, step.parameters)
            results.append([])
        else:
            async with conn.execute(step.sql, step.parameters) as cursor:
                results.append(list(await cursor.fetchall()))
    return results


# Turns for connections not made by open_database (none in the bot; kept for safety).
_TURNS: weakref.WeakKeyDictionary[aiosqlite.Connection, Turn] = weakref.WeakKeyDictionary()


def turn_of(conn: aiosqlite.Connection) -> Turn:
    if isinstance(conn, Connection):
        return conn.turn
    return _TURNS.setdefault(conn, Turn())


@asynccontextmanager
async def write_lock(conn: aiosqlite.Connection) -> AsyncIterator[aiosqlite.Connection]:
    """The connection's turn, without a transaction: for statements that must not land inside
    another handler's open transaction. Every statement on a `Connection` takes it anyway."""
    async with turn_of(conn)():
        yield conn


@asynccontextmanager
async def transaction(conn: aiosqlite.Connection) -> AsyncIterator[aiosqlite.Connection]:
    """BEGIN IMMEDIATE … COMMIT, rolled back on any error.

    IMMEDIATE takes the write lock up front, so two writers queue on busy_timeout instead of
    failing half-way with SQLITE_BUSY on upgrade. The bot shares one connection between
    handlers, so transactions on it also queue here: two members clicking at the same moment
    must not interleave their statements in one SQLite transaction, and nobody else's read
    runs inside it either (see the module's docstring).
    """
    async with write_lock(conn):
        await conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            await conn.rollback()
            raise
        else:
            await conn.commit()


@dataclass
class ProcessLock:
    """One Holdfast per database: an advisory lock the OS releases even after SIGKILL."""

    path: Path
    fd: int

    def release(self) -> None:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            os.close(self.fd)


def lock_path_for(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


def acquire_process_lock(database: Path) -> ProcessLock:
    lock_file = lock_path_for(database)
    try:
        # The lock is the first file made beside the database, so its folder is made here,
        # private like every folder Holdfast creates.
        private_folder(lock_file.parent)
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)
    except OSError as exc:
        raise cannot_write(exc, database) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise DatabaseLockedError(texts.database_locked(database)) from None
    return ProcessLock(lock_file, fd)


def files_beside(database: Path) -> list[Path]:
    """Every file Holdfast makes beside a database: the database, SQLite's side files, the
    process lock and the note key file (with its half-written form)."""
    names = [
        database.name,
        *(database.name + suffix for suffix in SIDE_FILES),
        lock_path_for(database).name,
        database.name + ".keys",
        database.name + ".keys.partial",
    ]
    return [database.with_name(name) for name in names]


@dataclass(frozen=True)
class NewDatabase:
    """What was beside a database before a command started, so that a first migration that
    fails can take back every file and folder it made: a half-made file left behind would
    later look like a damaged or foreign database.

    Only a database that did not exist yet (or was empty) is taken back. An existing one is
    never touched here: its -wal may hold committed writes, and a failed migration already
    leaves it as it was (each migration is one transaction).
    """

    database: Path
    is_new: bool
    was_empty: bool
    absent: tuple[Path, ...] = field(default=())
    folders: tuple[Path, ...] = field(default=())

    @classmethod
    def before(cls, database: Path) -> NewDatabase:
        try:
            exists = database.is_file()
            size = database.stat().st_size if exists else 0
            folder = database.parent
            return cls(
                database=database,
                is_new=size == 0,
                was_empty=exists and size == 0,
                absent=tuple(p for p in files_beside(database) if not p.exists()),
                folders=tuple(p for p in [folder, *folder.parents] if not p.exists()),
            )
        except OSError:
            # A place this process cannot look into: opening it will say so; take nothing back.
            return cls(database=database, is_new=False, was_empty=False)

    def take_back(self) -> None:
        """Remove what was made since `before` (call it while still holding the process lock,
        so nobody opens the files meanwhile)."""
        if not self.is_new:
            return
        # Made again later in this process, the file must be created private again.
        _INSPECTED.discard(self.database.resolve())
        for path in self.absent:
            with suppress(OSError):
                path.unlink(missing_ok=True)
        if self.was_empty:
            with suppress(OSError):
                os.truncate(self.database, 0)
        for folder in self.folders:  # deepest first; a folder holding anything else stays
            with suppress(OSError):
                folder.rmdir()

    @contextmanager
    def taken_back_on_failure(self) -> Iterator[None]:
        try:
            yield
        except BaseException:
            self.take_back()
            raise

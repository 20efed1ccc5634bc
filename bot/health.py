"""The bot's heartbeat and the health verdict that `python -m bot health`, /status, systemd's
watchdog and Docker's HEALTHCHECK rely on.

The running bot writes one row every few seconds: the real time of the beat, its own clock (they
differ only on the demo clock) and whether it is connected to Discord. Healthy means the beat is
fresh, the bot is connected, and no delivery is waiting long past its time.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import aiosqlite

from bot.db import transaction
from bot.delivery.outbox import iso, parse
from bot.texts import health as texts

# A beat older than this means the bot is stopped or stuck (it beats every 15 s at most).
MAX_BEAT_AGE = timedelta(seconds=60)
# A delivery waiting this long past its time (its retry time, after a passing error) means
# messages are not going out.
OVERDUE_AFTER = timedelta(minutes=15)

WRITE_HEARTBEAT = """
INSERT INTO heartbeat (id, pid, beat_at, clock_now, connected, stopped, started_at)
VALUES (1, :pid, :beat_at, :clock_now, :connected, :stopped, :started_at)
ON CONFLICT (id) DO UPDATE
SET pid = excluded.pid, beat_at = excluded.beat_at, clock_now = excluded.clock_now,
    connected = excluded.connected, stopped = excluded.stopped,
    started_at = excluded.started_at
"""

SELECT_HEARTBEAT = """
SELECT pid, beat_at, clock_now, connected, started_at, stopped
FROM heartbeat
WHERE id = 1
"""

# Two counts, each through its partial index (only overdue pending rows, only rows in doubt):
# one OR over the table would scan every row, 100,000 pending reminders and all.
COUNT_OVERDUE = """
SELECT (
    SELECT COUNT(*)
    FROM outbox
    WHERE state = 'pending' AND next_attempt_at < :before
) + (
    SELECT COUNT(*)
    FROM outbox
    WHERE state = 'sending' AND claimed_at < :before
)
"""

HAS_HEARTBEAT_TABLE = """
SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'heartbeat'
"""


@dataclass(frozen=True)
class Heartbeat:
    pid: int
    beat_at: datetime
    """Real time of the beat."""
    clock_now: datetime
    """The bot's clock at the beat."""
    connected: bool
    started_at: datetime
    stopped: bool = False
    """The last beat of a clean stop."""


@dataclass(frozen=True)
class Health:
    heartbeat: Heartbeat | None
    age: timedelta | None
    overdue: int
    problems: list[str]
    """One plain sentence per reason the bot is unhealthy; empty when healthy."""

    @property
    def healthy(self) -> bool:
        return not self.problems

    def line(self) -> str:
        if self.problems:
            return texts.unhealthy(self.problems)
        assert self.age is not None
        return texts.healthy(self.age)

    def status_lines(self) -> str:
        connected = self.heartbeat is not None and self.heartbeat.connected
        return texts.status_lines(self.age, connected, self.overdue, self.problems)


async def beat(
    conn: aiosqlite.Connection,
    *,
    pid: int,
    real_now: datetime,
    clock_now: datetime,
    connected: bool,
    started_at: datetime,
    stopped: bool = False,
) -> None:
    async with transaction(conn):
        await conn.execute(
            WRITE_HEARTBEAT,
            {
                "pid": pid,
                "beat_at": iso(real_now),
                "clock_now": iso(clock_now),
                "connected": int(connected),
                "stopped": int(stopped),
                "started_at": iso(started_at),
            },
        )


def judge(
    heartbeat: Heartbeat | None,
    overdue: int,
    real_now: datetime,
    *,
    max_age: timedelta = MAX_BEAT_AGE,
    overdue_after: timedelta = OVERDUE_AFTER,
) -> Health:
    if heartbeat is None:
        return Health(None, None, overdue, [texts.no_heartbeat()])
    age = real_now - heartbeat.beat_at
    problems: list[str] = []
    if heartbeat.stopped:
        problems.append(texts.stopped(age))
    elif age > max_age:
        problems.append(texts.heartbeat_stale(age, max_age))
    elif not heartbeat.connected:
        problems.append(texts.not_connected())
    if overdue:
        problems.append(texts.overdue(overdue, overdue_after))
    return Health(heartbeat, age, overdue, problems)


def _heartbeat(row: tuple[object, ...] | None) -> Heartbeat | None:
    if row is None:
        return None
    pid, beat_at, clock_now, connected, started_at, stopped = row
    return Heartbeat(
        int(str(pid)),
        parse(str(beat_at)),
        parse(str(clock_now)),
        bool(connected),
        parse(str(started_at)),
        bool(stopped),
    )


def _overdue_before(heartbeat: Heartbeat | None, overdue_after: timedelta) -> str | None:
    # Measured on the bot's own clock at its last beat (the demo clock runs at its own pace).
    return iso(heartbeat.clock_now - overdue_after) if heartbeat is not None else None


async def check(
    conn: aiosqlite.Connection,
    real_now: datetime,
    *,
    max_age: timedelta = MAX_BEAT_AGE,
    overdue_after: timedelta = OVERDUE_AFTER,
) -> Health:
    """The verdict from the running bot's own connection (for /status)."""
    async with conn.execute(SELECT_HEARTBEAT) as cursor:
        heartbeat = _heartbeat(tuple(row) if (row := await cursor.fetchone()) else None)
    overdue = 0
    before = _overdue_before(heartbeat, overdue_after)
    if before is not None:
        async with conn.execute(COUNT_OVERDUE, {"before": before}) as cursor:
            found = await cursor.fetchone()
        overdue = int(found[0]) if found else 0
    return judge(heartbeat, overdue, real_now, max_age=max_age, overdue_after=overdue_after)


def check_file(
    path: Path,
    real_now: datetime,
    *,
    max_age: timedelta = MAX_BEAT_AGE,
    overdue_after: timedelta = OVERDUE_AFTER,
) -> Health:
    """The verdict from outside the bot (`python -m bot health`): reads the database only."""
    if not path.is_file():
        return Health(None, None, 0, [texts.no_database(path)])
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
    try:
        if db.execute(HAS_HEARTBEAT_TABLE).fetchone() is None:
            return judge(None, 0, real_now)
        heartbeat = _heartbeat(db.execute(SELECT_HEARTBEAT).fetchone())
        before = _overdue_before(heartbeat, overdue_after)
        overdue = (
            int(db.execute(COUNT_OVERDUE, {"before": before}).fetchone()[0])
            if before is not None
            else 0
        )
    finally:
        db.close()
    return judge(heartbeat, overdue, real_now, max_age=max_age, overdue_after=overdue_after)

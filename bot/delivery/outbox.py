"""The outbox: every scheduled message is a row here before Discord sees it.

Planners describe what *should* be sent (`PlannedDelivery`) and `replan` makes the table agree,
inside the caller's transaction, so a meeting moved or cancelled and its deliveries change
together or not at all. The dispatcher (`dispatcher.py`) moves rows through their states:

    pending ──claim──▶ sending ──▶ sent
       │  ▲               ├──▶ pending (transient error: retry later, same nonce)
       │  └──recovery─────┤──▶ skipped (renderer said no) / failed (permanent error, gave up)
       ├──▶ skipped (too late: past not_after when its turn came)
       └──▶ cancelled (re-planned away; may come back to pending if planned again)

Rows that left `pending` for good (sent, skipped, failed) are never changed by planning.
Times are stored as UTC ISO-8601 text with microseconds, so text order is time order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import aiosqlite

from bot.db import Step, run_steps
from bot.delivery.port import Destination, Sent

State = Literal["pending", "sending", "sent", "skipped", "failed", "cancelled"]
STATES: tuple[State, ...] = ("pending", "sending", "sent", "skipped", "failed", "cancelled")
TOO_LATE = "too late"


@dataclass(frozen=True)
class PlannedDelivery:
    """One message that should be sent: what a planner returns."""

    key: str
    """Idempotency key, unique forever (e.g. "announcement:meeting:42")."""
    scope: str
    """What re-planning replaces as a whole (e.g. "meeting:42")."""
    kind: str
    """Which renderer builds the message (e.g. "announcement")."""
    destination: Destination
    due_at: datetime
    not_after: datetime
    """Never send after this instant (e.g. the meeting's start for a reminder)."""
    guild_id: int | None = None
    subject_id: int | None = None
    """What the message is about (e.g. the meeting id), for the renderer."""

    def __post_init__(self) -> None:
        # Planners make thousands of these at once: UTC itself (the common case) is known aware.
        if self.due_at.tzinfo is not UTC:
            _require_aware(self.due_at)
        if self.not_after.tzinfo is not UTC:
            _require_aware(self.not_after)
        if self.not_after < self.due_at:
            raise ValueError(f"{self.key}: not_after is before due_at")


@dataclass(frozen=True)
class Delivery:
    """A row of the outbox."""

    id: int
    key: str
    scope: str
    kind: str
    destination: Destination
    due_at: datetime
    not_after: datetime
    state: State
    attempts: int
    next_attempt_at: datetime
    guild_id: int | None
    subject_id: int | None
    sent: Sent | None
    last_error: str | None
    nonce: str | None

    @property
    def marker(self) -> str:
        """The token a rendered message carries in a button custom_id, so the message can be
        recognised in the channel's history after a crash (Discord keeps custom_ids)."""
        return f"d{self.id}"


@dataclass(frozen=True)
class ReplanResult:
    inserted: int = 0
    updated: int = 0
    cancelled: int = 0
    revived: int = 0
    """Cancelled rows planned again (back to pending)."""
    unchanged: int = 0
    kept: int = 0
    """Rows already sending, sent, skipped or failed: planning leaves them alone."""


_COLUMNS = """
id, idempotency_key, scope, kind, guild_id, channel_id, user_id, subject_id, due_at, not_after,
state, attempts, next_attempt_at, last_error, nonce, sent_channel_id, sent_message_id
"""

SELECT_BY_KEY = f"""
SELECT {_COLUMNS}
FROM outbox
WHERE idempotency_key = :key
"""

SELECT_BY_ID = f"""
SELECT {_COLUMNS}
FROM outbox
WHERE id = :id
"""

# What planning compares: the columns a plan sets, as stored (times in `iso` form, so equal
# text is an equal instant).
# What re-planning compares against, in one read: the rows with the keys wanted (in any
# state) and every pending row of the scopes being re-planned.
SELECT_PLAN_IN_SCOPES = """
SELECT id, idempotency_key, scope, state, kind, guild_id, channel_id, user_id, subject_id,
       due_at, not_after, attempts
FROM outbox
WHERE idempotency_key IN (SELECT value FROM json_each(:keys))
   OR (scope IN (SELECT value FROM json_each(:scopes)) AND state = 'pending')
"""

INSERT_DELIVERY = """
INSERT INTO outbox (
    idempotency_key, scope, kind, guild_id, channel_id, user_id, subject_id,
    due_at, not_after, state, attempts, next_attempt_at, created_at, updated_at
)
VALUES (
    :key, :scope, :kind, :guild_id, :channel_id, :user_id, :subject_id,
    :due_at, :not_after, 'pending', 0, :due_at, :now, :now
)
ON CONFLICT (idempotency_key) DO NOTHING
"""

# The same insert taking each row's values in this order (`replan_many` writes thousands at once:
# binding by position spares SQLite's module a name lookup per value, ~3 us a row here).
INSERT_DELIVERY_ROW = """
INSERT INTO outbox (
    idempotency_key, scope, kind, guild_id, channel_id, user_id, subject_id,
    due_at, not_after, state, attempts, next_attempt_at, created_at, updated_at
)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)
ON CONFLICT (idempotency_key) DO NOTHING
"""

UPDATE_PENDING_PLAN = """
UPDATE outbox
SET kind = :kind, guild_id = :guild_id, channel_id = :channel_id, user_id = :user_id,
    subject_id = :subject_id, due_at = :due_at, not_after = :not_after,
    next_attempt_at = CASE WHEN due_at = :due_at THEN next_attempt_at ELSE :due_at END,
    updated_at = :now
WHERE id = :id AND state = 'pending'
"""

# Attempts are kept: a row cancelled after an attempt (before planning retired such rows
# instead) may be in Discord already, and the dispatcher looks for it before sending again.
REVIVE_CANCELLED = """
UPDATE outbox
SET kind = :kind, guild_id = :guild_id, channel_id = :channel_id, user_id = :user_id,
    subject_id = :subject_id, due_at = :due_at, not_after = :not_after,
    state = 'pending', next_attempt_at = :due_at, last_error = NULL, updated_at = :now
WHERE id = :id AND state = 'cancelled'
"""

# A pending row never attempted, no longer wanted, becomes a row its scope now wants, as an
# insert would make it (a moved meeting's every reminder changes key with its time): one write
# where cancelling and inserting took two, and the table does not grow by a row per move.
REWRITE_UNATTEMPTED = """
UPDATE outbox
SET idempotency_key = ?, guild_id = ?, subject_id = ?, due_at = ?, not_after = ?,
    next_attempt_at = ?, created_at = ?, updated_at = ?
WHERE id = ? AND state = 'pending' AND attempts = 0
"""

CANCEL_PENDING_MANY = """
UPDATE outbox
SET state = 'cancelled', updated_at = :now
WHERE id IN (SELECT value FROM json_each(:ids)) AND state = 'pending' AND attempts = 0
"""

# A pending row with an attempt behind it may already be in Discord (the attempt's answer was
# lost: a 5xx after Discord took it, a timeout). Planning never cancels it (a later plan could
# revive it and send it twice) nor sends it elsewhere: no longer wanted, it is retired, so the
# dispatcher's next look settles it where it went: sent if it is there, skipped if not (its
# useful window closed at its due time, so nothing is sent anew).
RETIRE_ATTEMPTED_MANY = """
UPDATE outbox
SET not_after = due_at, updated_at = :now
WHERE id IN (SELECT value FROM json_each(:ids)) AND state = 'pending' AND attempts > 0
"""

SELECT_NEXT_DUE = """
SELECT MIN(next_attempt_at)
FROM outbox
WHERE state = 'pending'
"""

SELECT_FIRST_DUE = f"""
SELECT {_COLUMNS}
FROM outbox
WHERE state = 'pending' AND next_attempt_at <= :now
ORDER BY next_attempt_at, id
LIMIT 1
"""

SELECT_PENDING = f"""
SELECT {_COLUMNS}
FROM outbox
WHERE state = 'pending'
ORDER BY next_attempt_at, id
LIMIT :limit
"""

CLAIM = """
UPDATE outbox
SET state = 'sending', attempts = attempts + 1, claimed_at = :now,
    nonce = COALESCE(nonce, :nonce), updated_at = :now
WHERE id = :id AND state = 'pending'
"""

MARK_SENT = """
UPDATE outbox
SET state = 'sent', sent_channel_id = :channel_id, sent_message_id = :message_id,
    sent_at = :now, updated_at = :now
WHERE id = :id AND state = 'sending'
"""

MARK_FINAL = """
UPDATE outbox
SET state = :state, last_error = :reason, updated_at = :now
WHERE id = :id AND state IN ('pending', 'sending')
"""

REQUEUE = """
UPDATE outbox
SET state = 'pending', next_attempt_at = :at, last_error = :reason, updated_at = :now
WHERE id = :id AND state = 'sending'
"""

SELECT_IN_DOUBT = f"""
SELECT {_COLUMNS}
FROM outbox
WHERE state = 'sending'
ORDER BY id
"""

SELECT_SENT_MESSAGE = """
SELECT sent_channel_id, sent_message_id
FROM outbox
WHERE idempotency_key = :key AND state = 'sent'
"""

COUNT_BY_STATE = """
SELECT state, COUNT(*)
FROM outbox
GROUP BY state
"""


def iso(when: datetime) -> str:
    """The stored form of an instant: UTC, microseconds, fixed width (text order = time)."""
    return _require_aware(when).astimezone(UTC).isoformat(timespec="microseconds")


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _require_aware(when: datetime) -> datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("delivery times must be timezone-aware")
    return when


def _require_transaction(conn: aiosqlite.Connection, what: str) -> None:
    # Planning belongs to the caller's change (a meeting moved, an RSVP): both commit together.
    if not conn.in_transaction:
        raise RuntimeError(f"{what} runs inside the caller's transaction (bot.db.transaction)")


# (outbox column, `_plan_params` name) of everything a plan decides about a row.
_PLAN_COLUMNS = (
    ("kind", "kind"),
    ("guild_id", "guild_id"),
    ("channel_id", "channel_id"),
    ("user_id", "user_id"),
    ("subject_id", "subject_id"),
    ("due_at", "due_at"),
    ("not_after", "not_after"),
)


def _plan_params(planned: PlannedDelivery, now: datetime) -> dict[str, object]:
    return {
        "key": planned.key,
        "scope": planned.scope,
        "kind": planned.kind,
        "guild_id": planned.guild_id,
        "channel_id": planned.destination.channel_id,
        "user_id": planned.destination.user_id,
        "subject_id": planned.subject_id,
        "due_at": iso(planned.due_at),
        "not_after": iso(planned.not_after),
        "now": iso(now),
    }


def _delivery(row: aiosqlite.Row) -> Delivery:
    sent = (
        Sent(int(row["sent_channel_id"]), int(row["sent_message_id"]))
        if row["sent_message_id"] is not None
        else None
    )
    return Delivery(
        id=int(row["id"]),
        key=str(row["idempotency_key"]),
        scope=str(row["scope"]),
        kind=str(row["kind"]),
        destination=Destination(channel_id=row["channel_id"], user_id=row["user_id"]),
        due_at=parse(row["due_at"]),
        not_after=parse(row["not_after"]),
        state=row["state"],
        attempts=int(row["attempts"]),
        next_attempt_at=parse(row["next_attempt_at"]),
        guild_id=row["guild_id"],
        subject_id=row["subject_id"],
        sent=sent,
        last_error=row["last_error"],
        nonce=row["nonce"],
    )


async def _one(conn: aiosqlite.Connection, sql: str, params: dict[str, object]) -> Delivery | None:
    async with conn.execute(sql, params) as cursor:
        row = await cursor.fetchone()
    return _delivery(row) if row is not None else None


async def _many(conn: aiosqlite.Connection, sql: str, params: dict[str, object]) -> list[Delivery]:
    async with conn.execute(sql, params) as cursor:
        rows = await cursor.fetchall()
    return [_delivery(row) for row in rows]


async def replan(
    conn: aiosqlite.Connection,
    scope: str,
    desired: Sequence[PlannedDelivery],
    now: datetime,
) -> ReplanResult:
    """Make the scope's pending rows match `desired`. Runs inside the caller's transaction.

    New keys are inserted; pending rows that changed are updated; pending rows no longer
    wanted are cancelled (and revived if wanted again), or, if never attempted, rewritten as a
    new key of the same kind, scope and destination; rows that are sending, sent, skipped or
    failed are never touched, so a message already sent is never planned a second time.
    """
    return await replan_many(conn, {scope: desired}, now)


async def replan_many(
    conn: aiosqlite.Connection,
    desired_by_scope: Mapping[str, Sequence[PlannedDelivery]],
    now: datetime,
) -> ReplanResult:
    """`replan` for many scopes at once (a meeting's every member), in a few statements
    whatever their number: the rows are read once, compared in memory, and the difference is
    written with executemany. Runs inside the caller's transaction."""
    _require_transaction(conn, "replan")
    if not desired_by_scope:
        return ReplanResult()
    planned_all: list[PlannedDelivery] = []
    for scope, desired in desired_by_scope.items():
        for planned in desired:
            if planned.scope != scope:
                raise ValueError(f"replan({scope!r}): {planned.key} belongs to {planned.scope!r}")
        planned_all.extend(desired)
    wanted = {p.key for p in planned_all}
    if len(wanted) != len(planned_all):
        for scope, desired in desired_by_scope.items():
            if len({p.key for p in desired}) != len(desired):
                raise ValueError(f"replan({scope!r}): the same key is planned twice")
        raise ValueError("replan: the same key is planned in two scopes")
    stamp = iso(now)
    params_in = {"keys": json.dumps(list(wanted)), "scopes": json.dumps(list(desired_by_scope))}
    async with conn.execute(SELECT_PLAN_IN_SCOPES, params_in) as cursor:
        rows = await cursor.fetchall()
    existing = {str(row["idempotency_key"]): row for row in rows}
    dropped = [
        row
        for key, row in existing.items()
        if key not in wanted and row["state"] == "pending" and row["scope"] in desired_by_scope
    ]
    # Never attempted, so nothing of them is in Discord: free to become a row wanted now, of
    # the same kind, scope and destination (a row never passes from one person to another).
    spare: dict[tuple[object, ...], list[int]] = {}
    for gone in sorted(dropped, key=lambda r: int(r["id"]), reverse=True):
        if not gone["attempts"]:
            slot = (gone["scope"], gone["kind"], gone["channel_id"], gone["user_id"])
            spare.setdefault(slot, []).append(int(gone["id"]))
    retires = sorted(int(row["id"]) for row in dropped if row["attempts"])
    inserts: list[tuple[object, ...]] = []  # in INSERT_DELIVERY_ROW's order
    updates: list[dict[str, object]] = []
    revives: list[dict[str, object]] = []
    unchanged = kept = 0
    times: dict[datetime, str] = {}  # many rows share an instant (a meeting's start)

    for planned in planned_all:
        due_at = times.get(planned.due_at)
        if due_at is None:
            due_at = times[planned.due_at] = iso(planned.due_at)
        not_after = times.get(planned.not_after)
        if not_after is None:
            not_after = times[planned.not_after] = iso(planned.not_after)
        destination = planned.destination
        row = existing.get(planned.key)
        if row is None:
            inserts.append(
                (
                    planned.key,
                    planned.scope,
                    planned.kind,
                    planned.guild_id,
                    destination.channel_id,
                    destination.user_id,
                    planned.subject_id,
                    due_at,
                    not_after,
                    due_at,
                    stamp,
                    stamp,
                )
            )
            continue
        params: dict[str, object] = {
            "key": planned.key,
            "scope": planned.scope,
            "kind": planned.kind,
            "guild_id": planned.guild_id,
            "channel_id": destination.channel_id,
            "user_id": destination.user_id,
            "subject_id": planned.subject_id,
            "due_at": due_at,
            "not_after": not_after,
            "now": stamp,
        }
        if row["scope"] != planned.scope:
            raise ValueError(
                f"replan({planned.scope!r}): {planned.key} is already in {row['scope']!r}"
            )
        if row["state"] == "pending":
            if all(row[column] == params[name] for column, name in _PLAN_COLUMNS):
                unchanged += 1
            elif row["attempts"]:
                kept += 1  # may be in Discord already, where it went: the dispatcher looks there
            else:
                updates.append({**params, "id": row["id"]})
        elif row["state"] == "cancelled":
            revives.append({**params, "id": row["id"]})
        else:
            kept += 1
    rewrites: list[tuple[object, ...]] = []  # in REWRITE_UNATTEMPTED's order
    fresh: list[tuple[object, ...]] = []
    for insert in inserts:
        ids = spare.get((insert[1], insert[2], insert[4], insert[5]))
        if ids:
            # Scope, kind and destination stay: SQLite leaves the indexes on them untouched.
            rewrites.append((insert[0], insert[3], insert[6], *insert[7:], ids.pop()))
        else:
            fresh.append(insert)
    cancels = sorted(i for ids in spare.values() for i in ids)
    # The difference, written in one trip to the database.
    writes = [
        Step(sql, changes, many=True)
        for sql, changes in ((REWRITE_UNATTEMPTED, rewrites), (INSERT_DELIVERY_ROW, fresh))
        if changes
    ]
    writes += [
        Step(sql, changes, many=True)
        for sql, changes in ((UPDATE_PENDING_PLAN, updates), (REVIVE_CANCELLED, revives))
        if changes
    ]
    if cancels:
        writes.append(Step(CANCEL_PENDING_MANY, {"ids": json.dumps(cancels), "now": stamp}))
    if retires:
        writes.append(Step(RETIRE_ATTEMPTED_MANY, {"ids": json.dumps(retires), "now": stamp}))
    if writes:
        await run_steps(conn, writes)
    # A rewritten row counts as what it stands for: a key dropped and a key added.
    return ReplanResult(
        len(inserts),
        len(updates),
        len(cancels) + len(rewrites) + len(retires),
        len(revives),
        unchanged,
        kept,
    )


async def enqueue(conn: aiosqlite.Connection, planned: PlannedDelivery, now: datetime) -> int:
    """Add one delivery unless its key is already there (in any state); return its id."""
    _require_transaction(conn, "enqueue")
    await conn.execute(INSERT_DELIVERY, _plan_params(planned, now))
    row = await _one(conn, SELECT_BY_KEY, {"key": planned.key})
    assert row is not None
    return row.id


async def next_due(conn: aiosqlite.Connection) -> datetime | None:
    """When the earliest pending row wants sending (its due time, or its retry time)."""
    async with conn.execute(SELECT_NEXT_DUE) as cursor:
        row = await cursor.fetchone()
    return parse(row[0]) if row is not None and row[0] is not None else None


async def sent_message(conn: aiosqlite.Connection, key: str) -> Sent | None:
    """Where the delivery with `key` was posted, once it has been (e.g. to edit it later)."""
    async with conn.execute(SELECT_SENT_MESSAGE, {"key": key}) as cursor:
        row = await cursor.fetchone()
    return Sent(int(row[0]), int(row[1])) if row is not None else None


async def counts(conn: aiosqlite.Connection) -> dict[str, int]:
    """How many rows are in each state (every state present, zero if none)."""
    found: dict[str, int] = dict.fromkeys(STATES, 0)
    async with conn.execute(COUNT_BY_STATE) as cursor:
        for state, count in await cursor.fetchall():
            found[str(state)] = int(count)
    return found


async def get(conn: aiosqlite.Connection, delivery_id: int) -> Delivery | None:
    return await _one(conn, SELECT_BY_ID, {"id": delivery_id})


async def by_key(conn: aiosqlite.Connection, key: str) -> Delivery | None:
    return await _one(conn, SELECT_BY_KEY, {"key": key})


# --- the dispatcher's moves (each a single guarded statement, or called in its transaction) ----


async def first_due(conn: aiosqlite.Connection, now: datetime) -> Delivery | None:
    return await _one(conn, SELECT_FIRST_DUE, {"now": iso(now)})


async def pending(conn: aiosqlite.Connection, limit: int = 20) -> list[Delivery]:
    """The rows still to send, soonest first (what Holdfast will do next)."""
    return await _many(conn, SELECT_PENDING, {"limit": limit})


async def claim(conn: aiosqlite.Connection, delivery_id: int, nonce: str, now: datetime) -> bool:
    """pending → sending, one more attempt; the nonce is kept if the row already has one, so
    every attempt at this delivery carries the same nonce."""
    cursor = await conn.execute(CLAIM, {"id": delivery_id, "nonce": nonce, "now": iso(now)})
    return cursor.rowcount == 1


async def mark_sent(
    conn: aiosqlite.Connection, delivery_id: int, sent: Sent, now: datetime
) -> bool:
    cursor = await conn.execute(
        MARK_SENT,
        {
            "id": delivery_id,
            "channel_id": sent.channel_id,
            "message_id": sent.message_id,
            "now": iso(now),
        },
    )
    return cursor.rowcount == 1


async def mark_final(
    conn: aiosqlite.Connection,
    delivery_id: int,
    state: Literal["skipped", "failed"],
    reason: str,
    now: datetime,
) -> bool:
    cursor = await conn.execute(
        MARK_FINAL, {"id": delivery_id, "state": state, "reason": reason, "now": iso(now)}
    )
    return cursor.rowcount == 1


async def requeue(
    conn: aiosqlite.Connection, delivery_id: int, at: datetime, reason: str | None, now: datetime
) -> bool:
    """sending → pending, to be tried again at `at`."""
    cursor = await conn.execute(
        REQUEUE, {"id": delivery_id, "at": iso(at), "reason": reason, "now": iso(now)}
    )
    return cursor.rowcount == 1


async def in_doubt(conn: aiosqlite.Connection) -> list[Delivery]:
    """Rows claimed but never settled: the process stopped mid-send."""
    return await _many(conn, SELECT_IN_DOUBT, {})

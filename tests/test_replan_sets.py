"""Planning in sets agrees with planning row by row.

`outbox.replan_many` reads a set of scopes' rows once and writes the difference with
executemany. The oracle here is the row-by-row `replan` it replaced (kept verbatim below, one
SELECT/INSERT/UPDATE per row, one scope at a time): from any outbox and any plan, both leave
every row (ids included) the same, count the same, or both refuse. The oracle carries one
rule added since (found by the simulation, seeds 25 and 32): a pending row with an attempt
behind it may be in Discord already, so planning never cancels it or sends it elsewhere; no
longer wanted, it is retired (its window closes at its due time) for the dispatcher to settle.
And one more (a move re-keys every reminder): a new key takes over a pending row of its scope
that is no longer wanted and was never attempted, of the same kind and destination (the oldest
first), instead of a new row beside a cancelled one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.db import open_database, transaction
from bot.delivery import outbox
from bot.delivery.outbox import (
    CANCEL_PENDING_MANY,
    INSERT_DELIVERY,
    RETIRE_ATTEMPTED_MANY,
    REVIVE_CANCELLED,
    REWRITE_UNATTEMPTED,
    SELECT_BY_KEY,
    UPDATE_PENDING_PLAN,
    Delivery,
    PlannedDelivery,
    ReplanResult,
    iso,
)
from bot.delivery.port import Destination
from bot.migrate import migrate

NOW = datetime(2026, 9, 20, 12, 0, tzinfo=UTC)
KEYS = [f"k{i}" for i in range(8)]
SCOPES = ["s0", "s1", "s2"]

SELECT_PENDING_IN_SCOPE = """
SELECT id, idempotency_key, scope, kind, guild_id, channel_id, user_id, subject_id, due_at,
       not_after, state, attempts, next_attempt_at, last_error, nonce, sent_channel_id,
       sent_message_id
FROM outbox
WHERE scope = :scope AND state = 'pending'
"""

SELECT_ALL = """
SELECT *
FROM outbox
ORDER BY id
"""

SEED = """
INSERT INTO outbox (
    idempotency_key, scope, kind, user_id, due_at, not_after, state, attempts,
    next_attempt_at, sent_channel_id, sent_message_id, created_at, updated_at
)
VALUES (
    :key, :scope, 'reminder', :user_id, :due_at, :not_after, :state, :attempts, :due_at,
    :sent_channel,
    :sent_message, :created, :created
)
"""


def _same_plan(row: Delivery, planned: PlannedDelivery) -> bool:
    return (
        row.kind == planned.kind
        and row.destination == planned.destination
        and row.due_at == planned.due_at
        and row.not_after == planned.not_after
        and row.guild_id == planned.guild_id
        and row.subject_id == planned.subject_id
    )


async def replan_row_by_row(
    conn: aiosqlite.Connection, scope: str, desired: Sequence[PlannedDelivery], now: datetime
) -> ReplanResult:
    """The oracle: `outbox.replan` as it was before planning in sets."""
    keys = [p.key for p in desired]
    if len(set(keys)) != len(keys):
        raise ValueError(f"replan({scope!r}): the same key is planned twice")
    for planned in desired:
        if planned.scope != scope:
            raise ValueError(f"replan({scope!r}): {planned.key} belongs to {planned.scope!r}")
    inserted = updated = cancelled = revived = unchanged = kept = 0
    wanted = set(keys)
    spare = [
        row
        for row in await outbox._many(conn, SELECT_PENDING_IN_SCOPE, {"scope": scope})
        if row.key not in wanted and not row.attempts
    ]
    spare.sort(key=lambda row: row.id)
    for planned in desired:
        row = await outbox._one(conn, SELECT_BY_KEY, {"key": planned.key})
        params = outbox._plan_params(planned, now)
        if row is None:
            taken = next(
                (
                    s
                    for s in spare
                    if (s.kind, s.destination) == (planned.kind, planned.destination)
                ),
                None,
            )
            if taken is None:
                await conn.execute(INSERT_DELIVERY, params)
            else:
                spare.remove(taken)
                await conn.execute(
                    REWRITE_UNATTEMPTED,
                    (
                        planned.key,
                        planned.guild_id,
                        planned.subject_id,
                        params["due_at"],
                        params["not_after"],
                        params["due_at"],
                        params["now"],
                        params["now"],
                        taken.id,
                    ),
                )
                cancelled += 1
            inserted += 1
        elif row.scope != scope:
            raise ValueError(f"replan({scope!r}): {planned.key} is already in {row.scope!r}")
        elif row.state == "pending":
            if _same_plan(row, planned):
                unchanged += 1
            elif row.attempts:
                kept += 1
            else:
                await conn.execute(UPDATE_PENDING_PLAN, {**params, "id": row.id})
                updated += 1
        elif row.state == "cancelled":
            await conn.execute(REVIVE_CANCELLED, {**params, "id": row.id})
            revived += 1
        else:
            kept += 1
    for row in await outbox._many(conn, SELECT_PENDING_IN_SCOPE, {"scope": scope}):
        if row.key not in wanted:
            if row.attempts:
                await conn.execute(RETIRE_ATTEMPTED_MANY, {"ids": f"[{row.id}]", "now": iso(now)})
            else:
                await conn.execute(CANCEL_PENDING_MANY, {"ids": f"[{row.id}]", "now": iso(now)})
            cancelled += 1
    return ReplanResult(inserted, updated, cancelled, revived, unchanged, kept)


def _total(results: Sequence[ReplanResult]) -> ReplanResult:
    return ReplanResult(
        *(
            sum(getattr(r, name) for r in results)
            for name in ("inserted", "updated", "cancelled", "revived", "unchanged", "kept")
        )
    )


# A row already in the outbox: its key, scope, state, due time (hours after NOW) and attempts.
seeded_rows = st.lists(
    st.tuples(
        st.sampled_from(KEYS),
        st.sampled_from(SCOPES),
        # Pending most often: it is what planning changes (and a spare row is pending).
        st.sampled_from(("pending",) * 4 + outbox.STATES),
        st.integers(min_value=1, max_value=4),
        st.integers(min_value=0, max_value=1),
    ),
    unique_by=lambda row: row[0],
    max_size=8,
)
# A plan: for some scopes, deliveries (key, due hour, to a channel?, kind).
planned_item = st.tuples(
    st.sampled_from(KEYS),
    st.integers(min_value=1, max_value=4),
    st.booleans(),
    st.sampled_from(["reminder", "nudge"]),
)
# Keys unique within a scope's plan, or most plans would be refused before planning anything
# (a key planned twice is still drawn, across scopes).
plans = st.dictionaries(
    st.sampled_from(SCOPES),
    st.lists(planned_item, max_size=5, unique_by=lambda item: item[0]),
    max_size=3,
)


def _desired(plan: dict[str, list[tuple[str, int, bool, str]]]) -> dict[str, list[PlannedDelivery]]:
    return {
        scope: [
            PlannedDelivery(
                key=key,
                scope=scope,
                kind=kind,
                destination=Destination(channel_id=5) if to_channel else Destination(user_id=7),
                due_at=NOW + timedelta(hours=hour),
                not_after=NOW + timedelta(hours=6),
                guild_id=3,
                subject_id=1,
            )
            for key, hour, to_channel, kind in items
        ]
        for scope, items in plan.items()
    }


async def _outcome(
    conn: aiosqlite.Connection, seeds: list[tuple[str, str, str, int, int]], planning: object
) -> tuple[object, list[tuple[object, ...]]]:
    """Seed, plan (`planning` is a coroutine factory), and read every row; then roll back."""
    await conn.execute("BEGIN IMMEDIATE")
    try:
        for key, scope, state, hour, attempts in seeds:
            sent = state == "sent"
            await conn.execute(
                SEED,
                {
                    "key": key,
                    "scope": scope,
                    "user_id": 7,
                    "due_at": iso(NOW + timedelta(hours=hour)),
                    "not_after": iso(NOW + timedelta(hours=6)),
                    "state": state,
                    "attempts": attempts,
                    "sent_channel": 9 if sent else None,
                    "sent_message": 10 if sent else None,
                    "created": iso(NOW - timedelta(days=1)),
                },
            )
        try:
            result: object = await planning(conn)  # type: ignore[operator]
        except ValueError:
            result = ValueError
        async with conn.execute(SELECT_ALL) as cursor:
            rows = [tuple(row) for row in await cursor.fetchall()]
        return result, rows
    finally:
        await conn.rollback()


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sets") / "holdfast.sqlite3"
    asyncio.run(migrate(path, NOW))
    return path


@settings(max_examples=100, deadline=None)
@given(seeds=seeded_rows, plan=plans)
# A meeting moved: its reminder's key changes with its time (found in CI, rare by chance).
@example(seeds=[("k1", "s0", "pending", 1, 0)], plan={"s0": [("k0", 2, False, "reminder")]})
# Two spare rows, two new keys, one of another kind and one for a channel: oldest first.
@example(
    seeds=[
        ("k1", "s0", "pending", 1, 0),
        ("k2", "s0", "pending", 3, 0),
        ("k3", "s0", "pending", 2, 1),
    ],
    plan={
        "s0": [
            ("k4", 2, False, "nudge"),
            ("k5", 4, False, "reminder"),
            ("k6", 1, True, "reminder"),
            ("k7", 1, False, "reminder"),
        ]
    },
)
def test_planning_in_sets_leaves_the_outbox_as_row_by_row_did(
    database: Path,
    seeds: list[tuple[str, str, str, int, int]],
    plan: dict[str, list[tuple[str, int, bool, str]]],
) -> None:
    _agree(database, seeds, plan)


# A move: pending rows, some attempted, and a plan whose every key is new (a reminder's key
# carries its time), so that rows never attempted are taken over. The search above rarely
# draws this shape: most of its plans reuse a key or are refused.
moved_rows = st.lists(
    st.tuples(
        st.sampled_from(KEYS[:4]),
        st.sampled_from(SCOPES[:2]),
        st.just("pending"),
        st.integers(min_value=1, max_value=4),
        st.integers(min_value=0, max_value=1),
    ),
    unique_by=lambda row: row[0],
    max_size=4,
)
moved_plans = st.dictionaries(
    st.sampled_from(SCOPES[:2]),
    st.lists(
        st.tuples(
            st.sampled_from(KEYS[4:]),
            st.integers(min_value=1, max_value=4),
            st.booleans(),
            st.sampled_from(["reminder", "nudge"]),
        ),
        max_size=3,
        unique_by=lambda item: item[0],
    ),
    max_size=2,
)


@settings(max_examples=100, deadline=None)
@given(seeds=moved_rows, plan=moved_plans)
def test_a_move_takes_over_rows_never_attempted_as_row_by_row_would(
    database: Path,
    seeds: list[tuple[str, str, str, int, int]],
    plan: dict[str, list[tuple[str, int, bool, str]]],
) -> None:
    _agree(database, seeds, plan)


def _agree(
    database: Path,
    seeds: list[tuple[str, str, str, int, int]],
    plan: dict[str, list[tuple[str, int, bool, str]]],
) -> None:
    desired = _desired(plan)

    async def old_way(conn: aiosqlite.Connection) -> ReplanResult:
        return _total([await replan_row_by_row(conn, s, d, NOW) for s, d in desired.items()])

    async def new_way(conn: aiosqlite.Connection) -> ReplanResult:
        return await outbox.replan_many(conn, desired, NOW)

    async def compare() -> None:
        conn = await open_database(database)
        try:
            expected_result, expected_rows = await _outcome(conn, seeds, old_way)
            result, rows = await _outcome(conn, seeds, new_way)
        finally:
            await conn.close()
        assert result == expected_result
        if result is not ValueError:
            assert rows == expected_rows

    asyncio.run(compare())


async def test_one_scope_replan_is_the_set_planner_with_one_scope(tmp_path: Path) -> None:
    path = tmp_path / "holdfast.sqlite3"
    await migrate(path, NOW)
    conn = await open_database(path)
    try:
        desired = _desired({"s0": [("k0", 1, False, "reminder"), ("k1", 2, True, "nudge")]})["s0"]
        async with transaction(conn):
            first = await outbox.replan(conn, "s0", desired, NOW)
            again = await outbox.replan(conn, "s0", desired, NOW)
            gone = await outbox.replan(conn, "s0", desired[:1], NOW)
        assert (first.inserted, again.unchanged, gone.cancelled) == (2, 2, 1)
    finally:
        await conn.close()

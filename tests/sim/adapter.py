"""Every call the simulation makes into Holdfast, in one place.

The simulation drives the domain only through its public services and the delivery layer, as
the cogs and bot/app.py do. When a service's signature changes (e.g. planning policies
registered at start-up instead of passed), this module is the one to adapt.
"""

from __future__ import annotations

import base64
import json
import random
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import aiosqlite

from bot import db as bot_db
from bot.attendance import cards as attendance_cards
from bot.attendance import service as attendance
from bot.checkins import entries as checkin_entries
from bot.checkins import mydata, nudges, trends
from bot.checkins.crypto import NoteKeys, load_note_keys
from bot.clock import Clock
from bot.db import open_database
from bot.delivery import outbox
from bot.delivery.dispatcher import Backoff, Dispatcher, Renderer
from bot.delivery.port import DiscordPort
from bot.groups import service as groups
from bot.groups.model import Actor, Group, GroupSettings
from bot.meetings import changes, interest, series
from bot.meetings import rsvp as rsvp_service
from bot.meetings.announcements import refresh_announcement
from bot.meetings.cards import CURRENT as MEETING_CURRENT
from bot.meetings.cards import RENDERERS as MEETING_RENDERERS
from bot.meetings.model import Answer, Meeting, Place, SeriesDraft
from bot.meetings.queries import get_meeting, get_series, upcoming_meetings
from bot.meetings.recurrence import Lead, parse_leads, parse_rule
from bot.migrate import migrate
from bot.planning import Policy
from bot.reminders import handover, replies, rota, snooze
from bot.reminders import plan as reminder_plan
from bot.reminders import service as reminder_service
from bot.reminders.cards import RENDERERS as REMINDER_RENDERERS
from bot.reminders.model import PrefsChange, QuietHours, ReminderPolicy

__all__ = [
    "Answer",
    "Lead",
    "Meeting",
    "Policy",
    "PrefsChange",
    "QuietHours",
    "ReminderPolicy",
    "parse_leads",
]

PRIVACY_K = 5
ADMIN_ID = 4242  # ADMIN_USER_IDS: escalations also go to this admin by DM


_POLICY = Policy(reminders=ReminderPolicy(admins=(ADMIN_ID,)))


def policy() -> Policy:
    """The admin's choices, as bot.app.policy_for builds them from the default settings, with
    every capability's planners registered."""
    return _POLICY


def renderers() -> dict[str, Renderer]:
    """Every renderer the cogs register in their setup() (bot.app.register_renderer)."""
    found: dict[str, Renderer] = {}
    tables = (
        MEETING_RENDERERS,
        interest.RENDERERS,
        REMINDER_RENDERERS,
        attendance_cards.RENDERERS,
        nudges.RENDERERS,
    )
    for table in tables:
        for kind, renderer in table.items():
            assert kind not in found
            found[kind] = renderer
    return found


def fixed_keys(seed: int) -> tuple[str, ...]:
    """Fernet keys from the seed (NOTE_ENCRYPTION_KEYS), so nothing random is written."""
    raw = random.Random(seed).randbytes(32)
    return (base64.urlsafe_b64encode(raw).decode(),)


class InlineConnection(bot_db.Connection):
    """bot.db.Connection (its turns, its run-to-the-end statements, its pragmas from
    open_database) with each statement run on the event loop's own thread instead of handed to
    aiosqlite's worker thread. Same SQLite, same file, same order of statements; the hand-off
    to a thread and back costs more than the statement, and the simulation is one task at a
    time, so this makes a simulated year take seconds instead of minutes."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)

        def connector() -> sqlite3.Connection:
            return sqlite3.connect(path, isolation_level=None, check_same_thread=False)

        self._connector = connector

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)


async def open_inline(path: Path) -> aiosqlite.Connection:
    """bot.db.open_database, on an InlineConnection."""
    with patch.object(bot_db, "Connection", InlineConnection):
        return await open_database(path)


async def start_database(
    path: Path, now: datetime, seed: int
) -> tuple[aiosqlite.Connection, NoteKeys]:
    await migrate(path, now)
    return await reopen(path, now, seed)


async def reopen(path: Path, now: datetime, seed: int) -> tuple[aiosqlite.Connection, NoteKeys]:
    conn = await open_inline(path)
    keys = (await load_note_keys(conn, fixed_keys(seed), path, now)).keys
    return conn, keys


def dispatcher(
    conn: aiosqlite.Connection,
    port: DiscordPort,
    clock: Clock,
    table: Mapping[str, Renderer],
    spread: Callable[[], float],
    new_nonce: Callable[[], str],
) -> Dispatcher:
    return Dispatcher(
        conn,
        port,
        clock,
        table,
        current=MEETING_CURRENT,
        backoff=Backoff(),
        spread=spread,
        new_nonce=new_nonce,
    )


# --- groups ----------------------------------------------------------------------------------


async def create_group(
    conn: aiosqlite.Connection,
    guild_id: int,
    name: str,
    announce: int,
    role: int,
    private: int,
    zone: str,
    now: datetime,
) -> Group:
    settings = GroupSettings(name, announce, role, private, zone)
    return await groups.create_group(conn, guild_id, settings, now)


async def group(conn: aiosqlite.Connection, group_id: int) -> Group:
    return await groups.get_group(conn, group_id)


async def join(conn: aiosqlite.Connection, group_id: int, user_id: int, now: datetime) -> bool:
    found = await groups.get_group(conn, group_id)
    return (await groups.join_group(conn, found, user_id, now, policy())).changed


async def leave(conn: aiosqlite.Connection, group_id: int, user_id: int, now: datetime) -> bool:
    found = await groups.get_group(conn, group_id)
    return (await rsvp_service.leave_group(conn, found, user_id, now, policy())).changed


async def member_ids(conn: aiosqlite.Connection, group_id: int) -> list[int]:
    return await groups.member_ids(conn, await groups.get_group(conn, group_id))


# --- series and meetings ---------------------------------------------------------------------


def draft(
    rule: str, local_time: time, place: Place, capacity: int | None, title: str
) -> SeriesDraft:
    return SeriesDraft(
        title=title,
        rule=parse_rule(rule),
        local_time=local_time,
        duration_minutes=90,
        place=place,
        capacity=capacity,
    )


async def create_series(
    conn: aiosqlite.Connection, group_id: int, wanted: SeriesDraft, by: int, now: datetime
) -> tuple[int, list[int]]:
    found = await groups.get_group(conn, group_id)
    change = await series.create_series(conn, found, wanted, by, now, policy())
    return change.series.id, change.added


async def edit_series(
    conn: aiosqlite.Connection, series_id: int, wanted: SeriesDraft, now: datetime
) -> series.SeriesChange:
    return await series.edit_series(conn, await get_series(conn, series_id), wanted, now, policy())


async def end_series(
    conn: aiosqlite.Connection, series_id: int, now: datetime
) -> series.SeriesChange:
    return await series.end_series(conn, await get_series(conn, series_id), now, policy())


async def extend_horizon(conn: aiosqlite.Connection, now: datetime) -> list[int]:
    return await series.extend_all(conn, now, policy())


async def plan_nudges_in_reach(conn: aiosqlite.Connection, now: datetime) -> int:
    return await reminder_plan.plan_nudges_in_reach(conn, now, policy().reminders)


async def upcoming(conn: aiosqlite.Connection, group_id: int, now: datetime) -> list[Meeting]:
    return await upcoming_meetings(conn, group_id, now, limit=6)


async def meeting(conn: aiosqlite.Connection, meeting_id: int) -> Meeting:
    return await get_meeting(conn, meeting_id)


async def answer(
    conn: aiosqlite.Connection, meeting_id: int, user_id: int, wanted: Answer, now: datetime
) -> rsvp_service.RsvpResult:
    return await rsvp_service.answer_meeting(conn, meeting_id, user_id, wanted, now, policy())


async def move(
    conn: aiosqlite.Connection, meeting_id: int, starts_at: datetime, now: datetime
) -> None:
    found = await get_meeting(conn, meeting_id)
    await changes.move_meeting(conn, found, starts_at, None, now, policy())


async def cancel(conn: aiosqlite.Connection, meeting_id: int, now: datetime) -> None:
    await changes.cancel_meeting(conn, await get_meeting(conn, meeting_id), now, policy())


async def set_topic(
    conn: aiosqlite.Connection, meeting_id: int, topic: str | None, now: datetime
) -> None:
    await changes.set_topic(conn, await get_meeting(conn, meeting_id), topic, now, policy())


async def set_interest(
    conn: aiosqlite.Connection, meeting_id: int, interested: set[int], now: datetime
) -> dict[int, interest.Outcome]:
    """Discord's list of who clicked Interested on the meeting's Events entry, as bot.app
    reconciles it (the fast tier has no Events entries: the list is the simulation's)."""
    return await interest.reconcile(conn, meeting_id, interested, now, policy())


async def answers_to(conn: aiosqlite.Connection, meeting_id: int) -> dict[int, Answer]:
    """Everyone's answer to a meeting, as the attendee list shows it."""
    found = await rsvp_service.attendees(conn, meeting_id)
    return {user_id: answer for answer, users in found.items() for user_id in users}


async def refresh(conn: aiosqlite.Connection, port: DiscordPort, meeting_id: int) -> bool:
    """What bot.app does after a change: the posted announcement tells the truth."""
    return await refresh_announcement(conn, port, meeting_id)


# --- reminders and the rota ------------------------------------------------------------------


async def change_prefs(
    conn: aiosqlite.Connection, user_id: int, change: PrefsChange, now: datetime
) -> None:
    await reminder_service.update_prefs(conn, user_id, change, now, policy().reminders)


async def every_meeting(
    conn: aiosqlite.Connection, group_id: int, user_id: int, on: bool, now: datetime
) -> None:
    found = await groups.get_group(conn, group_id)
    await reminder_service.set_every_meeting(conn, found, user_id, on, now, policy().reminders)


async def rota_assign(
    conn: aiosqlite.Connection, meeting_id: int, holder: int, role_id: int, now: datetime
) -> None:
    actor = Actor(holder, frozenset({role_id}))
    await rota.assign(conn, meeting_id, actor, holder, now, policy().reminders, policy())


async def rota_confirm(
    conn: aiosqlite.Connection, meeting_id: int, user_id: int, now: datetime
) -> None:
    await rota.confirm(conn, meeting_id, user_id, now, policy().reminders)


async def rota_step_in(
    conn: aiosqlite.Connection, meeting_id: int, user_id: int, now: datetime
) -> None:
    await rota.step_in(conn, meeting_id, user_id, now, policy().reminders, policy())


async def rota_handover(
    conn: aiosqlite.Connection, meeting_id: int, asker: int, to: int, role_id: int, now: datetime
) -> handover.Offered:
    roles = frozenset({role_id})
    return await handover.offer(
        conn, meeting_id, Actor(asker, roles), Actor(to, roles), now, policy().reminders
    )


async def rota_handover_answer(
    conn: aiosqlite.Connection, offer_id: int, taker: int, role_id: int, yes: bool, now: datetime
) -> handover.Answered:
    if yes:
        actor = Actor(taker, frozenset({role_id}))
        return await handover.accept(conn, offer_id, actor, now, policy().reminders, policy())
    return await handover.decline(conn, offer_id, taker, now, policy().reminders)


async def snooze_reminder(
    conn: aiosqlite.Connection, meeting_id: int, user_id: int, choice: str, now: datetime
) -> datetime:
    chosen: snooze.Choice = "hour" if choice == "hour" else "evening"
    return (await snooze.snooze(conn, meeting_id, user_id, chosen, now)).due_at


async def answer_by_word(
    conn: aiosqlite.Connection,
    user_id: int,
    channel_id: int,
    text: str,
    replied_to: int | None,
    now: datetime,
) -> replies.Reply:
    return await replies.answer_by_word(conn, user_id, channel_id, text, replied_to, now, policy())


def reply_hint() -> str:
    from bot.texts import reminders as reminder_texts

    return reminder_texts.reply_hint()


# --- noting who came -------------------------------------------------------------------------


async def set_attendance(
    conn: aiosqlite.Connection,
    group_id: int,
    facilitator: int,
    role_id: int,
    on: bool,
    now: datetime,
) -> bool:
    found = await groups.get_group(conn, group_id)
    actor = Actor(facilitator, frozenset({role_id}))
    return await attendance.set_attendance(conn, found, actor, on, now)


async def note_who_came(
    conn: aiosqlite.Connection,
    meeting_id: int,
    facilitator: int,
    role_id: int,
    picked: list[int] | None,
    now: datetime,
) -> int:
    actor = Actor(facilitator, frozenset({role_id}))
    return await attendance.note_from_facilitator(conn, meeting_id, actor, picked, now)


RECENT_MEETINGS = """
SELECT m.id
FROM meetings AS m
JOIN series AS s ON s.id = m.series_id
WHERE s.group_id = :group_id AND m.cancelled_at IS NULL
  AND m.starts_at <= :now AND m.starts_at >= :since
ORDER BY m.starts_at, m.id
"""


async def recent_meetings(
    conn: aiosqlite.Connection, group_id: int, now: datetime, days: int
) -> list[int]:
    """The group's meetings that began in the last `days` days (not cancelled)."""
    params = {
        "group_id": group_id,
        "now": now.isoformat(),
        "since": (now - timedelta(days=days)).isoformat(),
    }
    async with conn.execute(RECENT_MEETINGS, params) as cursor:
        return [int(row[0]) for row in await cursor.fetchall()]


# --- check-ins -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    month: str
    shown: bool
    values: tuple[object, ...]


async def check_in(
    conn: aiosqlite.Connection,
    keys: NoteKeys,
    group_id: int,
    user_id: int,
    scores: tuple[int, int, int],
    note: str | None,
    now: datetime,
) -> int:
    found = await groups.get_group(conn, group_id)
    answers = checkin_entries.Answers(*scores)
    return await checkin_entries.record_checkin(conn, keys, found, user_id, answers, note, now)


async def snapshot_months(conn: aiosqlite.Connection, now: datetime) -> int:
    """The hourly job of bot.app (snapshot_closed_months)."""
    return await trends.snapshot_closed_months(conn, PRIVACY_K, now)


async def view_trends(
    conn: aiosqlite.Connection, group_id: int, viewer: int, now: datetime
) -> list[Snapshot]:
    found = await groups.get_group(conn, group_id)
    shown = await trends.view_trends(conn, found, viewer, PRIVACY_K, now)
    return [Snapshot(t.month, t.shown, (t.band, t.mood, t.stress, t.supported)) for t in shown]


async def delete_my_data(
    conn: aiosqlite.Connection, keys: NoteKeys, user_id: int, now: datetime
) -> list[int]:
    return (await mydata.delete_everything(conn, keys, user_id, now, policy())).meetings_answered


async def set_checkin_nudge(
    conn: aiosqlite.Connection, user_id: int, weekday: int, at: time, zone: str, now: datetime
) -> None:
    nudge = nudges.Nudge(user_id, "weekly", weekday, at, zone)
    await nudges.set_nudge(conn, nudge, now)


async def stop_checkin_nudge(conn: aiosqlite.Connection, user_id: int, now: datetime) -> None:
    await nudges.stop_nudge(conn, user_id, now)


async def plan_checkin_nudges(conn: aiosqlite.Connection, now: datetime) -> int:
    return await nudges.plan_all(conn, now)


# --- the outbox, read-only -------------------------------------------------------------------


async def next_due(conn: aiosqlite.Connection) -> datetime | None:
    return await outbox.next_due(conn)


async def delivery(conn: aiosqlite.Connection, delivery_id: int) -> outbox.Delivery | None:
    return await outbox.get(conn, delivery_id)


ALL_ROWS = """
SELECT id, idempotency_key, kind, state, last_error, sent_message_id, subject_id, due_at,
       not_after, next_attempt_at, user_id, channel_id
FROM outbox
ORDER BY id
"""

# The everyone-check (every 6 hours) reads the pending rows through their partial index
# (INDEXED BY: without statistics SQLite would scan the whole outbox, which grows all year).
PENDING_MEMBER_ROWS = """
SELECT o.id, o.idempotency_key, o.kind, s.group_id, o.attempts
FROM outbox AS o INDEXED BY outbox_pending_due
JOIN meetings AS m ON m.id = o.subject_id
JOIN series AS s ON s.id = m.series_id
WHERE o.state = 'pending' AND o.kind IN ('reminder', 'nudge')
ORDER BY o.id
"""

# After each operation, one member's rows: their scope of each meeting not long begun in the
# groups they are or were in, looked up in the scope index (a pending row of an older meeting
# has long been claimed and skipped).
PENDING_ROWS_OF_MEMBER = """
SELECT o.id, o.idempotency_key, o.kind, s.group_id, o.attempts
FROM meetings AS m
CROSS JOIN series AS s
CROSS JOIN outbox AS o
WHERE m.starts_at > :since AND s.id = m.series_id
  AND s.group_id IN (SELECT value FROM json_each(:group_ids))
  AND o.scope = 'meeting:' || m.id || ':reminders:' || :user_id AND o.state = 'pending'
  AND o.kind IN ('reminder', 'nudge')
ORDER BY o.id
"""

# Snoozes and handover offers still to send about meetings of some groups, the same way.
PENDING_EXTRA_ROWS = """
SELECT o.id, o.idempotency_key, o.kind, s.group_id, o.attempts
FROM meetings AS m
CROSS JOIN series AS s
CROSS JOIN outbox AS o INDEXED BY outbox_scope
WHERE m.starts_at > :since AND s.id = m.series_id
  AND s.group_id IN (SELECT value FROM json_each(:group_ids))
  AND o.scope >= 'meeting:' || m.id || ':snooze:' AND o.scope < 'meeting:' || m.id || ':snooze;'
  AND o.state = 'pending' AND o.kind = 'snooze'
UNION ALL
SELECT o.id, o.idempotency_key, o.kind, s.group_id, o.attempts
FROM meetings AS m
CROSS JOIN series AS s
CROSS JOIN outbox AS o
WHERE m.starts_at > :since AND s.id = m.series_id
  AND s.group_id IN (SELECT value FROM json_each(:group_ids))
  AND o.scope = 'meeting:' || m.id || ':handover' AND o.state = 'pending'
  AND o.kind = 'rota_handover_offer'
ORDER BY 1
"""

# What a change did to the outbox, seen by TEMP triggers on the simulation's own connection
# (they live only there, not in the database file): rows planned, moved, cancelled or deleted.
WATCH_OUTBOX = (
    """
    CREATE TEMP TABLE sim_outbox_changes (row_id INTEGER, what TEXT)
    """,
    """
    CREATE TEMP TRIGGER sim_outbox_planned AFTER INSERT ON main.outbox
    BEGIN INSERT INTO sim_outbox_changes VALUES (NEW.id, 'planned ' || NEW.state); END
    """,
    """
    CREATE TEMP TRIGGER sim_outbox_changed AFTER UPDATE ON main.outbox
    WHEN OLD.state IS NOT NEW.state OR OLD.due_at IS NOT NEW.due_at
      OR OLD.next_attempt_at IS NOT NEW.next_attempt_at
      OR OLD.idempotency_key IS NOT NEW.idempotency_key
    BEGIN INSERT INTO sim_outbox_changes VALUES (NEW.id, OLD.state || ' -> ' || NEW.state); END
    """,
    """
    CREATE TEMP TRIGGER sim_outbox_deleted AFTER DELETE ON main.outbox
    BEGIN INSERT INTO sim_outbox_changes VALUES (OLD.id, 'deleted'); END
    """,
)
OUTBOX_CHANGES = """
SELECT row_id, what
FROM sim_outbox_changes
ORDER BY rowid
"""
UNWATCH_OUTBOX = (
    "DROP TRIGGER temp.sim_outbox_planned",
    "DROP TRIGGER temp.sim_outbox_changed",
    "DROP TRIGGER temp.sim_outbox_deleted",
    "DROP TABLE temp.sim_outbox_changes",
)

# Older meetings' rows are long claimed (sent, skipped or lapsed) by the time this is read.
RECENT = timedelta(days=7)

IN_DOUBT = """
SELECT COUNT(*)
FROM outbox INDEXED BY outbox_in_doubt
WHERE state = 'sending'
"""

SNAPSHOTS = """
SELECT group_id, month, shown, band, mood, stress, supported, distribution
FROM trend_snapshots
ORDER BY group_id, month
"""


async def all_rows(conn: aiosqlite.Connection) -> list[aiosqlite.Row]:
    async with conn.execute(ALL_ROWS) as cursor:
        return list(await cursor.fetchall())


async def pending_member_rows(
    conn: aiosqlite.Connection,
    now: datetime,
    user_id: int | None = None,
    group_ids: Collection[int] = (),
) -> list[aiosqlite.Row]:
    """Reminders and nudges still to send (everyone's, or one member's about the meetings of
    `group_ids`), with the group of their meeting."""
    if user_id is None:
        async with conn.execute(PENDING_MEMBER_ROWS) as cursor:
            return list(await cursor.fetchall())
    params = {
        "user_id": user_id,
        "group_ids": json.dumps(sorted(group_ids)),
        "since": (now - RECENT).isoformat(),
    }
    async with conn.execute(PENDING_ROWS_OF_MEMBER, params) as cursor:
        return list(await cursor.fetchall())


async def pending_extra_rows(
    conn: aiosqlite.Connection, now: datetime, group_ids: Collection[int]
) -> list[aiosqlite.Row]:
    """Snoozes and handover offers still to send about the meetings of `group_ids`."""
    params = {"group_ids": json.dumps(sorted(group_ids)), "since": (now - RECENT).isoformat()}
    async with conn.execute(PENDING_EXTRA_ROWS, params) as cursor:
        return list(await cursor.fetchall())


@asynccontextmanager
async def watching_outbox(
    conn: aiosqlite.Connection,
) -> AsyncIterator[Callable[[], Awaitable[list[tuple[int, str]]]]]:
    """Inside: what the connection's statements have done to the outbox so far."""
    for statement in WATCH_OUTBOX:
        await conn.execute(statement)

    async def changes_so_far() -> list[tuple[int, str]]:
        async with conn.execute(OUTBOX_CHANGES) as cursor:
            return [(int(row[0]), str(row[1])) for row in await cursor.fetchall()]

    try:
        yield changes_so_far
    finally:
        for statement in UNWATCH_OUTBOX:
            await conn.execute(statement)


async def in_doubt_count(conn: aiosqlite.Connection) -> int:
    async with conn.execute(IN_DOUBT) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def snapshots(conn: aiosqlite.Connection) -> dict[tuple[int, str], tuple[object, ...]]:
    async with conn.execute(SNAPSHOTS) as cursor:
        return {(int(r[0]), str(r[1])): tuple(r[2:]) for r in await cursor.fetchall()}


ALL_MEETING_IDS = """
SELECT id
FROM meetings
ORDER BY id
"""


async def all_meetings(conn: aiosqlite.Connection) -> dict[int, Meeting]:
    async with conn.execute(ALL_MEETING_IDS) as cursor:
        ids = [int(row[0]) for row in await cursor.fetchall()]
    return {meeting_id: await get_meeting(conn, meeting_id) for meeting_id in ids}

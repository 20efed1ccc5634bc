"""Snooze: "Remind me in an hour" / "Remind me this evening" on a reminder DM.

A snooze is a member's request (a row in `snoozes`, one per member and meeting, a second click
replacing the first) from which `replan_snoozes` plans one outbox delivery like any other:
never due at or after the meeting's start, dropped when the meeting is cancelled or moved before
it, and dropped when the member answers Going or Can't make it after asking (their answer says
they no longer need reminding to decide). Registered with the re-planning registry, so whatever
changes a meeting or an answer brings the snooze in line in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal

import aiosqlite

from bot.db import Step, run_steps, transaction
from bot.delivery.outbox import PlannedDelivery, iso, parse, replan_many
from bot.delivery.port import Button, Destination
from bot.delivery.replanning import MeetingChanged, MeetingDeleted, MembershipChanged, Registry
from bot.errors import Conflict, NotAMember
from bot.groups import service as groups
from bot.meetings.model import Answer, Meeting
from bot.meetings.queries import get_meeting
from bot.meetings.recurrence import resolve_local
from bot.reminders import prefs as prefs_store
from bot.reminders.model import SNOOZE
from bot.texts import groups as group_texts
from bot.texts import reminders as texts
from bot.zones import load_zone

Choice = Literal["hour", "evening"]
CHOICES: tuple[Choice, ...] = ("hour", "evening")
AN_HOUR = timedelta(hours=1)
EVENING = time(18, 0)
""""This evening" is this time today, in the member's zone (or the group's)."""

UPSERT_SNOOZE = """
INSERT INTO snoozes (meeting_id, user_id, due_at, asked_at)
VALUES (:meeting_id, :user_id, :due_at, :asked_at)
ON CONFLICT (meeting_id, user_id) DO UPDATE
SET due_at = excluded.due_at, asked_at = excluded.asked_at
"""

# The snoozes of a meeting (all, or those of some members) with each member's answer.
SELECT_SNOOZES = """
SELECT z.user_id, z.due_at, z.asked_at, r.answer, r.answered_at
FROM snoozes AS z
LEFT JOIN rsvps AS r ON r.meeting_id = z.meeting_id AND r.user_id = z.user_id
WHERE z.meeting_id = :meeting_id
  AND (:all_users OR z.user_id IN (SELECT value FROM json_each(:user_ids)))
"""

# Snoozes (asked for, or still planned) of people no longer in the meeting's group: a snooze
# belongs to a membership, so leaving the group (or /mydata delete) takes it along.
SELECT_SNOOZES_OF_LEAVERS = """
SELECT z.meeting_id, z.user_id
FROM snoozes AS z
JOIN meetings AS m ON m.id = z.meeting_id
JOIN series AS s ON s.id = m.series_id
WHERE s.group_id = :group_id
  AND z.user_id IN (SELECT value FROM json_each(:user_ids))
  AND NOT EXISTS (
      SELECT 1 FROM group_members AS g WHERE g.group_id = :group_id AND g.user_id = z.user_id
  )
UNION
SELECT o.subject_id, o.user_id
FROM outbox AS o INDEXED BY outbox_user_state
JOIN meetings AS m ON m.id = o.subject_id
JOIN series AS s ON s.id = m.series_id
WHERE o.user_id IN (SELECT value FROM json_each(:user_ids)) AND o.state = 'pending'
  AND o.kind = :kind AND s.group_id = :group_id
  AND NOT EXISTS (
      SELECT 1 FROM group_members AS g WHERE g.group_id = :group_id AND g.user_id = o.user_id
  )
"""

DELETE_SNOOZE = """
DELETE FROM snoozes
WHERE meeting_id = :meeting_id AND user_id = :user_id
"""

# Whether any of these scopes still has something pending (nothing to withdraw: nothing to do).
SELECT_ANY_PENDING_IN_SCOPES = """
SELECT 1
FROM outbox
WHERE scope IN (SELECT value FROM json_each(:scopes)) AND state = 'pending'
LIMIT 1
"""

SELECT_SNOOZE_SCOPES = """
SELECT DISTINCT scope
FROM outbox
WHERE scope >= :low AND scope < :high AND state = 'pending'
"""


@dataclass(frozen=True)
class Snoozed:
    meeting: Meeting
    due_at: datetime


def snooze_scope(meeting_id: int, user_id: int) -> str:
    return f"meeting:{meeting_id}:snooze:{user_id}"


def snooze_key(meeting_id: int, user_id: int, due_at: datetime) -> str:
    return f"snooze:{meeting_id}:{user_id}:{int(due_at.timestamp())}"


def snooze_custom_id(meeting_id: int, choice: Choice) -> str:
    return f"snooze:{meeting_id}:{choice}"


def options(starts_at: datetime, zone: str, now: datetime) -> dict[Choice, datetime]:
    """When each snooze would come, for those that still come before the meeting: in an hour;
    this evening (18:00 today in `zone`) if that is still ahead and before the meeting."""
    found: dict[Choice, datetime] = {}
    if now + AN_HOUR < starts_at:
        found["hour"] = now + AN_HOUR
    tz = load_zone(zone)
    evening = resolve_local(datetime.combine(now.astimezone(tz).date(), EVENING), tz)
    if now < evening < starts_at:
        found["evening"] = evening
    return found


def buttons(meeting: Meeting, zone: str, now: datetime) -> tuple[Button, ...]:
    """The snooze buttons a reminder DM offers now (none that would come after the start)."""
    offered = options(meeting.starts_at, zone, now)
    labels = {"hour": texts.snooze_hour_button(), "evening": texts.snooze_evening_button()}
    return tuple(
        Button(labels[choice], snooze_custom_id(meeting.id, choice))
        for choice in CHOICES
        if choice in offered and not meeting.cancelled
    )


async def zone_for(conn: aiosqlite.Connection, meeting: Meeting, user_id: int) -> str:
    """The member's own zone if they chose one (/reminders quiet), else the group's."""
    prefs = await prefs_store.get_prefs(conn, user_id)
    return prefs.timezone or meeting.zone


async def snooze(
    conn: aiosqlite.Connection, meeting_id: int, user_id: int, choice: Choice, now: datetime
) -> Snoozed:
    """Ask for one more reminder (replacing any snooze already asked for this meeting)."""
    async with transaction(conn):
        meeting = await get_meeting(conn, meeting_id)
        if meeting.cancelled or meeting.starts_at <= now:
            raise Conflict(texts.snooze_not_possible())
        group = await groups.get_group(conn, meeting.group_id)
        if not await groups.is_member(conn, group, user_id):
            raise NotAMember(group_texts.not_a_member(group.name), group.id)
        offered = options(meeting.starts_at, await zone_for(conn, meeting, user_id), now)
        if choice not in offered:
            if choice == "evening" and "hour" in offered:
                raise Conflict(texts.snooze_evening_passed())
            raise Conflict(texts.snooze_too_close())
        due = offered[choice]
        await conn.execute(
            UPSERT_SNOOZE,
            {
                "meeting_id": meeting.id,
                "user_id": user_id,
                "due_at": iso(due),
                "asked_at": iso(now),
            },
        )
        await replan_snoozes(conn, meeting.id, now, [user_id])
    return Snoozed(meeting, due)


def _superseded(answer: str | None, answered_at: str | None, asked_at: datetime) -> bool:
    """An answer of Going or Can't make it given after the snooze was asked for."""
    if answer is None or answered_at is None or Answer(answer) is Answer.MAYBE:
        return False
    return parse(answered_at) > asked_at


async def replan_snoozes(
    conn: aiosqlite.Connection,
    meeting_id: int,
    now: datetime,
    user_ids: Sequence[int] | None = None,
) -> None:
    """Bring the meeting's snoozes (of `user_ids`, or everyone's) in line, inside the caller's
    transaction: pending ones that no longer hold are cancelled, sent ones are never touched."""
    params = {
        "meeting_id": meeting_id,
        "all_users": user_ids is None,
        "user_ids": json.dumps(list(user_ids or [])),
    }
    if user_ids is None:
        async with conn.execute(SELECT_SNOOZES, params) as cursor:
            rows = await cursor.fetchall()
    else:
        # Every answer comes here: in one trip, their snoozes and whether anything of theirs
        # is pending; most answers find neither, and that is all.
        scopes = json.dumps([snooze_scope(meeting_id, user_id) for user_id in user_ids])
        [rows, pending] = await run_steps(
            conn,
            [
                Step(SELECT_SNOOZES, params),
                Step(SELECT_ANY_PENDING_IN_SCOPES, {"scopes": scopes}),
            ],
        )
        if not rows and not pending:
            return
    if rows:  # the meeting is only read when someone snoozed
        meeting = await get_meeting(conn, meeting_id)
        group = await groups.get_group(conn, meeting.group_id)
    desired: dict[str, list[PlannedDelivery]] = {}
    if user_ids is None:
        # Every pending snooze of the meeting is looked at, even one whose row went.
        low = f"meeting:{meeting_id}:snooze:"
        async with conn.execute(
            SELECT_SNOOZE_SCOPES, {"low": low, "high": low[:-1] + ";"}
        ) as cursor:
            desired.update({str(row[0]): [] for row in await cursor.fetchall()})
    else:
        desired.update({snooze_scope(meeting_id, user_id): [] for user_id in user_ids})
    for row in rows:
        user_id, due = int(row["user_id"]), parse(row["due_at"])
        scope = snooze_scope(meeting_id, user_id)
        desired[scope] = []
        if meeting.cancelled or group.archived or due >= meeting.starts_at:
            continue
        if _superseded(row["answer"], row["answered_at"], parse(row["asked_at"])):
            continue
        desired[scope].append(
            PlannedDelivery(
                key=snooze_key(meeting_id, user_id, due),
                scope=scope,
                kind=SNOOZE,
                destination=Destination(user_id=user_id),
                due_at=due,
                not_after=meeting.starts_at,
                guild_id=group.guild_id,
                subject_id=meeting_id,
            )
        )
    if desired:
        await replan_many(conn, desired, now)


async def forget_leavers(
    conn: aiosqlite.Connection, group_id: int, user_ids: Sequence[int], now: datetime
) -> None:
    """Those of `user_ids` no longer in the group lose their snoozes for its meetings (the ask
    and any planned delivery), so a snooze never outlives the membership it was asked in, nor
    comes back if they join again. Inside the caller's transaction."""
    params = {"group_id": group_id, "user_ids": json.dumps(list(user_ids)), "kind": SNOOZE}
    async with conn.execute(SELECT_SNOOZES_OF_LEAVERS, params) as cursor:
        gone = [(int(row[0]), int(row[1])) for row in await cursor.fetchall()]
    if not gone:
        return
    await conn.executemany(
        DELETE_SNOOZE, [{"meeting_id": m, "user_id": u} for m, u in sorted(gone)]
    )
    await replan_many(conn, {snooze_scope(m, u): [] for m, u in sorted(gone)}, now)


def register(registry: Registry) -> None:
    """A change to a meeting or to members' answers re-plans their snoozes; a meeting about to
    be deleted takes its pending snoozes with it; leaving the group takes one's snoozes."""

    async def on_membership_changed(
        conn: aiosqlite.Connection, subject: MembershipChanged, now: datetime
    ) -> None:
        await forget_leavers(conn, subject.group_id, subject.user_ids, now)

    async def on_meeting_changed(
        conn: aiosqlite.Connection, subject: MeetingChanged, now: datetime
    ) -> None:
        await replan_snoozes(conn, subject.meeting_id, now, subject.user_ids)

    async def on_meeting_deleted(
        conn: aiosqlite.Connection, subject: MeetingDeleted, now: datetime
    ) -> None:
        low = f"meeting:{subject.meeting_id}:snooze:"
        async with conn.execute(
            SELECT_SNOOZE_SCOPES, {"low": low, "high": low[:-1] + ";"}
        ) as cursor:
            scopes = [str(row[0]) for row in await cursor.fetchall()]
        if scopes:
            await replan_many(conn, {scope: [] for scope in scopes}, now)

    registry.register(MeetingChanged, "reminders:snooze", on_meeting_changed)
    registry.register(MeetingDeleted, "reminders:snooze", on_meeting_deleted)
    registry.register(MembershipChanged, "reminders:snooze", on_membership_changed)

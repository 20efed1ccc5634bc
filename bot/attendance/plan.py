"""What noting who came plans: the facilitator's question after a meeting elsewhere, and one
"we missed you" per member the day after a meeting whose attendance was noted.

`who_was_missed` is the rule, pure (no database, no clock). `replan_attendance` reads the facts
and hands the plan to the outbox inside the caller's transaction; `register` makes it follow
every change to a meeting (and the rota's changes of who holds it, which say MeetingChanged with
no members). Renderers check the world again at send time (`cards.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import aiosqlite

from bot.delivery.outbox import PlannedDelivery, replan_many
from bot.delivery.port import Destination
from bot.delivery.replanning import MeetingChanged, MeetingDeleted, Registry
from bot.groups import service as groups
from bot.groups.model import Group
from bot.meetings.model import Answer, Meeting, PlaceKind
from bot.meetings.queries import get_meeting
from bot.meetings.recurrence import resolve_local
from bot.reminders.plan import rota_facts
from bot.zones import load_zone

ATTENDANCE_ASK = "attendance_ask"
MISSED_YOU = "missed_you"

# The facilitator may answer for a few days; after that the question is not worth sending.
ASK_STAYS_USEFUL = timedelta(days=3)
# "We missed you" goes the morning after the meeting (the group's time), and only that day.
MISSED_YOU_AT = time(10, 0)
MISSED_YOU_STAYS_USEFUL = timedelta(days=1)

SELECT_IS_ON = """
SELECT 1
FROM attendance_groups
WHERE group_id = :group_id
"""

# Whether the group of a meeting notes who came, from the meeting alone, and whether anything
# of noting who came is still pending for it (one read; most groups: no and no).
SELECT_IS_ON_FOR_MEETING = """
SELECT EXISTS (
           SELECT 1
           FROM meetings AS m
           JOIN series AS s ON s.id = m.series_id
           JOIN attendance_groups AS a ON a.group_id = s.group_id
           WHERE m.id = :meeting_id
       ) AS is_on,
       EXISTS (
           SELECT 1
           FROM outbox
           WHERE scope IN (:ask_scope, :missed_scope) AND state = 'pending'
       ) AS pending
"""

SELECT_NOTED = """
SELECT how
FROM attendance_noted
WHERE meeting_id = :meeting_id
"""

SELECT_CAME = """
SELECT user_id
FROM attendance
WHERE meeting_id = :meeting_id
"""

SELECT_ANSWERS = """
SELECT user_id, answer
FROM rsvps
WHERE meeting_id = :meeting_id
"""

# The two noted meetings of the group before this one, newest first, and who came to each.
SELECT_EARLIER_NOTED = """
SELECT m.id
FROM meetings AS m
JOIN series AS s ON s.id = m.series_id
JOIN attendance_noted AS n ON n.meeting_id = m.id
WHERE s.group_id = :group_id AND m.cancelled_at IS NULL
  AND (m.starts_at < :starts_at OR (m.starts_at = :starts_at AND m.id < :meeting_id))
ORDER BY m.starts_at DESC, m.id DESC
LIMIT 2
"""


def ask_scope(meeting_id: int) -> str:
    return f"meeting:{meeting_id}:attendance-ask"


def missed_scope(meeting_id: int) -> str:
    return f"meeting:{meeting_id}:missed-you"


def missed_key(meeting_id: int, user_id: int) -> str:
    return f"missed-you:{meeting_id}:{user_id}"


@dataclass(frozen=True)
class Noted:
    """Who came to one meeting whose attendance was noted."""

    meeting_id: int
    came: frozenset[int]


def who_was_missed(
    members: Sequence[int],
    answers: Mapping[int, Answer],
    came: frozenset[int],
    earlier: Sequence[Noted],
) -> list[int]:
    """The members to tell "we missed you" after a noted meeting: those who said Going or Maybe
    and did not come, and those who came before and have now missed two noted meetings in a row
    (they came to the one before last, and neither to the last one nor this one), so a longer
    absence brings one message, not one a month. `earlier`: the group's noted meetings before
    this one, newest first."""
    missed: list[int] = []
    for user_id in sorted(set(members)):
        if user_id in came:
            continue
        meant_to = answers.get(user_id) in (Answer.GOING, Answer.MAYBE)
        second_in_a_row = (
            len(earlier) >= 2 and user_id not in earlier[0].came and user_id in earlier[1].came
        )
        if meant_to or second_in_a_row:
            missed.append(user_id)
    return missed


def missed_you_due(meeting: Meeting) -> datetime:
    """The morning after the meeting, in the group's time zone."""
    zone = load_zone(meeting.zone)
    day = meeting.ends_at.astimezone(zone).date() + timedelta(days=1)
    return resolve_local(datetime.combine(day, MISSED_YOU_AT), zone)


def ask_destination(group: Group, holder: int | None) -> Destination:
    """Whoever holds the meeting on the rota, by DM; nobody on it: the facilitators' channel
    (or the group's channel if it has none)."""
    if holder is not None:
        return Destination(user_id=holder)
    return Destination(channel_id=group.facilitator_channel_id or group.announce_channel_id)


def register(registry: Registry) -> None:
    """Noting who came re-plans with every change to a meeting; the rota's changes of holder
    say MeetingChanged too."""

    async def on_meeting_changed(
        conn: aiosqlite.Connection, subject: MeetingChanged, now: datetime
    ) -> None:
        await replan_attendance(conn, subject.meeting_id, now)

    async def on_meeting_deleted(
        conn: aiosqlite.Connection, subject: MeetingDeleted, now: datetime
    ) -> None:
        meeting_id = subject.meeting_id
        await replan_many(conn, {ask_scope(meeting_id): [], missed_scope(meeting_id): []}, now)

    registry.register(MeetingChanged, "attendance", on_meeting_changed)
    registry.register(MeetingDeleted, "attendance", on_meeting_deleted)


async def is_on(conn: aiosqlite.Connection, group_id: int) -> bool:
    async with conn.execute(SELECT_IS_ON, {"group_id": group_id}) as cursor:
        return await cursor.fetchone() is not None


async def noted_how(conn: aiosqlite.Connection, meeting_id: int) -> str | None:
    async with conn.execute(SELECT_NOTED, {"meeting_id": meeting_id}) as cursor:
        row = await cursor.fetchone()
    return str(row[0]) if row is not None else None


async def came_to(conn: aiosqlite.Connection, meeting_id: int) -> frozenset[int]:
    async with conn.execute(SELECT_CAME, {"meeting_id": meeting_id}) as cursor:
        return frozenset(int(row[0]) for row in await cursor.fetchall())


async def answers_to(conn: aiosqlite.Connection, meeting_id: int) -> dict[int, Answer]:
    async with conn.execute(SELECT_ANSWERS, {"meeting_id": meeting_id}) as cursor:
        return {int(row[0]): Answer(row[1]) for row in await cursor.fetchall()}


async def earlier_noted(conn: aiosqlite.Connection, meeting: Meeting) -> list[Noted]:
    params = {
        "group_id": meeting.group_id,
        "starts_at": meeting.starts_at.isoformat(),
        "meeting_id": meeting.id,
    }
    async with conn.execute(SELECT_EARLIER_NOTED, params) as cursor:
        ids = [int(row[0]) for row in await cursor.fetchall()]
    return [Noted(meeting_id, await came_to(conn, meeting_id)) for meeting_id in ids]


async def missed_by(conn: aiosqlite.Connection, meeting: Meeting, group: Group) -> list[int]:
    """Who would be told "we missed you" about `meeting`, as things stand."""
    return who_was_missed(
        await groups.member_ids(conn, group),
        await answers_to(conn, meeting.id),
        await came_to(conn, meeting.id),
        await earlier_noted(conn, meeting),
    )


async def replan_attendance(conn: aiosqlite.Connection, meeting_id: int, now: datetime) -> None:
    """Bring a meeting's question to the facilitator and its "we missed you" messages in line
    with how things are now. Runs inside the caller's transaction."""
    ask: list[PlannedDelivery] = []
    missed: list[PlannedDelivery] = []
    params = {
        "meeting_id": meeting_id,
        "ask_scope": ask_scope(meeting_id),
        "missed_scope": missed_scope(meeting_id),
    }
    async with conn.execute(SELECT_IS_ON_FOR_MEETING, params) as cursor:
        row = await cursor.fetchone()
    if row is None or not row["is_on"]:
        # Most groups: nothing to plan, and nothing more to read (every answer comes here);
        # what was planned while it was on is withdrawn.
        if row is not None and row["pending"]:
            await replan_many(conn, {ask_scope(meeting_id): [], missed_scope(meeting_id): []}, now)
        return
    meeting = await get_meeting(conn, meeting_id)
    group = await groups.get_group(conn, meeting.group_id)
    live = not meeting.cancelled and not group.archived
    stamp = int(meeting.starts_at.timestamp())
    if live and meeting.place.kind is PlaceKind.EXTERNAL:
        not_after = meeting.ends_at + ASK_STAYS_USEFUL
        if now < not_after:
            holder = (await rota_facts(conn, meeting.id)).facilitator_id
            ask.append(
                PlannedDelivery(
                    key=f"attendance-ask:{meeting.id}:{stamp}",
                    scope=ask_scope(meeting.id),
                    kind=ATTENDANCE_ASK,
                    destination=ask_destination(group, holder),
                    due_at=max(meeting.ends_at, now),
                    not_after=not_after,
                    guild_id=group.guild_id,
                    subject_id=meeting.id,
                )
            )
    if live and await noted_how(conn, meeting.id) is not None:
        due = missed_you_due(meeting)
        not_after = due + MISSED_YOU_STAYS_USEFUL
        if now < not_after:
            for user_id in await missed_by(conn, meeting, group):
                missed.append(
                    PlannedDelivery(
                        key=missed_key(meeting.id, user_id),
                        scope=missed_scope(meeting.id),
                        kind=MISSED_YOU,
                        destination=Destination(user_id=user_id),
                        due_at=max(due, now),
                        not_after=not_after,
                        guild_id=group.guild_id,
                        subject_id=meeting.id,
                    )
                )
    await replan_many(conn, {ask_scope(meeting.id): ask, missed_scope(meeting.id): missed}, now)

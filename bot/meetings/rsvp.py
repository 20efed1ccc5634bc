"""Answers to a meeting (Going / Maybe / Can't make it), capacity and the waitlist.

Every answer runs in one IMMEDIATE transaction, so duplicate and concurrent clicks queue up and
each sees the last one's result: the same click twice changes nothing, and a freed place goes
to exactly one person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import aiosqlite

from bot.db import Step, transaction
from bot.delivery.replanning import MeetingChanged, MembershipChanged, Replanner, replan_for
from bot.errors import Conflict, NotAMember
from bot.groups import service as groups
from bot.groups import suggestions
from bot.groups.model import Group
from bot.meetings import planning
from bot.meetings.model import Answer, Meeting, RsvpCounts
from bot.meetings.queries import get_meeting, get_meeting_and_group
from bot.texts import groups as group_texts
from bot.texts import meetings as texts

# Whether the person is in the meeting's group, and their answer so far (one read).
SELECT_ANSWERING = """
SELECT EXISTS (
           SELECT 1
           FROM group_members AS gm
           JOIN series AS s ON s.group_id = gm.group_id
           JOIN meetings AS m ON m.series_id = s.id
           WHERE m.id = :meeting_id AND gm.user_id = :user_id
       ) AS member,
       (SELECT answer FROM rsvps WHERE meeting_id = :meeting_id AND user_id = :user_id) AS answer
"""

UPSERT_ANSWER = """
INSERT INTO rsvps (meeting_id, user_id, answer, answered_at)
VALUES (:meeting_id, :user_id, :answer, :now)
ON CONFLICT (meeting_id, user_id) DO UPDATE
SET answer = excluded.answer, answered_at = excluded.answered_at
"""

COUNT_ANSWERS = """
SELECT answer, COUNT(*) AS n
FROM rsvps
WHERE meeting_id = :meeting_id
GROUP BY answer
"""

COUNT_GOING_EXCEPT = """
SELECT COUNT(*)
FROM rsvps
WHERE meeting_id = :meeting_id AND answer = 'going' AND user_id != :user_id
"""

# First come, first served: the waitlist is ordered by when each person joined it.
SELECT_FIRST_WAITING = """
SELECT user_id
FROM rsvps
WHERE meeting_id = :meeting_id AND answer = 'waitlist'
ORDER BY answered_at, rowid
LIMIT 1
"""

PROMOTE = """
UPDATE rsvps
SET answer = 'going'
WHERE meeting_id = :meeting_id AND user_id = :user_id
"""

SELECT_WAITLIST_POSITION = """
SELECT COUNT(*)
FROM rsvps AS mine
JOIN rsvps AS ahead
  ON ahead.meeting_id = mine.meeting_id
 AND ahead.answer = 'waitlist'
 AND (ahead.answered_at, ahead.rowid) <= (mine.answered_at, mine.rowid)
WHERE mine.meeting_id = :meeting_id AND mine.user_id = :user_id
"""

SELECT_FUTURE_ANSWERED = """
SELECT m.id
FROM rsvps AS r
JOIN meetings AS m ON m.id = r.meeting_id
JOIN series AS s ON s.id = m.series_id
WHERE s.group_id = :group_id AND r.user_id = :user_id AND m.starts_at > :now
"""

# Leaving stops everything from that group: answers for meetings still to come go too.
DELETE_FUTURE_ANSWERS = """
DELETE FROM rsvps
WHERE user_id = :user_id
  AND meeting_id IN (
      SELECT m.id
      FROM meetings AS m
      JOIN series AS s ON s.id = m.series_id
      WHERE s.group_id = :group_id AND m.starts_at > :now
  )
"""

SELECT_ATTENDEES = """
SELECT user_id, answer
FROM rsvps
WHERE meeting_id = :meeting_id
ORDER BY answered_at, rowid
"""


@dataclass(frozen=True)
class RsvpResult:
    meeting: Meeting
    answer: Answer
    """What the person is down as now (WAITLIST when Going was asked for but it is full)."""
    changed: bool
    counts: RsvpCounts
    waitlist_position: int | None = None
    promoted: list[int] = field(default_factory=list)
    """Who moved up from the waitlist because of this answer."""


async def answer_meeting(
    conn: aiosqlite.Connection,
    meeting_id: int,
    user_id: int,
    wanted: Answer,
    now: datetime,
    policy: Replanner | None = None,
) -> RsvpResult:
    """Record an answer; the member's reminders for this meeting are re-planned with it
    (`policy`: the planners with the admin's settings; None: the default ones)."""
    if wanted is Answer.WAITLIST:
        raise ValueError("the waitlist is where Going lands when a meeting is full")
    async with transaction(conn):
        answering = Step(SELECT_ANSWERING, {"meeting_id": meeting_id, "user_id": user_id})
        meeting, group, [[mine]] = await get_meeting_and_group(conn, meeting_id, answering)
        if meeting.cancelled:
            raise Conflict(texts.rsvp_cancelled_meeting())
        if meeting.starts_at <= now:
            raise Conflict(texts.rsvp_meeting_started())
        if not mine["member"]:
            raise NotAMember(group_texts.not_a_member(group.name), group.id)
        current = Answer(mine["answer"]) if mine["answer"] is not None else None
        answer: Answer = wanted
        if wanted is Answer.GOING and current in (Answer.GOING, Answer.WAITLIST):
            answer = current  # a second click keeps the place (or the place in the queue)
        elif wanted is Answer.GOING and meeting.capacity is not None:
            async with conn.execute(
                COUNT_GOING_EXCEPT, {"meeting_id": meeting_id, "user_id": user_id}
            ) as cursor:
                row = await cursor.fetchone()
            if row is not None and row[0] >= meeting.capacity:
                answer = Answer.WAITLIST
        changed = answer != current
        if changed:
            await conn.execute(
                UPSERT_ANSWER,
                {
                    "meeting_id": meeting_id,
                    "user_id": user_id,
                    "answer": answer.value,
                    "now": now.isoformat(),
                },
            )
        promoted: list[int] = []
        if current is Answer.GOING and answer is not Answer.GOING:
            promoted = await fill_free_places(conn, meeting, now)
        if changed or promoted:
            changed_for = MeetingChanged(meeting_id, (user_id, *promoted))
            await replan_for(conn, changed_for, now, policy)
        position = (
            await _waitlist_position(conn, meeting_id, user_id)
            if answer is Answer.WAITLIST
            else None
        )
        counts = await count_answers(conn, meeting_id)
    return RsvpResult(meeting, answer, changed, counts, position, promoted)


async def fill_free_places(
    conn: aiosqlite.Connection, meeting: Meeting, now: datetime
) -> list[int]:
    """Move people up from the waitlist while there is room, and tell each by DM.

    Runs inside the caller's transaction. A meeting without a limit (any more) has room for
    everyone waiting.
    """
    promoted: list[int] = []
    while True:
        counts = await count_answers(conn, meeting.id)
        if meeting.capacity is not None and counts.going >= meeting.capacity:
            return promoted
        async with conn.execute(SELECT_FIRST_WAITING, {"meeting_id": meeting.id}) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return promoted
        user_id = int(row[0])
        await conn.execute(PROMOTE, {"meeting_id": meeting.id, "user_id": user_id})
        await planning.tell_promoted(conn, meeting, user_id, now)
        promoted.append(user_id)


async def _waitlist_position(conn: aiosqlite.Connection, meeting_id: int, user_id: int) -> int:
    async with conn.execute(
        SELECT_WAITLIST_POSITION, {"meeting_id": meeting_id, "user_id": user_id}
    ) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def count_answers(conn: aiosqlite.Connection, meeting_id: int) -> RsvpCounts:
    async with conn.execute(COUNT_ANSWERS, {"meeting_id": meeting_id}) as cursor:
        found = {row["answer"]: int(row["n"]) for row in await cursor.fetchall()}
    return RsvpCounts(
        going=found.get("going", 0),
        maybe=found.get("maybe", 0),
        no=found.get("no", 0),
        waitlist=found.get("waitlist", 0),
    )


async def attendees(conn: aiosqlite.Connection, meeting_id: int) -> dict[Answer, list[int]]:
    """Who answered what, in the order they answered (facilitators only, ephemeral)."""
    result: dict[Answer, list[int]] = {answer: [] for answer in Answer}
    async with conn.execute(SELECT_ATTENDEES, {"meeting_id": meeting_id}) as cursor:
        for row in await cursor.fetchall():
            result[Answer(row["answer"])].append(int(row["user_id"]))
    return result


async def leave_group(
    conn: aiosqlite.Connection,
    group: Group,
    user_id: int,
    now: datetime,
    policy: Replanner | None = None,
) -> groups.Membership:
    """Leave a group: membership, answers to meetings still to come and topic suggestions for it
    go, and any place the person held goes to the next on the waitlist, all at once."""
    params = {"group_id": group.id, "user_id": user_id, "now": now.isoformat()}
    async with transaction(conn):
        cursor = await conn.execute(groups.DELETE_MEMBER, params)
        changed = cursor.rowcount == 1
        async with conn.execute(SELECT_FUTURE_ANSWERED, params) as found:
            meeting_ids = [int(row[0]) for row in await found.fetchall()]
        await conn.execute(DELETE_FUTURE_ANSWERS, params)
        await conn.execute(suggestions.DELETE_OWN_IN_GROUP, params)
        promoted: list[int] = []
        for meeting_id in meeting_ids:
            promoted += await fill_free_places(conn, await get_meeting(conn, meeting_id), now)
        # Their reminders go (and anyone promoted gets theirs).
        left = MembershipChanged(group.id, (user_id, *set(promoted)))
        await replan_for(conn, left, now, policy)
    return groups.Membership(group, changed=changed)

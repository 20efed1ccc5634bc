"""`/mydata`: everything Holdfast holds about one person, to export or to delete for real.

`ERASURES` lists every table column that names a person, and what deletion does to it. A test
reads the schema and fails if a column that names a person is missing here, so a table added
later cannot be forgotten; another uses every feature, deletes, and then finds the id in no
column of any table (as a number or inside text) and nowhere in the files. Closed monthly
trend snapshots hold no member column: they are anonymous aggregates and stay.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import aiosqlite

from bot.checkins.crypto import NoteKeys
from bot.checkins.entries import own_checkins
from bot.checkins.trends import FORMER_FACILITATOR
from bot.db import checkpoint, transaction
from bot.delivery.replanning import MeetingChanged, Replanner, replan_for
from bot.meetings.queries import get_meeting
from bot.meetings.rsvp import fill_free_places

How = Literal["delete", "anonymise"]


@dataclass(frozen=True)
class Erasure:
    table: str
    column: str
    how: How
    sql: str
    """Parameters: :user_id and :member_key."""
    why: str = ""


DELETE_MEMBER_SCOPES = """
DELETE FROM outbox
WHERE state <> 'sending'
  AND (scope LIKE 'meeting:%:reminders:' || :user_id OR scope = 'nudge:' || :user_id)
"""

ERASURES: tuple[Erasure, ...] = (
    Erasure(
        "checkins", "member_key", "delete", "DELETE FROM checkins WHERE member_key = :member_key"
    ),
    Erasure(
        "checkin_members",
        "member_key",
        "delete",
        "DELETE FROM checkin_members WHERE member_key = :member_key",
    ),
    Erasure(
        "checkin_nudges", "user_id", "delete", "DELETE FROM checkin_nudges WHERE user_id = :user_id"
    ),
    Erasure("rsvps", "user_id", "delete", "DELETE FROM rsvps WHERE user_id = :user_id"),
    Erasure(
        "group_members", "user_id", "delete", "DELETE FROM group_members WHERE user_id = :user_id"
    ),
    Erasure(
        "outbox",
        "user_id",
        "delete",
        # A message being sent this instant is left to finish; its row is gone by the next delete.
        "DELETE FROM outbox WHERE user_id = :user_id AND state <> 'sending'",
    ),
    Erasure(
        "outbox",
        "scope",
        "delete",
        # Rows planned for the member but addressed to a channel (reminders and nudges as a
        # mention) name them only in their scope and key: every row of the member's own scopes
        # goes (bot/reminders/plan.py reminders_scope, bot/checkins/nudges.py scope).
        DELETE_MEMBER_SCOPES,
    ),
    Erasure(
        "trend_audit",
        "viewer_id",
        "anonymise",
        f"UPDATE trend_audit SET viewer_id = {FORMER_FACILITATOR} WHERE viewer_id = :user_id",
        why="the record that trends were looked at stays for the admins; only who looked goes",
    ),
    Erasure(
        "series_drafts",
        "created_by",
        "delete",
        "DELETE FROM series_drafts WHERE created_by = :user_id",
    ),
    Erasure(
        "reminder_prefs",
        "user_id",
        "delete",
        "DELETE FROM reminder_prefs WHERE user_id = :user_id",
    ),
    Erasure(
        "reminder_optins",
        "user_id",
        "delete",
        "DELETE FROM reminder_optins WHERE user_id = :user_id",
    ),
    Erasure("dm_channels", "user_id", "delete", "DELETE FROM dm_channels WHERE user_id = :user_id"),
    Erasure("attendance", "user_id", "delete", "DELETE FROM attendance WHERE user_id = :user_id"),
    Erasure(
        "rota",
        "facilitator_user_id",
        "delete",
        # The meeting is then unassigned: the rota escalates it as it would any other.
        "DELETE FROM rota WHERE facilitator_user_id = :user_id",
    ),
    Erasure(
        "rota",
        "assigned_by",
        "anonymise",
        "UPDATE rota SET assigned_by = 0 WHERE assigned_by = :user_id",
        why="someone else still holds the meeting; only who put them down is forgotten",
    ),
    Erasure("snoozes", "user_id", "delete", "DELETE FROM snoozes WHERE user_id = :user_id"),
    Erasure("reply_hints", "user_id", "delete", "DELETE FROM reply_hints WHERE user_id = :user_id"),
    Erasure(
        "interest_answers",
        "user_id",
        "delete",
        "DELETE FROM interest_answers WHERE user_id = :user_id",
    ),
    Erasure(
        "rota_handovers",
        "from_user_id",
        "delete",
        # An offer they made goes: its DM's buttons then say it is no longer open (the
        # meeting stays with them until their rota row goes, just above).
        "DELETE FROM rota_handovers WHERE from_user_id = :user_id",
    ),
    Erasure(
        "rota_handovers",
        "to_user_id",
        "delete",
        # An offer made to them goes too: the one who asked still holds the meeting.
        "DELETE FROM rota_handovers WHERE to_user_id = :user_id",
    ),
    Erasure(
        "topic_suggestions",
        "user_id",
        "delete",
        "DELETE FROM topic_suggestions WHERE user_id = :user_id",
    ),
    Erasure(
        "series",
        "created_by",
        "anonymise",
        "UPDATE series SET created_by = 0 WHERE created_by = :user_id",
        why="the group's meetings go on; only who set them up is forgotten",
    ),
)

SELECT_RSVPS = """
SELECT r.meeting_id, r.answer, r.answered_at, s.title, m.starts_at, g.name AS group_name
FROM rsvps AS r
JOIN meetings AS m ON m.id = r.meeting_id
JOIN series AS s ON s.id = m.series_id
JOIN groups AS g ON g.id = s.group_id
WHERE r.user_id = :user_id
ORDER BY m.starts_at
"""

# Meetings still to come whose plans name the member: answered, or held by them on the rota.
SELECT_MEETINGS_TO_REPLAN = """
SELECT meeting_id FROM rsvps WHERE user_id = :user_id
UNION
SELECT meeting_id FROM rota WHERE facilitator_user_id = :user_id
UNION
SELECT meeting_id FROM rota_handovers WHERE from_user_id = :user_id OR to_user_id = :user_id
"""

SELECT_MEMBERSHIPS = """
SELECT g.id, g.name, g.guild_id, gm.joined_at
FROM group_members AS gm
JOIN groups AS g ON g.id = gm.group_id
WHERE gm.user_id = :user_id
ORDER BY gm.joined_at
"""

SELECT_CHOSEN_GROUP = """
SELECT g.name
FROM checkin_members AS cm
JOIN groups AS g ON g.id = cm.group_id
WHERE cm.member_key = :member_key
"""

SELECT_NUDGE = """
SELECT cadence, day, local_time, timezone
FROM checkin_nudges
WHERE user_id = :user_id
"""

SELECT_AUDIT = """
SELECT g.name AS group_name, a.viewed_at, a.months
FROM trend_audit AS a
JOIN groups AS g ON g.id = a.group_id
WHERE a.viewer_id = :user_id
ORDER BY a.viewed_at
"""

SELECT_REMINDER_PREFS = """
SELECT leads, via, paused, quiet_start, quiet_end, timezone, nudge, missed_you
FROM reminder_prefs
WHERE user_id = :user_id
"""

SELECT_REMINDER_OPTINS = """
SELECT g.name AS group_name, o.created_at
FROM reminder_optins AS o
JOIN groups AS g ON g.id = o.group_id
WHERE o.user_id = :user_id
"""

SELECT_ROTA = """
SELECT s.title AS meeting, m.starts_at, r.assigned_at, r.confirmed_at
FROM rota AS r
JOIN meetings AS m ON m.id = r.meeting_id
JOIN series AS s ON s.id = m.series_id
WHERE r.facilitator_user_id = :user_id
ORDER BY m.starts_at
"""

# Meetings the member was noted as having come to (groups that note who came).
SELECT_ATTENDANCE = """
SELECT g.name AS "group", s.title AS meeting, m.starts_at AS starts, a.how AS noted_by
FROM attendance AS a
JOIN meetings AS m ON m.id = a.meeting_id
JOIN series AS s ON s.id = m.series_id
JOIN groups AS g ON g.id = s.group_id
WHERE a.user_id = :user_id
ORDER BY m.starts_at
"""

# Handover offers they made or were made: which way, what became of it; not the other person.
SELECT_HANDOVERS = """
SELECT s.title AS meeting, m.starts_at,
       CASE WHEN h.from_user_id = :user_id THEN 'you asked someone to take it'
            ELSE 'you were asked to take it' END AS offer,
       h.state, h.offered_at, h.answered_at
FROM rota_handovers AS h
JOIN meetings AS m ON m.id = h.meeting_id
JOIN series AS s ON s.id = m.series_id
WHERE h.from_user_id = :user_id OR h.to_user_id = :user_id
ORDER BY h.offered_at, h.id
"""

SELECT_SUGGESTIONS = """
SELECT g.name AS "group", t.text AS suggestion, t.suggested_at AS suggested
FROM topic_suggestions AS t
JOIN groups AS g ON g.id = t.group_id
WHERE t.user_id = :user_id
ORDER BY t.suggested_at, t.id
"""

# "Remind me in an hour": asked for, and when (bot/reminders/snooze.py).
SELECT_SNOOZES = """
SELECT s.title AS meeting, m.starts_at, z.due_at AS remind_at, z.asked_at
FROM snoozes AS z
JOIN meetings AS m ON m.id = z.meeting_id
JOIN series AS s ON s.id = m.series_id
WHERE z.user_id = :user_id
ORDER BY m.starts_at
"""

# Maybes that came from clicking Interested on a meeting's Events entry.
SELECT_INTEREST_ANSWERS = """
SELECT s.title AS meeting, m.starts_at, i.created_at AS interested_at
FROM interest_answers AS i
JOIN meetings AS m ON m.id = i.meeting_id
JOIN series AS s ON s.id = m.series_id
WHERE i.user_id = :user_id
ORDER BY m.starts_at
"""

SELECT_REPLY_HINT = """
SELECT hinted_at
FROM reply_hints
WHERE user_id = :user_id
"""

SELECT_GROUP_NAMES = """
SELECT id, name
FROM groups
"""


async def _rows(
    conn: aiosqlite.Connection, sql: str, params: dict[str, Any]
) -> list[dict[str, Any]]:
    async with conn.execute(sql, params) as cursor:
        return [dict(row) for row in await cursor.fetchall()]


@dataclass(frozen=True)
class Export:
    data: dict[str, Any]
    checkins_csv: str
    memberships_csv: str
    rsvps_csv: str

    @property
    def json_text(self) -> str:
        return json.dumps(self.data, indent=2, ensure_ascii=False)


# A cell starting with one of these is read as a formula by spreadsheet programs (OWASP, "CSV
# Injection"): a note or a group name could then run something when the export is opened.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A text cell a spreadsheet shows as text: a leading ' where it could start a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _cell(value) for key, value in row.items()})
    return out.getvalue()


async def export(conn: aiosqlite.Connection, keys: NoteKeys, user_id: int, now: datetime) -> Export:
    """Everything Holdfast holds about `user_id`, notes decrypted, for them alone."""
    params = {"user_id": user_id, "member_key": keys.member_key(user_id)}
    names = {row["id"]: row["name"] for row in await _rows(conn, SELECT_GROUP_NAMES, {})}
    checkins = [
        {
            "when": c.created_at.isoformat(),
            "group": names.get(c.group_id, ""),
            "mood": c.answers.mood,
            "stress": c.answers.stress,
            "supported": c.answers.supported,
            "note": c.note or "",
        }
        for c in reversed(await own_checkins(conn, keys, user_id, limit=1_000_000))
    ]
    memberships = [
        {"group": r["name"], "server_id": str(r["guild_id"]), "joined": r["joined_at"]}
        for r in await _rows(conn, SELECT_MEMBERSHIPS, params)
    ]
    rsvps = [
        {
            "group": r["group_name"],
            "meeting": r["title"],
            "starts": r["starts_at"],
            "answer": r["answer"],
            "answered": r["answered_at"],
        }
        for r in await _rows(conn, SELECT_RSVPS, params)
    ]
    chosen = await _rows(conn, SELECT_CHOSEN_GROUP, params)
    nudges = await _rows(conn, SELECT_NUDGE, params)
    reminder_prefs = await _rows(conn, SELECT_REMINDER_PREFS, params)
    hint = await _rows(conn, SELECT_REPLY_HINT, params)
    data = {
        "exported_at": now.isoformat(),
        "discord_user_id": str(user_id),
        "checkins": checkins,
        "group_memberships": memberships,
        "rsvps": rsvps,
        "preferences": {
            "checkin_group": chosen[0]["name"] if chosen else None,
            "checkin_nudge": nudges[0] if nudges else None,
            "reminders": reminder_prefs[0] if reminder_prefs else None,
            "reminders_for_every_meeting_of": await _rows(conn, SELECT_REMINDER_OPTINS, params),
        },
        "rota": await _rows(conn, SELECT_ROTA, params),
        "meetings_you_came_to": await _rows(conn, SELECT_ATTENDANCE, params),
        "rota_handovers": await _rows(conn, SELECT_HANDOVERS, params),
        "topic_suggestions": await _rows(conn, SELECT_SUGGESTIONS, params),
        "snoozed_reminders": await _rows(conn, SELECT_SNOOZES, params),
        "maybe_from_interested": await _rows(conn, SELECT_INTEREST_ANSWERS, params),
        "last_told_how_to_answer_by_dm": hint[0]["hinted_at"] if hint else None,
        "trend_views": await _rows(conn, SELECT_AUDIT, params),
    }
    return Export(
        data=data,
        checkins_csv=_csv(checkins, ["when", "group", "mood", "stress", "supported", "note"]),
        memberships_csv=_csv(memberships, ["group", "server_id", "joined"]),
        rsvps_csv=_csv(rsvps, ["group", "meeting", "starts", "answer", "answered"]),
    )


@dataclass(frozen=True)
class Deleted:
    rows: int
    meetings_answered: list[int]
    """Meetings whose announcement counts change (their RSVPs went)."""
    checkpointed: bool


async def delete_everything(
    conn: aiosqlite.Connection,
    keys: NoteKeys,
    user_id: int,
    now: datetime,
    policy: Replanner | None = None,
) -> Deleted:
    """Delete (or anonymise, see ERASURES) every row about `user_id`, in one transaction, then
    checkpoint the WAL so no copy of the deleted rows stays readable in the live files.

    A place the member held at a meeting still to come goes to the first person waiting, as it
    would if they had said they can't make it, and each such meeting is planned again: whoever
    moved up gets their reminders, and a meeting the member was down to hold asks the
    facilitators for someone to step in (`policy`: the planners; None: the default ones)."""
    params = {"user_id": user_id, "member_key": keys.member_key(user_id)}
    rows = 0
    async with transaction(conn):
        answered = [r["meeting_id"] for r in await _rows(conn, SELECT_RSVPS, params)]
        touched = [r["meeting_id"] for r in await _rows(conn, SELECT_MEETINGS_TO_REPLAN, params)]
        for erasure in ERASURES:
            cursor = await conn.execute(erasure.sql, params)
            rows += max(cursor.rowcount, 0)
        for meeting_id in touched:
            meeting = await get_meeting(conn, meeting_id)
            if meeting.starts_at > now and not meeting.cancelled:
                await fill_free_places(conn, meeting, now)
                await replan_for(conn, MeetingChanged(meeting_id), now, policy)
    return Deleted(rows, answered, await checkpoint(conn))

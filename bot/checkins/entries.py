"""Check-ins: writing one, reading a member's own, and the group a member's check-ins count in.

Check-in tables never hold a Discord id: a member is `NoteKeys.member_key(user_id)`, a keyed
hash. Notes are stored only encrypted. Nothing here logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import aiosqlite

from bot.checkins.crypto import NoteKeys
from bot.db import transaction, write_lock
from bot.errors import HoldfastError, NotAllowed
from bot.groups.model import Group
from bot.groups.service import get_group
from bot.texts import checkins as texts
from bot.zones import UnknownTimeZoneError, load_zone

MAX_NOTE_LENGTH = 1000
MEASURES = ("mood", "stress", "supported")

# One statement, so one round trip: the membership check and the write are a single atomic step.
INSERT_CHECKIN = """
INSERT INTO checkins (member_key, group_id, month, created_at, mood, stress, supported, note)
SELECT :member_key, :group_id, :month, :created_at, :mood, :stress, :supported, :note
WHERE EXISTS (
    SELECT 1
    FROM group_members
    WHERE group_id = :group_id AND user_id = :user_id
)
RETURNING id
"""

SELECT_OWN = """
SELECT id, group_id, created_at, mood, stress, supported, note
FROM checkins
WHERE member_key = :member_key
ORDER BY created_at DESC, id DESC
LIMIT :limit
"""

# The member's own time zone, for the days their chart shows: the one they chose for their
# reminders, else the zone of the group they joined first.
SELECT_READER_ZONE = """
SELECT COALESCE(
    (SELECT p.timezone FROM reminder_prefs AS p WHERE p.user_id = :user_id),
    (SELECT g.timezone
     FROM group_members AS gm
     JOIN groups AS g ON g.id = gm.group_id
     WHERE gm.user_id = :user_id
     ORDER BY gm.joined_at, g.id
     LIMIT 1)
)
"""

SELECT_CHOSEN_GROUP = """
SELECT group_id
FROM checkin_members
WHERE member_key = :member_key
"""

UPSERT_CHOSEN_GROUP = """
INSERT INTO checkin_members (member_key, group_id, updated_at)
VALUES (:member_key, :group_id, :now)
ON CONFLICT (member_key) DO UPDATE
    SET group_id = excluded.group_id, updated_at = excluded.updated_at
"""

# Any server: a check-in can start in a DM, where there is no server to narrow by.
SELECT_GROUPS_ANYWHERE = """
SELECT g.id
FROM groups AS g
JOIN group_members AS gm ON gm.group_id = g.id
WHERE gm.user_id = :user_id AND g.archived_at IS NULL
ORDER BY g.name COLLATE NOCASE, g.id
"""

SELECT_IS_MEMBER = """
SELECT 1
FROM group_members
WHERE group_id = :group_id AND user_id = :user_id
"""


@dataclass(frozen=True)
class Answers:
    mood: int
    stress: int
    supported: int

    def __post_init__(self) -> None:
        for name in MEASURES:
            value = getattr(self, name)
            if not isinstance(value, int) or not 1 <= value <= 5:
                raise HoldfastError(texts.pick_all_three())

    @property
    def lowest(self) -> int:
        """How the entry is at its lowest point, on the 1 (hardest) to 5 scale: stress counts
        the other way round."""
        return min(self.mood, 6 - self.stress, self.supported)


@dataclass(frozen=True)
class Checkin:
    id: int
    group_id: int
    created_at: datetime
    answers: Answers
    note: str | None
    """Decrypted: only ever handed to the member who wrote it."""


def month_of(when: datetime, zone: str) -> str:
    """The calendar month (YYYY-MM) an instant falls in, in the group's zone."""
    return when.astimezone(load_zone(zone)).strftime("%Y-%m")


def clean_note(note: str | None) -> str | None:
    if note is None:
        return None
    text = note.strip()
    if not text:
        return None
    if len(text) > MAX_NOTE_LENGTH:
        raise HoldfastError(texts.note_too_long(MAX_NOTE_LENGTH))
    return text


async def record_checkin(
    conn: aiosqlite.Connection,
    keys: NoteKeys,
    group: Group,
    user_id: int,
    answers: Answers,
    note: str | None,
    now: datetime,
) -> int:
    """Save a check-in for a member of `group`; returns its id."""
    text = clean_note(note)
    params = {
        "user_id": user_id,
        "member_key": keys.member_key(user_id),
        "group_id": group.id,
        "month": month_of(now, group.timezone),
        "created_at": now.isoformat(),
        "mood": answers.mood,
        "stress": answers.stress,
        "supported": answers.supported,
        "note": keys.encrypt(text) if text is not None else None,
    }
    async with write_lock(conn):
        inserted = list(await conn.execute_fetchall(INSERT_CHECKIN, params))
    if not inserted:
        raise NotAllowed(texts.not_in_group(group.name))
    return int(inserted[0][0])


async def own_checkins(
    conn: aiosqlite.Connection, keys: NoteKeys, user_id: int, limit: int = 500
) -> list[Checkin]:
    """The member's own check-ins, newest first, notes decrypted (for their eyes only)."""
    async with conn.execute(
        SELECT_OWN, {"member_key": keys.member_key(user_id), "limit": limit}
    ) as cursor:
        rows = await cursor.fetchall()
    return [
        Checkin(
            id=row["id"],
            group_id=row["group_id"],
            created_at=datetime.fromisoformat(row["created_at"]),
            answers=Answers(row["mood"], row["stress"], row["supported"]),
            note=keys.decrypt(bytes(row["note"])) if row["note"] is not None else None,
        )
        for row in rows
    ]


async def is_member(conn: aiosqlite.Connection, group_id: int, user_id: int) -> bool:
    async with conn.execute(SELECT_IS_MEMBER, {"group_id": group_id, "user_id": user_id}) as cur:
        return await cur.fetchone() is not None


async def member_groups(conn: aiosqlite.Connection, user_id: int) -> list[Group]:
    async with conn.execute(SELECT_GROUPS_ANYWHERE, {"user_id": user_id}) as cursor:
        ids = [int(row[0]) for row in await cursor.fetchall()]
    return [await get_group(conn, group_id) for group_id in ids]


async def remember_group(
    conn: aiosqlite.Connection, keys: NoteKeys, user_id: int, group: Group, now: datetime
) -> None:
    if not await is_member(conn, group.id, user_id):
        raise NotAllowed(texts.not_in_group(group.name))
    async with transaction(conn):
        await conn.execute(
            UPSERT_CHOSEN_GROUP,
            {"member_key": keys.member_key(user_id), "group_id": group.id, "now": now.isoformat()},
        )


async def checkin_group(
    conn: aiosqlite.Connection, keys: NoteKeys, user_id: int
) -> tuple[Group | None, list[Group]]:
    """The group this member's check-ins go to (remembered, or their only one) and the groups
    they could choose from. (None, [...]) means they have to pick; (None, []) that they are in
    no group yet."""
    choices = await member_groups(conn, user_id)
    async with conn.execute(
        SELECT_CHOSEN_GROUP, {"member_key": keys.member_key(user_id)}
    ) as cursor:
        row = await cursor.fetchone()
    if row is not None:
        chosen = next((g for g in choices if g.id == row[0]), None)
        if chosen is not None:
            return chosen, choices
    if len(choices) == 1:
        return choices[0], choices
    return None, choices


async def member_group(conn: aiosqlite.Connection, group_id: int, user_id: int) -> Group:
    """The group, if `user_id` is in it (a card or a button names a group by its id)."""
    group = await get_group(conn, group_id)
    if not await is_member(conn, group.id, user_id):
        raise NotAllowed(texts.not_in_group(group.name))
    return group


async def choose_checkin_group(
    conn: aiosqlite.Connection,
    keys: NoteKeys,
    user_id: int,
    group_name: str | None,
    now: datetime,
) -> tuple[Group | None, list[Group]]:
    """Where a new check-in goes, as `checkin_group` says, unless the member names one of their
    groups (any case and spacing), which is then remembered. (None, choices): they pick."""
    group, choices = await checkin_group(conn, keys, user_id)
    if group_name:
        wanted = " ".join(group_name.split()).casefold()
        named = next((g for g in choices if g.name.casefold() == wanted), None)
        if named is None:
            raise HoldfastError(texts.no_such_group(group_name))
        await remember_group(conn, keys, user_id, named, now)
        group = named
    if group is None and not choices:
        raise HoldfastError(texts.no_groups())
    return group, choices


@dataclass(frozen=True)
class Saved:
    answers: Answers
    very_low: bool
    """At or below the admin's threshold at its lowest point: the member sees support signposts."""
    recent: list[tuple[int, int, int]]
    """(mood, stress, supported) of their last few check-ins, oldest first, this one last."""


async def save_checkin(
    conn: aiosqlite.Connection,
    keys: NoteKeys,
    group_id: int,
    user_id: int,
    picked: Mapping[str, int],
    note: str | None,
    low_threshold: int,
    now: datetime,
    *,
    recent: int = 5,
) -> Saved:
    """Save the card's answers (all three, or a kind error) for a member of the group."""
    if set(picked) != set(MEASURES):
        raise HoldfastError(texts.pick_all_three())
    answers = Answers(**picked)
    group = await member_group(conn, group_id, user_id)
    await record_checkin(conn, keys, group, user_id, answers, note, now)
    last = await own_checkins(conn, keys, user_id, limit=recent)
    points = [(c.answers.mood, c.answers.stress, c.answers.supported) for c in reversed(last)]
    return Saved(answers, answers.lowest <= low_threshold, points)


async def reachout_group(conn: aiosqlite.Connection, keys: NoteKeys, user_id: int) -> Group:
    """The group whose facilitators a member's request to be contacted goes to."""
    group, choices = await checkin_group(conn, keys, user_id)
    if group is None:
        raise HoldfastError(texts.choose_group_first() if choices else texts.no_groups())
    if group.facilitator_channel_id is None:
        raise HoldfastError(texts.reachout_no_channel(group.name))
    return group


async def reader_zone(conn: aiosqlite.Connection, user_id: int) -> ZoneInfo:
    """The zone whose days a member's own chart is drawn in (UTC if none is known)."""
    async with conn.execute(SELECT_READER_ZONE, {"user_id": user_id}) as cursor:
        row = await cursor.fetchone()
    name = row[0] if row is not None else None
    if not name:
        return ZoneInfo("UTC")
    try:
        return load_zone(str(name))
    except UnknownTimeZoneError:
        return ZoneInfo("UTC")

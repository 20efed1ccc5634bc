"""Creating, editing and archiving groups; joining and leaving them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.db import transaction
from bot.delivery.replanning import MembershipChanged, Replanner, replan_for
from bot.errors import Conflict, HoldfastError, NotFound
from bot.groups.model import Group, GroupChange, GroupSettings
from bot.texts import groups as texts
from bot.zones import UnknownTimeZoneError, load_zone

MAX_NAME_LENGTH = 60

INSERT_GROUP = """
INSERT INTO groups (
    guild_id, name, announce_channel_id, facilitator_role_id, facilitator_channel_id,
    timezone, created_at, updated_at
)
VALUES (
    :guild_id, :name, :announce_channel_id, :facilitator_role_id, :facilitator_channel_id,
    :timezone, :now, :now
)
"""

SELECT_GROUP = """
SELECT *
FROM groups
WHERE id = :id
"""

SELECT_LIVE_GROUPS = """
SELECT *
FROM groups
WHERE guild_id = :guild_id AND archived_at IS NULL
ORDER BY name COLLATE NOCASE
"""

SELECT_ALL_LIVE_GROUPS = """
SELECT *
FROM groups
WHERE archived_at IS NULL
ORDER BY id
"""

SELECT_LIVE_GROUP_BY_NAME = """
SELECT *
FROM groups
WHERE guild_id = :guild_id AND archived_at IS NULL AND name = :name COLLATE NOCASE
"""

UPDATE_GROUP = """
UPDATE groups
SET name = :name,
    announce_channel_id = :announce_channel_id,
    facilitator_role_id = :facilitator_role_id,
    facilitator_channel_id = :facilitator_channel_id,
    timezone = :timezone,
    problem = NULL,
    updated_at = :now
WHERE id = :id
"""

ARCHIVE_GROUP = """
UPDATE groups
SET archived_at = :now, updated_at = :now
WHERE id = :id AND archived_at IS NULL
"""

SET_WELCOME = """
UPDATE groups
SET welcome_channel_id = :channel_id, welcome_message_id = :message_id, updated_at = :now
WHERE id = :id
"""

SET_PROBLEM = """
UPDATE groups
SET problem = :problem, updated_at = :now
WHERE id = :id
"""

INSERT_MEMBER = """
INSERT INTO group_members (group_id, user_id, joined_at)
VALUES (:group_id, :user_id, :now)
ON CONFLICT (group_id, user_id) DO NOTHING
"""

DELETE_MEMBER = """
DELETE FROM group_members
WHERE group_id = :group_id AND user_id = :user_id
"""

SELECT_IS_MEMBER = """
SELECT 1
FROM group_members
WHERE group_id = :group_id AND user_id = :user_id
"""

SELECT_MEMBER_IDS = """
SELECT user_id
FROM group_members
WHERE group_id = :group_id
ORDER BY joined_at, user_id
"""

SELECT_GROUPS_OF_MEMBER = """
SELECT g.*
FROM groups AS g
JOIN group_members AS gm ON gm.group_id = g.id
WHERE g.guild_id = :guild_id AND gm.user_id = :user_id AND g.archived_at IS NULL
ORDER BY g.name COLLATE NOCASE
"""


def group_from_row(row: aiosqlite.Row) -> Group:
    """A group from a row with every column of `groups` (`SELECT g.*`)."""
    return _group(row)


def _group(row: aiosqlite.Row) -> Group:
    archived = row["archived_at"]
    return Group(
        id=row["id"],
        guild_id=row["guild_id"],
        name=row["name"],
        announce_channel_id=row["announce_channel_id"],
        facilitator_role_id=row["facilitator_role_id"],
        facilitator_channel_id=row["facilitator_channel_id"],
        timezone=row["timezone"],
        welcome_channel_id=row["welcome_channel_id"],
        welcome_message_id=row["welcome_message_id"],
        problem=row["problem"],
        archived_at=datetime.fromisoformat(archived) if archived else None,
        rules=row["rules"],
    )


def clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise HoldfastError(texts.name_empty())
    if len(cleaned) > MAX_NAME_LENGTH:
        raise HoldfastError(texts.name_too_long(MAX_NAME_LENGTH))
    return cleaned


def check_timezone(name: str) -> str:
    try:
        return load_zone(name.strip()).key
    except UnknownTimeZoneError:
        raise HoldfastError(texts.unknown_timezone(name)) from None


async def create_group(
    conn: aiosqlite.Connection, guild_id: int, settings: GroupSettings, now: datetime
) -> Group:
    name = clean_name(settings.name)
    zone = check_timezone(settings.timezone)
    async with transaction(conn):
        if await _live_by_name(conn, guild_id, name) is not None:
            raise Conflict(texts.name_taken(name))
        cursor = await conn.execute(
            INSERT_GROUP,
            {
                "guild_id": guild_id,
                "name": name,
                "announce_channel_id": settings.announce_channel_id,
                "facilitator_role_id": settings.facilitator_role_id,
                "facilitator_channel_id": settings.facilitator_channel_id,
                "timezone": zone,
                "now": now.isoformat(),
            },
        )
        group_id = cursor.lastrowid
    assert group_id is not None
    return await get_group(conn, group_id)


async def edit_group(
    conn: aiosqlite.Connection, group: Group, change: GroupChange, now: datetime
) -> Group:
    name = clean_name(change.name) if change.name is not None else group.name
    zone = check_timezone(change.timezone) if change.timezone is not None else group.timezone
    facilitator_channel = (
        None
        if change.clear_facilitator_channel
        else change.facilitator_channel_id or group.facilitator_channel_id
    )
    async with transaction(conn):
        clash = await _live_by_name(conn, group.guild_id, name)
        if clash is not None and clash.id != group.id:
            raise Conflict(texts.name_taken(name))
        await conn.execute(
            UPDATE_GROUP,
            {
                "id": group.id,
                "name": name,
                "announce_channel_id": change.announce_channel_id or group.announce_channel_id,
                "facilitator_role_id": change.facilitator_role_id or group.facilitator_role_id,
                "facilitator_channel_id": facilitator_channel,
                "timezone": zone,
                "now": now.isoformat(),
            },
        )
    return await get_group(conn, group.id)


async def archive_group(conn: aiosqlite.Connection, group: Group, now: datetime) -> Group:
    async with transaction(conn):
        await conn.execute(ARCHIVE_GROUP, {"id": group.id, "now": now.isoformat()})
    return await get_group(conn, group.id)


async def get_group(conn: aiosqlite.Connection, group_id: int) -> Group:
    async with conn.execute(SELECT_GROUP, {"id": group_id}) as cursor:
        row = await cursor.fetchone()
    if row is None:
        raise NotFound(texts.group_gone())
    return _group(row)


async def live_groups(conn: aiosqlite.Connection, guild_id: int | None = None) -> list[Group]:
    if guild_id is None:
        async with conn.execute(SELECT_ALL_LIVE_GROUPS) as cursor:
            return [_group(row) for row in await cursor.fetchall()]
    async with conn.execute(SELECT_LIVE_GROUPS, {"guild_id": guild_id}) as cursor:
        return [_group(row) for row in await cursor.fetchall()]


async def _live_by_name(conn: aiosqlite.Connection, guild_id: int, name: str) -> Group | None:
    async with conn.execute(
        SELECT_LIVE_GROUP_BY_NAME, {"guild_id": guild_id, "name": name}
    ) as cursor:
        row = await cursor.fetchone()
    return _group(row) if row else None


async def resolve_group(conn: aiosqlite.Connection, guild_id: int, name: str | None) -> Group:
    """The group a command means: the one named, or the server's only group."""
    if name:
        found = await _live_by_name(conn, guild_id, " ".join(name.split()))
        if found is None:
            raise NotFound(texts.no_such_group(name))
        return found
    groups = await live_groups(conn, guild_id)
    if not groups:
        raise NotFound(texts.no_groups_yet())
    if len(groups) > 1:
        raise HoldfastError(texts.which_group([g.name for g in groups]))
    return groups[0]


async def set_welcome_message(
    conn: aiosqlite.Connection, group: Group, channel_id: int, message_id: int, now: datetime
) -> None:
    async with transaction(conn):
        await conn.execute(
            SET_WELCOME,
            {
                "id": group.id,
                "channel_id": channel_id,
                "message_id": message_id,
                "now": now.isoformat(),
            },
        )


async def record_problem(
    conn: aiosqlite.Connection, group: Group, problem: str | None, now: datetime
) -> bool:
    """Remember what is broken (a deleted channel or role); True if that is news."""
    if group.problem == problem:
        return False
    async with transaction(conn):
        await conn.execute(
            SET_PROBLEM, {"id": group.id, "problem": problem, "now": now.isoformat()}
        )
    return True


@dataclass(frozen=True)
class Membership:
    group: Group
    changed: bool
    """False when the person was already in (join) or already out (leave)."""


async def join_group(
    conn: aiosqlite.Connection,
    group: Group,
    user_id: int,
    now: datetime,
    policy: Replanner | None = None,
) -> Membership:
    if group.archived:
        raise Conflict(texts.group_archived(group.name))
    async with transaction(conn):
        cursor = await conn.execute(
            INSERT_MEMBER, {"group_id": group.id, "user_id": user_id, "now": now.isoformat()}
        )
        if cursor.rowcount == 1:
            # A newcomer gets the gentle nudge for meetings they have not answered.
            await replan_for(conn, MembershipChanged(group.id, (user_id,)), now, policy)
    return Membership(group, changed=cursor.rowcount == 1)


async def is_member(conn: aiosqlite.Connection, group: Group, user_id: int) -> bool:
    async with conn.execute(SELECT_IS_MEMBER, {"group_id": group.id, "user_id": user_id}) as cursor:
        return await cursor.fetchone() is not None


async def member_ids(conn: aiosqlite.Connection, group: Group) -> list[int]:
    async with conn.execute(SELECT_MEMBER_IDS, {"group_id": group.id}) as cursor:
        return [int(row[0]) for row in await cursor.fetchall()]


async def groups_of_member(
    conn: aiosqlite.Connection, guild_id: int, user_id: int
) -> Sequence[Group]:
    async with conn.execute(
        SELECT_GROUPS_OF_MEMBER, {"guild_id": guild_id, "user_id": user_id}
    ) as cursor:
        return [_group(row) for row in await cursor.fetchall()]

"""Members' private topic suggestions for their group.

A member suggests (`/suggest`), sees and withdraws their own; the group's facilitators see the
suggestions oldest first and never who made them (nothing handed to them carries a member id),
and mark one as used, which removes it. Suggestions are personal data: `/mydata export` and
`/mydata delete` cover them (bot/checkins/mydata.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.db import transaction
from bot.errors import Conflict, HoldfastError
from bot.groups.model import Group
from bot.groups.service import is_member
from bot.texts import groups as group_texts
from bot.texts import suggestions as texts

MAX_SUGGESTION = 200
MAX_OWN_PER_GROUP = 5
"""Waiting suggestions one member may have in one group at a time (each gets a Withdraw button)."""
PER_PAGE = 8
"""Suggestions on one page of the facilitators' list: 8 of 200 characters fit 2,000 with room."""

INSERT_SUGGESTION = """
INSERT INTO topic_suggestions (group_id, user_id, text, suggested_at)
VALUES (:group_id, :user_id, :text, :now)
"""

SELECT_OWN_IN_GROUP = """
SELECT id, text
FROM topic_suggestions
WHERE group_id = :group_id AND user_id = :user_id
ORDER BY suggested_at, id
"""

SELECT_OWN_IN_SERVER = """
SELECT t.id, t.group_id, g.name AS group_name, t.text, t.suggested_at
FROM topic_suggestions AS t
JOIN groups AS g ON g.id = t.group_id
WHERE g.guild_id = :guild_id AND t.user_id = :user_id
ORDER BY g.name COLLATE NOCASE, t.suggested_at, t.id
"""

# What facilitators see: no user_id is selected, so none can reach them by mistake.
SELECT_FOR_GROUP = """
SELECT id, text
FROM topic_suggestions
WHERE group_id = :group_id
ORDER BY suggested_at, id
"""

SELECT_ONE_IN_GROUP = """
SELECT text
FROM topic_suggestions
WHERE id = :id AND group_id = :group_id
"""

DELETE_OWN = """
DELETE FROM topic_suggestions
WHERE id = :id AND user_id = :user_id
"""

# Leaving a group takes the member's suggestions for it too (bot/meetings/rsvp.py leave_group).
DELETE_OWN_IN_GROUP = """
DELETE FROM topic_suggestions
WHERE group_id = :group_id AND user_id = :user_id
"""

DELETE_IN_GROUP = """
DELETE FROM topic_suggestions
WHERE id = :id AND group_id = :group_id
"""


@dataclass(frozen=True)
class Suggestion:
    """One suggestion as the group's facilitators see it: the words, never who wrote them."""

    id: int
    text: str


@dataclass(frozen=True)
class OwnSuggestion:
    """One of a member's own suggestions, as they see it."""

    id: int
    group_id: int
    group_name: str
    text: str
    suggested_at: datetime


@dataclass(frozen=True)
class Suggested:
    suggestion: Suggestion
    changed: bool
    """False when the member had already suggested exactly this (a second click)."""


def clean_suggestion(text: str | None) -> str:
    cleaned = " ".join((text or "").split())
    if not cleaned:
        raise HoldfastError(texts.suggestion_empty())
    if len(cleaned) > MAX_SUGGESTION:
        raise HoldfastError(texts.suggestion_too_long(MAX_SUGGESTION))
    return cleaned


async def suggest(
    conn: aiosqlite.Connection, group: Group, user_id: int, text: str | None, now: datetime
) -> Suggested:
    """Store a member's suggestion for their group (the same words twice are stored once)."""
    cleaned = clean_suggestion(text)
    if group.archived:
        raise Conflict(group_texts.group_archived(group.name))
    if not await is_member(conn, group, user_id):
        raise HoldfastError(texts.not_a_member(group.name))
    params = {"group_id": group.id, "user_id": user_id}
    async with transaction(conn):
        async with conn.execute(SELECT_OWN_IN_GROUP, params) as cursor:
            own = [Suggestion(int(r["id"]), str(r["text"])) for r in await cursor.fetchall()]
        for existing in own:
            if existing.text.casefold() == cleaned.casefold():
                return Suggested(existing, changed=False)
        if len(own) >= MAX_OWN_PER_GROUP:
            raise Conflict(texts.too_many(MAX_OWN_PER_GROUP))
        cursor = await conn.execute(
            INSERT_SUGGESTION, {**params, "text": cleaned, "now": now.isoformat()}
        )
        new_id = cursor.lastrowid
    assert new_id is not None
    return Suggested(Suggestion(new_id, cleaned), changed=True)


async def own_suggestions(
    conn: aiosqlite.Connection, guild_id: int, user_id: int
) -> list[OwnSuggestion]:
    """A member's suggestions in every group of this server, group by group, oldest first."""
    async with conn.execute(
        SELECT_OWN_IN_SERVER, {"guild_id": guild_id, "user_id": user_id}
    ) as cursor:
        return [
            OwnSuggestion(
                id=int(r["id"]),
                group_id=int(r["group_id"]),
                group_name=str(r["group_name"]),
                text=str(r["text"]),
                suggested_at=datetime.fromisoformat(r["suggested_at"]),
            )
            for r in await cursor.fetchall()
        ]


async def withdraw(conn: aiosqlite.Connection, suggestion_id: int, user_id: int) -> bool:
    """Remove one of the member's own suggestions; False if it was already gone (or not theirs)."""
    async with transaction(conn):
        cursor = await conn.execute(DELETE_OWN, {"id": suggestion_id, "user_id": user_id})
    return cursor.rowcount == 1


async def group_suggestions(conn: aiosqlite.Connection, group: Group) -> Sequence[Suggestion]:
    """The group's waiting suggestions, oldest first, without who made them."""
    async with conn.execute(SELECT_FOR_GROUP, {"group_id": group.id}) as cursor:
        return [Suggestion(int(r["id"]), str(r["text"])) for r in await cursor.fetchall()]


async def mark_used(
    conn: aiosqlite.Connection, group: Group, suggestion_id: int
) -> Suggestion | None:
    """A facilitator took a suggestion up (or cleared it): it leaves the list. None if it had
    already gone (withdrawn, or marked by another facilitator)."""
    params = {"id": suggestion_id, "group_id": group.id}
    async with transaction(conn):
        async with conn.execute(SELECT_ONE_IN_GROUP, params) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        await conn.execute(DELETE_IN_GROUP, params)
    return Suggestion(suggestion_id, str(row["text"]))

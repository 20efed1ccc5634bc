"""A group's ground rules: what everyone agrees to so meetings feel safe.

Facilitators set them (`/group rules`, Edit); until they do, and after they empty them, the group
has the default (bot/texts/welcome.py). New members read them in their welcome.
"""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.db import transaction
from bot.errors import Conflict, HoldfastError
from bot.groups.model import Group
from bot.groups.service import get_group
from bot.texts import groups as group_texts
from bot.texts import welcome as texts

MAX_RULES = 1500

SET_RULES = """
UPDATE groups
SET rules = :rules, updated_at = :now
WHERE id = :id
"""


def rules_of(group: Group) -> str:
    """What members read: the group's own rules, or the default."""
    return group.rules or texts.default_rules()


def clean_rules(text: str | None) -> str | None:
    """The rules as they will be stored: None for empty or the default itself."""
    lines = [line.rstrip() for line in (text or "").replace("\r\n", "\n").split("\n")]
    cleaned = "\n".join(lines).strip()
    if not cleaned or cleaned == texts.default_rules():
        return None
    if len(cleaned) > MAX_RULES:
        raise HoldfastError(texts.rules_too_long(MAX_RULES))
    return cleaned


async def set_rules(
    conn: aiosqlite.Connection, group: Group, text: str | None, now: datetime
) -> Group:
    """Set the group's ground rules; empty goes back to the default."""
    if group.archived:
        raise Conflict(group_texts.group_archived(group.name))
    rules = clean_rules(text)
    async with transaction(conn):
        await conn.execute(SET_RULES, {"id": group.id, "rules": rules, "now": now.isoformat()})
    return await get_group(conn, group.id)

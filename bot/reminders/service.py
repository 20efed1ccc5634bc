"""What `/reminders` does: change a member's settings and re-plan, all at once."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.db import transaction
from bot.errors import NotAllowed
from bot.groups import service as groups
from bot.groups.model import Group
from bot.reminders import plan
from bot.reminders import prefs as store
from bot.reminders.model import Prefs, PrefsChange, ReminderPolicy
from bot.texts import groups as group_texts


async def update_prefs(
    conn: aiosqlite.Connection,
    user_id: int,
    change: PrefsChange,
    now: datetime,
    policy: ReminderPolicy,
) -> Prefs:
    """Store the change and re-plan every upcoming reminder it affects, in one transaction."""
    async with transaction(conn):
        updated = store.changed(await store.get_prefs(conn, user_id), change)
        await store.store_prefs(conn, updated, now)
        await plan.replan_for_member(conn, user_id, now, policy)
    return updated


async def set_every_meeting(
    conn: aiosqlite.Connection,
    group: Group,
    user_id: int,
    on: bool,
    now: datetime,
    policy: ReminderPolicy,
) -> None:
    """Remind me of every meeting of this group, whether or not I answer (or stop)."""
    async with transaction(conn):
        if on and not await groups.is_member(conn, group, user_id):
            raise NotAllowed(group_texts.not_a_member(group.name))
        await store.store_opt_in(conn, group.id, user_id, on, now)
        await plan.replan_for_member(conn, user_id, now, policy)

"""Every capability's planners, registered with the admin's settings: what re-plans for what.

`Policy` is the planning configuration (`.env`'s ANNOUNCE_DAYS_BEFORE, REMINDER_LEADS, …) and
the registry built from it: services take it where they say "this changed"
(`policy.replan_for(conn, MeetingChanged(42), now)`). A new capability that plans something
adds one line to `register_all`, as it registers its renderers in its cog's setup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import aiosqlite

from bot.attendance import plan as attendance
from bot.delivery import replanning
from bot.delivery.replanning import Registry, Subject
from bot.meetings import planning as meetings
from bot.reminders import plan as reminders
from bot.reminders import snooze
from bot.reminders.model import ReminderPolicy


def register_all(
    registry: Registry,
    announce_lead: timedelta = meetings.DEFAULT_ANNOUNCE_LEAD,
    reminder_policy: ReminderPolicy | None = None,
) -> Registry:
    """Register every capability's planners (in this order: the announcement, then members'
    reminders and the rota, then noting who came). Registering again replaces, so this is safe
    to repeat."""
    meetings.register(registry, announce_lead)
    reminders.register(registry, reminder_policy or ReminderPolicy())
    attendance.register(registry)
    snooze.register(registry)
    return registry


@dataclass(frozen=True)
class Policy:
    """Admin-configured planning choices (from `.env`), and the planners that use them."""

    announce_lead: timedelta = meetings.DEFAULT_ANNOUNCE_LEAD
    reminders: ReminderPolicy = field(default_factory=ReminderPolicy)
    registry: Registry = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        registry = register_all(Registry(), self.announce_lead, self.reminders)
        object.__setattr__(self, "registry", registry)

    async def replan_for(self, conn: aiosqlite.Connection, subject: Subject, now: datetime) -> None:
        await self.registry.replan_for(conn, subject, now)


def use_defaults(policy: Policy | None = None) -> Policy:
    """Make `policy` (built-in settings if None) what services use when given none."""
    chosen = policy or Policy()
    replanning.use_by_default(chosen)
    return chosen

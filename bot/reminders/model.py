"""The values the reminders capability hands out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from typing import Literal

from bot.meetings.recurrence import Lead, parse_leads

Via = Literal["dm", "channel"]

REMINDER = "reminder"
NUDGE = "nudge"
ROTA_ASK = "rota_ask"
ROTA_ESCALATION = "rota_escalation"
ROTA_HANDOVER_OFFER = "rota_handover_offer"
"""To the facilitator a meeting's holder asked to take it: Accept / Decline."""
ROTA_HANDOVER_ANSWER = "rota_handover_answer"
"""To the holder who asked: the other facilitator's answer."""
SNOOZE = "snooze"
"""One more reminder a member asked for from a reminder DM (bot/reminders/snooze.py)."""


THREE_DAYS = Lead(3, "d", "3d")
A_DAY_IN_HOURS = Lead(24, "h", "24h")


def _default_leads() -> tuple[Lead, ...]:
    return tuple(parse_leads("7d,1d,2h"))


@dataclass(frozen=True)
class ReminderPolicy:
    """The admin's defaults (from `.env`)."""

    leads: tuple[Lead, ...] = field(default_factory=_default_leads)
    nudge: Lead | None = THREE_DAYS
    """One nudge this long before, to members who have not answered (None: no nudges)."""
    rota_ask: Lead = THREE_DAYS
    rota_escalate: Lead = A_DAY_IN_HOURS
    admins: tuple[int, ...] = ()
    """Users who also get an escalation by DM (ADMIN_USER_IDS)."""


@dataclass(frozen=True)
class QuietHours:
    """Local wall-clock hours (in the member's zone) when no DM should arrive; may cross
    midnight (22:00–07:00)."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError("quiet hours start and end at the same time")


@dataclass(frozen=True)
class Prefs:
    """One member's reminder settings; the defaults are what a member who never chose has."""

    user_id: int
    leads: tuple[Lead, ...] | None = None
    """None: the admin's defaults."""
    via: Via = "dm"
    paused: bool = False
    quiet: QuietHours | None = None
    timezone: str | None = None
    """None: the group's zone."""
    nudge: bool = True
    missed_you: bool = True
    """The "we missed you" message after a meeting they meant to come to (groups that note
    who came)."""

    def leads_or(self, policy: ReminderPolicy) -> tuple[Lead, ...]:
        return self.leads if self.leads is not None else policy.leads


@dataclass(frozen=True)
class PrefsChange:
    """What `/reminders` changes; None leaves a setting as it is."""

    leads: tuple[Lead, ...] | None = None
    use_default_leads: bool = False
    via: Via | None = None
    paused: bool | None = None
    quiet: QuietHours | None = None
    clear_quiet: bool = False
    timezone: str | None = None
    nudge: bool | None = None
    missed_you: bool | None = None

"""The values the groups capability hands out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Actor:
    """Who is asking, as Discord told us in the interaction (no members intent needed)."""

    user_id: int
    role_ids: frozenset[int] = frozenset()
    is_admin: bool = False
    """Manage Server (or Administrator) in this server."""
    is_bot: bool = False
    """A bot account (as Discord resolved a user named in a command option)."""


@dataclass(frozen=True)
class Group:
    id: int
    guild_id: int
    name: str
    announce_channel_id: int
    facilitator_role_id: int
    facilitator_channel_id: int | None
    timezone: str
    welcome_channel_id: int | None
    welcome_message_id: int | None
    problem: str | None
    archived_at: datetime | None
    rules: str | None = None
    """The ground rules a facilitator set (None: the default, bot/groups/rules.py)."""

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


@dataclass(frozen=True)
class GroupSettings:
    """What an admin chooses when creating or editing a group."""

    name: str
    announce_channel_id: int
    facilitator_role_id: int
    facilitator_channel_id: int | None
    timezone: str


@dataclass(frozen=True)
class GroupChange:
    """Optional fields of `/group edit`; None leaves a setting as it is."""

    name: str | None = None
    announce_channel_id: int | None = None
    facilitator_role_id: int | None = None
    facilitator_channel_id: int | None = None
    clear_facilitator_channel: bool = False
    timezone: str | None = None

"""Domain errors: each carries a message fit to show the person who caused it.

Cogs turn these into kind, ephemeral replies; nothing else about them reaches a user.
"""

from __future__ import annotations


class HoldfastError(Exception):
    """Something the person asking can put right; `str()` says what and how, kindly."""


class NotAllowed(HoldfastError):
    """The person asking may not do this (wrong role, not a member of the group)."""


class NotFound(HoldfastError):
    """The group, series or meeting asked about does not exist (any more)."""


class Conflict(HoldfastError):
    """The change clashes with the current state (already cancelled, a clash of times)."""


class NotAMember(NotAllowed):
    """Only members of the group can do this; `group_id` lets the reply offer to join."""

    def __init__(self, message: str, group_id: int) -> None:
        super().__init__(message)
        self.group_id = group_id

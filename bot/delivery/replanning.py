"""Re-planning by registration: "this subject changed", said inside the caller's transaction.

A change (a meeting moved, people joined a group, an answer) names its subject and calls
`replan_for`; every planner registered for that kind of subject brings its own deliveries in
line, in the same transaction, so the change and its re-plan commit together. The delivery
layer knows no capability: each capability registers what it plans (meetings/ the
announcement, reminders/ the reminders, nudges and the rota), as each registers its renderers.

    registry = Registry()
    registry.register(MeetingChanged, "meetings:announcement", plan_announcement)
    await registry.replan_for(conn, MeetingChanged(42), now)

Registration is explicit and per registry: `bot.planning.Policy` builds one with every
capability's planners and the admin's settings. `use_by_default` names the registry that
services use when their caller gives none (the bot at start-up, test fixtures).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

import aiosqlite


@dataclass(frozen=True)
class MeetingChanged:
    """A meeting is created, moved, cancelled or edited (`user_ids` None), or only some
    members' part of it changed (their answers: `user_ids` names them)."""

    meeting_id: int
    user_ids: tuple[int, ...] | None = None


@dataclass(frozen=True)
class MeetingDeleted:
    """A meeting about to be deleted: nothing pending about it may go out."""

    meeting_id: int


@dataclass(frozen=True)
class MembershipChanged:
    """These people joined or left the group: their part of its meetings still to come."""

    group_id: int
    user_ids: tuple[int, ...]


Subject = MeetingChanged | MeetingDeleted | MembershipChanged
S = TypeVar("S", MeetingChanged, MeetingDeleted, MembershipChanged)
Planner = Callable[[aiosqlite.Connection, S, datetime], Awaitable[None]]


class Replanner(Protocol):
    """What a service needs to say that something changed."""

    async def replan_for(
        self, conn: aiosqlite.Connection, subject: Subject, now: datetime
    ) -> None: ...


class NothingRegistered(RuntimeError):
    pass


class Registry:
    """Subject kind → the planners that re-plan for it, in the order they were registered."""

    def __init__(self) -> None:
        self._planners: dict[type, dict[str, Callable[..., Awaitable[None]]]] = {}

    def register(self, subject: type[S], name: str, planner: Planner[S]) -> None:
        """Add `planner` for `subject`; registering the same name again replaces it."""
        self._planners.setdefault(subject, {})[name] = planner

    def names(self, subject: type) -> Sequence[str]:
        return list(self._planners.get(subject, {}))

    async def replan_for(self, conn: aiosqlite.Connection, subject: Subject, now: datetime) -> None:
        """Run every planner registered for the subject's kind, inside the caller's
        transaction. A kind nobody registered for is a wiring mistake, not a quiet no-op:
        reminders that silently stop being planned are the failure this bot exists to avoid."""
        if not conn.in_transaction:
            raise RuntimeError("replan_for runs inside the caller's transaction (bot.db)")
        planners = self._planners.get(type(subject))
        if not planners:
            raise NothingRegistered(f"no planner is registered for {type(subject).__name__}")
        for planner in planners.values():
            await planner(conn, subject, now)


_default: Replanner | None = None


def use_by_default(replanner: Replanner | None) -> None:
    """Name the planners a service uses when its caller passes none (None: forget)."""
    global _default
    _default = replanner


def default() -> Replanner:
    if _default is None:
        raise NothingRegistered(
            "no default planning: bot.planning.Policy(...) and replanning.use_by_default at "
            "start-up (HoldfastBot does), or pass the policy"
        )
    return _default


async def replan_for(
    conn: aiosqlite.Connection,
    subject: Subject,
    now: datetime,
    replanner: Replanner | None = None,
) -> None:
    """Say that `subject` changed, to `replanner` (or the default one)."""
    await (replanner or default()).replan_for(conn, subject, now)

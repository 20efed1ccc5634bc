"""What the simulation knows of the world, kept beside the bot's database: the oracle.

Written by the simulation as it performs each operation (from what it asked for and what the
service said it did), never by reading the bot's tables, so the invariants compare the bot
against an independent record.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time

from bot.meetings.model import Answer
from bot.reminders.model import PrefsChange


@dataclass
class UserModel:
    id: int
    paused: bool = False
    quiet: tuple[time, time] | None = None
    quiet_zone: str | None = None
    via: str = "dm"
    leads: tuple[str, ...] | None = None
    deleted: bool = False
    changed_at: datetime | None = None
    """Last change of anything that decides what they get (prefs, DMs, deletion)."""


@dataclass
class HandoverModel:
    meeting_id: int
    from_user: int
    to_user: int
    state: str = "open"
    answered_at: datetime | None = None


@dataclass
class Model:
    users: dict[int, UserModel] = field(default_factory=dict)
    zones: dict[int, str] = field(default_factory=dict)
    members: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    member_since: dict[tuple[int, int], datetime] = field(default_factory=dict)
    ever_in: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    """User → every group they have joined (planning about them is looked for there)."""
    answers: dict[tuple[int, int], tuple[Answer, datetime]] = field(default_factory=dict)
    meeting_changed: dict[int, datetime] = field(default_factory=dict)
    downtime: list[tuple[datetime, datetime]] = field(default_factory=list)
    notes: set[str] = field(default_factory=set)
    contributors: dict[tuple[int, str], set[int]] = field(default_factory=lambda: defaultdict(set))
    interested: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    """Discord's side: who clicked Interested on each meeting's Events entry."""
    maybe_from_interest: dict[tuple[int, int], datetime] = field(default_factory=dict)
    """(meeting, user) → when an Interested click gave them a Maybe."""
    join_offered: dict[tuple[int, int], datetime] = field(default_factory=dict)
    """(group, user) → when Interested last brought them an offer to join."""
    snoozes: dict[tuple[int, int], tuple[datetime, datetime]] = field(default_factory=dict)
    """(meeting, user) → (when the snooze is due, when it was asked for): the latest ask."""
    attendance_on: dict[int, bool] = field(default_factory=dict)
    came: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    """Meeting → who the facilitator said came."""
    noted: set[int] = field(default_factory=set)
    offers: dict[int, HandoverModel] = field(default_factory=dict)
    topics: int = 0
    deleted_at: dict[int, datetime] = field(default_factory=dict)
    """When each member last deleted their data (the bot forgets them, keys included)."""

    def add_user(self, user_id: int) -> None:
        self.users[user_id] = UserModel(user_id)

    def add_group(self, group_id: int, zone: str) -> None:
        self.zones[group_id] = zone
        self.members[group_id] = set()

    def join(self, group_id: int, user_id: int, now: datetime) -> None:
        self.members[group_id].add(user_id)
        self.member_since[(group_id, user_id)] = now
        self.ever_in[user_id].add(group_id)
        self.users[user_id].deleted = False

    def leave(self, group_id: int, user_id: int, now: datetime) -> None:
        self.members[group_id].discard(user_id)
        self.member_since.pop((group_id, user_id), None)
        for key in [k for k in self.answers if k[1] == user_id]:
            del self.answers[key]

    def interest_outcome(self, meeting_id: int, group_id: int, user_id: int) -> str:
        """What the actor's Interested click (or taking it back) should do, from what they did
        before: a Maybe to a member with no answer; taken back, only the Maybe the click gave,
        while it is still that Maybe; an offer to join to someone not in the group."""
        if user_id in self.interested[meeting_id]:
            if user_id not in self.members[group_id]:
                return "offered_join"
            return "maybe" if self.answer_of(meeting_id, user_id) is None else "nothing"
        given = self.maybe_from_interest.get((meeting_id, user_id))
        found = self.answers.get((meeting_id, user_id))
        if given is not None and found is not None and found[0] is Answer.MAYBE:
            return "removed" if found[1] <= given else "nothing"
        return "nothing"

    def answered(self, meeting_id: int, user_id: int, answer: Answer, now: datetime) -> None:
        self.answers[(meeting_id, user_id)] = (answer, now)

    def unanswered(self, meeting_id: int, user_id: int) -> None:
        self.answers.pop((meeting_id, user_id), None)

    def answer_of(self, meeting_id: int, user_id: int) -> Answer | None:
        found = self.answers.get((meeting_id, user_id))
        return found[0] if found else None

    def meeting_touched(self, meeting_id: int, now: datetime) -> None:
        self.meeting_changed[meeting_id] = now

    def meeting_created(self, meeting_id: int, now: datetime) -> None:
        """A new meeting. SQLite may give it the id of a meeting deleted a moment ago (a
        rowid is max + 1 without AUTOINCREMENT), so nothing known of that one carries over."""
        self.meeting_changed[meeting_id] = now
        for key in [k for k in self.answers if k[0] == meeting_id]:
            del self.answers[key]
        for key in [k for k in self.snoozes if k[0] == meeting_id]:
            del self.snoozes[key]
        self.interested.pop(meeting_id, None)
        self.came.pop(meeting_id, None)
        self.noted.discard(meeting_id)
        for offer in self.offers.values():
            if offer.meeting_id == meeting_id and offer.state == "open":
                offer.state = "gone"

    def user_touched(self, user_id: int, now: datetime) -> None:
        self.users[user_id].changed_at = now

    def prefs_changed(self, user_id: int, change: PrefsChange, now: datetime) -> None:
        user = self.users[user_id]
        if change.paused is not None:
            user.paused = change.paused
        # The zone is the member's own setting ("/reminders quiet START END [TIMEZONE]"): quiet
        # hours turned off keep it, and new quiet hours without one use the zone given before.
        if change.clear_quiet:
            user.quiet = None
        if change.quiet is not None:
            user.quiet = (change.quiet.start, change.quiet.end)
        if change.timezone is not None:
            user.quiet_zone = change.timezone
        if change.via is not None:
            user.via = change.via
        if change.use_default_leads:
            user.leads = None
        elif change.leads is not None:
            user.leads = tuple(lead.text for lead in change.leads)
        user.changed_at = now

    def deleted(self, user_id: int, now: datetime) -> None:
        """/mydata delete: memberships, answers and preferences go."""
        for group_id in list(self.members):
            self.leave(group_id, user_id, now)
        self.users[user_id] = UserModel(user_id, deleted=True, changed_at=now)
        self.deleted_at[user_id] = now
        for who in self.contributors.values():
            who.discard(user_id)
        for key in [k for k in self.snoozes if k[1] == user_id]:
            del self.snoozes[key]
        for who in self.came.values():
            who.discard(user_id)

    def checked_in(self, group_id: int, user_id: int, now: datetime) -> None:
        from bot.checkins.entries import month_of

        self.contributors[(group_id, month_of(now, self.zones[group_id]))].add(user_id)

    def was_down(self, start: datetime, end: datetime) -> bool:
        return any(a < end and b > start for a, b in self.downtime)

"""The values the meetings capability hands out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum

from bot.meetings.recurrence import Rule


class PlaceKind(StrEnum):
    VOICE = "voice"
    STAGE = "stage"
    EXTERNAL = "external"


class Answer(StrEnum):
    GOING = "going"
    MAYBE = "maybe"
    NO = "no"
    WAITLIST = "waitlist"


@dataclass(frozen=True)
class Place:
    kind: PlaceKind
    channel_id: int | None = None
    location: str | None = None

    @staticmethod
    def channel(kind: PlaceKind, channel_id: int) -> Place:
        return Place(kind, channel_id=channel_id)

    @staticmethod
    def external(location: str) -> Place:
        return Place(PlaceKind.EXTERNAL, location=location)


@dataclass(frozen=True)
class SeriesDraft:
    """What a facilitator asked for, before it is saved."""

    title: str
    rule: Rule
    local_time: time
    duration_minutes: int
    place: Place
    description: str | None = None
    capacity: int | None = None


@dataclass(frozen=True)
class Series:
    id: int
    group_id: int
    title: str
    rule: Rule
    local_time: time
    anchor: str
    zone: str
    duration_minutes: int
    place: Place
    description: str | None
    capacity: int | None
    ended_at: datetime | None


@dataclass(frozen=True)
class Meeting:
    id: int
    series_id: int
    group_id: int
    guild_id: int
    title: str
    description: str | None
    zone: str
    occurrence_start: datetime
    starts_at: datetime
    duration_minutes: int
    place: Place
    moved: bool
    note: str | None
    cancelled_at: datetime | None
    event_id: int | None
    event_synced: str | None
    """Fingerprint of what the Discord event last showed ("cancelled" once cancelled)."""
    capacity: int | None
    topic: str | None = None
    """What the group means to talk about (`/meeting topic`), one line."""

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None


@dataclass(frozen=True)
class RsvpCounts:
    going: int = 0
    maybe: int = 0
    no: int = 0
    waitlist: int = 0

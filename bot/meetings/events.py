"""The server's Events list mirrors each series' next meetings as one-off scheduled events.

Discord's own recurring events cannot say "last Thursday", so Holdfast's rule stays the truth
and the next meeting(s) are mirrored one by one: created, updated and cancelled with the
meeting, and when one is over the next takes its place.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime

import aiosqlite

from bot.db import transaction
from bot.delivery.port import (
    MISSING_ACCESS,
    MISSING_PERMISSIONS,
    DeliveryFailed,
    DiscordPort,
    EventSpec,
)
from bot.meetings.model import Meeting
from bot.meetings.queries import live_series, meetings_with_stale_events, series_meetings
from bot.texts import meetings as texts

log = logging.getLogger(__name__)

CANCELLED = "cancelled"
UNKNOWN_EVENT = 10070

SET_EVENT = """
UPDATE meetings
SET event_id = :event_id, event_synced = :synced
WHERE id = :id
"""


@dataclass
class EventSync:
    created: int = 0
    updated: int = 0
    cancelled: int = 0
    forbidden_groups: set[int] = field(default_factory=set)
    """Groups whose server does not let Holdfast manage events (reported once)."""
    synced_groups: set[int] = field(default_factory=set)


# Discord's limits for a scheduled event (Create Guild Scheduled Event: name 1-100 characters,
# description 1-1000, entity_metadata.location 1-100). A longer field makes Discord refuse the
# whole event, so each is cut to fit; the meeting itself keeps every word.
MAX_EVENT_NAME = 100
MAX_EVENT_DESCRIPTION = 1000
MAX_EVENT_LOCATION = 100
ELLIPSIS = "…"


def clip(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters, else its start and "…", `limit` at most."""
    if len(text) <= limit:
        return text
    return text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def spec_for(meeting: Meeting) -> EventSpec:
    place = meeting.place
    topic = texts.topic_line(meeting.topic) if meeting.topic else None
    description = "\n\n".join(p for p in (topic, meeting.description, meeting.note) if p)
    return EventSpec(
        name=clip(meeting.title, MAX_EVENT_NAME),
        description=clip(description, MAX_EVENT_DESCRIPTION) or None,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        place=place.kind.value,
        channel_id=place.channel_id,
        location=None if place.location is None else clip(place.location, MAX_EVENT_LOCATION),
    )


def fingerprint(spec: EventSpec) -> str:
    canonical = json.dumps(
        [
            spec.name,
            spec.description,
            spec.starts_at.isoformat(),
            spec.ends_at.isoformat(),
            spec.place,
            spec.channel_id,
            spec.location,
        ]
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


async def _record(
    conn: aiosqlite.Connection, meeting_id: int, event_id: int | None, synced: str | None
) -> None:
    async with transaction(conn):
        await conn.execute(SET_EVENT, {"id": meeting_id, "event_id": event_id, "synced": synced})


async def sync_events(
    conn: aiosqlite.Connection, port: DiscordPort, now: datetime, ahead: int
) -> EventSync:
    """Bring the Events list in line with the next `ahead` meetings of every live series."""
    result = EventSync()
    for series in await live_series(conn):
        if series.group_id in result.forbidden_groups:
            continue
        try:
            await _sync_series(conn, port, series.id, now, ahead, result)
        except DeliveryFailed as failure:
            if failure.code in (MISSING_PERMISSIONS, MISSING_ACCESS):
                result.forbidden_groups.add(series.group_id)
            else:
                log.warning("could not update the Events list: %s", failure.reason)
            continue
        result.synced_groups.add(series.group_id)
    await _cancel_stale(conn, port, now, result)
    result.synced_groups -= result.forbidden_groups
    return result


async def _sync_series(
    conn: aiosqlite.Connection,
    port: DiscordPort,
    series_id: int,
    now: datetime,
    ahead: int,
    result: EventSync,
) -> None:
    upcoming = await series_meetings(conn, series_id, after=now)
    mirrored = [m for m in upcoming if not m.cancelled][:ahead]
    for meeting in mirrored:
        spec = spec_for(meeting)
        wanted = fingerprint(spec)
        if meeting.event_id is not None and meeting.event_synced == wanted:
            continue
        if meeting.event_id is not None:
            try:
                await port.edit_event(meeting.guild_id, meeting.event_id, spec)
            except DeliveryFailed as failure:
                if failure.code != UNKNOWN_EVENT:
                    raise
                # Someone deleted it in Discord: put it back.
                event_id = await port.create_event(meeting.guild_id, spec)
                await _record(conn, meeting.id, event_id, wanted)
                result.created += 1
                continue
            await _record(conn, meeting.id, meeting.event_id, wanted)
            result.updated += 1
        else:
            event_id = await port.create_event(meeting.guild_id, spec)
            await _record(conn, meeting.id, event_id, wanted)
            result.created += 1


async def _cancel_stale(
    conn: aiosqlite.Connection, port: DiscordPort, now: datetime, result: EventSync
) -> None:
    for meeting in await meetings_with_stale_events(conn, now):
        if meeting.group_id in result.forbidden_groups or meeting.event_id is None:
            continue
        try:
            await port.cancel_event(meeting.guild_id, meeting.event_id)
        except DeliveryFailed as failure:
            if failure.code in (MISSING_PERMISSIONS, MISSING_ACCESS):
                result.forbidden_groups.add(meeting.group_id)
                continue
            if failure.code != UNKNOWN_EVENT:
                log.warning("could not cancel an event: %s", failure.reason)
                continue
        await _record(conn, meeting.id, meeting.event_id, CANCELLED)
        result.cancelled += 1

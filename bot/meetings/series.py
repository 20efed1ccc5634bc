"""Meeting series: preview, drafts, create, edit, end, and keeping meetings materialised.

A series is a rule people say out loud ("last Thursday, 19:30") evaluated in the group's zone.
Its meetings are stored as rows for a rolling horizon, so each has an id that answers, reminders
and the Discord event can hang off; a moved or cancelled meeting keeps its change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import aiosqlite

from bot.db import transaction
from bot.delivery.replanning import MeetingChanged, MeetingDeleted, Replanner
from bot.errors import Conflict, HoldfastError, NotFound
from bot.groups.model import Group, GroupChange
from bot.groups.service import archive_group, edit_group
from bot.meetings import planning
from bot.meetings.model import Meeting, Place, PlaceKind, Series, SeriesDraft
from bot.meetings.queries import get_series, live_series, series_meetings, upcoming_meetings
from bot.meetings.recurrence import (
    Frequency,
    Rule,
    Schedule,
    local_date_of,
    next_start_after,
    nth_latest_start,
    occurrences,
)
from bot.meetings.rsvp import fill_free_places
from bot.texts import meetings as texts

# Meetings exist as rows this far ahead (and at least the next few), so each can be answered
# and reminded about; the daily sweep extends the horizon.
HORIZON = timedelta(days=120)
MIN_AHEAD = 3
MAX_TITLE = 80
MAX_DESCRIPTION = 1000
MAX_LOCATION = 200

INSERT_SERIES = """
INSERT INTO series (
    group_id, title, rrule, local_time, anchor_date, duration_minutes, place_kind,
    channel_id, location, description, capacity, created_by, created_at, updated_at
)
VALUES (
    :group_id, :title, :rrule, :local_time, :anchor_date, :duration_minutes, :place_kind,
    :channel_id, :location, :description, :capacity, :created_by, :now, :now
)
"""

UPDATE_SERIES = """
UPDATE series
SET title = :title, rrule = :rrule, local_time = :local_time, anchor_date = :anchor_date,
    duration_minutes = :duration_minutes, place_kind = :place_kind, channel_id = :channel_id,
    location = :location, description = :description, capacity = :capacity, updated_at = :now
WHERE id = :id
"""

END_SERIES = """
UPDATE series
SET ended_at = :now, updated_at = :now
WHERE id = :id AND ended_at IS NULL
"""

INSERT_MEETING = """
INSERT INTO meetings (
    series_id, occurrence_start, starts_at, duration_minutes, place_kind, channel_id,
    location, created_at, updated_at
)
VALUES (
    :series_id, :occurrence_start, :starts_at, :duration_minutes, :place_kind, :channel_id,
    :location, :now, :now
)
ON CONFLICT (series_id, occurrence_start) DO NOTHING
"""

SELECT_LAST_OCCURRENCES = """
SELECT series_id, MAX(occurrence_start)
FROM meetings
GROUP BY series_id
"""

SELECT_LAST_OCCURRENCE = """
SELECT MAX(occurrence_start)
FROM meetings
WHERE series_id = :series_id
"""

# A series edit: meetings still to come that nobody changed by hand follow the new rule.
RETIME_MEETING = """
UPDATE meetings
SET occurrence_start = :occurrence_start, starts_at = :starts_at,
    duration_minutes = :duration_minutes, place_kind = :place_kind, channel_id = :channel_id,
    location = :location, updated_at = :now
WHERE id = :id
"""

RELEASE_OCCURRENCE = """
UPDATE meetings
SET occurrence_start = 'retiming:' || id
WHERE id = :id
"""

RESTORE_OCCURRENCE = """
UPDATE meetings
SET occurrence_start = starts_at
WHERE id = :id
"""

DELETE_MEETING = """
DELETE FROM meetings
WHERE id = :id
"""

CANCEL_MEETING_QUIETLY = """
UPDATE meetings
SET cancelled_at = :now, updated_at = :now
WHERE id = :id AND cancelled_at IS NULL
"""

INSERT_DRAFT = """
INSERT INTO series_drafts (group_id, series_id, payload, created_by, created_at)
VALUES (:group_id, :series_id, :payload, :created_by, :now)
"""

SELECT_DRAFT = """
SELECT group_id, series_id, payload, created_by
FROM series_drafts
WHERE id = :id
"""

DELETE_DRAFT = """
DELETE FROM series_drafts
WHERE id = :id
"""

DELETE_OLD_DRAFTS = """
DELETE FROM series_drafts
WHERE created_at < :before
"""


def check_draft(draft: SeriesDraft) -> SeriesDraft:
    """Tidy a facilitator's entry, or say kindly what to change."""
    title = " ".join(draft.title.split())
    if not title:
        raise HoldfastError(texts.title_empty())
    if len(title) > MAX_TITLE:
        raise HoldfastError(texts.title_too_long(MAX_TITLE))
    if draft.rule.frequency is Frequency.CUSTOM:
        raise HoldfastError(texts.custom_rule_refused())
    if not 15 <= draft.duration_minutes <= 720:
        raise HoldfastError(texts.duration_out_of_range())
    description = (draft.description or "").strip() or None
    if description and len(description) > MAX_DESCRIPTION:
        raise HoldfastError(texts.description_too_long(MAX_DESCRIPTION))
    place = draft.place
    if place.kind is PlaceKind.EXTERNAL:
        location = " ".join((place.location or "").split())
        if not location:
            raise HoldfastError(texts.place_missing())
        if len(location) > MAX_LOCATION:
            raise HoldfastError(texts.location_too_long(MAX_LOCATION))
        place = Place.external(location)
    elif place.channel_id is None:
        raise HoldfastError(texts.place_missing())
    if draft.capacity is not None and draft.capacity < 1:
        raise HoldfastError(texts.capacity_too_small())
    return SeriesDraft(
        title=title,
        rule=draft.rule,
        local_time=draft.local_time,
        duration_minutes=draft.duration_minutes,
        place=place,
        description=description,
        capacity=draft.capacity,
    )


def schedule_for(draft: SeriesDraft, zone: str, anchor: str) -> Schedule:
    return Schedule(
        rule=draft.rule, local_time=draft.local_time, zone=zone, anchor=date.fromisoformat(anchor)
    )


def preview(draft: SeriesDraft, zone: str, now: datetime, count: int = 5) -> list[datetime]:
    """The next few start times a draft would give, so a facilitator can check before saving."""
    anchor = local_date_of(now, zone).isoformat()
    return occurrences(schedule_for(draft, zone, anchor), after=now, count=count)


def _draft_json(draft: SeriesDraft) -> str:
    return json.dumps(
        {
            "title": draft.title,
            "rrule": draft.rule.to_rrule(),
            "local_time": draft.local_time.strftime("%H:%M"),
            "duration_minutes": draft.duration_minutes,
            "place_kind": draft.place.kind.value,
            "channel_id": draft.place.channel_id,
            "location": draft.place.location,
            "description": draft.description,
            "capacity": draft.capacity,
        }
    )


def _draft_from_json(text: str) -> SeriesDraft:
    data = json.loads(text)
    return SeriesDraft(
        title=data["title"],
        rule=Rule.from_rrule(data["rrule"]),
        local_time=time.fromisoformat(data["local_time"]),
        duration_minutes=data["duration_minutes"],
        place=Place(PlaceKind(data["place_kind"]), data["channel_id"], data["location"]),
        description=data["description"],
        capacity=data["capacity"],
    )


@dataclass(frozen=True)
class StoredDraft:
    id: int
    group_id: int
    series_id: int | None
    draft: SeriesDraft
    created_by: int


async def save_draft(
    conn: aiosqlite.Connection,
    group: Group,
    draft: SeriesDraft,
    created_by: int,
    now: datetime,
    series_id: int | None = None,
) -> int:
    async with transaction(conn):
        await conn.execute(DELETE_OLD_DRAFTS, {"before": (now - timedelta(days=2)).isoformat()})
        cursor = await conn.execute(
            INSERT_DRAFT,
            {
                "group_id": group.id,
                "series_id": series_id,
                "payload": _draft_json(draft),
                "created_by": created_by,
                "now": now.isoformat(),
            },
        )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def take_draft(conn: aiosqlite.Connection, draft_id: int) -> StoredDraft:
    """The draft behind a Confirm button. It stays until saved, so a double click is safe."""
    async with conn.execute(SELECT_DRAFT, {"id": draft_id}) as cursor:
        row = await cursor.fetchone()
    if row is None:
        raise NotFound(texts.draft_gone())
    return StoredDraft(
        id=draft_id,
        group_id=row["group_id"],
        series_id=row["series_id"],
        draft=_draft_from_json(row["payload"]),
        created_by=row["created_by"],
    )


@dataclass(frozen=True)
class SeriesChange:
    series: Series
    added: list[int]
    """Meetings created by this change."""
    retimed: list[int]
    """Meetings still to come that moved because the rule changed."""
    removed: list[int]
    """Meetings that no longer happen (cancelled if announced, otherwise deleted)."""


def _series_params(draft: SeriesDraft) -> dict[str, object]:
    return {
        "title": draft.title,
        "rrule": draft.rule.to_rrule(),
        "local_time": draft.local_time.strftime("%H:%M"),
        "duration_minutes": draft.duration_minutes,
        "place_kind": draft.place.kind.value,
        "channel_id": draft.place.channel_id,
        "location": draft.place.location,
        "description": draft.description,
        "capacity": draft.capacity,
    }


async def create_series(
    conn: aiosqlite.Connection,
    group: Group,
    draft: SeriesDraft,
    created_by: int,
    now: datetime,
    policy: Replanner,
    draft_id: int | None = None,
) -> SeriesChange:
    """Save a series, its meetings for the horizon, and plan their announcements, at once."""
    draft = check_draft(draft)
    anchor = local_date_of(now, group.timezone).isoformat()
    async with transaction(conn):
        if draft_id is not None:
            cursor = await conn.execute(DELETE_DRAFT, {"id": draft_id})
            if cursor.rowcount == 0:
                # Already saved by an earlier click of the same Confirm button.
                raise Conflict(texts.draft_already_saved())
        cursor = await conn.execute(
            INSERT_SERIES,
            {
                **_series_params(draft),
                "group_id": group.id,
                "anchor_date": anchor,
                "created_by": created_by,
                "now": now.isoformat(),
            },
        )
        assert cursor.lastrowid is not None
        series = await get_series(conn, cursor.lastrowid)
        added = await _materialise(conn, series, now)
        for meeting_id in added:
            await policy.replan_for(conn, MeetingChanged(meeting_id), now)
    return SeriesChange(series, added=added, retimed=[], removed=[])


async def _materialise(
    conn: aiosqlite.Connection, series: Series, now: datetime, *, beyond_stored: bool = False
) -> list[int]:
    """Store the series' meetings for the horizon (at least MIN_AHEAD of them). With
    `beyond_stored` only those after the last one stored are looked for: what the sweep needs,
    as everything up to it was stored when the series was created, edited or last swept."""
    last = None
    if beyond_stored:
        async with conn.execute(SELECT_LAST_OCCURRENCE, {"series_id": series.id}) as cursor:
            row = await cursor.fetchone()
        if row is not None and row[0] is not None:
            last = datetime.fromisoformat(row[0])
    starts = _starts_to_store(series, now, last)
    added: list[int] = []
    for start in starts:
        cursor = await conn.execute(
            INSERT_MEETING,
            {
                "series_id": series.id,
                "occurrence_start": start.isoformat(),
                "starts_at": start.isoformat(),
                "duration_minutes": series.duration_minutes,
                "place_kind": series.place.kind.value,
                "channel_id": series.place.channel_id,
                "location": series.place.location,
                "now": now.isoformat(),
            },
        )
        if cursor.rowcount == 1 and cursor.lastrowid is not None:
            added.append(cursor.lastrowid)
    return added


def _starts_to_store(series: Series, now: datetime, last: datetime | None) -> list[datetime]:
    """The starts the horizon wants stored (at least MIN_AHEAD), after `last` if given."""
    if series.ended_at is not None:
        return []
    schedule = _schedule(series)
    after = now if last is None else max(now, last + timedelta(microseconds=1))
    until = now + HORIZON
    first = occurrences(schedule, after=now, count=MIN_AHEAD)
    if len(first) == MIN_AHEAD and first[-1] < until:
        return occurrences(schedule, after=after, before=until) if after < until else []
    # A sparse rule: the next MIN_AHEAD, even beyond the horizon.
    return [start for start in first if start >= after]


def _nothing_new(series: Series, now: datetime, last: datetime) -> bool:
    """`_starts_to_store(series, now, last)` is empty: answered from two questions about the
    rule near `last` that do not change between sweeps, where they settle it (at least
    MIN_AHEAD starts already stored from now, and the next one beyond the horizon)."""
    if series.ended_at is not None:
        return True
    schedule = _schedule(series)
    if last >= now:
        upcoming = next_start_after(schedule, last)
        enough = nth_latest_start(schedule, last, MIN_AHEAD, HORIZON)
        if (upcoming is None or upcoming >= now + HORIZON) and enough is not None and enough >= now:
            return True
    return not _starts_to_store(series, now, last)


def _schedule(series: Series) -> Schedule:
    return Schedule(
        rule=series.rule,
        local_time=series.local_time,
        zone=series.zone,
        anchor=date.fromisoformat(series.anchor),
    )


async def extend_horizon(
    conn: aiosqlite.Connection, series: Series, now: datetime, policy: Replanner
) -> list[int]:
    """Add the meetings that came into the horizon (the daily sweep and start-up call this)."""
    async with transaction(conn):
        added = await _materialise(conn, series, now, beyond_stored=True)
        for meeting_id in added:
            await policy.replan_for(conn, MeetingChanged(meeting_id), now)
    return added


async def edit_series(
    conn: aiosqlite.Connection,
    series: Series,
    draft: SeriesDraft,
    now: datetime,
    policy: Replanner,
    draft_id: int | None = None,
) -> SeriesChange:
    """Change a series from now on. Meetings moved or cancelled by hand keep their change;
    the others still to come follow the new rule, and everyone affected hears once."""
    draft = check_draft(draft)
    anchor = local_date_of(now, series.zone).isoformat()
    async with transaction(conn):
        if draft_id is not None:
            cursor = await conn.execute(DELETE_DRAFT, {"id": draft_id})
            if cursor.rowcount == 0:
                raise Conflict(texts.draft_already_saved())
        await conn.execute(
            UPDATE_SERIES,
            {
                **_series_params(draft),
                "id": series.id,
                "anchor_date": anchor,
                "now": now.isoformat(),
            },
        )
        updated = await get_series(conn, series.id)
        upcoming = await series_meetings(conn, series.id, after=now)
        following = [m for m in upcoming if not m.moved and not m.cancelled]
        # A date a meeting was moved or cancelled from stays that meeting's: not reused.
        kept = {m.occurrence_start for m in upcoming if m.moved or m.cancelled}
        schedule = _schedule(updated)
        wanted = max(MIN_AHEAD, len(following))
        starts = occurrences(schedule, after=now, before=now + HORIZON)
        if len(starts) < wanted:
            starts = occurrences(schedule, after=now, count=wanted + len(kept))
        free_starts = [start for start in starts if start not in kept]
        for meeting in following:
            # Release each (series, occurrence) key first so re-pairing cannot collide.
            await conn.execute(RELEASE_OCCURRENCE, {"id": meeting.id})
        retimed: list[int] = []
        removed: list[int] = []
        # Pair meetings in order, so answers given for "the next meeting" stay with it.
        for meeting, start in zip(following, free_starts, strict=False):
            changed = (
                meeting.starts_at != start
                or meeting.duration_minutes != updated.duration_minutes
                or meeting.place != updated.place
            )
            await conn.execute(
                RETIME_MEETING,
                {
                    "id": meeting.id,
                    "occurrence_start": start.isoformat(),
                    "starts_at": start.isoformat(),
                    "duration_minutes": updated.duration_minutes,
                    "place_kind": updated.place.kind.value,
                    "channel_id": updated.place.channel_id,
                    "location": updated.place.location,
                    "now": now.isoformat(),
                },
            )
            if changed:
                retimed.append(meeting.id)
        for meeting in following[len(free_starts) :]:
            removed.append(meeting.id)
            await conn.execute(RESTORE_OCCURRENCE, {"id": meeting.id})
            await _drop_meeting(conn, meeting, now, policy)
        added = await _materialise(conn, updated, now)
        # A larger limit (or none) makes room: those waiting move up in order, as when
        # someone says they can't make it.
        refilled = [
            meeting.id
            for meeting in await series_meetings(conn, series.id, after=now)
            if not meeting.cancelled and await fill_free_places(conn, meeting, now)
        ]
        for meeting_id in dict.fromkeys([*retimed, *added, *refilled]):
            await policy.replan_for(conn, MeetingChanged(meeting_id), now)
        for meeting_id in retimed:
            await planning.announce_change(conn, meeting_id, "moved", now)
    return SeriesChange(updated, added=added, retimed=retimed, removed=removed)


async def _drop_meeting(
    conn: aiosqlite.Connection, meeting: Meeting, now: datetime, policy: Replanner
) -> None:
    """A meeting the series no longer has: cancelled if people may know of it, else gone."""
    if meeting.event_id is not None or await planning.was_announced(conn, meeting.id):
        await conn.execute(CANCEL_MEETING_QUIETLY, {"id": meeting.id, "now": now.isoformat()})
        await policy.replan_for(conn, MeetingChanged(meeting.id), now)
        await planning.announce_change(conn, meeting.id, "cancelled", now)
    else:
        await policy.replan_for(conn, MeetingDeleted(meeting.id), now)
        await conn.execute(DELETE_MEETING, {"id": meeting.id})


async def end_series(
    conn: aiosqlite.Connection, series: Series, now: datetime, policy: Replanner
) -> SeriesChange:
    """No more meetings from this series; announced ones still to come are cancelled."""
    if series.ended_at is not None:
        raise Conflict(texts.series_already_ended(series.title))
    async with transaction(conn):
        await conn.execute(END_SERIES, {"id": series.id, "now": now.isoformat()})
        removed: list[int] = []
        for meeting in await series_meetings(conn, series.id, after=now):
            if meeting.cancelled:
                continue
            removed.append(meeting.id)
            await _drop_meeting(conn, meeting, now, policy)
        updated = await get_series(conn, series.id)
    return SeriesChange(updated, added=[], retimed=[], removed=removed)


async def close_group(
    conn: aiosqlite.Connection, group: Group, now: datetime, policy: Replanner
) -> Group:
    """Archive a group: nothing more is announced, and pending announcements are withdrawn."""
    closed = await archive_group(conn, group, now)
    async with transaction(conn):
        for meeting in await upcoming_meetings(conn, group.id, now, limit=1000):
            await policy.replan_for(conn, MeetingChanged(meeting.id), now)
    return closed


async def discard_draft(conn: aiosqlite.Connection, draft_id: int) -> None:
    async with transaction(conn):
        await conn.execute(DELETE_DRAFT, {"id": draft_id})


async def extend_all(conn: aiosqlite.Connection, now: datetime, policy: Replanner) -> list[int]:
    """Extend every live series' horizon; returns the meetings added. Series with nothing new
    to store are passed over without taking the write lock (most runs add nothing)."""
    async with conn.execute(SELECT_LAST_OCCURRENCES) as cursor:
        last = {int(row[0]): datetime.fromisoformat(row[1]) for row in await cursor.fetchall()}
    added: list[int] = []
    for item in await live_series(conn):
        if item.id in last and _nothing_new(item, now, last[item.id]):
            continue
        added += await extend_horizon(conn, item, now, policy)
    return added


@dataclass(frozen=True)
class GroupChanged:
    group: Group
    series_changes: list[SeriesChange]


async def change_group(
    conn: aiosqlite.Connection,
    group: Group,
    change: GroupChange,
    now: datetime,
    policy: Replanner,
) -> GroupChanged:
    """Edit a group's settings and follow through: announcements go to the new channel, and
    with a new time zone each series keeps its local time there (people who answered hear)."""
    updated = await edit_group(conn, group, change, now)
    series_changes: list[SeriesChange] = []
    if updated.timezone != group.timezone:
        for item in await live_series(conn, group.id):
            series_changes.append(await edit_series(conn, item, _draft_of(item), now, policy))
    async with transaction(conn):
        for meeting in await upcoming_meetings(conn, group.id, now, limit=1000):
            await policy.replan_for(conn, MeetingChanged(meeting.id), now)
    return GroupChanged(updated, series_changes)


def _draft_of(item: Series) -> SeriesDraft:
    return SeriesDraft(
        title=item.title,
        rule=item.rule,
        local_time=item.local_time,
        duration_minutes=item.duration_minutes,
        place=item.place,
        description=item.description,
        capacity=item.capacity,
    )

"""Seeding a group of many members who all said Going, straight into the database, for the
fan-out tests (crash, faults) and the benchmark. Uses the domain functions, so the outbox holds
exactly what the bot itself would have planned."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

import aiosqlite

from bot.db import transaction
from bot.groups import service as groups
from bot.groups.model import GroupSettings
from bot.meetings import queries, rsvp, series
from bot.meetings.model import Answer, Meeting, Place, PlaceKind, SeriesDraft
from bot.meetings.recurrence import Rule, parse_leads
from bot.planning import Policy
from bot.reminders.model import ReminderPolicy
from tests.emulator.factories import Server
from tests.emulator.model import Message, message_text
from tests.emulator.server import Emulator

LEADS = "1d,2h"
POLICY = Policy(reminders=ReminderPolicy(leads=tuple(parse_leads(LEADS)), nudge=None))

STORE_DM_CHANNEL = """
INSERT INTO dm_channels (user_id, channel_id, stored_at)
VALUES (:user_id, :channel_id, :now)
"""


@dataclass(frozen=True)
class Fanout:
    meeting: Meeting
    member_ids: list[int]


async def seed_fanout(
    conn: aiosqlite.Connection,
    emulator: Emulator,
    server: Server,
    now: datetime,
    *,
    store_dm_channels: bool = True,
) -> Fanout:
    """A London group in `server` meeting on the last Thursday at 19:30; every member Going."""
    group = await groups.create_group(
        conn,
        server.guild.id,
        GroupSettings(
            "Big circle",
            server.meetings.id,
            server.facilitator_role.id,
            server.facilitators_channel.id,
            "Europe/London",
        ),
        now,
    )
    draft = SeriesDraft(
        title="Monthly meet-up",
        rule=Rule.last_weekday(3),
        local_time=time(19, 30),
        duration_minutes=90,
        place=Place.channel(PlaceKind.VOICE, server.voice.id),
    )
    change = await series.create_series(conn, group, draft, server.facilitator.id, now, POLICY)
    meeting = (await queries.series_meetings(conn, change.series.id))[0]
    member_ids = [m.id for m in server.members]
    for user_id in member_ids:
        await groups.join_group(conn, group, user_id, now, POLICY)
        await rsvp.answer_meeting(conn, meeting.id, user_id, Answer.GOING, now, POLICY)
    if store_dm_channels:
        async with transaction(conn):
            for member in server.members:
                await conn.execute(
                    STORE_DM_CHANNEL,
                    {
                        "user_id": member.id,
                        "channel_id": emulator.dm_channel_for(member).id,
                        "now": now.isoformat(),
                    },
                )
    return Fanout(meeting, member_ids)


def reminder_dms(emulator: Emulator, server: Server) -> dict[int, list[Message]]:
    return {
        m.id: [d for d in emulator.dms_to(m) if "A reminder" in message_text(d)]
        for m in server.members
    }


def count_reminder_dms(emulator: Emulator, server: Server) -> int:
    return sum(len(v) for v in reminder_dms(emulator, server).values())


def reminder_rows(path: Path, lead: str | None = None) -> list[tuple[int, str, str, int | None]]:
    """(id, key, state, sent_message_id) of every reminder row (of one lead: "1d", "120m")."""
    db = sqlite3.connect(path)
    try:
        rows = list(
            db.execute(
                "SELECT id, idempotency_key, state, sent_message_id FROM outbox "
                "WHERE kind = 'reminder' ORDER BY id"
            )
        )
    finally:
        db.close()
    return [r for r in rows if lead is None or r[1].split(":")[3] == lead]


def lead_due(meeting: Meeting, hours: int) -> datetime:
    return meeting.starts_at - timedelta(hours=hours)

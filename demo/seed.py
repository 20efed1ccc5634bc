"""Seeded history, written through Holdfast's own services on a ManualClock before the bot
starts: the group and its members months ago, seven months of check-ins (one month with too
few people, so /trends holds it back), and the monthly series with its first facilitator."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from bot.app import policy_for
from bot.checkins.crypto import load_note_keys
from bot.checkins.entries import Answers, record_checkin
from bot.clock import ManualClock
from bot.config import Settings
from bot.db import open_database
from bot.groups import service as groups
from bot.groups.model import Actor, Group, GroupSettings
from bot.meetings import series
from bot.meetings.model import Place, PlaceKind, SeriesDraft
from bot.meetings.recurrence import parse_rule
from bot.migrate import migrate
from bot.reminders import rota
from bot.zones import load_zone

from .world import DemoServer

ZONE = "Europe/London"
GROUP_NAME = "North adopters"
# People who checked in, month by month, oldest first. The fourth month had too few (4 is
# below K + 1 = 6), so /trends says so rather than show it.
PEOPLE_PER_MONTH = (8, 9, 10, 4, 9, 7, 10)
HELD_BACK_MONTH = 3
NOTES = (
    "A hard week with school, but we got through it.",
    "Contact went better than I feared.",
    "Tired. The meeting helped.",
)


@dataclass(frozen=True)
class Seeded:
    group: Group
    series_id: int
    first_meeting_id: int
    months: tuple[str, ...]
    """The months that have check-ins (YYYY-MM, oldest first)."""
    held_back: str


def months_before(start: datetime, count: int) -> list[tuple[int, int]]:
    """The `count` calendar months before `start`'s month in the group's zone, oldest first."""
    local = start.astimezone(load_zone(ZONE))
    year, month = local.year, local.month
    out: list[tuple[int, int]] = []
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        out.append((year, month))
    return out[::-1]


def local_instant(year: int, month: int, day: int, hour: int) -> datetime:
    return datetime(year, month, day, hour, tzinfo=load_zone(ZONE)).astimezone(UTC)


async def seed(settings: Settings, server: DemoServer, start: datetime) -> Seeded:
    """Migrate a new database and fill it as if the group had been running for months."""
    rng = random.Random(17)
    months = months_before(start, len(PEOPLE_PER_MONTH))
    clock = ManualClock(local_instant(*months[0], 1, 9) - timedelta(days=20))
    await migrate(settings.DATABASE_PATH, clock.now())
    conn = await open_database(settings.DATABASE_PATH)
    try:
        keys = (await load_note_keys(conn, (), settings.DATABASE_PATH, clock.now())).keys
        policy = policy_for(settings)
        group = await groups.create_group(
            conn,
            server.guild.id,
            GroupSettings(
                name=GROUP_NAME,
                announce_channel_id=server.announcements.id,
                facilitator_role_id=server.facilitator_role.id,
                facilitator_channel_id=server.facilitators_channel.id,
                timezone=ZONE,
            ),
            clock.now(),
        )
        for user in [*server.facilitators, *server.members]:
            clock.advance(timedelta(hours=3))
            await groups.join_group(conn, group, user.id, clock.now(), policy)
        for index, ((year, month), people) in enumerate(zip(months, PEOPLE_PER_MONTH, strict=True)):
            who = rng.sample(server.members, people)
            for n, user in enumerate(who):
                # Things get a little better over the months: the group is doing its work.
                lift = index // 4
                for visit in range(rng.choice((1, 1, 2))):
                    clock.set(local_instant(year, month, 2 + (n * 2 + visit * 11) % 26, 20))
                    answers = Answers(
                        mood=min(5, rng.choice((2, 3, 3, 4)) + lift),
                        stress=max(1, rng.choice((2, 3, 4, 4)) - lift),
                        supported=min(5, rng.choice((2, 3, 4)) + lift),
                    )
                    note = rng.choice(NOTES) if rng.random() < 0.3 else None
                    await record_checkin(conn, keys, group, user.id, answers, note, clock.now())
        clock.set(start)
        facilitator = server.facilitators[0]
        change = await series.create_series(
            conn,
            group,
            SeriesDraft(
                title="Monthly meet-up",
                rule=parse_rule("last Thursday"),
                local_time=time(19, 30),
                duration_minutes=90,
                place=Place.channel(PlaceKind.VOICE, server.voice.id),
                description="Tea, biscuits and an hour and a half among people who get it.",
            ),
            facilitator.id,
            clock.now(),
            policy,
        )
        first = change.added[0]
        await rota.assign(
            conn,
            first,
            Actor(facilitator.id, frozenset({server.facilitator_role.id})),
            facilitator.id,
            clock.now(),
            policy.reminders,
            policy,
        )
    finally:
        await conn.close()
    labels = tuple(f"{y:04d}-{m:02d}" for y, m in months)
    return Seeded(group, change.series.id, first, labels, labels[HELD_BACK_MONTH])

"""Reminder delivery figures against the emulator with Discord's limits on (global 50/s, the
per-route buckets): fan-out against the floor the limits allow, due-to-sent latency on an idle
bot, start-up with 100,000 pending rows against start-up with none, and the bot's resident
memory after it.

Figures, not assertions. The last line holds every figure as key=value for comparing runs.
"""

from __future__ import annotations

import os
import re
import sqlite3
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import ManualClock, SystemClock
from bot.config import Settings, load_settings
from bot.db import transaction
from bot.delivery import outbox
from bot.delivery.outbox import PlannedDelivery
from bot.delivery.port import Destination
from bot.migrate import migrate

SEEDED_AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
GLOBAL_PER_SECOND = 50
FANOUT_MEMBERS = int(os.environ.get("BENCH_FANOUT_MEMBERS", "1000"))
LATENCY_REMINDERS = 200
STARTUP_ROWS = 100_000
STARTUP_REPEAT = int(os.environ.get("BENCH_STARTUP_REPEAT", "5"))


@dataclass(frozen=True)
class FanoutRun:
    label: str
    elapsed: float
    opens: int
    sends: int
    other: int
    rate_limited: int

    @property
    def floor(self) -> float:
        """The least time Discord's limits allow for these requests: the global limit over all
        of them, and the DM-open route's own bucket (the emulator's observed-number default)."""
        from tests.emulator.ratelimit import DEFAULT_ROUTE_LIMIT

        per_open = DEFAULT_ROUTE_LIMIT.per / DEFAULT_ROUTE_LIMIT.limit
        total = self.opens + self.sends + self.other
        return max(total / GLOBAL_PER_SECOND, self.opens * per_open)

    @property
    def ratio(self) -> float:
        return self.elapsed / self.floor if self.floor else 0.0


def _settings(folder: Path, name: str, emulator: object, guild_id: int) -> Settings:
    return load_settings(
        None,
        DISCORD_TOKEN=emulator.bot_token,  # type: ignore[attr-defined]
        DATABASE_PATH=folder / name,
        GUILD_IDS=(guild_id,),
        DISCORD_API_BASE_URL=emulator.api_base_url,  # type: ignore[attr-defined]
        DISCORD_GATEWAY_URL=emulator.gateway_url,  # type: ignore[attr-defined]
        GUILD_READY_TIMEOUT=0.05,
        LOG_LEVEL="WARNING",
    )


async def fanout(folder: Path) -> list[FanoutRun]:
    from bot.app import HoldfastBot
    from tests.e2e.reminder_fanout import seed_fanout
    from tests.emulator import Emulator, build_guild, running_bot

    runs: list[FanoutRun] = []
    async with Emulator() as emulator:
        server = build_guild(emulator, "Fan-out", facilitators=1, members=FANOUT_MEMBERS)
        settings = _settings(folder, "fanout.sqlite3", emulator, server.guild.id)
        clock = ManualClock(SEEDED_AT)
        await migrate(settings.DATABASE_PATH, clock.now())
        bot = HoldfastBot(settings, clock)
        async with running_bot(emulator, bot, settings.token, timeout=30):
            assert bot.alarm.startup is not None
            await bot.alarm.startup
            fan = await seed_fanout(bot.db, emulator, server, clock.now(), store_dm_channels=False)
            for label, lead in (
                ("first (DMs opened)", timedelta(days=1)),
                ("again", timedelta(hours=2)),
            ):
                clock.set(fan.meeting.starts_at - lead)
                before = len(emulator.requests)
                start = time.perf_counter()
                await bot.alarm.wake()
                elapsed = time.perf_counter() - start
                made = emulator.requests[before:]
                opens = sum(1 for r in made if r.route == "/users/@me/channels" and r.status == 200)
                sends = sum(
                    1
                    for r in made
                    if r.route == "/channels/{channel_id}/messages"
                    and r.method == "POST"
                    and r.status == 200
                )
                other = sum(1 for r in made if r.status == 200) - opens - sends
                limited = sum(1 for r in made if r.status == 429)
                runs.append(FanoutRun(label, elapsed, opens, sends, other, limited))
    return runs


async def latency(folder: Path) -> list[float]:
    """Due-to-sent on an idle bot: reminders due one by one, the alarm wakes for each."""
    from tests.e2e.delivery_bot import TEST_KIND, HoldfastWithTestKind
    from tests.emulator import Emulator, build_guild, running_bot

    async with Emulator() as emulator:
        server = build_guild(emulator, "Latency", facilitators=1, members=LATENCY_REMINDERS)
        settings = _settings(folder, "latency.sqlite3", emulator, server.guild.id)
        clock = SystemClock()
        await migrate(settings.DATABASE_PATH, clock.now())
        bot = HoldfastWithTestKind(settings, clock)
        async with running_bot(emulator, bot, settings.token, timeout=30):
            assert bot.alarm.startup is not None
            await bot.alarm.startup
            first = clock.now() + timedelta(seconds=1)
            async with transaction(bot.db):
                for i, member in enumerate(server.members):
                    await bot.db.execute(
                        "INSERT INTO dm_channels (user_id, channel_id, stored_at) "
                        "VALUES (?, ?, '')",
                        (member.id, emulator.dm_channel_for(member).id),
                    )
                    due = first + timedelta(milliseconds=40 * i)
                    await outbox.enqueue(
                        bot.db,
                        PlannedDelivery(
                            key=f"latency:{i}",
                            scope="bench:latency",
                            kind=TEST_KIND,
                            destination=Destination(user_id=member.id),
                            due_at=due,
                            not_after=due + timedelta(minutes=5),
                        ),
                        clock.now(),
                    )
            await bot.alarm.wake()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                counts = await outbox.counts(bot.db)
                if counts["pending"] == 0 and counts["sending"] == 0:
                    break
                await _tick()
            async with bot.db.execute(
                "SELECT due_at, sent_at FROM outbox WHERE state = 'sent'"
            ) as cursor:
                rows = await cursor.fetchall()
    return [(outbox.parse(r[1]) - outbox.parse(r[0])).total_seconds() for r in rows]


async def _tick() -> None:
    import asyncio

    await asyncio.sleep(0.1)


SEED_ROW = """
INSERT INTO outbox (
    idempotency_key, scope, kind, subject_id, channel_id, due_at, not_after, state, attempts,
    next_attempt_at, nonce, created_at, updated_at
)
VALUES (?, ?, 'reminder', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""


@dataclass(frozen=True)
class StartupRun:
    pending: int
    reported: float
    """Seconds from start-up to "deliveries ready", as the bot logs it (imports excluded)."""
    wall: float
    """Seconds from process spawn, the interpreter and imports included."""
    rss: float
    plans: list[str]


async def startup(folder: Path, pending: int = STARTUP_ROWS) -> StartupRun:
    """Restart `python -m bot run` on a database with `pending` rows (and 5 in doubt)."""
    from tests.e2e.conftest import BotProcess
    from tests.emulator import Emulator, build_guild

    async with Emulator() as emulator:
        server = build_guild(emulator, "Start-up", facilitators=1, members=5)
        settings = _settings(folder, f"startup-{pending}.sqlite3", emulator, server.guild.id)
        settings = settings.model_copy(update={"LOG_LEVEL": "INFO"})
        now = datetime.now(UTC)
        settings.DATABASE_PATH.unlink(missing_ok=True)
        # A restart, as in service: the bot has run on this database before (so its commands
        # are synced), stopped, and comes back to the rows it left.
        first = BotProcess(settings, cwd=folder)
        try:
            await first.start()
            await first.stop()
        finally:
            await first.cleanup()
        future = outbox.iso(now + timedelta(days=30))
        late = outbox.iso(now + timedelta(days=31))
        stamp = outbox.iso(now)
        # Keys and scopes as planning makes them (a reminder's key names its member: the
        # renderer reads it there), in the meetings channel, for meeting 1.
        meeting_id = 1
        rows = [
            (
                f"remind:{meeting_id}:{i % 1000}:1d:{i}",
                f"meeting:{meeting_id}:reminders:{i % 1000}",
                meeting_id,
                server.meetings.id,
                future,
                late,
                "pending",
                0,
                future,
                None,
                stamp,
                stamp,
            )
            for i in range(pending)
        ]
        # A few rows in doubt, as after a crash: recovered (looked up) at start.
        rows += [
            (
                f"remind:{meeting_id}:{i}:2h:{i}",
                f"meeting:{meeting_id}:reminders:{i}",
                meeting_id,
                server.meetings.id,
                stamp,
                late,
                "sending",
                1,
                stamp,
                f"n{i}",
                stamp,
                stamp,
            )
            for i in range(5)
        ]
        db = sqlite3.connect(settings.DATABASE_PATH)
        db.executemany(SEED_ROW, rows)
        db.commit()
        plans = []
        for name, sql in (
            ("first due", outbox.SELECT_FIRST_DUE),
            ("next due", outbox.SELECT_NEXT_DUE),
            ("in doubt", outbox.SELECT_IN_DOUBT),
        ):
            detail = db.execute("EXPLAIN QUERY PLAN " + sql, {"now": stamp}).fetchall()
            plans.append(f"{name}: " + "; ".join(str(d[-1]) for d in detail))
        db.close()
        handle = BotProcess(settings, cwd=folder)
        spawned = time.perf_counter()
        try:
            await handle.start(wait_ready=False)
            line = await handle.wait_for_output("deliveries ready", timeout=60)
            wall = time.perf_counter() - spawned
            reported = float(re.search(r"ready ([0-9.]+) s", line).group(1))  # type: ignore[union-attr]
            assert handle.process is not None
            rss = _rss_mb(handle.process.pid)
            await handle.stop()
        finally:
            await handle.cleanup()
        settings.DATABASE_PATH.unlink(missing_ok=True)
    return StartupRun(pending, reported, wall, rss, plans)


async def startups(folder: Path) -> tuple[StartupRun, StartupRun]:
    """The median of a few starts with no pending rows and with STARTUP_ROWS, taken in turn so
    that a busy moment on the machine falls on both alike."""
    runs: dict[int, list[StartupRun]] = {0: [], STARTUP_ROWS: []}
    for _ in range(STARTUP_REPEAT):
        for pending in runs:
            runs[pending].append(await startup(folder, pending))

    def median(found: list[StartupRun]) -> StartupRun:
        return sorted(found, key=lambda r: r.reported)[len(found) // 2]

    return median(runs[0]), median(runs[STARTUP_ROWS])


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(folder: Path) -> str:
    print(f"\nReminders (emulator, Discord's limits on; {FANOUT_MEMBERS} members)")
    runs = await fanout(folder)
    for r in runs:
        print(
            f"  fan-out {r.label:<20} {r.elapsed:7.2f} s  floor {r.floor:7.2f} s  "
            f"x{r.ratio:.2f} (target <= 1.10)  requests: {r.opens} DM opens, {r.sends} sends, "
            f"{r.other} other; 429s {r.rate_limited} (target 0)"
        )
    lat = await latency(folder)
    p50, p99 = statistics.median(lat) * 1000, _percentile(lat, 0.99) * 1000
    print(
        f"  due-to-sent over {len(lat)} reminders: p50 {p50:.1f} ms (target < 100), "
        f"p99 {p99:.1f} ms (target < 1000)"
    )
    empty, full = await startups(folder)
    reported, wall, rss = full.reported, full.wall, full.rss
    print(
        f"  start-up with {STARTUP_ROWS:,} pending rows: {reported:.2f} s (target < 2) "
        f"[{wall:.2f} s from process spawn, interpreter included]"
    )
    for plan in full.plans:
        print(f"  EXPLAIN QUERY PLAN {plan}")
    print(f"  resident memory after that start-up: {rss:.1f} MB")
    difference_ms = abs(full.reported - empty.reported) * 1000
    print(
        f"startup: pending=0 ready_s={empty.reported:.3f} "
        f"pending={STARTUP_ROWS} ready_s={full.reported:.3f} (target <= 0.5) "
        f"difference_ms={difference_ms:.0f} (target <= 50) "
        f"rss_mb={full.rss:.1f} (target <= 80) "
        f"[median of {STARTUP_REPEAT}; from spawn {empty.wall:.2f} s and {full.wall:.2f} s]"
    )
    worst = max(runs, key=lambda r: r.ratio)
    return (
        f"fanout_vs_floor={worst.ratio:.2f} fanout_429s={sum(r.rate_limited for r in runs)} "
        f"p50_ms={p50:.1f} p99_ms={p99:.1f} startup_100k_s={reported:.2f} rss_mb={rss:.1f}"
    )

"""`python -m bench`: each figure beside the target it is meant to stay under."""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import trends
from bot.backup import backup_database
from bot.config import load_settings
from bot.migrate import migrate

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def report(name: str, samples: list[float], target_ms: float) -> None:
    median = statistics.median(samples) * 1000
    worst = max(samples) * 1000
    verdict = "within" if median <= target_ms else "OVER"
    print(
        f"{name:<44} median {median:8.2f} ms  worst {worst:8.2f} ms"
        f"  target {target_ms:7.1f} ms  {verdict}"
    )


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


async def timed_async(fn: Callable[[], Awaitable[object]], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - start)
    return samples


async def foundation(folder: Path) -> None:
    counter = iter(range(10_000))

    async def fresh_migrate() -> None:
        await migrate(folder / f"fresh-{next(counter)}.sqlite3", NOW)

    report("migrate an empty database", await timed_async(fresh_migrate, 20), 100)
    db = folder / "fresh-0.sqlite3"
    report(
        "migrate an up-to-date database (start-up)",
        await timed_async(lambda: migrate(db, NOW), 20),
        50,
    )
    report("load settings", timed(lambda: load_settings(None), 50), 20)

    big = folder / "big.sqlite3"
    await migrate(big, NOW)
    conn = sqlite3.connect(big)
    conn.execute("CREATE TABLE filler (payload TEXT)")
    conn.executemany("INSERT INTO filler VALUES (?)", [("x" * 200,)] * 50_000)
    conn.commit()
    conn.close()
    copies = iter(range(10_000))
    report(
        "backup a 10 MB database",
        timed(lambda: backup_database(big, folder / f"copy-{next(copies)}.sqlite3"), 5),
        500,
    )


async def against_the_emulator(folder: Path) -> None:
    # The emulator lives with the tests; benchmarks use it the way the end-to-end tests do.
    from bot.app import HoldfastBot
    from bot.clock import ManualClock
    from tests.emulator import Emulator, build_guild, running_bot

    async with Emulator() as emulator:
        server = build_guild(emulator, facilitators=3, members=200)
        settings = load_settings(
            None,
            DISCORD_TOKEN=emulator.bot_token,
            DATABASE_PATH=folder / "e2e.sqlite3",
            GUILD_IDS=(server.guild.id,),
            GUILD_READY_TIMEOUT=0.05,
        )
        clock = ManualClock(NOW)
        await migrate(settings.DATABASE_PATH, NOW)
        startups: list[float] = []
        round_trips: list[float] = []
        for _ in range(5):
            bot = HoldfastBot(settings, clock)
            start = time.perf_counter()
            async with running_bot(emulator, bot, settings.token):
                startups.append(time.perf_counter() - start)
                member = emulator.as_user(server.member)
                for _ in range(10):
                    start = time.perf_counter()
                    handle = await member.run("/about")
                    await handle.wait_for_response()
                    round_trips.append(time.perf_counter() - start)
        report("bot start to ready (200-member server)", startups, 1000)
        report("/about round trip through discord.py", round_trips, 100)


def main() -> None:
    print("Holdfast benchmarks (figures, not tests; targets are what we aim to stay under)")
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(foundation(Path(tmp)))
        asyncio.run(against_the_emulator(Path(tmp)))
        trends.main(Path(tmp))
        from bench.planning import run as planning
        from bench.reminders import run as reminders

        # Planning's figures on a line of their own (issue 14), before the reminders section.
        print(asyncio.run(planning(Path(tmp))))

        # Last: its final line holds every reminder figure as key=value (issue 9). The trends
        # summary line comes just before the reminders section.
        print(asyncio.run(reminders(Path(tmp))))


if __name__ == "__main__":
    main()

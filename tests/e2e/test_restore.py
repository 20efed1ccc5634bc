"""Restore, as the README tells an admin to do it: the nightly `backup --keep` copy taken while
the bot runs, plus the key file kept apart, put into a fresh folder; the bot starts on it and
has lost nothing, and a member's private note still reads back. Without the key file it refuses
to start, saying why."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.checkins import entries
from bot.checkins.crypto import key_file_path, load_note_keys
from bot.config import Settings
from bot.db import open_database
from bot.groups import service as groups
from bot.migrate import migrate
from tests.e2e.process import ROOT, BotProcess
from tests.e2e.reminder_fanout import LEADS, seed_fanout
from tests.e2e.test_checkins import shown_message
from tests.emulator.factories import Server
from tests.emulator.server import Emulator

NOTE = "Restored words that only I can read"
SEEDED_AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def all_rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    db = sqlite3.connect(path)
    try:
        names = [
            n
            for (n,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {n: sorted(db.execute(f"SELECT * FROM {n}").fetchall(), key=repr) for n in names}
    finally:
        db.close()


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    env.update(DATABASE_PATH=str(settings.DATABASE_PATH), PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=settings.DATABASE_PATH.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_a_backup_and_the_key_file_restored_into_a_fresh_folder_lose_nothing(
    bot_process: BotProcess, emulator: Emulator, discord_server: Server, tmp_path: Path
) -> None:
    settings = bot_process.settings
    live = settings.DATABASE_PATH
    author = discord_server.members[0]
    await migrate(live, SEEDED_AT)
    conn = await open_database(live)
    try:
        await seed_fanout(conn, emulator, discord_server, SEEDED_AT)
        keys = (await load_note_keys(conn, (), live, SEEDED_AT)).keys  # makes the key file
        [group] = await groups.live_groups(conn)
        await entries.record_checkin(
            conn, keys, group, author.id, entries.Answers(2, 4, 3), NOTE, SEEDED_AT
        )
    finally:
        await conn.close()
    env = {
        "CLOCK_START": (SEEDED_AT + timedelta(minutes=1)).isoformat(),
        "REMINDER_LEADS": LEADS,
        "NUDGE_DAYS_BEFORE": "0",
    }
    bot_process.extra_env = env
    await bot_process.start()
    await bot_process.wait_for_output("deliveries ready", timeout=20)

    # The nightly job, while the bot runs; the key file is copied apart, once.
    backups = tmp_path / "backups"
    made = cli(settings, "backup", "--keep", "7", str(backups))
    assert made.returncode == 0, made.stderr
    assert "which is not in this backup" in made.stdout
    kept_keys = tmp_path / "keys-kept-apart" / key_file_path(live).name
    kept_keys.parent.mkdir()
    shutil.copy2(key_file_path(live), kept_keys)
    assert await bot_process.stop() == 0
    at_stop = all_rows(live)

    # Restore into a fresh folder: the newest backup, at DATABASE_PATH.
    [backup] = sorted(backups.glob("holdfast-*.sqlite3"))
    fresh = tmp_path / "fresh" / "holdfast.sqlite3"
    fresh.parent.mkdir()
    shutil.copy2(backup, fresh)
    restored = BotProcess(settings.model_copy(update={"DATABASE_PATH": fresh}), cwd=tmp_path)
    restored.extra_env = env
    try:
        # Without its key file the bot will not start on data it cannot read, and says why.
        await restored.start(wait_ready=False)
        assert await restored.wait_exit() == 1
        assert key_file_path(fresh).name in restored.output
        assert not key_file_path(fresh).exists(), "no new key made over the old data"

        shutil.copy2(kept_keys, key_file_path(fresh))
        await restored.start()
        # Nothing lost: every row the live bot had when it stopped, but its last heartbeat.
        back = all_rows(fresh)
        for table, rows in at_stop.items():
            if table != "heartbeat":
                assert back[table] == rows, f"{table} differs after the restore"
        mine = await emulator.as_user(author, channel=discord_server.general).run("/mycheckins")
        history = await shown_message(mine, "Your check-ins")
        assert NOTE in history.content
        assert await restored.stop() == 0
    finally:
        await restored.cleanup()
    # A clean stop is the heartbeat's last word: unhealthy at once, and why.
    stopped = cli(restored.settings, "health")
    assert stopped.returncode == 1
    assert stopped.stderr.startswith("Unhealthy: Holdfast is stopped: it shut down cleanly")

"""`python -m bot health` as a process against a database the test prepares: healthy, and each
reason it is not (no database, never started, stale heartbeat, not connected, overdue)."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import health
from bot.config import Settings
from bot.db import open_database
from bot.migrate import migrate

ROOT = Path(__file__).resolve().parent.parent
DEMO = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

INSERT_ROW = """
INSERT INTO outbox (idempotency_key, scope, kind, channel_id, due_at, not_after, state,
                    next_attempt_at, created_at, updated_at)
VALUES (:key, 'meeting:1', 'reminder', 700, :due, :not_after, 'pending', :due, :due, :due)
"""


def run_health(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    env["DATABASE_PATH"] = str(path)
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot", "health", *args],
        cwd=path.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def prepare(
    path: Path,
    *,
    beat_ago: timedelta | None = timedelta(seconds=2),
    connected: bool = True,
    stopped: bool = False,
    clock_now: datetime = DEMO,
    due: list[datetime] | None = None,
) -> None:
    await migrate(path, DEMO)
    conn = await open_database(path)
    try:
        if beat_ago is not None:
            # The heartbeat a running bot writes: real time of the beat, its own clock.
            await health.beat(
                conn,
                pid=4242,
                real_now=datetime.now(UTC) - beat_ago,
                clock_now=clock_now,
                connected=connected,
                started_at=clock_now - timedelta(hours=1),
                stopped=stopped,
            )
        for n, when in enumerate(due or []):
            await conn.execute(
                INSERT_ROW,
                {
                    "key": f"k{n}",
                    "due": when.isoformat(),
                    "not_after": (when + timedelta(days=1)).isoformat(),
                },
            )
        await conn.commit()
    finally:
        await conn.close()


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


async def test_healthy_when_the_beat_is_fresh_connected_and_nothing_is_overdue(
    tmp_path: Path,
) -> None:
    path = tmp_path / "holdfast.sqlite3"
    # Due five minutes ago on the bot's clock: waiting, but not overdue.
    await prepare(path, due=[DEMO - timedelta(minutes=5), DEMO + timedelta(days=1)])
    result = run_health(path)
    assert result.returncode == 0, result
    line = one_line(result)
    assert re.fullmatch(
        r"Healthy: heartbeat \d+ s ago, connected to Discord, no deliveries overdue\.", line
    ), line


async def test_no_database_is_unhealthy(tmp_path: Path) -> None:
    result = run_health(tmp_path / "holdfast.sqlite3")
    assert result.returncode == 1
    assert "has not started here yet" in one_line(result)
    assert not (tmp_path / "holdfast.sqlite3").exists(), "health never creates the database"


async def test_a_database_the_bot_never_ran_on_is_unhealthy(tmp_path: Path) -> None:
    path = tmp_path / "holdfast.sqlite3"
    await prepare(path, beat_ago=None)
    result = run_health(path)
    assert result.returncode == 1
    assert "never run on this database" in one_line(result)


async def test_a_stale_heartbeat_is_unhealthy(tmp_path: Path) -> None:
    path = tmp_path / "holdfast.sqlite3"
    await prepare(path, beat_ago=timedelta(minutes=5))
    result = run_health(path)
    assert result.returncode == 1
    assert "last heartbeat was 5 min ago (more than 60 s)" in one_line(result)
    # A looser limit says otherwise.
    assert run_health(path, "--max-age", "600").returncode == 0


async def test_a_clean_stop_is_unhealthy_at_once_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "holdfast.sqlite3"
    await prepare(path, connected=False, stopped=True)
    result = run_health(path)
    assert result.returncode == 1
    assert re.fullmatch(
        r"Unhealthy: Holdfast is stopped: it shut down cleanly \d+ s ago\.", one_line(result)
    )


async def test_not_connected_to_discord_is_unhealthy(tmp_path: Path) -> None:
    path = tmp_path / "holdfast.sqlite3"
    await prepare(path, connected=False)
    result = run_health(path)
    assert result.returncode == 1
    assert one_line(result) == "Unhealthy: Holdfast is running but not connected to Discord."


async def test_deliveries_overdue_on_the_bots_clock_are_unhealthy(tmp_path: Path) -> None:
    path = tmp_path / "holdfast.sqlite3"
    await prepare(path, due=[DEMO - timedelta(minutes=16), DEMO - timedelta(hours=3)])
    result = run_health(path)
    assert result.returncode == 1
    assert "2 deliveries are more than 15 min overdue" in one_line(result)
    assert run_health(path, "--overdue-minutes", "30").returncode == 1
    assert run_health(path, "--overdue-minutes", "200").returncode == 0


async def test_a_bad_limit_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "holdfast.sqlite3"
    await prepare(path)
    result = run_health(path, "--max-age", "soon")
    assert result.returncode == 2
    assert one_line(result) == "--max-age: 'soon' is not a whole number of 1 or more."


def test_the_verdict_lists_every_reason_on_one_line() -> None:
    beat = health.Heartbeat(1, DEMO, DEMO, connected=True, started_at=DEMO)
    verdict = health.judge(beat, 1, DEMO + timedelta(minutes=2))
    assert not verdict.healthy
    assert verdict.line().count("\n") == 0
    assert "last heartbeat was 2 min ago" in verdict.line()
    assert "1 delivery is more than 15 min overdue" in verdict.line()


@pytest.mark.parametrize("state", ["sent", "skipped", "failed", "cancelled"])
async def test_finished_rows_are_never_overdue(tmp_path: Path, state: str) -> None:
    path = tmp_path / "holdfast.sqlite3"
    await prepare(path, due=[DEMO - timedelta(hours=3)])
    db = sqlite3.connect(path)
    db.execute("UPDATE outbox SET state = ?, sent_channel_id = 1, sent_message_id = 1", (state,))
    db.commit()
    db.close()
    verdict = health.check_file(path, datetime.now(UTC))
    assert verdict.healthy, verdict.problems


async def test_overdue_counts_pending_and_in_doubt_rows_through_their_indexes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "holdfast.sqlite3"
    await prepare(path, due=[DEMO - timedelta(hours=3), DEMO - timedelta(hours=2), DEMO])
    db = sqlite3.connect(path)
    # One claimed long ago and never settled (in doubt), one claimed just now (in flight).
    db.execute("UPDATE outbox SET state = 'sending', claimed_at = due_at WHERE id IN (2, 3)")
    db.commit()
    before = (DEMO - timedelta(minutes=15)).isoformat(timespec="microseconds")
    plan = [
        row[-1]
        for row in db.execute("EXPLAIN QUERY PLAN " + health.COUNT_OVERDUE, {"before": before})
    ]
    db.close()
    # /status and every health check stay as quick with 100,000 pending rows as with none.
    assert "SCAN outbox" not in plan, "a full scan of the table"
    assert any("outbox_pending_due" in step for step in plan), plan
    assert any("outbox_in_doubt" in step for step in plan), plan
    verdict = health.check_file(path, datetime.now(UTC))
    assert verdict.overdue == 2, verdict.problems

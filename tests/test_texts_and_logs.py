from __future__ import annotations

import asyncio
import logging

import discord
import pytest

from bot import texts
from bot.logs import REDACTED, DropVoiceNotices, RedactSecrets, configure_logging


def test_invite_permissions_match_the_listed_reasons() -> None:
    flags = {name.lower().replace(" ", "_") for name, _ in texts.BOT_PERMISSIONS_WHY}
    flags = {"view_channel" if f == "view_channels" else f for f in flags}
    expected = discord.Permissions(**dict.fromkeys(flags, True))
    assert expected.value == texts.BOT_PERMISSIONS_VALUE
    assert f"permissions={expected.value}" in texts.invite_url()


def test_redaction_scrubs_secrets_from_messages_and_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "MTA4NjQ0NjE3NzQ1NjM4NjE2Ng.GxYzAb.secret-part"
    logger = logging.getLogger("test.redaction")
    logger.addFilter(RedactSecrets([secret]))
    try:
        with caplog.at_level(logging.INFO, logger="test.redaction"):
            logger.info("connecting with %s", secret)
            try:
                raise RuntimeError(f"bad token {secret}")
            except RuntimeError:
                logger.exception("it failed")
    finally:
        logger.filters.clear()
    rendered = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert secret not in rendered
    assert REDACTED in caplog.records[0].getMessage()


def test_voice_library_notices_are_dropped_but_other_warnings_kept() -> None:
    notice = logging.LogRecord(
        "discord.client",
        logging.WARNING,
        __file__,
        1,
        "PyNaCl is not installed, voice will NOT be supported",
        None,
        None,
    )
    other = logging.LogRecord(
        "discord.client", logging.WARNING, __file__, 1, "Shard is reconnecting", None, None
    )
    keep = DropVoiceNotices()
    assert not keep.filter(notice)
    assert keep.filter(other)


def test_debug_logging_never_includes_discord_request_bodies() -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    http = logging.getLogger("discord.http")
    saved_http = http.level
    try:
        configure_logging("DEBUG", ["a-secret-token-value"])
        assert root.level == logging.DEBUG
        assert http.getEffectiveLevel() == logging.WARNING
        assert not http.isEnabledFor(logging.DEBUG)
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        http.setLevel(saved_http)


async def test_scheduler_runs_are_quiet_at_info_and_a_failing_job_still_says_so() -> None:
    """APScheduler logs two INFO lines per run: with the delivery sweep every minute, the
    admin's log would be mostly that."""
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    saved = {
        name: logging.getLogger(name).level
        for name in ("apscheduler.executors", "apscheduler.scheduler")
    }
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    finished: asyncio.Queue[JobExecutionEvent] = asyncio.Queue()
    scheduler = AsyncIOScheduler()
    scheduler.add_listener(finished.put_nowait, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)

    async def fine() -> None:
        pass

    async def broken() -> None:
        raise RuntimeError("the job broke")

    try:
        configure_logging("INFO")
        keep = Keep()
        root.addHandler(keep)
        scheduler.start()
        scheduler.add_job(fine, id="fine")
        await asyncio.wait_for(finished.get(), 5)
        scheduler.add_job(broken, id="broken")
        await asyncio.wait_for(finished.get(), 5)
    finally:
        scheduler.shutdown(wait=False)
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
    from_scheduler = [r for r in seen if r.name.startswith("apscheduler")]
    assert [(r.levelno, r.exc_info is not None) for r in from_scheduler] == [(logging.ERROR, True)]
    assert "broken" in from_scheduler[0].getMessage()

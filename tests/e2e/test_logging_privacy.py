"""At LOG_LEVEL=DEBUG, configured as the bot really configures it, no log line links a member to
a check-in and no interaction token is printed: the whole check-in, /mycheckins, /mydata export
and /mydata delete path, end to end, watched from the root logger and the process's output."""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Iterator

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.logs import configure_logging
from tests.e2e.conftest import start_holdfast
from tests.e2e.test_checkins import check_in, shown_message
from tests.e2e.test_meetings import create_group
from tests.emulator import Emulator, Server
from tests.emulator.factories import build_guild

NOTE = "LOGNOTE-5d2b what I wrote for myself alone"


@pytest.fixture
def discord_server(emulator: Emulator) -> Server:
    return build_guild(emulator, facilitators=1, members=2, admins=1)


class Everything(logging.Handler):
    """Every record that reaches the root logger, formatted as a handler would write it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.lines.append((record.name, text))


@pytest.fixture
def debug_logging() -> Iterator[Everything]:
    """`configure_logging("DEBUG")` as `python -m bot run` does, plus a recorder on the root
    logger; afterwards every logger's level and the root's handlers are put back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {
        name: logger.level
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    # The emulator is Discord, not the bot: in production its lines are not in the bot's logs.
    emulator_log = logging.getLogger("tests.emulator")
    emulator_log.propagate = False
    recorder = Everything()
    try:
        yield recorder
    finally:
        emulator_log.propagate = True
        for existing in list(root.handlers):
            root.removeHandler(existing)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        for name, logger in logging.root.manager.loggerDict.items():
            if isinstance(logger, logging.Logger):
                logger.setLevel(levels.get(name, logging.NOTSET))


async def test_at_debug_no_log_line_links_a_member_to_a_check_in_or_shows_a_token(
    emulator: Emulator,
    discord_server: Server,
    holdfast_settings: Settings,
    clock: ManualClock,
    debug_logging: Everything,
    capfd: pytest.CaptureFixture[str],
) -> None:
    configure_logging("DEBUG", [emulator.bot_token])
    logging.getLogger().addHandler(debug_logging)
    s = discord_server
    member = s.members[0]
    async with start_holdfast(emulator, holdfast_settings, clock) as holdfast:
        welcome = await create_group(emulator, s)
        joined = await emulator.as_user(member).click(welcome, "Join this group")
        await joined.wait_for_text("You're in North adopters")
        author = emulator.as_user(member, channel=s.general)
        await check_in(author, "Very low", "Overwhelmed", "Alone", NOTE)
        await check_in(author, "Good", "Some", "Mostly")
        mine = await author.run("/mycheckins")
        assert NOTE in (await shown_message(mine, "Your check-ins")).content
        exported = await author.run("/mydata export")
        await exported.wait_for_text("sent everything")
        await emulator.wait_for_dm(member, contains="everything Holdfast holds")
        member_key = holdfast.note_keys.member_key(member.id)
        conn = sqlite3.connect(holdfast_settings.DATABASE_PATH)
        try:
            notes = [bytes(r[0]) for r in conn.execute("SELECT note FROM checkins") if r[0]]
        finally:
            conn.close()
        asked = await author.run("/mydata delete")
        await asked.wait_for_text("can't be undone")
        done = await author.click(asked, "Yes, delete everything")
        await done.wait_for_text("has been deleted")
    assert notes, "the note was stored (encrypted)"
    tokens = list(emulator.interactions.by_token)
    assert len(tokens) >= 10
    output = capfd.readouterr()
    # The process really logged at DEBUG (so the test would see a leak if there were one).
    assert re.search(r" DEBUG +(bot|discord|aiosqlite)", output.err), output.err[-2000:]
    assert any(name.startswith("discord") for name, _ in debug_logging.lines)
    secrets = {
        "the member's id": str(member.id),
        "their keyed hash": member_key,
        "the note": NOTE,
        **{f"the note's ciphertext {i}": n.decode() for i, n in enumerate(notes)},
        **{f"interaction token {i}": t for i, t in enumerate(tokens)},
        "the bot token": emulator.bot_token,
    }
    # The answers as a query's parameters would show them, e.g. {'mood': 1, 'stress': 5, ...}.
    answers = re.compile(r"'(mood|stress|supported)': \d")
    # ... or as a card's buttons and the few-words form carry them in their custom ids
    # (bot/checkins/card.py), e.g. discord.py naming a form's custom id it has no modal for.
    card_ids = re.compile(r"checkin:(pick|words|save|note):\d+:\d{3}")
    for name, text in debug_logging.lines:
        for what, secret in secrets.items():
            assert secret not in text, f"{what} in a log record from {name}: {text[:300]}"
        assert not answers.search(text), f"answers in a log record from {name}: {text[:300]}"
        assert not card_ids.search(text), f"answers in a log record from {name}: {text[:300]}"
    for stream in (output.out, output.err):
        for what, secret in secrets.items():
            assert secret not in stream, f"{what} printed by the process"
        assert not answers.search(stream)
        assert not card_ids.search(stream)

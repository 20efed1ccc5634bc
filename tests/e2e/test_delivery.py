"""Deliveries end to end: the outbox, the dispatcher and the real discord.py client against the
emulator, including the faults that make "exactly once" hard (5xx after the message was made,
429, a crash mid-send)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.db import open_database, transaction
from bot.delivery import outbox
from bot.delivery.dispatcher import RecoveryResult
from bot.delivery.outbox import Delivery, PlannedDelivery
from bot.delivery.port import Button, DeliveryFailed, Destination, OutgoingMessage, Sent
from bot.migrate import migrate
from tests.e2e.conftest import BotProcess, start_holdfast
from tests.e2e.delivery_bot import TEST_KIND, HoldfastWithTestKind
from tests.emulator.factories import Server, build_guild
from tests.emulator.harness import poll_until
from tests.emulator.model import Channel, Message
from tests.emulator.server import Emulator

MESSAGES = "/channels/{channel_id}/messages"


def custom_ids(message: Message) -> Iterator[str]:
    def walk(components: list[Any]) -> Iterator[str]:
        for component in components:
            if "custom_id" in component:
                yield component["custom_id"]
            yield from walk(component.get("components", []))

    return walk(message.components)


def with_marker(messages: list[Message], marker: str) -> list[Message]:
    return [m for m in messages if any(marker in c.split(":") for c in custom_ids(m))]


def note(
    key: str,
    destination: Destination,
    due_at: datetime,
    *,
    window: timedelta = timedelta(hours=1),
    guild_id: int | None = None,
) -> PlannedDelivery:
    return PlannedDelivery(
        key=key,
        scope="test:1",
        kind=TEST_KIND,
        destination=destination,
        due_at=due_at,
        not_after=due_at + window,
        guild_id=guild_id,
        subject_id=1,
    )


async def enqueue(conn: aiosqlite.Connection, now: datetime, *planned: PlannedDelivery) -> None:
    async with transaction(conn):
        for p in planned:
            await outbox.enqueue(conn, p, now)


async def row(conn: aiosqlite.Connection, key: str) -> Delivery:
    found = await outbox.by_key(conn, key)
    assert found is not None
    return found


@pytest.fixture
async def bot(
    emulator: Emulator, holdfast_settings: Settings, clock: ManualClock
) -> AsyncIterator[HoldfastWithTestKind]:
    async with start_holdfast(emulator, holdfast_settings, clock, HoldfastWithTestKind) as b:
        assert isinstance(b, HoldfastWithTestKind)
        assert b.alarm.startup is not None
        assert await b.alarm.startup == 0, "nothing was due at start"
        yield b


async def test_a_due_delivery_is_posted_once_with_its_marker_and_a_nonce(
    bot: HoldfastWithTestKind, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    channel = discord_server.meetings
    await enqueue(
        bot.db,
        clock.now(),
        note("now", Destination(channel_id=channel.id), clock.now()),
        note("later", Destination(channel_id=channel.id), clock.now() + timedelta(hours=2)),
    )
    assert await bot.alarm.wake() == 1
    assert bot.alarm.armed_for == clock.now() + timedelta(hours=2)

    sent = await row(bot.db, "now")
    [message] = emulator.messages_in(channel)
    assert sent.sent is not None
    assert (sent.state, sent.sent.message_id) == ("sent", message.id)
    assert message.content == "Test note now"
    assert list(custom_ids(message)) == [f"note:1:ok:{sent.marker}"]
    assert message.embeds[0]["title"] == "A test card"
    [post] = emulator.requests_to("POST", MESSAGES)
    assert post.body["nonce"] == sent.nonce
    assert post.body["enforce_nonce"] is True
    # A message that names nobody to ping pings nobody.
    assert post.body["allowed_mentions"] == {"parse": [], "users": [], "roles": []}
    assert await outbox.sent_message(bot.db, "now") == sent.sent

    # Two hours on, the alarm's next cycle sends the other one; nothing is sent twice.
    clock.advance(timedelta(hours=2))
    assert await bot.alarm.wake() == 1
    assert len(emulator.messages_in(channel)) == 2
    assert bot.alarm.armed_for is None


async def test_a_dm_destination_opens_the_dm_and_posts_there(
    bot: HoldfastWithTestKind, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    member = discord_server.member
    await enqueue(bot.db, clock.now(), note("dm", Destination(user_id=member.id), clock.now()))
    assert await bot.alarm.wake() == 1
    [message] = emulator.dms_to(member)
    sent = await row(bot.db, "dm")
    assert sent.sent is not None
    assert sent.sent.channel_id == emulator.dm_channel_for(member).id
    assert with_marker([message], sent.marker) == [message]


async def test_created_then_503_is_retried_into_exactly_one_message(
    bot: HoldfastWithTestKind, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    # 503 (unlike 500) is not retried inside discord.py, so this is the dispatcher's own retry.
    # Discord may have taken the message, so the retry first looks for its marker in the
    # channel's recent messages (the nonce would only cover a retry within a few minutes; the
    # bot may be down longer), finds it and posts nothing more.
    channel = discord_server.meetings
    fault = emulator.faults.processed_then_error("POST", "/channels/*/messages", status=503)
    await enqueue(bot.db, clock.now(), note("a", Destination(channel_id=channel.id), clock.now()))
    assert await bot.alarm.wake() == 0
    pending = await row(bot.db, "a")
    assert (pending.state, pending.last_error) == ("pending", "Discord 503")
    assert fault.hits == 1
    assert len(emulator.messages_in(channel)) == 1, "Discord made it despite the 503"

    clock.advance(pending.next_attempt_at - clock.now())
    assert await bot.alarm.wake() == 1
    [message] = emulator.messages_in(channel)
    sent = await row(bot.db, "a")
    assert sent.sent is not None
    assert (sent.state, sent.attempts, sent.sent.message_id) == ("sent", 2, message.id)
    assert [r.body["nonce"] for r in emulator.requests_to("POST", MESSAGES)] == [sent.nonce]
    assert emulator.requests_to("GET", MESSAGES), "the retry looked at the channel's history"


async def test_closed_dms_fail_for_good_with_50007_and_are_not_retried(
    bot: HoldfastWithTestKind, emulator: Emulator, clock: ManualClock
) -> None:
    other = build_guild(emulator, "Closed Circle", members=2, dms_closed=1)
    closed = other.members[-1]
    await enqueue(bot.db, clock.now(), note("dm", Destination(user_id=closed.id), clock.now()))
    assert await bot.alarm.wake() == 0
    failed = await row(bot.db, "dm")
    assert (failed.state, failed.attempts) == ("failed", 1)
    assert failed.last_error is not None
    assert "50007" in failed.last_error
    assert emulator.dms_to(closed) == []

    clock.advance(timedelta(minutes=30))
    assert await bot.alarm.wake() == 0
    assert len(emulator.requests_to("POST", MESSAGES)) == 1


async def test_rate_limited_send_still_posts_exactly_one_message(
    bot: HoldfastWithTestKind, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    channel = discord_server.meetings
    limited = emulator.faults.rate_limit("POST", "/channels/*/messages", retry_after=0.05)
    await enqueue(bot.db, clock.now(), note("a", Destination(channel_id=channel.id), clock.now()))
    assert await bot.alarm.wake() == 1
    assert limited.hits == 1
    assert [r.status for r in emulator.requests_to("POST", MESSAGES)] == [429, 200]
    assert len(emulator.messages_in(channel)) == 1
    assert (await row(bot.db, "a")).attempts == 1, "discord.py waited; no second attempt of ours"


async def test_rows_in_doubt_at_start_are_recovered_without_duplicates(
    emulator: Emulator,
    holdfast_settings: Settings,
    clock: ManualClock,
    discord_server: Server,
) -> None:
    """The last run claimed two rows and died: one message had reached Discord, one had not."""
    channel = discord_server.meetings
    path = holdfast_settings.DATABASE_PATH
    await migrate(path, clock.now())
    conn = await open_database(path)
    try:
        due = clock.now() - timedelta(minutes=1)
        made = note("made", Destination(channel_id=channel.id), due)
        lost = note("lost", Destination(channel_id=channel.id), due)
        await enqueue(conn, clock.now(), made, lost)
        for key, nonce in (("made", "nonce-made"), ("lost", "nonce-lost")):
            delivery = await row(conn, key)
            assert await outbox.claim(conn, delivery.id, nonce, clock.now())
        made_row = await row(conn, "made")
    finally:
        await conn.close()
    # What the dead process had posted for "made" (its marker in the button, as the renderer
    # builds it), plus an unrelated message from someone else carrying a look-alike id.
    component = {"type": 2, "style": 1, "label": "Thanks"}
    button = {**component, "custom_id": f"note:1:ok:{made_row.marker}"}
    before = emulator.create_message(
        channel,
        emulator.bot_user,
        content="Test note made",
        components=[{"type": 1, "components": [button]}],
    )
    emulator.create_message(
        channel,
        discord_server.member,
        content="look-alike",
        components=[{"type": 1, "components": [{**component, "custom_id": "x:d2"}]}],
    )

    async with start_holdfast(emulator, holdfast_settings, clock, HoldfastWithTestKind) as bot:
        assert bot.alarm.startup is not None
        assert await bot.alarm.startup == 1, "only the lost one is sent"
        made_after, lost_after = await row(bot.db, "made"), await row(bot.db, "lost")

    assert made_after.state == "sent"
    assert made_after.sent is not None
    assert made_after.sent.message_id == before.id
    assert lost_after.state == "sent"
    mine = [m for m in emulator.messages_in(channel) if m.author.id == emulator.bot_user.id]
    assert len(with_marker(mine, made_row.marker)) == 1
    assert len(with_marker(mine, lost_after.marker)) == 1
    assert len(mine) == 2
    [post] = emulator.requests_to("POST", MESSAGES)
    assert post.body["nonce"] == "nonce-lost", "resent with the nonce it was claimed with"
    assert emulator.requests_to("GET", MESSAGES), "recovery looked at the channel's history"


async def test_overdue_deliveries_go_at_start_without_waiting_for_the_command_sync(
    emulator: Emulator,
    holdfast_settings: Settings,
    clock: ManualClock,
    discord_server: Server,
) -> None:
    """Deliveries start as soon as the renderers are registered: a command sync that waits (a
    long rate limit on Discord's side) holds up neither an overdue reminder nor the start-up
    figure."""
    channel = discord_server.meetings
    path = holdfast_settings.DATABASE_PATH
    await migrate(path, clock.now())
    conn = await open_database(path)
    try:
        overdue = note("overdue", Destination(channel_id=channel.id), clock.now())
        await enqueue(conn, clock.now(), overdue)
    finally:
        await conn.close()
    # A fresh database has never synced its commands: the server's sync is the first request
    # setup_hook makes after loading the cogs. Its answer is held until the note is out.
    sync = emulator.faults.processed_then_hold("PUT", "/applications/*/guilds/*/commands")

    async def release_when_sent() -> int:
        try:
            await poll_until(
                lambda: emulator.messages_in(channel), what="the overdue note", timeout=10
            )
            return sync.held
        finally:
            sync.release()

    released = asyncio.create_task(release_when_sent())
    async with start_holdfast(emulator, holdfast_settings, clock, HoldfastWithTestKind) as bot:
        assert await released == 1, "the note went while the command sync was still waiting"
        assert (await row(bot.db, "overdue")).state == "sent"
    assert sync.hits == 1


async def test_shutdown_lets_a_send_in_flight_finish_and_records_it(
    bot: HoldfastWithTestKind, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    channel = discord_server.meetings
    held = emulator.faults.latency("POST", "/channels/*/messages", delay=0.3)
    await enqueue(bot.db, clock.now(), note("a", Destination(channel_id=channel.id), clock.now()))
    cycle = bot.alarm.wake()
    await poll_until(lambda: held.hits == 1, what="the send to reach Discord")
    conn = await open_database(bot.settings.DATABASE_PATH)
    try:
        await bot.close()
        assert await cycle == 1
        assert (await row(conn, "a")).state == "sent"
    finally:
        await conn.close()
    assert len(emulator.messages_in(channel)) == 1


def outbox_states(path: Path) -> dict[str, str]:
    db = sqlite3.connect(path)
    try:
        return dict(db.execute("SELECT idempotency_key, state FROM outbox ORDER BY id"))
    finally:
        db.close()


async def test_sigkill_mid_send_then_restart_posts_exactly_one_message_per_row(
    bot_process: BotProcess, emulator: Emulator, discord_server: Server
) -> None:
    channel = discord_server.meetings
    settings = bot_process.settings
    bot_process.module = "tests.e2e.delivery_bot"
    # The process runs on the real clock.
    now = datetime.now(UTC)
    await migrate(settings.DATABASE_PATH, now)
    conn = await open_database(settings.DATABASE_PATH)
    try:
        await enqueue(
            conn,
            now,
            *(note(k, Destination(channel_id=channel.id), now) for k in ("one", "two", "three")),
        )
    finally:
        await conn.close()
    # Hold the first send inside "Discord", kill the bot while it waits for the answer.
    held = emulator.faults.latency("POST", "/channels/*/messages", delay=1.0)
    await bot_process.start()
    await poll_until(lambda: held.hits == 1, what="the first send to reach Discord", timeout=10)
    assert outbox_states(settings.DATABASE_PATH)["one"] == "sending"
    await bot_process.kill()

    # Whichever comes first, the held request finishing or the restarted bot looking for the
    # marker, the outcome is one message per row: the marker finds it, or the nonce dedupes.
    await bot_process.start()
    await poll_until(
        lambda: set(outbox_states(settings.DATABASE_PATH).values()) == {"sent"},
        what="every row to be sent",
        timeout=10,
    )
    await emulator.wait_until(
        lambda: all(r.status is not None for r in emulator.requests_to("POST", MESSAGES)),
        what="the held request to finish",
    )
    assert await bot_process.stop() == 0
    db = sqlite3.connect(settings.DATABASE_PATH)
    try:
        rows = list(db.execute("SELECT id, sent_message_id FROM outbox ORDER BY id"))
    finally:
        db.close()
    messages = emulator.messages_in(channel)
    assert len(messages) == 3
    for delivery_id, message_id in rows:
        [message] = with_marker(messages, f"d{delivery_id}")
        assert message.id == message_id
    assert "Traceback" not in bot_process.output


async def test_a_sent_message_can_be_edited_and_a_missing_one_fails_for_good(
    bot: HoldfastWithTestKind, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    channel = discord_server.meetings
    await enqueue(bot.db, clock.now(), note("a", Destination(channel_id=channel.id), clock.now()))
    assert await bot.alarm.wake() == 1
    sent = await outbox.sent_message(bot.db, "a")
    assert sent is not None
    moved = OutgoingMessage(
        content="Moved to Thursday",
        buttons=(Button("Going", "rsvp:1:going:d1", "success"),),
    )
    await bot.delivery.port.edit(sent.channel_id, sent.message_id, moved)
    [message] = emulator.messages_in(channel)
    assert message.content == "Moved to Thursday"
    assert list(custom_ids(message)) == ["rsvp:1:going:d1"]
    assert message.embeds == []

    with pytest.raises(DeliveryFailed) as gone:
        await bot.delivery.port.edit(sent.channel_id, sent.message_id + 1, moved)
    assert (gone.value.permanent, gone.value.code) == (True, 10008)


async def test_the_alarm_fires_by_itself_and_message_text_stays_out_of_the_log(
    bot: HoldfastWithTestKind,
    emulator: Emulator,
    discord_server: Server,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    channel = discord_server.meetings
    await enqueue(bot.db, clock.now(), note("a", Destination(channel_id=channel.id), clock.now()))
    # Only arm (as after any run): APScheduler's one-off job does the rest, no wake() here.
    assert await bot.alarm.arm() == clock.now()
    message = await emulator.wait_for_message(channel, contains="Test note a")
    await poll_until(lambda: bot.alarm.armed_for is None, what="the alarm to re-arm (empty)")
    assert (await row(bot.db, "a")).sent == await outbox.sent_message(bot.db, "a")
    assert len(emulator.messages_in(channel)) == 1
    assert f"sent as message {message.id}" in caplog.text
    assert "Test note" not in caplog.text


def bot_message_with_button(
    emulator: Emulator, channel: Channel, custom_id: str, content: str = "Test note"
) -> Message:
    """A message of the bot's own already in the channel, carrying `custom_id` on a button."""
    button = {"type": 2, "style": 1, "label": "Thanks", "custom_id": custom_id}
    return emulator.create_message(
        channel,
        emulator.bot_user,
        content=content,
        components=[{"type": 1, "components": [button]}],
    )


async def test_find_marker_matches_a_whole_segment_so_d1_is_not_found_beside_d12(
    bot: HoldfastWithTestKind, emulator: Emulator, discord_server: Server
) -> None:
    # The real DiscordPyPort.find_marker over discord.py's channel.history, not a fake.
    channel = discord_server.meetings
    made = bot_message_with_button(emulator, channel, "note:1:ok:d12")
    destination = Destination(channel_id=channel.id)
    port = bot.delivery.port
    assert await port.find_marker(destination, "d1") is None
    assert await port.find_marker(destination, "d12") == Sent(channel.id, made.id)
    assert await port.find_marker(destination, "ok:d1") is None, "one segment, not a span"
    assert emulator.requests_to("GET", MESSAGES), "it looked at the channel's history"


async def test_an_in_doubt_row_is_sent_when_only_a_longer_marker_is_in_the_history(
    bot: HoldfastWithTestKind, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    """Delivery d1 was claimed and the process died before Discord had it; the channel holds
    the bot's message for d12. Taking d12 for d1 would mark an unsent message sent."""
    channel = discord_server.meetings
    await enqueue(bot.db, clock.now(), note("a", Destination(channel_id=channel.id), clock.now()))
    claimed = await row(bot.db, "a")
    assert await outbox.claim(bot.db, claimed.id, "nonce-a", clock.now())
    longer = bot_message_with_button(emulator, channel, f"note:1:ok:{claimed.marker}2")

    assert await bot.delivery.recover_in_doubt() == RecoveryResult(requeued=1)
    assert await bot.alarm.wake() == 1
    sent = await row(bot.db, "a")
    assert sent.sent is not None
    assert sent.state == "sent"
    assert sent.sent.message_id != longer.id
    [message] = with_marker(emulator.messages_in(channel), claimed.marker)
    assert message.id == sent.sent.message_id
    [post] = emulator.requests_to("POST", MESSAGES)
    assert post.body["nonce"] == "nonce-a"

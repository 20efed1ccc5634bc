"""Message rules where the emulator must be exactly as strict as Discord (issue 7): nonces, the
nonce window, times from the emulator's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import discord
import pytest
from discord.ext import commands

from bot.clock import ManualClock
from tests.emulator import Emulator, Server, make_test_bot, running_bot

MESSAGES = "/channels/{channel_id}/messages"


def _text_channel(bot: commands.Bot, channel_id: int) -> discord.TextChannel:
    channel = bot.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


def _dispatched(emulator: Emulator, event: str) -> list[dict[str, object]]:
    return [
        p["d"]
        for session in emulator.gateway.sessions.values()
        for p in session.buffer
        if p["t"] == event
    ]


async def test_nonce_only_in_create_response_and_message_create_per_discord_py_message_nonce(
    emulator: Emulator, discord_server: Server
) -> None:
    """discord.py ``Message.nonce``: "not stored long term within Discord's servers and is only
    used ephemerally": the create response and MESSAGE_CREATE carry it, fetches do not."""
    async with running_bot(emulator, make_test_bot()) as bot:
        channel = _text_channel(bot, discord_server.general.id)
        sent = await channel.send("hello", nonce="n-1")
        assert sent.nonce == "n-1"
        created = [d for d in _dispatched(emulator, "MESSAGE_CREATE") if d["id"] == str(sent.id)]
        assert [d.get("nonce") for d in created] == ["n-1"]
        fetched = await bot.http.get_message(channel.id, sent.id)
        assert "nonce" not in fetched
        history = await bot.http.logs_from(channel.id, 10)
        assert [m["id"] for m in history] == [str(sent.id)]
        assert "nonce" not in history[0]
        assert (await channel.fetch_message(sent.id)).nonce is None


async def test_nonce_window_follows_the_emulator_clock(
    emulator: Emulator, discord_server: Server
) -> None:
    """Discord de-duplicates ``enforce_nonce`` sends "within the past few minutes" (Create
    Message, ``enforce_nonce``): measured on Discord's clock, which tests move."""
    clock = ManualClock(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    emulator.clock = clock
    emulator.nonce_window = 120.0
    async with running_bot(emulator, make_test_bot()) as bot:
        channel = _text_channel(bot, discord_server.general.id)
        first = await channel.send("Reminder", nonce="reminder-1")
        clock.advance(timedelta(seconds=119))
        assert (await channel.send("Reminder", nonce="reminder-1")).id == first.id
        clock.advance(timedelta(seconds=2))
        later = await channel.send("Reminder", nonce="reminder-1")
    assert later.id != first.id
    assert len(emulator.messages_in(discord_server.general)) == 2


async def test_nonce_of_a_deleted_message_is_unknown_message_per_discord_py_send_docs(
    emulator: Emulator, discord_server: Server
) -> None:
    """discord.py ``Messageable.send`` raises NotFound when "you sent a message with the same
    nonce as one that has been explicitly deleted shortly earlier"."""
    clock = ManualClock(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    emulator.clock = clock
    async with running_bot(emulator, make_test_bot()) as bot:
        channel = _text_channel(bot, discord_server.general.id)
        first = await channel.send("Oops", nonce="n-deleted")
        await first.delete()
        with pytest.raises(discord.NotFound) as info:
            await channel.send("Oops again", nonce="n-deleted")
        assert info.value.code == 10008
        clock.advance(timedelta(seconds=emulator.nonce_window + 1))
        again = await channel.send("After the window", nonce="n-deleted")
    assert [m.id for m in emulator.messages_in(discord_server.general)] == [again.id]


async def test_message_times_and_ids_follow_the_emulator_clock(
    emulator: Emulator, discord_server: Server
) -> None:
    """A message's snowflake encodes its creation time (Discord "Snowflakes" reference), and
    ``timestamp`` is when it was sent: both on Discord's clock, so history by time works with a
    ManualClock."""
    start = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    clock = ManualClock(start)
    emulator.clock = clock
    member = emulator.as_user(discord_server.member)
    morning = await member.send("morning", channel=discord_server.general)
    clock.advance(timedelta(hours=2))
    async with running_bot(emulator, make_test_bot()) as bot:
        channel = _text_channel(bot, discord_server.general.id)
        noon = await channel.send("noon")
        assert noon.created_at == start + timedelta(hours=2)
        recent = [m.content async for m in channel.history(after=start + timedelta(hours=1))]
        assert recent == ["noon"]
        older = [m.content async for m in channel.history(before=start + timedelta(hours=1))]
        assert older == ["morning"]
        first = await channel.fetch_message(morning.id)
        assert first.created_at == start
        clock.advance(timedelta(minutes=5))
        edited = await noon.edit(content="noon (edited)")
        assert edited.edited_at == start + timedelta(hours=2, minutes=5)
    assert emulator.messages[morning.id].timestamp == start


def _twins() -> discord.ui.View:
    """Two buttons sharing a custom_id (one disabled: Discord checks those too)."""
    view = discord.ui.View()
    view.add_item(discord.ui.Button(label="Yes", custom_id="same"))
    view.add_item(discord.ui.Button(label="Also yes", custom_id="same", disabled=True))
    return view


class TwinFieldsModal(discord.ui.Modal, title="Twins"):
    first: discord.ui.TextInput[TwinFieldsModal] = discord.ui.TextInput(
        label="First", custom_id="field"
    )
    second: discord.ui.TextInput[TwinFieldsModal] = discord.ui.TextInput(
        label="Second", custom_id="field"
    )


async def test_duplicate_custom_ids_are_rejected_component_custom_id_duplicated(
    emulator: Emulator, discord_server: Server
) -> None:
    """Discord answers 400/50035 COMPONENT_CUSTOM_ID_DUPLICATED ("Component custom id cannot be
    duplicated") for a message or modal whose components share a custom_id: channel messages,
    edits, interaction responses, followups, webhook message edits and modals alike."""
    emulator.expect_violations()
    failures: list[tuple[str, int, str]] = []
    bot = make_test_bot()

    async def attempt(what: str, action: object) -> None:
        try:
            await action  # type: ignore[misc]
        except discord.HTTPException as exc:
            failures.append((what, exc.code, exc.text))

    @bot.tree.command(name="twins")
    async def twins(interaction: discord.Interaction) -> None:
        """Tries duplicate custom ids everywhere."""
        await attempt("response", interaction.response.send_message("x", view=_twins()))
        await interaction.response.send_message("fine")
        await attempt("original", interaction.edit_original_response(view=_twins()))
        await attempt("followup", interaction.followup.send("x", view=_twins()))
        extra = await interaction.followup.send("extra", wait=True)
        await attempt("webhook edit", extra.edit(view=_twins()))

    @bot.tree.command(name="twin-modal")
    async def twin_modal(interaction: discord.Interaction) -> None:
        """Opens a modal with two fields sharing a custom id."""
        await attempt("modal", interaction.response.send_modal(TwinFieldsModal()))
        await interaction.response.send_message("no modal")

    async with running_bot(emulator, bot):
        channel = _text_channel(bot, discord_server.general.id)
        await attempt("create", channel.send("x", view=_twins()))
        plain = await channel.send("plain")
        await attempt("edit", plain.edit(view=_twins()))
        await bot.tree.sync()
        await emulator.wait_for_commands("twins", "twin-modal")
        member = emulator.as_user(discord_server.member)
        run = await member.run("/twins")
        await run.wait_for_followup("extra")
        modal = await member.run("/twin-modal")
        await modal.wait_for_text("no modal")
        await emulator.wait_until(lambda: len(failures) == 7, what="all seven rejections")
    assert sorted((what, code) for what, code, _ in failures) == sorted(
        (what, 50035)
        for what in ("create", "edit", "response", "original", "followup", "webhook edit", "modal")
    )
    assert all("Component custom id cannot be duplicated" in text for _, _, text in failures)
    assert [m.content for m in emulator.messages_in(discord_server.general)] == [
        "plain",
        "fine",
        "extra",
        "no modal",
    ]
    rejected = [r for r in emulator.requests if r.status == 400]
    assert len(rejected) == 7


async def test_first_followup_after_a_defer_keeps_the_defers_visibility(
    emulator: Emulator, discord_server: Server
) -> None:
    """Discord: the first followup after a DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE edits the
    "thinking" message (Receiving and Responding, "Followup Messages"), whose visibility was set
    by the defer: a public defer answered "ephemerally" is public. Later followups choose their
    own visibility."""
    bot = make_test_bot()

    @bot.tree.command(name="public-defer")
    async def public_defer(interaction: discord.Interaction) -> None:
        """Public thinking, then an 'ephemeral' answer."""
        await interaction.response.defer()
        await interaction.followup.send("seen by everyone", ephemeral=True)
        await interaction.followup.send("only for you", ephemeral=True)

    @bot.tree.command(name="private-defer")
    async def private_defer(interaction: discord.Interaction) -> None:
        """Private thinking, then a 'public' answer."""
        await interaction.response.defer(ephemeral=True)
        await interaction.followup.send("still private")

    async with running_bot(emulator, bot):
        await bot.tree.sync()
        await emulator.wait_for_commands("public-defer", "private-defer")
        member = emulator.as_user(discord_server.member)
        public = await member.run("/public-defer")
        private_followup = await public.wait_for_followup("only for you")
        private = await member.run("/private-defer")
        await private.wait_for_text("still private")
    assert public.original is not None
    assert public.original.content == "seen by everyone"
    assert not public.original.ephemeral
    assert private_followup.ephemeral
    assert private.original is not None
    assert private.original.ephemeral
    assert [m.content for m in emulator.messages_in(discord_server.general)] == ["seen by everyone"]
    updates = [d["content"] for d in _dispatched(emulator, "MESSAGE_UPDATE")]
    assert updates == ["seen by everyone"]


async def test_channel_message_flags_limited_to_documented_ones(
    emulator: Emulator, discord_server: Server
) -> None:
    """Create Message: "only SUPPRESS_EMBEDS, SUPPRESS_NOTIFICATIONS, IS_VOICE_MESSAGE, and
    IS_COMPONENTS_V2 can be set"; Edit Message: only SUPPRESS_EMBEDS and IS_COMPONENTS_V2.
    EPHEMERAL on a channel message is a 400/50035, not a hidden message."""
    channel_id = discord_server.general.id
    async with running_bot(emulator, make_test_bot()) as bot:
        create = discord.http.Route("POST", MESSAGES, channel_id=channel_id)
        with pytest.raises(discord.HTTPException) as on_create:
            await bot.http.request(create, json={"content": "secret", "flags": 64})
        assert (on_create.value.status, on_create.value.code) == (400, 50035)
        assert "flags" in on_create.value.text
        channel = _text_channel(bot, channel_id)
        quiet = await channel.send("quiet", silent=True)
        assert quiet.flags.suppress_notifications
        edit = discord.http.Route(
            "PATCH", f"{MESSAGES}/{{message_id}}", channel_id=channel_id, message_id=quiet.id
        )
        with pytest.raises(discord.HTTPException) as on_edit:
            await bot.http.request(edit, json={"flags": 64})
        assert on_edit.value.code == 50035
        suppressed = await quiet.edit(suppress=True)
        assert suppressed.flags.suppress_embeds
        assert suppressed.flags.suppress_notifications
    stored = emulator.messages_in(discord_server.general)
    assert [(m.content, m.ephemeral) for m in stored] == [("quiet", False)]


async def test_without_message_content_intent_only_mentions_dms_and_own_messages_have_content(
    emulator: Emulator, discord_server: Server
) -> None:
    """Gateway docs, "Message Content Intent": without it an app gets empty content except in
    messages it sends, DMs with it, and messages that mention it."""
    bot = make_test_bot()  # no message_content intent
    seen: dict[str, str] = {}

    @bot.event
    async def on_message(message: discord.Message) -> None:
        seen[str(message.id)] = message.content

    async with running_bot(emulator, bot) as running:
        assert not running.intents.message_content
        member = emulator.as_user(discord_server.member)
        plain = await member.send("just chatting", channel=discord_server.general)
        mention = await member.send(
            f"<@{emulator.bot_user.id}> when is the meeting?", channel=discord_server.general
        )
        dm = await member.send_dm("a private question")
        own = await _text_channel(running, discord_server.general.id).send("from the bot")
        await emulator.wait_until(lambda: len(seen) == 4, what="four on_message calls")
    assert seen[str(plain.id)] == ""
    assert seen[str(mention.id)] == f"<@{emulator.bot_user.id}> when is the meeting?"
    assert seen[str(dm.id)] == "a private question"
    assert seen[str(own.id)] == "from the bot"

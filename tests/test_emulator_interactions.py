"""Slash commands, buttons, selects and modals through a tiny test cog on a real discord.py bot."""

from __future__ import annotations

import asyncio

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.emulator import (
    CallbackType,
    Emulator,
    EmulatorTimeout,
    Server,
    make_test_bot,
    running_bot,
)


class NoteModal(discord.ui.Modal, title="Check in"):
    note: discord.ui.TextInput[NoteModal] = discord.ui.TextInput(
        label="How are you?", custom_id="note"
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"Noted: {self.note.value}", ephemeral=True)


class RsvpView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Going", custom_id="rsvp:going", style=discord.ButtonStyle.success)
    async def going(
        self, interaction: discord.Interaction, button: discord.ui.Button[RsvpView]
    ) -> None:
        await interaction.response.send_message(f"{interaction.user.name} is going", ephemeral=True)

    @discord.ui.button(label="Can't come", custom_id="rsvp:no")
    async def no(
        self, interaction: discord.Interaction, button: discord.ui.Button[RsvpView]
    ) -> None:
        await interaction.response.edit_message(content="Updated: someone can't come")

    @discord.ui.select(
        custom_id="rsvp:mood", options=[discord.SelectOption(label=x) for x in ("ok", "low")]
    )
    async def mood(
        self, interaction: discord.Interaction, select: discord.ui.Select[RsvpView]
    ) -> None:
        await interaction.response.send_message(f"mood={select.values[0]}", ephemeral=True)


class TinyCog(commands.Cog):
    meeting = app_commands.Group(name="meeting", description="Meetings")
    admin = app_commands.Group(name="admin", description="Admin", parent=meeting)

    @meeting.command(name="schedule", description="Schedule a meeting")
    async def schedule(self, interaction: discord.Interaction, day: int, time: str) -> None:
        await interaction.response.send_message(f"Meeting on day {day} at {time}", view=RsvpView())

    @meeting.command(name="next", description="Next meeting")
    async def next_(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.followup.send("Next meeting: Tuesday", ephemeral=True)

    @admin.command(name="who", description="Who is it")
    async def who(self, interaction: discord.Interaction, member: discord.Member) -> None:
        await interaction.response.send_message(f"That is {member.display_name}")

    @app_commands.command(name="checkin", description="Check in")
    async def checkin(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(NoteModal())

    @app_commands.command(name="silent", description="Never answers")
    async def silent(self, interaction: discord.Interaction) -> None:
        return


async def _bot_with_cog(emulator: Emulator, server: Server) -> commands.Bot:
    bot = make_test_bot()
    await bot.add_cog(TinyCog())
    return bot


async def test_slash_command_with_subcommand_and_button(
    emulator: Emulator, discord_server: Server
) -> None:
    bot = await _bot_with_cog(emulator, discord_server)
    async with running_bot(emulator, bot):
        await bot.tree.sync()
        await emulator.wait_for_commands("meeting", "checkin")
        facilitator = emulator.as_user(discord_server.facilitator, channel=discord_server.meetings)

        run = await facilitator.run("/meeting schedule day:3 time:19:30")
        response = await run.wait_for_response()
        assert response.type == CallbackType.CHANNEL_MESSAGE
        assert response.content == "Meeting on day 3 at 19:30"
        assert not response.ephemeral
        announcement = emulator.messages_in(discord_server.meetings)[-1]
        assert announcement.content == "Meeting on day 3 at 19:30"
        assert announcement is run.message

        member = emulator.as_user(discord_server.member)
        click = await member.click(announcement, "Going")
        assert (await click.wait_for_response()).ephemeral
        assert click.response is not None
        assert click.response.content == "member1 is going"
        # Ephemeral answers are not in the channel.
        assert [m.content for m in emulator.messages_in(discord_server.meetings)] == [
            announcement.content
        ]

        update = await member.click(announcement, "rsvp:no")
        assert (await update.wait_for_response()).type == CallbackType.UPDATE_MESSAGE
        assert announcement.content == "Updated: someone can't come"

        pick = await member.select(announcement, "rsvp:mood", ["low"])
        await pick.wait_for_text("mood=low")


async def test_deferred_followup_and_subcommand_group(
    emulator: Emulator, discord_server: Server
) -> None:
    bot = await _bot_with_cog(emulator, discord_server)
    async with running_bot(emulator, bot):
        guild = discord.Object(discord_server.guild.id)
        bot.tree.copy_global_to(guild=guild)
        await bot.tree.sync(guild=guild)
        await emulator.wait_for_commands("meeting", guild=discord_server.guild)
        member = emulator.as_user(discord_server.member)

        nxt = await member.run("/meeting next")
        assert (await nxt.wait_for_response()).type == CallbackType.DEFERRED_CHANNEL_MESSAGE
        assert await nxt.wait_for_text("Next meeting: Tuesday")
        assert nxt.original is not None
        assert nxt.original.ephemeral

        who = await member.run("/meeting admin who", member=discord_server.facilitator)
        await who.wait_for_text("That is facilitator1")


async def test_modal_round_trip(emulator: Emulator, discord_server: Server) -> None:
    bot = await _bot_with_cog(emulator, discord_server)
    async with running_bot(emulator, bot):
        await bot.tree.sync()
        await emulator.wait_for_commands("checkin")
        member = emulator.as_user(discord_server.member)
        opened = await member.run("/checkin")
        modal = await opened.wait_for_modal()
        assert modal["title"] == "Check in"
        submitted = await member.submit_modal(opened, {"note": "tired but here"})
        await submitted.wait_for_text("Noted: tired but here")
        assert submitted.ephemeral
        with pytest.raises(LookupError, match="no field"):
            await member.submit_modal(opened, {"nope": "x"})


async def test_unanswered_interaction_fails_with_clear_message(
    emulator: Emulator, discord_server: Server
) -> None:
    emulator.interaction_ack_window = 0.2
    bot = await _bot_with_cog(emulator, discord_server)
    async with running_bot(emulator, bot):
        await bot.tree.sync()
        await emulator.wait_for_commands("silent")
        run = await emulator.as_user(discord_server.member).run("/silent")
        with pytest.raises(EmulatorTimeout, match="This interaction failed"):
            await run.wait_for_response()


async def test_interaction_token_rules(emulator: Emulator, discord_server: Server) -> None:
    """Late acknowledgement gives 10062, double acknowledgement 40060 (discord.py sees both)."""
    emulator.interaction_ack_window = 0.3
    results: list[BaseException | None] = []
    bot = make_test_bot()

    @bot.tree.command(name="late", description="Answers too late")
    async def late(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.4)  # deliberately later than the shortened ack window
        try:
            await interaction.response.send_message("too late")
        except discord.HTTPException as exc:
            results.append(exc)

    @bot.tree.command(name="twice", description="Answers twice")
    async def twice(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("first")
        try:
            await bot.http.request(
                discord.http.Route(
                    "POST",
                    "/interactions/{i}/{t}/callback",
                    i=interaction.id,
                    t=interaction.token,
                ),
                json={"type": 4, "data": {"content": "second"}},
            )
        except discord.HTTPException as exc:
            results.append(exc)

    async with running_bot(emulator, bot):
        await bot.tree.sync()
        await emulator.wait_for_commands("late", "twice")
        member = emulator.as_user(discord_server.member)
        await member.run("/late")
        twice_run = await member.run("/twice")
        await twice_run.wait_for_response()
        await emulator.wait_until(lambda: len(results) == 2, what="both failures", timeout=3)
    codes = sorted(getattr(e, "code", None) for e in results)
    assert codes == [10062, 40060]


async def test_followups_original_defer_update_and_autocomplete(
    emulator: Emulator, discord_server: Server
) -> None:
    bot = make_test_bot()

    async def times(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=t, value=t)
            for t in ("19:00", "19:30", "20:00")
            if t.startswith(current)
        ]

    @bot.tree.command(name="plan", description="Plan")
    @app_commands.autocomplete(time=times)
    async def plan(interaction: discord.Interaction, time: str) -> None:
        await interaction.response.send_message(f"Planned {time}", view=RsvpView())
        extra = await interaction.followup.send("Details follow", wait=True)
        await extra.edit(content="Details: bring tea")
        await interaction.edit_original_response(content=f"Planned {time} (edited)")
        original = await interaction.original_response()
        assert original.content == f"Planned {time} (edited)"

    class Quiet(discord.ui.View):
        @discord.ui.button(label="Ack", custom_id="ack")
        async def ack(
            self, interaction: discord.Interaction, button: discord.ui.Button[Quiet]
        ) -> None:
            await interaction.response.defer()

    @bot.tree.command(name="quiet", description="Quiet")
    async def quiet(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("quiet", view=Quiet())

    async with running_bot(emulator, bot):
        await bot.tree.sync()
        await emulator.wait_for_commands("plan", "quiet")
        member = emulator.as_user(discord_server.member)

        ac = await member.autocomplete("/plan time:19", focused="time")
        choices = (await ac.wait_for_response()).data["choices"]
        assert [c["value"] for c in choices] == ["19:00", "19:30"]

        run = await member.run("/plan time:19:30")
        await run.wait_for_text("Planned 19:30 (edited)")
        followup = await run.wait_for_followup("Details: bring tea")
        assert followup.channel_id == discord_server.general.id
        assert [m.content for m in emulator.messages_in(discord_server.general)] == [
            "Planned 19:30 (edited)",
            "Details: bring tea",
        ]

        q = await member.run("/quiet")
        await q.wait_for_response()
        assert q.message is not None
        click = await member.click(q.message, "Ack")
        assert (await click.wait_for_response()).type == CallbackType.DEFERRED_UPDATE_MESSAGE


async def test_followups_stop_after_the_token_lifetime(
    emulator: Emulator, discord_server: Server
) -> None:
    emulator.interaction_token_lifetime = 0.2
    errors: list[discord.HTTPException] = []
    bot = make_test_bot()

    @bot.tree.command(name="later", description="Follows up too late")
    async def later(interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        await asyncio.sleep(0.3)  # the bot is slow: longer than the shortened token lifetime
        try:
            await interaction.followup.send("too late")
        except discord.HTTPException as exc:
            errors.append(exc)

    async with running_bot(emulator, bot):
        await bot.tree.sync()
        await emulator.wait_for_commands("later")
        await emulator.as_user(discord_server.member).run("/later")
        await emulator.wait_until(lambda: errors, what="the late followup to fail")
    assert errors[0].code == 50027


async def test_slash_command_in_dm(emulator: Emulator, discord_server: Server) -> None:
    bot = make_test_bot()

    @bot.tree.command(name="whoami", description="Who am I")
    async def whoami(interaction: discord.Interaction) -> None:
        where = "DM" if interaction.guild is None else interaction.guild.name
        await interaction.response.send_message(f"{interaction.user.name} in {where}")

    async with running_bot(emulator, bot):
        await bot.tree.sync()
        await emulator.wait_for_commands("whoami")
        run = await emulator.as_user(discord_server.member).run("/whoami", dm=True)
        await run.wait_for_text("member1 in DM")
        assert run.message is not None
        assert emulator.channels[run.message.channel_id].is_dm


async def test_commands_are_offered_only_where_discord_would(
    emulator: Emulator, discord_server: Server
) -> None:
    server = discord_server
    bot = make_test_bot()

    @bot.tree.command(name="admin-only")
    @app_commands.default_permissions(manage_guild=True)
    async def admin_only(interaction: discord.Interaction) -> None:
        """Admins only."""
        await interaction.response.send_message("ok", ephemeral=True)

    @bot.tree.command(name="server-only")
    @app_commands.guild_only()
    async def server_only(interaction: discord.Interaction) -> None:
        """Not in DMs."""
        await interaction.response.send_message("ok", ephemeral=True)

    async with running_bot(emulator, bot):
        await bot.tree.sync()
        await emulator.wait_for_commands("admin-only", "server-only")
        with pytest.raises(PermissionError, match="cannot see /admin-only"):
            await emulator.as_user(server.member).run("/admin-only")
        reply = await emulator.as_user(server.admin).run("/admin-only")
        assert (await reply.wait_for_response()).content == "ok"
        with pytest.raises(PermissionError, match="not offered in DMs"):
            await emulator.as_user(server.member).run("/server-only", dm=True)
        reply = await emulator.as_user(server.member).run("/server-only")
        assert (await reply.wait_for_response()).content == "ok"


async def test_first_followup_replaces_thinking_and_the_next_is_a_new_message(
    emulator: Emulator, discord_server: Server
) -> None:
    bot = make_test_bot()

    @bot.tree.command(name="two-steps")
    async def two_steps(interaction: discord.Interaction) -> None:
        """Answers twice."""
        await interaction.response.defer(ephemeral=True)
        await interaction.followup.send("first", ephemeral=True)
        await interaction.followup.send("second", ephemeral=True)

    async with running_bot(emulator, bot):
        await bot.tree.sync()
        await emulator.wait_for_commands("two-steps")
        handle = await emulator.as_user(discord_server.member).run("/two-steps")
        second = await handle.wait_for_followup(contains="second")
        assert handle.original is not None
        assert handle.original.content == "first"
        assert handle.original.ephemeral
        assert [m.content for m in handle.followups] == ["second"]
        assert second.ephemeral

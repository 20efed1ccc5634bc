"""Noting who came: `/group attendance`, `/meeting turnout`, `/reminders missed-you`, the
facilitator's "who came?" menu and button, and watching meetings' voice channels.

Extensions load in name order, so this one runs after `groups`, `meetings` and `reminders` and
adds its subcommands to their command groups.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import HoldfastBot
from bot.attendance import cards, service
from bot.groups import service as groups
from bot.reminders import service as reminder_service
from bot.reminders.model import PrefsChange
from bot.texts import attendance as texts
from bot.texts import reminders as reminder_texts
from cogs import _paging as paging
from cogs._interaction import AnyInteraction, Interaction, actor_of, guarded, holdfast
from cogs.groups import group_autocomplete
from cogs.reminders import settings_text

log = logging.getLogger(__name__)

SWEEP_EVERY = timedelta(minutes=1)
SWEEP_JOB = "attendance-voice"


@app_commands.command(name="attendance")
@app_commands.describe(
    on="On: note who came to each meeting, so members who miss one get a kind word",
    group="Which group (empty if there is only one)",
)
@app_commands.autocomplete(group=group_autocomplete)
async def group_attendance(interaction: Interaction, on: bool, group: str | None = None) -> None:
    """For facilitators: note who came to meetings (off unless you turn it on)."""
    bot = holdfast(interaction)
    assert interaction.guild_id is not None
    found = await groups.resolve_group(bot.db, interaction.guild_id, group)
    changed = await service.set_attendance(
        bot.db, found, actor_of(interaction), on, bot.clock.now()
    )
    if changed:
        bot.alarm.wake()
        reply = texts.turned_on(found.name) if on else texts.turned_off(found.name)
    else:
        reply = texts.unchanged(found.name, on)
    await interaction.response.send_message(reply, ephemeral=True)


@app_commands.command(name="turnout")
@app_commands.describe(group="Which group (empty if there is only one)")
@app_commands.autocomplete(group=group_autocomplete)
async def meeting_turnout(interaction: Interaction, group: str | None = None) -> None:
    """For facilitators: how many came to each meeting lately (counts only, never who)."""
    assert interaction.guild_id is not None
    found = await groups.resolve_group(holdfast(interaction).db, interaction.guild_id, group)
    pages = await turnout_pages(interaction, found.id)
    await paging.send_pages(interaction, "turnout", found.id, pages)


async def turnout_pages(interaction: Interaction, group_id: int, _: int = 0) -> list[str]:
    bot = holdfast(interaction)
    group = await groups.get_group(bot.db, group_id)
    rows = await service.turnout(bot.db, group, actor_of(interaction), bot.clock.now())
    noted = [row for row in rows if row.came is not None]
    total = texts.turnout_total(
        sum(row.came or 0 for row in noted), sum(row.going for row in noted), len(noted)
    )
    lines = [texts.turnout_line(row.title, row.starts_at, row.came, row.going) for row in rows]
    return texts.turnout(group.name, service.TURNOUT_MONTHS, lines, total)


@app_commands.command(name="missed-you")
@app_commands.describe(on="A short “we missed you” after a meeting you meant to come to")
async def reminders_missed_you(interaction: Interaction, on: bool) -> None:
    """Turn the “we missed you” message on or off (only in groups that note who came)."""
    bot = holdfast(interaction)
    await reminder_service.update_prefs(
        bot.db,
        interaction.user.id,
        PrefsChange(missed_you=on),
        bot.clock.now(),
        bot.policy.reminders,
    )
    await interaction.response.send_message(
        reminder_texts.prefs_saved()
        + "\n\n"
        + await settings_text(bot, interaction.user.id, interaction.guild_id),
        ephemeral=True,
    )


class CameMenu(
    discord.ui.DynamicItem[discord.ui.UserSelect[discord.ui.View]],
    template=r"came:(?P<meeting>\d+)",
):
    """The facilitator's "who came?" menu after a meeting elsewhere."""

    def __init__(self, item: discord.ui.UserSelect[discord.ui.View], meeting_id: int) -> None:
        super().__init__(item)
        self.meeting_id = meeting_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: AnyInteraction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> CameMenu:
        assert isinstance(item, discord.ui.UserSelect)
        return cls(item, int(match["meeting"]))

    async def callback(self, interaction: AnyInteraction) -> None:
        data: dict[str, Any] = dict(interaction.data or {})
        picked = [int(value) for value in data.get("values", [])]
        await guarded(interaction, lambda: record(interaction, self.meeting_id, picked))


class EveryoneGoingButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"came-all:(?P<meeting>\d+)(?::d\d+)?",
):
    """ "Everyone who said Going came", beside the menu."""

    def __init__(self, item: discord.ui.Button[discord.ui.View], meeting_id: int) -> None:
        super().__init__(item)
        self.meeting_id = meeting_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: AnyInteraction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> EveryoneGoingButton:
        assert isinstance(item, discord.ui.Button)
        return cls(item, int(match["meeting"]))

    async def callback(self, interaction: AnyInteraction) -> None:
        await guarded(interaction, lambda: record(interaction, self.meeting_id, None))


async def record(interaction: Interaction, meeting_id: int, picked: list[int] | None) -> None:
    bot = holdfast(interaction)
    came = await service.note_from_facilitator(
        bot.db, meeting_id, actor_of(interaction), picked, bot.clock.now()
    )
    bot.alarm.wake()
    await interaction.response.send_message(texts.form_recorded(came), ephemeral=True)


class Turnout(commands.Cog):
    """Watches the voice and stage channels of meetings under way, in groups that note who
    came: each member seen there during the meeting (from ten minutes before) is noted."""

    def __init__(self, bot: HoldfastBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_voice_state_update(
        self, member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        channel = after.channel
        if channel is None or member.bot or (before.channel == channel):
            return
        try:
            await service.note_in_voice(self.bot.db, channel.id, [member.id], self.bot.clock.now())
        except Exception:
            log.exception("could not note a voice join")  # never who: no ids in the line

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        # After (re)connecting, GUILD_CREATE told discord.py who is in voice now.
        await self.sweep()

    async def sweep(self) -> int:
        """Note everyone in the channel of each meeting under way (they may have come in
        before the window opened, or while the bot was away). Returns how many were new."""
        bot = self.bot
        me = bot.user.id if bot.user is not None else None
        added = 0
        now = bot.clock.now()
        for held in await service.held_in_voice(bot.db, now):
            channel = bot.get_channel(held.channel_id)
            if not isinstance(channel, discord.VoiceChannel | discord.StageChannel):
                continue
            present = [user_id for user_id in channel.voice_states if user_id != me]
            added += await service.note_in_voice(bot.db, held.channel_id, present, now)
        return added


def _subgroup(bot: HoldfastBot, name: str) -> app_commands.Group:
    found = bot.tree.get_command(name)
    assert isinstance(found, app_commands.Group), f"/{name} loads before this extension"
    return found


async def setup(bot: HoldfastBot) -> None:
    for kind, renderer in cards.RENDERERS.items():
        bot.register_renderer(kind, renderer)
    paging.register("turnout", turnout_pages)
    bot.add_dynamic_items(CameMenu, EveryoneGoingButton, paging.PageButton)
    _subgroup(bot, "group").add_command(group_attendance)
    _subgroup(bot, "meeting").add_command(meeting_turnout)
    _subgroup(bot, "reminders").add_command(reminders_missed_you)
    cog = Turnout(bot)
    await bot.add_cog(cog)
    bot.every(SWEEP_EVERY, cog.sweep, SWEEP_JOB)

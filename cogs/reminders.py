"""/reminders (a member's own settings), /rota (facilitators), and the rota's buttons."""

from __future__ import annotations

import logging
import re
from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import HoldfastBot
from bot.db import transaction
from bot.errors import HoldfastError
from bot.groups import access
from bot.groups import service as groups
from bot.groups.model import Actor
from bot.meetings.queries import get_meeting
from bot.meetings.recurrence import RuleError, parse_leads, parse_local_time
from bot.reminders import cards, replies, rota, service, snooze, status
from bot.reminders import handover as handovers
from bot.reminders import prefs as prefs_store
from bot.reminders.model import Prefs, PrefsChange, QuietHours
from bot.texts import attendance as attendance_texts
from bot.texts import fit
from bot.texts import reminders as texts
from cogs._interaction import AnyInteraction, Interaction, actor_for, actor_of, guarded, holdfast
from cogs.groups import group_autocomplete, join_view, timezone_autocomplete
from cogs.meetings import facilitated_meeting, meeting_autocomplete

log = logging.getLogger(__name__)


async def settings_text(bot: HoldfastBot, user_id: int, guild_id: int | None) -> str:
    prefs = await prefs_store.get_prefs(bot.db, user_id)
    policy = bot.policy.reminders
    every: list[str] = []
    zone = prefs.timezone or bot.settings.DEFAULT_TIMEZONE
    if guild_id is not None:
        for group in await groups.groups_of_member(bot.db, guild_id, user_id):
            if await prefs_store.is_opted_in(bot.db, group.id, user_id):
                every.append(group.name)
            zone = prefs.timezone or group.timezone
    quiet = (
        (prefs.quiet.start.isoformat("minutes"), prefs.quiet.end.isoformat("minutes"))
        if prefs.quiet
        else None
    )
    summary = texts.prefs_summary(
        [lead.text for lead in prefs.leads_or(policy)],
        prefs.leads is None,
        prefs.via,
        prefs.paused,
        quiet,
        zone,
        prefs.nudge and policy.nudge is not None,
        every,
    )
    return summary + "\n" + attendance_texts.missed_you_line(prefs.missed_you)


class ReminderCommands(app_commands.Group, name="reminders", description="Your meeting reminders"):
    def __init__(self, bot: HoldfastBot) -> None:
        super().__init__()
        self.bot = bot

    async def _change(self, interaction: Interaction, change: PrefsChange) -> Prefs:
        bot = self.bot
        updated = await service.update_prefs(
            bot.db, interaction.user.id, change, bot.clock.now(), bot.policy.reminders
        )
        bot.alarm.wake()
        await interaction.response.send_message(
            texts.prefs_saved()
            + "\n\n"
            + await settings_text(bot, interaction.user.id, interaction.guild_id),
            ephemeral=True,
        )
        return updated

    @app_commands.command(name="show")
    async def show(self, interaction: Interaction) -> None:
        """See how and when you get reminders."""
        await interaction.response.send_message(
            await settings_text(self.bot, interaction.user.id, interaction.guild_id),
            ephemeral=True,
        )

    @app_commands.command(name="times")
    @app_commands.describe(times='How long before, e.g. "1d,2h" (d, h or m), or "default"')
    async def times(self, interaction: Interaction, times: str) -> None:
        """Choose when your reminders come."""
        if times.strip().lower() == "default":
            await self._change(interaction, PrefsChange(use_default_leads=True))
            return
        try:
            leads = tuple(parse_leads(times))
        except RuleError as error:
            raise HoldfastError(texts.leads_problem(str(error))) from None
        await self._change(interaction, PrefsChange(leads=leads))

    @app_commands.command(name="how")
    @app_commands.describe(via="A direct message, or a mention in the group's channel")
    async def how(self, interaction: Interaction, via: Literal["dm", "channel"]) -> None:
        """Choose how reminders reach you."""
        await self._change(interaction, PrefsChange(via=via))

    @app_commands.command(name="pause")
    async def pause(self, interaction: Interaction) -> None:
        """Pause all your reminders and nudges (until you resume)."""
        await self._change(interaction, PrefsChange(paused=True))

    @app_commands.command(name="resume")
    async def resume(self, interaction: Interaction) -> None:
        """Turn your reminders back on."""
        await self._change(interaction, PrefsChange(paused=False))

    @app_commands.command(name="quiet")
    @app_commands.describe(
        start="When quiet hours begin, e.g. 22:00",
        end="When they end, e.g. 07:00",
        timezone="Your time zone (empty: the group's)",
    )
    @app_commands.autocomplete(timezone=timezone_autocomplete)
    async def quiet(
        self, interaction: Interaction, start: str, end: str, timezone: str | None = None
    ) -> None:
        """Set quiet hours: reminders that would land then come just before they begin."""
        try:
            hours = QuietHours(parse_local_time(start), parse_local_time(end))
        except (RuleError, ValueError):
            raise HoldfastError(texts.quiet_problem()) from None
        zone = groups.check_timezone(timezone) if timezone else None
        await self._change(interaction, PrefsChange(quiet=hours, timezone=zone))

    @app_commands.command(name="quiet-off")
    async def quiet_off(self, interaction: Interaction) -> None:
        """No quiet hours."""
        await self._change(interaction, PrefsChange(clear_quiet=True))

    @app_commands.command(name="nudges")
    @app_commands.describe(on="A gentle nudge when you haven't answered yet")
    async def nudges(self, interaction: Interaction, on: bool) -> None:
        """Turn the nudge for meetings you haven't answered on or off."""
        await self._change(interaction, PrefsChange(nudge=on))

    @app_commands.command(name="every-meeting")
    @app_commands.describe(group="Which group", on="Reminders for every meeting, answered or not")
    @app_commands.autocomplete(group=group_autocomplete)
    async def every_meeting(
        self, interaction: Interaction, on: bool, group: str | None = None
    ) -> None:
        """Be reminded of every meeting of a group, even ones you haven't answered."""
        if interaction.guild_id is None:
            raise HoldfastError(texts.every_meeting_in_a_server())
        bot = self.bot
        found = await groups.resolve_group(bot.db, interaction.guild_id, group)
        await service.set_every_meeting(
            bot.db, found, interaction.user.id, on, bot.clock.now(), bot.policy.reminders
        )
        bot.alarm.wake()
        await interaction.response.send_message(
            texts.prefs_saved()
            + "\n\n"
            + await settings_text(bot, interaction.user.id, interaction.guild_id),
            ephemeral=True,
        )


@app_commands.guild_only()
class RotaCommands(app_commands.Group, name="rota", description="Who holds each meeting"):
    def __init__(self, bot: HoldfastBot) -> None:
        super().__init__()
        self.bot = bot

    @app_commands.command(name="assign")
    @app_commands.describe(
        meeting="Which meeting", who="Who holds it: a facilitator or an admin (empty: you)"
    )
    @app_commands.autocomplete(meeting=meeting_autocomplete)
    async def assign(
        self,
        interaction: Interaction,
        meeting: int,
        who: discord.Member | discord.User | None = None,
    ) -> None:
        """For facilitators: put yourself or another facilitator down to hold a meeting."""
        found = await facilitated_meeting(interaction, meeting)
        bot = self.bot
        holder = actor_for(who) if who is not None else actor_of(interaction)
        entry = await rota.assign(
            bot.db,
            found.id,
            holder,
            interaction.user.id,
            bot.clock.now(),
            bot.policy.reminders,
            bot.policy,
        )
        bot.alarm.wake()
        await interaction.response.send_message(
            texts.rota_assigned(holder.user_id, entry.meeting.title, entry.meeting.starts_at),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @app_commands.command(name="handover")
    @app_commands.describe(meeting="A meeting you hold", to="The facilitator you'd like to take it")
    @app_commands.autocomplete(meeting=meeting_autocomplete)
    async def handover(
        self, interaction: Interaction, meeting: int, to: discord.Member | discord.User
    ) -> None:
        """For facilitators: ask another facilitator to hold a meeting you hold."""
        found = await facilitated_meeting(interaction, meeting)
        bot = self.bot
        offered = await handovers.offer(
            bot.db,
            found.id,
            actor_of(interaction),
            actor_for(to),
            bot.clock.now(),
            bot.policy.reminders,
        )
        bot.alarm.wake()
        title = offered.meeting.title
        await interaction.response.send_message(
            texts.handover_asked_already(to.id, title)
            if offered.again
            else texts.handover_offered(to.id, title, offered.meeting.starts_at, offered.replaced),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @app_commands.command(name="show")
    @app_commands.describe(group="Which group (empty if there is only one)")
    @app_commands.autocomplete(group=group_autocomplete)
    async def show(self, interaction: Interaction, group: str | None = None) -> None:
        """For facilitators: who holds the next meetings, and who could not be reached."""
        assert interaction.guild_id is not None
        bot = self.bot
        found = await groups.resolve_group(bot.db, interaction.guild_id, group)
        access.require_facilitator(found, actor_of(interaction))
        entries = await rota.rota_for_group(bot.db, found.id, bot.clock.now())
        lines = [
            texts.rota_line(e.meeting.title, e.meeting.starts_at, e.facilitator_id, e.confirmed)
            for e in entries
        ]
        unreachable = texts.unreachable_count(await status.unreachable_count(bot.db, found.id))
        await interaction.response.send_message(
            texts.rota_list(found.name, lines, unreachable),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )


class RotaButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"rota:(?P<action>confirm|step):(?P<meeting>\d+)(?::d\d+)?",
):
    """ "I'll be there" on the facilitator's DM; "I'll step in" on an escalation."""

    def __init__(
        self, item: discord.ui.Button[discord.ui.View], action: str, meeting_id: int
    ) -> None:
        super().__init__(item)
        self.action = action
        self.meeting_id = meeting_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: AnyInteraction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> RotaButton:
        assert isinstance(item, discord.ui.Button)
        return cls(item, match["action"], int(match["meeting"]))

    async def callback(self, interaction: AnyInteraction) -> None:
        await guarded(interaction, lambda: self.clicked(interaction))

    async def clicked(self, interaction: Interaction) -> None:
        bot = holdfast(interaction)
        now, policy = bot.clock.now(), bot.policy.reminders
        if self.action == "confirm":
            entry = await rota.confirm(bot.db, self.meeting_id, interaction.user.id, now, policy)
            await interaction.response.send_message(
                texts.rota_confirmed(entry.meeting.title, entry.meeting.starts_at), ephemeral=True
            )
        else:
            meeting = await get_meeting(bot.db, self.meeting_id)
            group = await groups.get_group(bot.db, meeting.group_id)
            access.require_facilitator(group, actor_of(interaction))
            entry = await rota.step_in(
                bot.db, self.meeting_id, interaction.user.id, now, policy, bot.policy
            )
            # The escalation now says who holds it, and its button goes.
            await interaction.response.edit_message(
                content=texts.rota_stepped_in(interaction.user.id, entry.meeting.title),
                view=None,
                allowed_mentions=discord.AllowedMentions.none(),
            )
        bot.alarm.wake()


async def member_now(bot: HoldfastBot, guild_id: int, user_id: int) -> Actor:
    """Someone as their server knows them now (a click in a DM carries no roles): one REST
    lookup (Get Guild Member needs no privileged intent). Not in the server: no roles."""
    guild = bot.get_guild(guild_id)
    if guild is None:
        return Actor(user_id)
    try:
        return actor_for(await guild.fetch_member(user_id))
    except discord.NotFound:
        return Actor(user_id)


class HandoverButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"handover:(?P<action>accept|decline):(?P<offer>\d+)(?::d\d+)?",
):
    """Accept / Decline on the DM asking a facilitator to take a meeting over."""

    def __init__(
        self, item: discord.ui.Button[discord.ui.View], action: str, offer_id: int
    ) -> None:
        super().__init__(item)
        self.action = action
        self.offer_id = offer_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: AnyInteraction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> HandoverButton:
        assert isinstance(item, discord.ui.Button)
        return cls(item, match["action"], int(match["offer"]))

    async def callback(self, interaction: AnyInteraction) -> None:
        await guarded(interaction, lambda: self.clicked(interaction))

    async def clicked(self, interaction: Interaction) -> None:
        bot = holdfast(interaction)
        policy = bot.policy.reminders
        try:
            if self.action == "accept":
                offer = await handovers.get_offer(bot.db, self.offer_id)
                # Still one of the group's facilitators? A click in a DM carries no roles.
                taker = (
                    await member_now(bot, offer.guild_id, interaction.user.id)
                    if offer is not None
                    else actor_of(interaction)
                )
                taken = await handovers.accept(
                    bot.db, self.offer_id, taker, bot.clock.now(), policy, bot.policy
                )
                meeting = taken.meeting
                content = texts.handover_taken(meeting.title, taken.group_name, meeting.starts_at)
            else:
                declined = await handovers.decline(
                    bot.db, self.offer_id, interaction.user.id, bot.clock.now(), policy
                )
                content = texts.handover_declined_thanks(
                    declined.offer.from_user_id, declined.meeting.title
                )
        except handovers.HandoverClosed as closed:
            # The offer's buttons go, and the message says why it is no longer open.
            content = str(closed)
        await interaction.response.edit_message(
            content=content, view=None, allowed_mentions=discord.AllowedMentions.none()
        )
        bot.alarm.wake()


class SnoozeButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"snooze:(?P<meeting>\d+):(?P<choice>hour|evening)",
):
    """ "Remind me in an hour" / "Remind me this evening" on a reminder DM."""

    def __init__(
        self, item: discord.ui.Button[discord.ui.View], meeting_id: int, choice: snooze.Choice
    ) -> None:
        super().__init__(item)
        self.meeting_id = meeting_id
        self.choice: snooze.Choice = choice

    @classmethod
    async def from_custom_id(
        cls,
        interaction: AnyInteraction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> SnoozeButton:
        assert isinstance(item, discord.ui.Button)
        choice: snooze.Choice = "evening" if match["choice"] == "evening" else "hour"
        return cls(item, int(match["meeting"]), choice)

    async def callback(self, interaction: AnyInteraction) -> None:
        await guarded(interaction, lambda: self.clicked(interaction))

    async def clicked(self, interaction: Interaction) -> None:
        bot = holdfast(interaction)
        snoozed = await snooze.snooze(
            bot.db, self.meeting_id, interaction.user.id, self.choice, bot.clock.now()
        )
        bot.alarm.wake()
        await interaction.response.send_message(texts.snooze_set(snoozed.due_at), ephemeral=True)


class Reminders(commands.Cog):
    def __init__(self, bot: HoldfastBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """A member's DM to the bot: "going", "maybe" or "can't" answers for the meeting the
        DM is about (bot/reminders/replies.py). Discord sends DM content to bots without the
        privileged message content intent; nothing of it is logged or stored."""
        bot = self.bot
        if (
            message.guild is not None
            or message.author.bot
            or message.author.id == getattr(bot.user, "id", None)
            or message.type not in (discord.MessageType.default, discord.MessageType.reply)
        ):
            return
        replied_to = message.reference.message_id if message.reference is not None else None
        try:
            reply = await replies.answer_by_word(
                bot.db,
                message.author.id,
                message.channel.id,
                message.content,
                replied_to,
                bot.clock.now(),
                bot.policy,
            )
        except Exception as error:
            # Never the DM's content.
            reply = replies.Reply(bot.failure_reply(error, "reading a member's DM as an answer"))
        if reply.answered_meeting_id is not None:
            bot.alarm.wake()
            bot.refresh_announcement_soon(reply.answered_meeting_id)
        if reply.text is None:
            return
        content, nobody = fit.clip(reply.text), discord.AllowedMentions.none()
        try:
            if reply.join_group_id is not None:
                view = join_view(reply.join_group_id)
                await message.channel.send(content, view=view, allowed_mentions=nobody)
            else:
                await message.channel.send(content, allowed_mentions=nobody)
        except discord.HTTPException:
            log.info("could not answer a member's DM (DMs closed?)")

    @commands.Cog.listener()
    async def on_app_command_completion(
        self, interaction: Interaction, command: app_commands.Command[Any, ..., Any]
    ) -> None:
        """A member whose DMs were closed when a reminder came is told, privately, once."""
        bot = self.bot
        user_id = interaction.user.id
        try:
            if not await status.should_tell_unreachable(bot.db, user_id):
                return
            await interaction.followup.send(texts.unreachable_notice(), ephemeral=True)
            async with transaction(bot.db):
                await status.mark_told(bot.db, user_id, bot.clock.now())
        except discord.HTTPException:
            log.info("could not tell a member their DMs are closed; next time")


async def setup(bot: HoldfastBot) -> None:
    for kind, renderer in cards.RENDERERS.items():
        bot.register_renderer(kind, renderer)
    bot.add_dynamic_items(RotaButton, HandoverButton, SnoozeButton)
    bot.tree.add_command(ReminderCommands(bot))
    bot.tree.add_command(RotaCommands(bot))
    await bot.add_cog(Reminders(bot))

"""/meeting (next, list, info, cancel, move, note, topic, suggestions, attendees) and the RSVP
buttons."""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import HoldfastBot
from bot.discord_port import to_embed, to_view
from bot.errors import HoldfastError, NotAMember
from bot.groups import access
from bot.groups import service as groups
from bot.groups.model import Group
from bot.meetings import cards, changes, interest, queries, rsvp
from bot.meetings.announcements import is_announcement
from bot.meetings.calendar import calendar_for_group
from bot.meetings.model import Answer, Meeting, Place, PlaceKind, RsvpCounts
from bot.meetings.recurrence import RuleError, parse_local_time, resolve_local
from bot.texts import groups as group_texts
from bot.texts import meetings as texts
from bot.zones import load_zone
from cogs import _paging as paging
from cogs._interaction import AnyInteraction, Interaction, actor_of, guarded, holdfast
from cogs.groups import group_autocomplete, join_view
from cogs.suggestions import show_group_suggestions


async def meeting_autocomplete(
    interaction: Interaction, current: str
) -> list[app_commands.Choice[int]]:
    if interaction.guild_id is None:
        return []
    bot = holdfast(interaction)
    now = bot.clock.now()
    wanted = current.casefold()
    choices: list[app_commands.Choice[int]] = []
    for group in await groups.live_groups(bot.db, interaction.guild_id):
        for meeting in await queries.upcoming_meetings(bot.db, group.id, now, limit=25):
            label = label_for(meeting)
            if wanted in label.casefold():
                choices.append(app_commands.Choice(name=label[:100], value=meeting.id))
    return choices[:25]


def label_for(meeting: Meeting) -> str:
    local = meeting.starts_at.astimezone(load_zone(meeting.zone))
    return f"{meeting.title}: {local:%a %d %b %Y, %H:%M} ({meeting.zone})"


async def meeting_in_guild(interaction: Interaction, meeting_id: int) -> Meeting:
    meeting = await queries.get_meeting(holdfast(interaction).db, meeting_id)
    if meeting.guild_id != interaction.guild_id:
        raise HoldfastError(texts.meeting_gone())
    return meeting


async def facilitated_meeting(interaction: Interaction, meeting_id: int) -> Meeting:
    meeting = await meeting_in_guild(interaction, meeting_id)
    group = await groups.get_group(holdfast(interaction).db, meeting.group_id)
    access.require_facilitator(group, actor_of(interaction))
    return meeting


def counts_text(meeting: Meeting, counts: RsvpCounts) -> str:
    return texts.counts_line(
        counts.going, counts.maybe, counts.no, counts.waitlist, meeting.capacity
    )


class RsvpButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"rsvp:(?P<meeting>\d+):(?P<answer>going|maybe|no)(?::(?P<marker>d\d+))?",
):
    """Going / Maybe / Can't make it, on announcements and on messages about a meeting."""

    def __init__(
        self,
        item: discord.ui.Button[discord.ui.View],
        meeting_id: int,
        answer: Answer,
        marker: str | None,
    ) -> None:
        super().__init__(item)
        self.meeting_id = meeting_id
        self.answer = answer
        self.marker = marker

    @classmethod
    async def from_custom_id(
        cls,
        interaction: AnyInteraction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> RsvpButton:
        assert isinstance(item, discord.ui.Button)
        return cls(item, int(match["meeting"]), Answer(match["answer"]), match["marker"])

    async def callback(self, interaction: AnyInteraction) -> None:
        await guarded(interaction, lambda: self.answer_clicked(interaction))

    async def answer_clicked(self, interaction: Interaction) -> None:
        bot = holdfast(interaction)
        try:
            result = await rsvp.answer_meeting(
                bot.db,
                self.meeting_id,
                interaction.user.id,
                self.answer,
                bot.clock.now(),
                bot.policy,
            )
        except NotAMember as refusal:
            # Most people meet a group through its announcement: offer the door right there.
            await interaction.response.send_message(
                str(refusal), view=join_view(refusal.group_id), ephemeral=True
            )
            return
        if not result.changed:
            reply = texts.answer_unchanged(result.answer.value)
        elif result.answer is Answer.WAITLIST:
            reply = texts.waitlisted(result.waitlist_position or 1)
        else:
            reply = texts.answer_recorded(
                result.answer.value, result.meeting.title, result.meeting.starts_at
            )
        if await is_announcement(bot.db, self.meeting_id, self.marker):
            # The click came from the announcement: update its counts in the same response
            # (keeping its marker, so the next click is recognised the same way).
            card = cards.announcement(result.meeting, result.counts, self.marker)
            await interaction.response.edit_message(
                embed=to_embed(card.cards[0]), view=to_view(card.buttons)
            )
            await interaction.followup.send(reply, ephemeral=True)
        else:
            await interaction.response.send_message(reply, ephemeral=True)
            bot.refresh_announcement_soon(self.meeting_id)
        # The answer re-planned this member's reminders (and anyone promoted was told).
        bot.alarm.wake()


class NextMeetingButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"next:(?P<group>\d+)(?::d\d+)?",
):
    """On a cancellation message: shows the group's next meeting."""

    def __init__(self, item: discord.ui.Button[discord.ui.View], group_id: int) -> None:
        super().__init__(item)
        self.group_id = group_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: AnyInteraction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> NextMeetingButton:
        assert isinstance(item, discord.ui.Button)
        return cls(item, int(match["group"]))

    async def callback(self, interaction: AnyInteraction) -> None:
        async def work() -> None:
            group = await groups.get_group(holdfast(interaction).db, self.group_id)
            await interaction.response.send_message(
                await next_meeting_text(holdfast(interaction), group.id, group.name), ephemeral=True
            )

        await guarded(interaction, work)


async def next_meeting_text(bot: HoldfastBot, group_id: int, group_name: str) -> str:
    upcoming = await queries.upcoming_meetings(bot.db, group_id, bot.clock.now(), limit=1)
    if not upcoming:
        return texts.no_meetings()
    return await info_text(bot, upcoming[0], group_name)


async def info_text(bot: HoldfastBot, meeting: Meeting, group_name: str) -> str:
    counts = await rsvp.count_answers(bot.db, meeting.id)
    return texts.meeting_info(
        meeting.title,
        group_name,
        meeting.starts_at,
        meeting.duration_minutes,
        cards.where(meeting),
        meeting.description,
        meeting.note,
        meeting.cancelled,
        counts_text(meeting, counts),
        meeting.topic,
    )


@app_commands.guild_only()
class MeetingCommands(app_commands.Group, name="meeting", description="The group's meetings"):
    def __init__(self, bot: HoldfastBot) -> None:
        super().__init__()
        self.bot = bot

    @app_commands.command(name="next")
    @app_commands.describe(group="Which group (empty if there is only one)")
    @app_commands.autocomplete(group=group_autocomplete)
    async def next_(self, interaction: Interaction, group: str | None = None) -> None:
        """When and where the next meeting is."""
        assert interaction.guild_id is not None
        found = await groups.resolve_group(self.bot.db, interaction.guild_id, group)
        await interaction.response.send_message(
            await next_meeting_text(self.bot, found.id, found.name), ephemeral=True
        )

    @app_commands.command(name="list")
    @app_commands.describe(group="Which group", count="How many meetings to show (1–10)")
    @app_commands.autocomplete(group=group_autocomplete)
    async def list_(
        self,
        interaction: Interaction,
        group: str | None = None,
        count: app_commands.Range[int, 1, 10] = 5,
    ) -> None:
        """The meetings coming up."""
        assert interaction.guild_id is not None
        found = await groups.resolve_group(self.bot.db, interaction.guild_id, group)
        pages = await meeting_list_pages(self.bot, found, count)
        await paging.send_pages(interaction, "meetings", found.id, pages, extra=count)

    @app_commands.command(name="info")
    @app_commands.describe(meeting="Which meeting")
    @app_commands.autocomplete(meeting=meeting_autocomplete)
    async def info(self, interaction: Interaction, meeting: int) -> None:
        """Everything about one meeting."""
        found = await meeting_in_guild(interaction, meeting)
        group = await groups.get_group(self.bot.db, found.group_id)
        await interaction.response.send_message(
            await info_text(self.bot, found, group.name), ephemeral=True
        )

    @app_commands.command(name="cancel")
    @app_commands.describe(meeting="Which meeting to cancel")
    @app_commands.autocomplete(meeting=meeting_autocomplete)
    async def cancel(self, interaction: Interaction, meeting: int) -> None:
        """For facilitators: cancel one meeting (the series carries on)."""
        found = await facilitated_meeting(interaction, meeting)
        bot = self.bot
        await interaction.response.defer(ephemeral=True, thinking=True)
        before = await queries.users_with_answers(
            bot.db, found.id, (Answer.GOING, Answer.MAYBE, Answer.WAITLIST)
        )
        change = await changes.cancel_meeting(bot.db, found, bot.clock.now(), bot.policy)
        await bot.after_meeting_changed(change.after.id)
        await interaction.followup.send(
            texts.meeting_cancelled_done(found.title, len(before)), ephemeral=True
        )

    @app_commands.command(name="move")
    @app_commands.describe(
        meeting="Which meeting to move",
        date="New date, as YYYY-MM-DD (empty: same day)",
        time="New start time in the group's time zone, e.g. 19:30 (empty: same time)",
        room="A new voice or stage channel",
        place="Or a new place or link outside Discord",
    )
    @app_commands.autocomplete(meeting=meeting_autocomplete)
    async def move(
        self,
        interaction: Interaction,
        meeting: int,
        date: str | None = None,
        time: str | None = None,
        room: discord.VoiceChannel | discord.StageChannel | None = None,
        place: app_commands.Range[str, 1, 200] | None = None,
    ) -> None:
        """For facilitators: move one meeting to another day, time or place."""
        found = await facilitated_meeting(interaction, meeting)
        bot = self.bot
        starts_at = new_start(found, date, time)
        new_place = place_from(room, place, required=False)
        await interaction.response.defer(ephemeral=True, thinking=True)
        change = await changes.move_meeting(
            bot.db, found, starts_at, new_place, bot.clock.now(), bot.policy
        )
        told = await queries.users_with_answers(
            bot.db, found.id, (Answer.GOING, Answer.MAYBE, Answer.WAITLIST)
        )
        await bot.after_meeting_changed(change.after.id)
        await interaction.followup.send(
            texts.meeting_moved_done(found.title, change.after.starts_at, len(told)),
            ephemeral=True,
        )

    @app_commands.command(name="note")
    @app_commands.describe(meeting="Which meeting", words="The note (leave empty to remove it)")
    @app_commands.rename(words="note")
    @app_commands.autocomplete(meeting=meeting_autocomplete)
    async def note(
        self,
        interaction: Interaction,
        meeting: int,
        words: app_commands.Range[str, 1, 500] | None = None,
    ) -> None:
        """For facilitators: add a short note to one meeting, e.g. a theme or a guest."""
        found = await facilitated_meeting(interaction, meeting)
        bot = self.bot
        change = await changes.set_note(bot.db, found, words, bot.clock.now(), bot.policy)
        await interaction.response.send_message(texts.note_done(found.title), ephemeral=True)
        await bot.after_meeting_changed(change.after.id)

    @app_commands.command(name="topic")
    @app_commands.describe(
        meeting="Which meeting", topic="What the group will talk about (leave empty to remove it)"
    )
    @app_commands.autocomplete(meeting=meeting_autocomplete)
    async def topic(
        self,
        interaction: Interaction,
        meeting: int,
        topic: app_commands.Range[str, 1, 200] | None = None,
    ) -> None:
        """For facilitators: set what a meeting will talk about. Nobody is messaged."""
        found = await facilitated_meeting(interaction, meeting)
        bot = self.bot
        change = await changes.set_topic(bot.db, found, topic, bot.clock.now(), bot.policy)
        await interaction.response.send_message(
            texts.topic_done(found.title, change.after.topic),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        await bot.after_meeting_changed(change.after.id)

    @app_commands.command(name="calendar")
    @app_commands.describe(group="Which group (empty if there is only one)")
    @app_commands.autocomplete(group=group_autocomplete)
    async def calendar(self, interaction: Interaction, group: str | None = None) -> None:
        """A calendar file of the group's meetings, for your phone or computer."""
        assert interaction.guild_id is not None
        bot = self.bot
        found = await groups.resolve_group(bot.db, interaction.guild_id, group)
        data = await calendar_for_group(bot.db, found, bot.clock.now())
        await interaction.response.send_message(
            texts.calendar_ready(found.name),
            file=discord.File(io.BytesIO(data), filename=texts.calendar_filename(found.name)),
            ephemeral=True,
        )

    @app_commands.command(name="suggestions")
    @app_commands.describe(group="Which group (empty if there is only one)")
    @app_commands.autocomplete(group=group_autocomplete)
    async def suggestions(self, interaction: Interaction, group: str | None = None) -> None:
        """For facilitators: topics members suggested, without their names (only you see it)."""
        assert interaction.guild_id is not None
        found = await groups.resolve_group(self.bot.db, interaction.guild_id, group)
        await show_group_suggestions(interaction, found)

    @app_commands.command(name="attendees")
    @app_commands.describe(meeting="Which meeting")
    @app_commands.autocomplete(meeting=meeting_autocomplete)
    async def attendees(self, interaction: Interaction, meeting: int) -> None:
        """For facilitators: who has answered, and what (only you see it)."""
        pages = await attendee_pages(interaction, meeting)
        await paging.send_pages(interaction, "attendees", meeting, pages)


async def meeting_list_pages(bot: HoldfastBot, group: Group, count: int) -> list[str]:
    meetings = await queries.upcoming_meetings(
        bot.db, group.id, bot.clock.now(), limit=count, include_cancelled=True
    )
    lines = [
        texts.meeting_line(m.title, m.starts_at, cards.where(m), m.cancelled) for m in meetings
    ]
    return texts.meeting_list(group.name, lines)


async def meeting_list_source(interaction: Interaction, group_id: int, count: int) -> list[str]:
    bot = holdfast(interaction)
    group = await groups.get_group(bot.db, group_id)
    if group.guild_id != interaction.guild_id:
        raise HoldfastError(group_texts.group_gone())
    return await meeting_list_pages(bot, group, min(max(count, 1), 10))


async def attendee_pages(interaction: Interaction, meeting_id: int, _: int = 0) -> list[str]:
    """Who answered what; only the group's facilitators (checked again on every page)."""
    found = await facilitated_meeting(interaction, meeting_id)
    answered = await rsvp.attendees(holdfast(interaction).db, found.id)
    return texts.attendees(
        found.title, found.starts_at, {answer.value: users for answer, users in answered.items()}
    )


def new_start(meeting: Meeting, day: str | None, at: str | None) -> datetime:
    """The moved start, read in the group's zone (what the facilitator means by "19:30")."""
    zone = load_zone(meeting.zone)
    local = meeting.starts_at.astimezone(zone)
    try:
        new_day = date.fromisoformat(day.strip()) if day else local.date()
    except ValueError:
        raise HoldfastError(texts.bad_date(day or "")) from None
    try:
        new_time = parse_local_time(at) if at else local.time().replace(tzinfo=None)
    except RuleError as error:
        raise HoldfastError(str(error)) from None
    return resolve_local(datetime.combine(new_day, new_time), zone)


def place_from(
    channel: discord.VoiceChannel | discord.StageChannel | None,
    place: str | None,
    *,
    required: bool,
) -> Place | None:
    if channel is not None and place:
        raise HoldfastError(texts.place_both())
    if channel is not None:
        if isinstance(channel, discord.StageChannel):
            return Place.channel(PlaceKind.STAGE, channel.id)
        return Place.channel(PlaceKind.VOICE, channel.id)
    if place:
        return Place.external(place)
    if required:
        raise HoldfastError(texts.place_missing())
    return None


def required_place(
    channel: discord.VoiceChannel | discord.StageChannel | None, place: str | None
) -> Place:
    found = place_from(channel, place, required=True)
    assert found is not None
    return found


class Meetings(commands.Cog):
    def __init__(self, bot: HoldfastBot) -> None:
        self.bot = bot


async def setup(bot: HoldfastBot) -> None:
    for kind, renderer in {**cards.RENDERERS, **interest.RENDERERS}.items():
        bot.register_renderer(kind, renderer, current=cards.CURRENT.get(kind))
    paging.register("meetings", meeting_list_source)
    paging.register("attendees", attendee_pages)
    bot.add_dynamic_items(RsvpButton, NextMeetingButton, paging.PageButton)
    bot.tree.add_command(MeetingCommands(bot))
    await bot.add_cog(Meetings(bot))

"""/series (create, edit, end, list): a group's regular meetings, previewed before saving."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import HoldfastBot
from bot.errors import HoldfastError
from bot.groups import access
from bot.groups import service as groups
from bot.groups.model import Group
from bot.meetings import queries, series
from bot.meetings.model import Series, SeriesDraft
from bot.meetings.recurrence import Frequency, Rule, RuleError, parse_local_time, parse_rule
from bot.texts import groups as group_texts
from bot.texts import meetings as texts
from cogs import _paging as paging
from cogs._interaction import AnyInteraction, Interaction, actor_of, guarded, holdfast
from cogs.groups import group_autocomplete
from cogs.meetings import place_from, required_place

DEFAULT_MINUTES = 90


def rule_phrases() -> list[str]:
    phrases: list[str] = []
    for weekday in range(7):
        for ordinal in (1, 2, 3, 4):
            phrases.append(texts.rule_words("nth_weekday", weekday, ordinal, None))
        phrases.append(texts.rule_words("last_weekday", weekday, None, None))
        phrases.append(texts.rule_words("weekly", weekday, None, None))
        phrases.append(texts.rule_words("fortnightly", weekday, None, None))
    phrases += [f"day {d}" for d in range(1, 32)]
    return phrases


RULE_PHRASES = rule_phrases()


async def when_autocomplete(
    interaction: Interaction, current: str
) -> list[app_commands.Choice[str]]:
    words = current.casefold().split()
    found = [p for p in RULE_PHRASES if all(w in p.casefold() for w in words)]
    return [app_commands.Choice(name=p, value=p) for p in found[:25]]


async def series_autocomplete(
    interaction: Interaction, current: str
) -> list[app_commands.Choice[int]]:
    if interaction.guild_id is None:
        return []
    db = holdfast(interaction).db
    wanted = current.casefold()
    choices: list[app_commands.Choice[int]] = []
    for group in await groups.live_groups(db, interaction.guild_id):
        for item in await queries.live_series(db, group.id):
            label = f"{item.title} ({group.name}, {describe(item.rule)})"
            if wanted in label.casefold():
                choices.append(app_commands.Choice(name=label[:100], value=item.id))
    return choices[:25]


def describe(rule: Rule) -> str:
    return texts.rule_sentence(rule.frequency.value, rule.weekday, rule.ordinal, rule.day)


def read_rule(when: str) -> Rule:
    try:
        rule = parse_rule(when)
    except RuleError as error:
        raise HoldfastError(str(error)) from None
    if rule.frequency is Frequency.CUSTOM:
        raise HoldfastError(texts.custom_rule_refused())
    return rule


def read_time(at: str) -> dt.time:
    try:
        return parse_local_time(at)
    except RuleError as error:
        raise HoldfastError(str(error)) from None


class DraftButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"series:(?P<action>save|discard):(?P<draft>\d+)",
):
    """Save / Don't save under a series preview. Drafts are stored, so this survives restarts."""

    def __init__(self, item: discord.ui.Button[discord.ui.View], action: str, draft_id: int):
        super().__init__(item)
        self.action = action
        self.draft_id = draft_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: AnyInteraction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> DraftButton:
        assert isinstance(item, discord.ui.Button)
        return cls(item, match["action"], int(match["draft"]))

    async def callback(self, interaction: AnyInteraction) -> None:
        await guarded(interaction, lambda: self.decide(interaction))

    async def decide(self, interaction: Interaction) -> None:
        bot = holdfast(interaction)
        stored = await series.take_draft(bot.db, self.draft_id)
        if stored.created_by != interaction.user.id:
            raise HoldfastError(texts.draft_not_yours())
        group = await groups.get_group(bot.db, stored.group_id)
        access.require_facilitator(group, actor_of(interaction))
        if self.action == "discard":
            await series.discard_draft(bot.db, stored.id)
            await interaction.response.edit_message(content=texts.series_discarded(), view=None)
            return
        # Planning a big group's meetings and reminders can take longer than Discord's
        # 3 seconds to answer a click.
        await interaction.response.defer()
        now = bot.clock.now()
        if stored.series_id is None:
            change = await series.create_series(
                bot.db, group, stored.draft, interaction.user.id, now, bot.policy, stored.id
            )
            upcoming = await queries.series_meetings(bot.db, change.series.id, after=now)
            message = texts.series_saved(
                change.series.title, upcoming[0].starts_at if upcoming else None
            )
        else:
            current = await queries.get_series(bot.db, stored.series_id)
            change = await series.edit_series(
                bot.db, current, stored.draft, now, bot.policy, stored.id
            )
            message = texts.series_edited(change.series.title, len(change.retimed))
        await interaction.edit_original_response(content=message, view=None)
        await bot.after_series_changed(change)


def preview_view(draft_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(
        discord.ui.Button(
            label=texts.save_button(),
            style=discord.ButtonStyle.success,
            custom_id=f"series:save:{draft_id}",
        )
    )
    view.add_item(
        discord.ui.Button(
            label=texts.discard_button(),
            style=discord.ButtonStyle.secondary,
            custom_id=f"series:discard:{draft_id}",
        )
    )
    return view


async def show_preview(
    interaction: Interaction, group: Group, draft: SeriesDraft, series_id: int | None
) -> None:
    bot = holdfast(interaction)
    now = bot.clock.now()
    draft = series.check_draft(draft)
    starts = series.preview(draft, group.timezone, now)
    draft_id = await series.save_draft(
        bot.db, group, draft, interaction.user.id, now, series_id=series_id
    )
    note = texts.rule_day_note(draft.rule.day) if draft.rule.day else None
    await interaction.response.send_message(
        texts.preview(draft.title, describe(draft.rule), group.timezone, starts, note),
        view=preview_view(draft_id),
        ephemeral=True,
    )


@app_commands.guild_only()
@app_commands.default_permissions(manage_events=True)
class SeriesCommands(app_commands.Group, name="series", description="A group's regular meetings"):
    def __init__(self, bot: HoldfastBot) -> None:
        super().__init__()
        self.bot = bot

    async def _group(self, interaction: Interaction, name: str | None) -> Group:
        assert interaction.guild_id is not None
        group = await groups.resolve_group(self.bot.db, interaction.guild_id, name)
        access.require_facilitator(group, actor_of(interaction))
        return group

    async def _series(self, interaction: Interaction, series_id: int) -> tuple[Group, Series]:
        found = await queries.get_series(self.bot.db, series_id)
        group = await groups.get_group(self.bot.db, found.group_id)
        if group.guild_id != interaction.guild_id:
            raise HoldfastError(texts.series_not_in_server())
        access.require_facilitator(group, actor_of(interaction))
        return group, found

    @app_commands.command(name="create")
    @app_commands.describe(
        title="What the meeting is called, e.g. Monthly meet-up",
        when="How often, e.g. last Thursday, second Tuesday, day 15, fortnightly Friday",
        time="Start time in the group's time zone, e.g. 19:30",
        group="Which group (empty if there is only one)",
        minutes="How long it lasts, in minutes",
        room="A voice or stage channel to meet in",
        place="Or a place or link outside Discord",
        description="A few words about the meeting",
        places="Optional limit on places; others join a waiting list",
    )
    @app_commands.autocomplete(when=when_autocomplete, group=group_autocomplete)
    async def create(
        self,
        interaction: Interaction,
        title: app_commands.Range[str, 1, 80],
        when: str,
        time: str,
        group: str | None = None,
        minutes: app_commands.Range[int, 15, 720] = DEFAULT_MINUTES,
        room: discord.VoiceChannel | discord.StageChannel | None = None,
        place: app_commands.Range[str, 1, 200] | None = None,
        description: app_commands.Range[str, 1, 1000] | None = None,
        places: app_commands.Range[int, 1, 500] | None = None,
    ) -> None:
        """For facilitators: set up regular meetings; you'll see the dates before saving."""
        found = await self._group(interaction, group)
        draft = SeriesDraft(
            title=title,
            rule=read_rule(when),
            local_time=read_time(time),
            duration_minutes=minutes,
            place=required_place(room, place),
            description=description,
            capacity=places,
        )
        await show_preview(interaction, found, draft, series_id=None)

    @app_commands.command(name="edit")
    @app_commands.describe(
        series_="Which series",
        title="A new title",
        when="A new rule, e.g. last Thursday",
        time="A new start time",
        minutes="A new length in minutes",
        room="A new voice or stage channel",
        place="Or a new place or link",
        description="New words about the meeting",
        places="A new limit on places",
    )
    @app_commands.rename(series_="series")
    @app_commands.autocomplete(series_=series_autocomplete)
    @app_commands.autocomplete(when=when_autocomplete)
    async def edit(
        self,
        interaction: Interaction,
        series_: int,
        title: app_commands.Range[str, 1, 80] | None = None,
        when: str | None = None,
        time: str | None = None,
        minutes: app_commands.Range[int, 15, 720] | None = None,
        room: discord.VoiceChannel | discord.StageChannel | None = None,
        place: app_commands.Range[str, 1, 200] | None = None,
        description: app_commands.Range[str, 1, 1000] | None = None,
        places: app_commands.Range[int, 1, 500] | None = None,
    ) -> None:
        """For facilitators: change a series from now on; moved meetings keep their move."""
        group, current = await self._series(interaction, series_)
        draft = SeriesDraft(
            title=title or current.title,
            rule=read_rule(when) if when else current.rule,
            local_time=read_time(time) if time else current.local_time,
            duration_minutes=minutes or current.duration_minutes,
            place=place_from(room, place, required=False) or current.place,
            description=description if description is not None else current.description,
            capacity=places if places is not None else current.capacity,
        )
        await show_preview(interaction, group, draft, series_id=current.id)

    @app_commands.command(name="end")
    @app_commands.describe(series_="Which series to end")
    @app_commands.rename(series_="series")
    @app_commands.autocomplete(series_=series_autocomplete)
    async def end(self, interaction: Interaction, series_: int) -> None:
        """For facilitators: stop a series. Meetings still to come are cancelled."""
        _, current = await self._series(interaction, series_)
        bot = self.bot
        await interaction.response.defer(ephemeral=True, thinking=True)
        change = await series.end_series(bot.db, current, bot.clock.now(), bot.policy)
        await bot.after_series_changed(change)
        await interaction.followup.send(
            texts.series_ended(current.title, len(change.removed)), ephemeral=True
        )

    @app_commands.command(name="list")
    @app_commands.describe(group="Which group")
    @app_commands.autocomplete(group=group_autocomplete)
    async def list_(self, interaction: Interaction, group: str | None = None) -> None:
        """The group's regular meetings."""
        assert interaction.guild_id is not None
        found = await groups.resolve_group(self.bot.db, interaction.guild_id, group)
        pages = await series_pages(self.bot, found)
        await paging.send_pages(interaction, "series", found.id, pages)


async def series_pages(bot: HoldfastBot, group: Group) -> list[str]:
    lines = [
        texts.series_line(s.title, describe(s.rule), s.local_time.strftime("%H:%M"), s.zone)
        for s in await queries.live_series(bot.db, group.id)
    ]
    return texts.series_list(group.name, lines)


async def series_source(interaction: Interaction, group_id: int, _: int) -> list[str]:
    bot = holdfast(interaction)
    group = await groups.get_group(bot.db, group_id)
    if group.guild_id != interaction.guild_id:
        raise HoldfastError(group_texts.group_gone())
    return await series_pages(bot, group)


class SeriesCog(commands.Cog):
    def __init__(self, bot: HoldfastBot) -> None:
        self.bot = bot


async def setup(bot: HoldfastBot) -> None:
    paging.register("series", series_source)
    bot.add_dynamic_items(DraftButton, paging.PageButton)
    bot.tree.add_command(SeriesCommands(bot))
    await bot.add_cog(SeriesCog(bot))

"""/suggest (a member's private topic suggestions, with Withdraw buttons) and the menu under
`/meeting suggestions` that marks one as used. Nobody's name ever reaches the facilitators."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import HoldfastBot
from bot.delivery.port import Button
from bot.discord_port import to_view
from bot.errors import HoldfastError
from bot.groups import access, suggestions
from bot.groups import service as groups
from bot.groups.model import Group
from bot.texts import groups as group_texts
from bot.texts import suggestions as texts
from cogs import _paging as paging
from cogs._interaction import AnyInteraction, Interaction, actor_of, guarded, holdfast
from cogs.groups import group_autocomplete

KIND = "suggestions"
"""The facilitators' list, for cogs/_paging.py (subject: the group's id)."""


def withdraw_custom_id(suggestion_id: int, group_id: int) -> str:
    return f"suggest:withdraw:{suggestion_id}:{group_id}"


def use_custom_id(group_id: int, page: int) -> str:
    return f"suggest:use:{group_id}:{page}"


async def suggestion_group(interaction: Interaction, name: str | None) -> Group:
    """The group named, else the one group the member is in, else the server's only group."""
    bot = holdfast(interaction)
    assert interaction.guild_id is not None
    if not name:
        mine = await groups.groups_of_member(bot.db, interaction.guild_id, interaction.user.id)
        if len(mine) == 1:
            return mine[0]
        if len(mine) > 1:
            raise HoldfastError(group_texts.which_group([g.name for g in mine]))
    return await groups.resolve_group(bot.db, interaction.guild_id, name)


async def own_message(interaction: AnyInteraction, group_id: int) -> dict[str, Any]:
    """The member's own suggestions (in one group, or 0: all of this server's), a Withdraw
    button for each of the first five."""
    bot = holdfast(interaction)
    assert interaction.guild_id is not None
    own = await suggestions.own_suggestions(bot.db, interaction.guild_id, interaction.user.id)
    if group_id:
        own = [s for s in own if s.group_id == group_id]
    shown = own[: suggestions.MAX_OWN_PER_GROUP]
    buttons = tuple(
        Button(
            label=texts.withdraw_button(number),
            custom_id=withdraw_custom_id(s.id, group_id),
            style="secondary",
        )
        for number, s in enumerate(shown, 1)
    )
    return {
        "content": texts.own_list([(s.group_name, s.text) for s in shown], len(own) - len(shown)),
        "view": to_view(buttons),
        "allowed_mentions": discord.AllowedMentions.none(),
    }


class WithdrawButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"suggest:withdraw:(?P<suggestion>\d+):(?P<group>\d+)",
):
    """Withdraw, under a member's own list: only its author can remove a suggestion."""

    def __init__(
        self, item: discord.ui.Button[discord.ui.View], suggestion_id: int, group_id: int
    ) -> None:
        super().__init__(item)
        self.suggestion_id, self.group_id = suggestion_id, group_id

    @classmethod
    async def from_custom_id(
        cls, interaction: AnyInteraction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> WithdrawButton:
        assert isinstance(item, discord.ui.Button)
        return cls(item, int(match["suggestion"]), int(match["group"]))

    async def callback(self, interaction: AnyInteraction) -> None:
        async def work() -> None:
            bot = holdfast(interaction)
            own = await suggestions.own_suggestions(
                bot.db, interaction.guild_id or 0, interaction.user.id
            )
            text = next((s.text for s in own if s.id == self.suggestion_id), None)
            gone = await suggestions.withdraw(bot.db, self.suggestion_id, interaction.user.id)
            note = texts.withdrawn(text) if gone and text else texts.already_withdrawn()
            message = await own_message(interaction, self.group_id)
            message["content"] = f"{note}\n\n{message['content']}"
            await interaction.response.edit_message(**message)

        await guarded(interaction, work)


async def facilitated_group(interaction: AnyInteraction, group_id: int) -> Group:
    group = await groups.get_group(holdfast(interaction).db, group_id)
    if group.guild_id != interaction.guild_id:
        raise HoldfastError(group_texts.group_gone())
    # Asked on every page and every choice: the role may have gone since the list was shown.
    access.require_facilitator(group, actor_of(interaction))
    return group


async def group_pages(interaction: AnyInteraction, group_id: int, _: int = 0) -> list[str]:
    group = await facilitated_group(interaction, group_id)
    waiting = await suggestions.group_suggestions(holdfast(interaction).db, group)
    return texts.group_pages(group.name, [s.text for s in waiting], suggestions.PER_PAGE)


async def use_menu(
    interaction: AnyInteraction, group_id: int, _: int, page: int
) -> Sequence[discord.ui.Item[Any]]:
    """Under a page of the facilitators' list: a menu of that page's suggestions."""
    group = await facilitated_group(interaction, group_id)
    waiting = await suggestions.group_suggestions(holdfast(interaction).db, group)
    first = page * suggestions.PER_PAGE
    on_page = list(enumerate(waiting, 1))[first : first + suggestions.PER_PAGE]
    if not on_page:
        return ()
    menu: discord.ui.Select[discord.ui.View] = discord.ui.Select(
        custom_id=use_custom_id(group_id, page),
        placeholder=texts.use_placeholder(),
        options=[
            discord.SelectOption(label=texts.use_option(number, s.text), value=str(s.id))
            for number, s in on_page
        ],
    )
    return (menu,)


class UseMenu(
    discord.ui.DynamicItem[discord.ui.Select[discord.ui.View]],
    template=r"suggest:use:(?P<group>\d+):(?P<page>\d+)",
):
    """Choosing a suggestion in the facilitators' list marks it used: it leaves the list."""

    def __init__(self, item: discord.ui.Select[discord.ui.View], group_id: int, page: int) -> None:
        super().__init__(item)
        self.group_id, self.page = group_id, page

    @classmethod
    async def from_custom_id(
        cls, interaction: AnyInteraction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> UseMenu:
        assert isinstance(item, discord.ui.Select)
        return cls(item, int(match["group"]), int(match["page"]))

    async def callback(self, interaction: AnyInteraction) -> None:
        async def work() -> None:
            bot = holdfast(interaction)
            group = await facilitated_group(interaction, self.group_id)
            picked = [int(v) for v in self.item.values if v.isdigit()]
            used = [await suggestions.mark_used(bot.db, group, p) for p in picked]
            pages = await group_pages(interaction, group.id)
            page = min(self.page, len(pages) - 1)
            await paging.show_page(interaction, KIND, group.id, 0, page, pages)
            done = [u for u in used if u is not None]
            note = texts.marked_used(done[0].text) if done else texts.already_used()
            await interaction.followup.send(
                note, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )

        await guarded(interaction, work)


async def show_group_suggestions(interaction: Interaction, group: Group) -> None:
    """`/meeting suggestions`: the group's list, privately, for its facilitators."""
    access.require_facilitator(group, actor_of(interaction))
    pages = await group_pages(interaction, group.id)
    await paging.send_pages(interaction, KIND, group.id, pages)


class Suggestions(commands.Cog):
    def __init__(self, bot: HoldfastBot) -> None:
        self.bot = bot

    @app_commands.command(name="suggest")
    @app_commands.describe(
        topic="Something you'd like the group to talk about (empty: see your suggestions)",
        group="Which of your groups (you can leave this empty if you're in one)",
    )
    @app_commands.autocomplete(group=group_autocomplete)
    @app_commands.guild_only()
    async def suggest(
        self,
        interaction: Interaction,
        topic: app_commands.Range[str, 1, 200] | None = None,
        group: str | None = None,
    ) -> None:
        """Suggest a topic for a meeting, privately: facilitators see it without your name."""
        bot = self.bot
        if topic is None:
            found = await suggestion_group(interaction, group) if group else None
            parts = await own_message(interaction, found.id if found else 0)
            if parts["view"] is None:
                del parts["view"]
            await interaction.response.send_message(**parts, ephemeral=True)
            return
        chosen = await suggestion_group(interaction, group)
        result = await suggestions.suggest(
            bot.db, chosen, interaction.user.id, topic, bot.clock.now()
        )
        await interaction.response.send_message(
            texts.suggested(chosen.name, result.suggestion.text, result.changed),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )


async def setup(bot: HoldfastBot) -> None:
    paging.register(KIND, group_pages, use_menu)
    bot.add_dynamic_items(WithdrawButton, UseMenu, paging.PageButton)
    await bot.add_cog(Suggestions(bot))

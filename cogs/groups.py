"""/group (create, edit, list, archive, join, leave, rules), the Join button, and /help."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import HoldfastBot
from bot.attendance import service as attendance
from bot.delivery.port import Button
from bot.discord_port import to_embed, to_view
from bot.errors import HoldfastError
from bot.groups import access
from bot.groups import rules as group_rules
from bot.groups import service as groups
from bot.groups.model import Group, GroupChange, GroupSettings
from bot.meetings import rsvp, series
from bot.meetings.cards import join_custom_id
from bot.meetings.welcome import welcome as welcome_message
from bot.texts import groups as texts
from bot.texts import welcome as welcome_texts
from bot.zones import zone_suggestions
from cogs import _forms as forms
from cogs import _paging as paging
from cogs._forms import StatelessModal
from cogs._interaction import AnyInteraction, Interaction, actor_of, guarded, holdfast


async def group_autocomplete(
    interaction: Interaction, current: str
) -> list[app_commands.Choice[str]]:
    if interaction.guild_id is None:
        return []
    found = await groups.live_groups(holdfast(interaction).db, interaction.guild_id)
    wanted = current.casefold()
    return [
        app_commands.Choice(name=g.name, value=g.name) for g in found if wanted in g.name.casefold()
    ][:25]


async def timezone_autocomplete(
    interaction: Interaction, current: str
) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=z, value=z) for z in zone_suggestions(current)]


def join_view(group_id: int) -> discord.ui.View:
    view = to_view(
        (Button(label=texts.join_button(), custom_id=join_custom_id(group_id), style="success"),)
    )
    assert view is not None
    return view


def welcome_embed(group: Group) -> discord.Embed:
    return discord.Embed(
        title=texts.welcome_card_title(group.name),
        description=texts.welcome_card_text(),
        colour=0x4E7D6A,
    )


class JoinButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"join:(?P<group>\d+)(?::d\d+)?",
):
    """The persistent "Join this group" button on a group's welcome message."""

    def __init__(self, group_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=texts.join_button(),
                style=discord.ButtonStyle.success,
                custom_id=join_custom_id(group_id),
            )
        )
        self.group_id = group_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: AnyInteraction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> JoinButton:
        assert isinstance(item, discord.ui.Button)
        return cls(int(match["group"]))

    async def callback(self, interaction: AnyInteraction) -> None:
        async def work() -> None:
            group = await groups.get_group(holdfast(interaction).db, self.group_id)
            await join(interaction, group)

        await guarded(interaction, work)


async def join(interaction: Interaction, group: Group) -> None:
    """Join, then a warm welcome: by DM where possible, otherwise only to them here."""
    bot = holdfast(interaction)
    # Discord waits three seconds for the first answer, and joining writes (the member's
    # reminders are planned): when a crowd joins at once the writes queue, so answer first.
    await interaction.response.defer(ephemeral=True, thinking=True)
    now = bot.clock.now()
    membership = await groups.join_group(bot.db, group, interaction.user.id, now, bot.policy)
    if not membership.changed:
        await interaction.followup.send(texts.already_joined(group.name), ephemeral=True)
        return
    # The group's ground rules and its next meeting, with the buttons to answer (and, while
    # the group notes who came, what is noted and why).
    noting = await attendance.welcome_note(bot.db, membership.group)
    welcome = await welcome_message(bot.db, membership.group, now, noting)
    parts: dict[str, Any] = {
        "embed": to_embed(welcome.cards[0]),
        "allowed_mentions": discord.AllowedMentions.none(),
    }
    if (view := to_view(welcome.buttons)) is not None:
        parts["view"] = view
    try:
        await interaction.user.send(**parts)
    except discord.HTTPException:
        # DMs closed: the welcome still reaches them, privately, here.
        await interaction.followup.send(**parts, ephemeral=True)
        return
    await interaction.followup.send(texts.joined_short(group.name), ephemeral=True)


@app_commands.guild_only()
class GroupCommands(app_commands.Group, name="group", description="Support groups in this server"):
    def __init__(self, bot: HoldfastBot) -> None:
        super().__init__()
        self.bot = bot

    @app_commands.command(name="create")
    @app_commands.describe(
        name="What the group is called, e.g. North adopters",
        announcements="Where meetings are announced",
        facilitator_role="People with this role run the group's meetings",
        facilitators_channel="Optional private channel for facilitators",
        timezone="Time zone meetings are planned in (default: the server's)",
    )
    @app_commands.autocomplete(timezone=timezone_autocomplete)
    async def create(
        self,
        interaction: Interaction,
        name: app_commands.Range[str, 1, 60],
        announcements: discord.TextChannel,
        facilitator_role: discord.Role,
        facilitators_channel: discord.TextChannel | None = None,
        timezone: str | None = None,
    ) -> None:
        """For admins: start a new support group in this server."""
        access.require_admin(actor_of(interaction))
        assert interaction.guild_id is not None
        bot = self.bot
        group = await groups.create_group(
            bot.db,
            interaction.guild_id,
            GroupSettings(
                name=name,
                announce_channel_id=announcements.id,
                facilitator_role_id=facilitator_role.id,
                facilitator_channel_id=facilitators_channel.id if facilitators_channel else None,
                timezone=timezone or bot.settings.DEFAULT_TIMEZONE,
            ),
            bot.clock.now(),
        )
        await interaction.response.defer(ephemeral=True, thinking=True)
        reply = texts.group_created(
            group.name, group.announce_channel_id, group.facilitator_role_id, group.timezone
        )
        problems: list[str] = []
        try:
            posted = await bot.get_partial_messageable(group.announce_channel_id).send(
                embed=welcome_embed(group), view=join_view(group.id)
            )
        except discord.HTTPException:
            problems.append(texts.channel_missing(group.announce_channel_id))
        else:
            await groups.set_welcome_message(
                bot.db, group, posted.channel.id, posted.id, bot.clock.now()
            )
        if (ping := bot.role_ping_problem(group)) is not None:
            problems.append(ping)
        if problems:
            await groups.record_problem(bot.db, group, problems[0], bot.clock.now())
        reply += "".join(f"\n⚠️ {problem}" for problem in problems)
        await interaction.followup.send(reply, ephemeral=True)

    @app_commands.command(name="edit")
    @app_commands.describe(
        group="Which group",
        name="A new name",
        announcements="A new announcements channel",
        facilitator_role="A new facilitator role",
        facilitators_channel="A new private facilitators' channel",
        timezone="A new time zone",
    )
    @app_commands.autocomplete(group=group_autocomplete, timezone=timezone_autocomplete)
    async def edit(
        self,
        interaction: Interaction,
        group: str,
        name: app_commands.Range[str, 1, 60] | None = None,
        announcements: discord.TextChannel | None = None,
        facilitator_role: discord.Role | None = None,
        facilitators_channel: discord.TextChannel | None = None,
        timezone: str | None = None,
    ) -> None:
        """For admins: change a group's name, channels, facilitator role or time zone."""
        access.require_admin(actor_of(interaction))
        assert interaction.guild_id is not None
        found = await groups.resolve_group(self.bot.db, interaction.guild_id, group)
        bot = self.bot
        await interaction.response.defer(ephemeral=True, thinking=True)
        updated = await series.change_group(
            bot.db,
            found,
            GroupChange(
                name=name,
                announce_channel_id=announcements.id if announcements else None,
                facilitator_role_id=facilitator_role.id if facilitator_role else None,
                facilitator_channel_id=facilitators_channel.id if facilitators_channel else None,
                timezone=timezone,
            ),
            bot.clock.now(),
            bot.policy,
        )
        for change in updated.series_changes:
            await bot.after_series_changed(change)
        reply = texts.group_edited(updated.group.name)
        if (ping := bot.role_ping_problem(updated.group)) is not None:
            await groups.record_problem(bot.db, updated.group, ping, bot.clock.now())
            reply += f"\n⚠️ {ping}"
        await interaction.followup.send(reply, ephemeral=True)

    @app_commands.command(name="list")
    async def list_(self, interaction: Interaction) -> None:
        """See the groups in this server."""
        assert interaction.guild_id is not None
        pages = await group_pages(interaction, interaction.guild_id)
        await paging.send_pages(interaction, "groups", interaction.guild_id, pages)

    @app_commands.command(name="archive")
    @app_commands.describe(group="Which group to close")
    @app_commands.autocomplete(group=group_autocomplete)
    async def archive(self, interaction: Interaction, group: str) -> None:
        """For admins: close a group. Nothing more is announced for it."""
        access.require_admin(actor_of(interaction))
        assert interaction.guild_id is not None
        found = await groups.resolve_group(self.bot.db, interaction.guild_id, group)
        closed = await series.close_group(self.bot.db, found, self.bot.clock.now(), self.bot.policy)
        await interaction.response.send_message(
            texts.group_archived_done(closed.name), ephemeral=True
        )

    @app_commands.command(name="join")
    @app_commands.describe(group="Which group (you can leave this empty if there is only one)")
    @app_commands.autocomplete(group=group_autocomplete)
    async def join_(self, interaction: Interaction, group: str | None = None) -> None:
        """Join a support group: hear about its meetings and say if you can come."""
        assert interaction.guild_id is not None
        found = await groups.resolve_group(self.bot.db, interaction.guild_id, group)
        await join(interaction, found)

    @app_commands.command(name="rules")
    @app_commands.describe(group="Which group (you can leave this empty if there is only one)")
    @app_commands.autocomplete(group=group_autocomplete)
    async def rules(self, interaction: Interaction, group: str | None = None) -> None:
        """The group's ground rules: what everyone agrees to, so meetings feel safe."""
        assert interaction.guild_id is not None
        found = await groups.resolve_group(self.bot.db, interaction.guild_id, group)
        parts: dict[str, Any] = {
            "content": rules_text(found),
            "ephemeral": True,
            "allowed_mentions": discord.AllowedMentions.none(),
        }
        if access.may_facilitate(found, actor_of(interaction)):
            parts["view"] = edit_rules_view(found.id)
        await interaction.response.send_message(**parts)

    @app_commands.command(name="leave")
    @app_commands.describe(group="Which group to leave")
    @app_commands.autocomplete(group=group_autocomplete)
    async def leave(self, interaction: Interaction, group: str | None = None) -> None:
        """Leave a group. You'll stop hearing about its meetings."""
        assert interaction.guild_id is not None
        bot = self.bot
        found = await groups.resolve_group(bot.db, interaction.guild_id, group)
        result = await rsvp.leave_group(
            bot.db, found, interaction.user.id, bot.clock.now(), bot.policy
        )
        message = texts.left(found.name) if result.changed else texts.not_in_group(found.name)
        await interaction.response.send_message(message, ephemeral=True)


def rules_text(group: Group) -> str:
    return welcome_texts.rules_shown(
        group.name, group_rules.rules_of(group), is_default=group.rules is None
    )


def edit_rules_custom_id(group_id: int) -> str:
    return f"rules:edit:{group_id}"


def edit_rules_view(group_id: int) -> discord.ui.View:
    view = to_view(
        (Button(label=welcome_texts.edit_rules_button(), custom_id=edit_rules_custom_id(group_id)),)
    )
    assert view is not None
    return view


class EditRulesButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"rules:edit:(?P<group>\d+)",
):
    """Edit, under `/group rules` for the group's facilitators: opens the rules in a form."""

    def __init__(self, item: discord.ui.Button[discord.ui.View], group_id: int) -> None:
        super().__init__(item)
        self.group_id = group_id

    @classmethod
    async def from_custom_id(
        cls, interaction: AnyInteraction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> EditRulesButton:
        assert isinstance(item, discord.ui.Button)
        return cls(item, int(match["group"]))

    async def callback(self, interaction: AnyInteraction) -> None:
        async def work() -> None:
            group = await groups.get_group(holdfast(interaction).db, self.group_id)
            # Asked again on the click: the role may have gone since the rules were shown.
            access.require_facilitator(group, actor_of(interaction))
            await forms.open_form(interaction, RulesModal(group))

        await guarded(interaction, work)


RULES_FIELD = "rules"
RULES_FORM_PREFIX = "rules:form:"


def rules_form_id(group_id: int, token: str) -> str:
    """The rules form's custom id: the group, so a submit saves even after a restart, and a
    random token (16 hex digits), so two facilitators' open forms never share an id."""
    return f"{RULES_FORM_PREFIX}{group_id}:{token}"


class RulesModal(StatelessModal):
    """The rules as they are now, to change; submitting it empty goes back to the default
    (`save_rules`, from the custom id alone)."""

    def __init__(self, group: Group) -> None:
        super().__init__(
            title=welcome_texts.rules_modal_title(),
            custom_id=rules_form_id(group.id, secrets.token_hex(8)),
        )
        self.add_item(
            discord.ui.TextInput(
                label=welcome_texts.rules_field_label(),
                style=discord.TextStyle.paragraph,
                required=False,
                max_length=group_rules.MAX_RULES,
                default=group_rules.rules_of(group),
                placeholder=welcome_texts.rules_field_placeholder(),
                custom_id=RULES_FIELD,
            )
        )


async def save_rules(
    interaction: Interaction, match: re.Match[str], values: Mapping[str, str]
) -> None:
    """A submitted rules form: the new rules, if the person still facilitates the group."""
    bot = holdfast(interaction)
    group = await groups.get_group(bot.db, int(match["group"]))
    access.require_facilitator(group, actor_of(interaction))
    saved = await group_rules.set_rules(bot.db, group, values.get(RULES_FIELD), bot.clock.now())
    await interaction.response.send_message(
        welcome_texts.rules_saved(saved.name, is_default=saved.rules is None),
        ephemeral=True,
        allowed_mentions=discord.AllowedMentions.none(),
    )


RULES_FORM = forms.Form(
    name="group rules",
    prefix=RULES_FORM_PREFIX,
    # At most 18 digits: any group id that matches fits SQLite's integer.
    template=re.compile(re.escape(RULES_FORM_PREFIX) + r"(?P<group>\d{1,18}):[0-9a-f]{16}"),
    handle=save_rules,
    field=RULES_FIELD,
)


async def group_pages(interaction: Interaction, guild_id: int, _: int = 0) -> list[str]:
    """The server's groups; admins also see each group's problems."""
    bot = holdfast(interaction)
    if guild_id != interaction.guild_id:
        raise HoldfastError(texts.group_gone())
    lines = []
    actor = actor_of(interaction)
    for group in await groups.live_groups(bot.db, guild_id):
        problem = await bot.check_group_health(group)
        count = (
            len(await groups.member_ids(bot.db, group))
            if access.may_see_member_count(group, actor)
            else None
        )
        lines.append(
            texts.group_line(
                group.name,
                group.announce_channel_id,
                group.facilitator_role_id,
                group.timezone,
                count,
                problem if actor.is_admin else None,
            )
        )
    return texts.group_list(lines)


class Groups(commands.Cog):
    def __init__(self, bot: HoldfastBot) -> None:
        self.bot = bot

    @app_commands.command(name="help")
    async def help(self, interaction: Interaction) -> None:
        """What you can do with Holdfast here."""
        bot = self.bot
        actor = actor_of(interaction)
        names: list[str] = []
        facilitates = False
        if interaction.guild_id is not None:
            names = [
                g.name
                for g in await groups.groups_of_member(
                    bot.db, interaction.guild_id, interaction.user.id
                )
            ]
            facilitates = any(
                access.may_facilitate(g, actor)
                for g in await groups.live_groups(bot.db, interaction.guild_id)
            )
        text = texts.help_member(names)
        if facilitates:
            text += texts.help_facilitator()
        if actor.is_admin:
            text += texts.help_admin()
        await interaction.response.send_message(text, ephemeral=True)


async def setup(bot: HoldfastBot) -> None:
    paging.register("groups", group_pages)
    bot.add_dynamic_items(JoinButton, EditRulesButton, paging.PageButton)
    forms.register(bot, RULES_FORM)
    bot.tree.add_command(GroupCommands(bot))
    await bot.add_cog(Groups(bot))

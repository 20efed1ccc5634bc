"""/checkin, /mycheckins, /reachout, /mydata, /trends and /audit, and the check-in buttons.

The check-in card is an ephemeral message: three rows of five answers, "Add a few words" and
Save. What has been picked so far travels in the buttons' custom ids (never who, never a
note), so the card keeps working across a restart and nothing half-done is stored anywhere.
The note is typed in a modal whose submission saves the check-in, so it is held nowhere but
the saved, encrypted row. Nothing here logs a member's answers or words.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Self

import discord
from discord import app_commands
from discord.ext import commands

from bot import texts as root_texts
from bot.app import HoldfastBot, send_ephemeral
from bot.checkins import charts, entries, mydata, nudges, trends
from bot.checkins.entries import MEASURES, Answers
from bot.delivery.port import Button
from bot.discord_port import allowed_mentions, to_view
from bot.errors import HoldfastError
from bot.groups import access
from bot.groups import service as groups
from bot.groups.model import Group
from bot.groups.service import check_timezone
from bot.meetings.recurrence import RuleError, parse_local_time
from bot.texts import checkins as texts
from bot.zones import zone_suggestions
from cogs._interaction import AnyInteraction, Interaction, actor_of, holdfast
from cogs.groups import group_autocomplete

log = logging.getLogger(__name__)
NUDGE_JOB = "checkins:nudges"

LETTERS = {"mood": "m", "stress": "s", "supported": "p"}
BY_LETTER = {letter: measure for measure, letter in LETTERS.items()}
RECENT_POINTS = 5

# Usable in a server and in DMs with the bot; registered globally even when GUILD_IDS is set.
dm_usable = app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
installed_in_servers = app_commands.allowed_installs(guilds=True, users=False)


async def private_guard(interaction: AnyInteraction, work: Callable[[], Awaitable[None]]) -> None:
    """Like `guarded`, but the log never names the button: a check-in's custom id carries the
    answers picked so far, and nothing about a check-in may reach the log."""
    try:
        await work()
    except HoldfastError as error:
        await send_ephemeral(interaction, str(error))
    except Exception:
        log.exception("a check-in button or form failed")
        await send_ephemeral(interaction, root_texts.something_went_wrong())


# --- the card ---------------------------------------------------------------------------------


def state_text(picked: dict[str, int]) -> str:
    return "".join(str(picked.get(m, 0)) for m in MEASURES)


def parse_state(text: str) -> dict[str, int]:
    return {m: int(ch) for m, ch in zip(MEASURES, text, strict=True) if ch != "0"}


def card_buttons(group_id: int, picked: dict[str, int]) -> tuple[Button, ...]:
    state = state_text(picked)
    buttons: list[Button] = []
    for measure in MEASURES:
        for value in range(1, 6):
            buttons.append(
                Button(
                    label=texts.word(measure, value),
                    custom_id=f"checkin:pick:{group_id}:{state}:{LETTERS[measure]}{value}",
                    style="success" if picked.get(measure) == value else "secondary",
                )
            )
    complete = len(picked) == len(MEASURES)
    buttons.append(
        Button(
            label=texts.add_words_button(),
            custom_id=f"checkin:words:{group_id}:{state}",
            style="primary",
            disabled=not complete,
        )
    )
    buttons.append(
        Button(
            label=texts.save_button(),
            custom_id=f"checkin:save:{group_id}:{state}",
            style="success",
            disabled=not complete,
        )
    )
    return tuple(buttons)


def card(group: Group, picked: dict[str, int]) -> tuple[str, discord.ui.View | None]:
    shown: dict[str, int | None] = {m: picked.get(m) for m in MEASURES}
    return texts.checkin_prompt(group.name, shown), to_view(card_buttons(group.id, picked))


def group_choice(choices: list[Group]) -> tuple[str, discord.ui.View | None]:
    buttons = tuple(
        Button(label=g.name[:80], custom_id=f"checkin:group:{g.id}") for g in choices[:25]
    )
    return texts.choose_group([g.name for g in choices]), to_view(buttons)


async def start_checkin(
    interaction: AnyInteraction, group_name: str | None = None, *, edit: bool = False
) -> None:
    """Show the card (or the group choice) privately, for the person who asked."""
    bot = holdfast(interaction)
    user_id = interaction.user.id
    group, choices = await entries.checkin_group(bot.db, bot.note_keys, user_id)
    if group_name:
        wanted = " ".join(group_name.split()).casefold()
        named = next((g for g in choices if g.name.casefold() == wanted), None)
        if named is None:
            raise HoldfastError(texts.no_such_group(group_name))
        await entries.remember_group(bot.db, bot.note_keys, user_id, named, bot.clock.now())
        group = named
    if group is None and not choices:
        raise HoldfastError(texts.no_groups())
    content, view = card(group, {}) if group is not None else group_choice(choices)
    parts: dict[str, Any] = {"content": content}
    if view is not None:
        parts["view"] = view
    if edit:
        await interaction.response.edit_message(**parts)
    else:
        await interaction.response.send_message(ephemeral=True, **parts)


async def member_group(bot: HoldfastBot, user_id: int, group_id: int) -> Group:
    group = await groups.get_group(bot.db, group_id)
    if not await entries.is_member(bot.db, group.id, user_id):
        raise HoldfastError(texts.not_in_group(group.name))
    return group


async def save_and_confirm(
    interaction: AnyInteraction, group_id: int, picked: dict[str, int], note: str | None
) -> None:
    bot = holdfast(interaction)
    if len(picked) != len(MEASURES):
        raise HoldfastError(texts.pick_all_three())
    answers = Answers(**picked)
    group = await member_group(bot, interaction.user.id, group_id)
    await entries.record_checkin(
        bot.db, bot.note_keys, group, interaction.user.id, answers, note, bot.clock.now()
    )
    recent = await entries.own_checkins(
        bot.db, bot.note_keys, interaction.user.id, limit=RECENT_POINTS
    )
    points = [(c.answers.mood, c.answers.stress, c.answers.supported) for c in reversed(recent)]
    very_low = answers.lowest <= bot.settings.LOW_CHECKIN_THRESHOLD
    lines = [texts.saved(very_low), texts.recent_trend(points)]
    if very_low:
        lines.append(texts.signposts(bot.settings.SUPPORT_SIGNPOSTS))
    await interaction.response.edit_message(content="\n\n".join(lines), view=None)


class PickButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"checkin:pick:(?P<group>\d+):(?P<state>[0-5]{3}):(?P<letter>[msp])(?P<value>[1-5])",
):
    def __init__(
        self, item: discord.ui.Button[discord.ui.View], group_id: int, state: str, pick: str
    ) -> None:
        super().__init__(item)
        self.group_id, self.state, self.pick = group_id, state, pick

    @classmethod
    async def from_custom_id(
        cls, interaction: AnyInteraction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> PickButton:
        assert isinstance(item, discord.ui.Button)
        return cls(item, int(match["group"]), match["state"], match["letter"] + match["value"])

    async def callback(self, interaction: AnyInteraction) -> None:
        async def work() -> None:
            bot = holdfast(interaction)
            group = await groups.get_group(bot.db, self.group_id)
            picked = parse_state(self.state)
            picked[BY_LETTER[self.pick[0]]] = int(self.pick[1])
            content, view = card(group, picked)
            await interaction.response.edit_message(content=content, view=view)

        await private_guard(interaction, work)


class NoteModal(discord.ui.Modal):
    """The few words; submitting saves the check-in with them."""

    def __init__(self, group_id: int, picked: dict[str, int]) -> None:
        # discord.py keeps open modals by custom_id alone: unique, so two members never clash.
        super().__init__(
            title=texts.words_modal_title(), custom_id=f"checkin:note:{secrets.token_hex(8)}"
        )
        self.group_id, self.picked = group_id, picked
        self.words: discord.ui.TextInput[NoteModal] = discord.ui.TextInput(
            label=texts.words_field_label(),
            style=discord.TextStyle.paragraph,
            required=False,
            max_length=entries.MAX_NOTE_LENGTH,
            placeholder=texts.words_field_placeholder(),
            custom_id="words",
        )
        self.add_item(self.words)

    async def on_submit(self, interaction: AnyInteraction) -> None:
        await private_guard(
            interaction,
            lambda: save_and_confirm(interaction, self.group_id, self.picked, self.words.value),
        )


class _CardStateButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    # discord.py wants a template on every DynamicItem; this base is never registered itself.
    template=r"checkin:(?:words|save):(?P<group>\d+):(?P<state>[0-5]{3})",
):
    """A button on the check-in card whose custom id carries the group and the picks so far."""

    def __init__(self, item: discord.ui.Button[discord.ui.View], group_id: int, state: str) -> None:
        super().__init__(item)
        self.group_id, self.state = group_id, state

    @classmethod
    async def from_custom_id(
        cls, interaction: AnyInteraction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Self:
        assert isinstance(item, discord.ui.Button)
        return cls(item, int(match["group"]), match["state"])


class WordsButton(_CardStateButton, template=r"checkin:words:(?P<group>\d+):(?P<state>[0-5]{3})"):
    async def callback(self, interaction: AnyInteraction) -> None:
        async def work() -> None:
            picked = parse_state(self.state)
            if len(picked) != len(MEASURES):
                raise HoldfastError(texts.pick_all_three())
            await interaction.response.send_modal(NoteModal(self.group_id, picked))

        await private_guard(interaction, work)


class SaveButton(_CardStateButton, template=r"checkin:save:(?P<group>\d+):(?P<state>[0-5]{3})"):
    async def callback(self, interaction: AnyInteraction) -> None:
        await private_guard(
            interaction,
            lambda: save_and_confirm(interaction, self.group_id, parse_state(self.state), None),
        )


class GroupButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"checkin:group:(?P<group>\d+)",
):
    def __init__(self, item: discord.ui.Button[discord.ui.View], group_id: int) -> None:
        super().__init__(item)
        self.group_id = group_id

    @classmethod
    async def from_custom_id(
        cls, interaction: AnyInteraction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> GroupButton:
        assert isinstance(item, discord.ui.Button)
        return cls(item, int(match["group"]))

    async def callback(self, interaction: AnyInteraction) -> None:
        async def work() -> None:
            bot = holdfast(interaction)
            group = await member_group(bot, interaction.user.id, self.group_id)
            await entries.remember_group(
                bot.db, bot.note_keys, interaction.user.id, group, bot.clock.now()
            )
            content, view = card(group, {})
            await interaction.response.edit_message(content=content, view=view)

        await private_guard(interaction, work)


class StartButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"checkin:start(?::(?P<marker>d\d+))?",
):
    """ "Check in" on a nudge: opens a fresh card for whoever clicks (only its recipient can)."""

    @classmethod
    async def from_custom_id(
        cls, interaction: AnyInteraction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> StartButton:
        assert isinstance(item, discord.ui.Button)
        return cls(item)

    async def callback(self, interaction: AnyInteraction) -> None:
        await private_guard(interaction, lambda: start_checkin(interaction))


class DeleteMyDataButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"mydata:delete",
):
    """Only ever on an ephemeral message, which only the person who asked can click."""

    @classmethod
    async def from_custom_id(
        cls, interaction: AnyInteraction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> DeleteMyDataButton:
        assert isinstance(item, discord.ui.Button)
        return cls(item)

    async def callback(self, interaction: AnyInteraction) -> None:
        async def work() -> None:
            bot = holdfast(interaction)
            result = await mydata.delete_everything(
                bot.db, bot.note_keys, interaction.user.id, bot.clock.now()
            )
            await interaction.response.edit_message(content=texts.deleted(), view=None)
            for meeting_id in result.meetings_answered:
                bot.refresh_announcement_soon(meeting_id)
            if result.meetings_answered:
                bot.alarm.wake()  # a freed place may have gone to someone waiting

        await private_guard(interaction, work)


# --- commands ---------------------------------------------------------------------------------


async def own_group_autocomplete(
    interaction: Interaction, current: str
) -> list[app_commands.Choice[str]]:
    bot = holdfast(interaction)
    wanted = current.casefold()
    found = await entries.member_groups(bot.db, interaction.user.id)
    return [
        app_commands.Choice(name=g.name, value=g.name) for g in found if wanted in g.name.casefold()
    ][:25]


@app_commands.command(name="checkin")
@app_commands.describe(group="Which of your groups your check-ins count towards (remembered)")
@app_commands.autocomplete(group=own_group_autocomplete)
@dm_usable
@installed_in_servers
async def checkin(interaction: Interaction, group: str | None = None) -> None:
    """A private check-in: three taps and Save. Only you see your answers."""
    await start_checkin(interaction, group)


@app_commands.command(name="mycheckins")
@dm_usable
@installed_in_servers
async def mycheckins(interaction: Interaction) -> None:
    """Your own check-ins and a chart of them (only you see this)."""
    bot = holdfast(interaction)
    await interaction.response.defer(ephemeral=True, thinking=True)
    own = await entries.own_checkins(bot.db, bot.note_keys, interaction.user.id)
    text = texts.own_history(
        [
            (c.created_at, c.answers.mood, c.answers.stress, c.answers.supported, c.note)
            for c in own[:10]
        ],
        chart=charts.own_words(own),
    )
    if not own:
        await interaction.followup.send(text, ephemeral=True)
        return
    png = await asyncio.to_thread(charts.own_chart, own)
    await interaction.followup.send(
        text,
        file=discord.File(
            io.BytesIO(png), filename=texts.own_chart_filename(), description=texts.own_chart_alt()
        ),
        ephemeral=True,
    )


@app_commands.command(name="reachout")
@dm_usable
@installed_in_servers
async def reachout(interaction: Interaction) -> None:
    """Ask your group's facilitators to get in touch with you (they see nothing else)."""
    bot = holdfast(interaction)
    group, choices = await entries.checkin_group(bot.db, bot.note_keys, interaction.user.id)
    if group is None:
        if not choices:
            raise HoldfastError(texts.no_groups())
        raise HoldfastError(texts.choose_group_first())
    if group.facilitator_channel_id is None:
        raise HoldfastError(texts.reachout_no_channel(group.name))
    try:
        await bot.get_partial_messageable(group.facilitator_channel_id).send(
            texts.reachout_request(group.facilitator_role_id, interaction.user.id, group.name),
            allowed_mentions=allowed_mentions(roles=(group.facilitator_role_id,)),
        )
    except discord.HTTPException:
        raise HoldfastError(texts.reachout_failed()) from None
    await interaction.response.send_message(texts.reachout_posted(group.name), ephemeral=True)


@dm_usable
@installed_in_servers
class MyDataCommands(
    app_commands.Group, name="mydata", description="Everything Holdfast holds about you"
):
    @app_commands.command(name="export")
    async def export(self, interaction: Interaction) -> None:
        """Send me everything Holdfast holds about me (JSON and CSV files, in a DM)."""
        bot = holdfast(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await mydata.export(bot.db, bot.note_keys, interaction.user.id, bot.clock.now())

        def files() -> list[discord.File]:
            named = {
                "data.json": data.json_text,
                "checkins.csv": data.checkins_csv,
                "memberships.csv": data.memberships_csv,
                "rsvps.csv": data.rsvps_csv,
            }
            return [
                discord.File(io.BytesIO(body.encode("utf-8")), filename=texts.export_filename(n))
                for n, body in named.items()
            ]

        try:
            dm = await interaction.user.create_dm()
            await dm.send(texts.export_dm(), files=files())
        except discord.HTTPException:
            await interaction.followup.send(texts.export_here(), files=files(), ephemeral=True)
            return
        await interaction.followup.send(texts.export_sent(), ephemeral=True)

    @app_commands.command(name="delete")
    async def delete(self, interaction: Interaction) -> None:
        """Delete everything Holdfast holds about me (asks you to confirm first)."""
        view = to_view(
            (Button(label=texts.delete_button(), custom_id="mydata:delete", style="danger"),)
        )
        assert view is not None
        await interaction.response.send_message(texts.delete_confirm(), view=view, ephemeral=True)


@app_commands.command(name="trends")
@app_commands.describe(group="Which group (empty if there is only one)")
@app_commands.autocomplete(group=group_autocomplete)
@app_commands.guild_only()
async def trends_command(interaction: Interaction, group: str | None = None) -> None:
    """For facilitators: how the group has been, month by month (never anyone's answers)."""
    assert interaction.guild_id is not None
    bot = holdfast(interaction)
    found = await groups.resolve_group(bot.db, interaction.guild_id, group)
    access.require_facilitator(found, actor_of(interaction))
    await interaction.response.defer(ephemeral=True, thinking=True)
    k = bot.settings.PRIVACY_MIN_MEMBERS
    months = await trends.view_trends(bot.db, found, interaction.user.id, k, bot.clock.now())
    lines = [
        texts.trend_month_shown(
            m.month,
            m.band or "",
            {"mood": m.mood, "stress": m.stress, "supported": m.supported},
            m.distribution,
        )
        if m.shown
        else texts.trend_month_hidden(m.month)
        for m in reversed(months)
    ]
    embed = discord.Embed(
        title=None,
        description=texts.trends_text(
            texts.trends_heading(found.name, k), lines, chart=charts.trends_words(months)
        ),
    )
    embed.set_footer(text=texts.trends_footer())
    png = await asyncio.to_thread(charts.trends_chart, months, found.name)
    await interaction.followup.send(
        embed=embed,
        file=discord.File(
            io.BytesIO(png),
            filename=texts.trends_chart_filename(),
            description=texts.trends_chart_alt(found.name),
        ),
        ephemeral=True,
    )


@app_commands.command(name="audit")
@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
async def audit(interaction: Interaction) -> None:
    """For admins: who has looked at group trends, and when."""
    assert interaction.guild_id is not None
    access.require_admin(actor_of(interaction))
    bot = holdfast(interaction)
    found = await trends.audit_log(bot.db, interaction.guild_id)
    text = (
        texts.audit_lines([(e.viewer_id, e.viewed_at, e.group_name, e.months) for e in found])
        if found
        else texts.audit_empty()
    )
    await interaction.response.send_message(
        text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
    )


WEEKDAY_NAMES = [name.casefold() for name in texts.WEEKDAYS]


def nudge_day(cadence: str, day: str | None) -> int:
    text = (day or "").strip().casefold()
    if cadence == "weekly":
        matches = [i for i, name in enumerate(WEEKDAY_NAMES) if text and name.startswith(text)]
        if len(matches) != 1:
            raise HoldfastError(texts.nudge_day_needed(cadence))
        return matches[0]
    if not text.isdigit() or not 1 <= int(text) <= 28:
        raise HoldfastError(texts.nudge_day_needed(cadence))
    return int(text)


async def zone_autocomplete(
    interaction: Interaction, current: str
) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=z, value=z) for z in zone_suggestions(current)]


@app_commands.command(name="checkin-nudge")
@app_commands.describe(
    how="Weekly, monthly, or off (nudges are off unless you turn them on)",
    day="Weekly: a weekday, e.g. Sunday. Monthly: a day from 1 to 28",
    at="The time, e.g. 19:30 or 7pm",
    timezone="Your time zone, e.g. Europe/London",
)
@app_commands.choices(
    how=[
        app_commands.Choice(name="Weekly", value="weekly"),
        app_commands.Choice(name="Monthly", value="monthly"),
        app_commands.Choice(name="Off", value="off"),
    ]
)
@app_commands.autocomplete(timezone=zone_autocomplete)
@dm_usable
@installed_in_servers
async def checkin_nudge(
    interaction: Interaction,
    how: str,
    day: str | None = None,
    at: str | None = None,
    timezone: str | None = None,
) -> None:
    """A gentle DM now and then with a one-click way into a check-in (off by default)."""
    bot = holdfast(interaction)
    now = bot.clock.now()
    if how == "off":
        await nudges.stop_nudge(bot.db, interaction.user.id, now)
        await interaction.response.send_message(texts.nudge_off(), ephemeral=True)
        return
    try:
        local_time = parse_local_time(at or "19:00")
    except RuleError as error:
        raise HoldfastError(str(error)) from None
    zone = check_timezone(timezone or bot.settings.DEFAULT_TIMEZONE)
    cadence: nudges.Cadence = "weekly" if how == "weekly" else "monthly"
    nudge = nudges.Nudge(interaction.user.id, cadence, nudge_day(how, day), local_time, zone)
    await nudges.set_nudge(bot.db, nudge, now)
    bot.alarm.wake()
    await interaction.response.send_message(
        texts.nudge_set(cadence, nudge.day, local_time.strftime("%H:%M"), zone), ephemeral=True
    )


class Checkins(commands.Cog):
    def __init__(self, bot: HoldfastBot) -> None:
        self.bot = bot


async def setup(bot: HoldfastBot) -> None:
    bot.add_dynamic_items(
        PickButton, WordsButton, SaveButton, GroupButton, StartButton, DeleteMyDataButton
    )
    for kind, renderer in nudges.RENDERERS.items():
        bot.register_renderer(kind, renderer)

    async def plan_nudges() -> None:
        # After a nudge has gone, plan the member's next one.
        if await nudges.plan_all(bot.db, bot.clock.now()):
            bot.alarm.wake()

    bot.every(timedelta(hours=1), plan_nudges, NUDGE_JOB)
    commands_: list[app_commands.Command[Any, ..., Any]] = [
        checkin_nudge,
        checkin,
        mycheckins,
        reachout,
        trends_command,
        audit,
    ]
    for command in commands_:
        bot.tree.add_command(command)
    bot.tree.add_command(MyDataCommands())
    await bot.add_cog(Checkins(bot))

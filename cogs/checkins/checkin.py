"""/checkin and the check-in card: its answer buttons, "Add a few words" (a form whose submit
saves, even after a restart: cogs/_forms.py), Save, the group choice, and "Check in" on a nudge.

The card is an ephemeral message; what has been picked so far travels in the buttons' custom ids
(bot/checkins/card.py), so the card keeps working across a restart. The note is held nowhere but
the saved, encrypted row. Nothing here logs a member's answers or words.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any, Self

import discord
from discord import app_commands

from bot.checkins import card, entries
from bot.checkins.entries import MEASURES
from bot.discord_port import to_view
from bot.errors import HoldfastError
from bot.groups import service as groups
from bot.groups.model import Group
from bot.texts import checkins as texts
from cogs import _forms as forms
from cogs._forms import StatelessModal
from cogs._interaction import AnyInteraction, Interaction, holdfast
from cogs.checkins._shared import dm_usable, installed_in_servers, private_guard

RECENT_POINTS = 5
WORDS_FIELD = "words"


def card_message(group: Group, picked: Mapping[str, int]) -> dict[str, Any]:
    return {
        "content": card.card_text(group, picked),
        "view": to_view(card.card_buttons(group.id, picked)),
    }


async def start_checkin(interaction: AnyInteraction, group_name: str | None = None) -> None:
    """Show the card (or the group choice) privately, for the person who asked."""
    bot = holdfast(interaction)
    group, choices = await entries.choose_checkin_group(
        bot.db, bot.note_keys, interaction.user.id, group_name, bot.clock.now()
    )
    if group is not None:
        parts = card_message(group, {})
    else:
        parts = {
            "content": texts.choose_group([g.name for g in choices]),
            "view": to_view(card.group_buttons(choices)),
        }
    if parts["view"] is None:
        del parts["view"]
    await interaction.response.send_message(ephemeral=True, **parts)


async def save_and_confirm(
    interaction: AnyInteraction, group_id: int, picked: Mapping[str, int], note: str | None
) -> None:
    bot = holdfast(interaction)
    saved = await entries.save_checkin(
        bot.db,
        bot.note_keys,
        group_id,
        interaction.user.id,
        picked,
        note,
        bot.settings.LOW_CHECKIN_THRESHOLD,
        bot.clock.now(),
        recent=RECENT_POINTS,
    )
    lines = [texts.saved(saved.very_low), texts.recent_trend(saved.recent)]
    if saved.very_low:
        lines.append(texts.signposts(bot.settings.SUPPORT_SIGNPOSTS))
    await interaction.response.edit_message(content="\n\n".join(lines), view=None)


class PickButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=card.PICK):
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
            picked = card.with_pick(self.state, self.pick[0], int(self.pick[1]))
            await interaction.response.edit_message(**card_message(group, picked))

        await private_guard(interaction, work)


class NoteModal(StatelessModal):
    """The few words. Submitting saves the check-in (`save_note`, from the custom id alone)."""

    def __init__(self, group_id: int, picked: dict[str, int]) -> None:
        # The group and the picks travel in the custom id, so the submit saves even after a
        # restart; the token keeps two members' open forms apart.
        super().__init__(
            title=texts.words_modal_title(),
            custom_id=card.note_form_id(group_id, picked, secrets.token_hex(8)),
        )
        self.add_item(
            discord.ui.TextInput(
                label=texts.words_field_label(),
                style=discord.TextStyle.paragraph,
                required=False,
                max_length=entries.MAX_NOTE_LENGTH,
                placeholder=texts.words_field_placeholder(),
                custom_id=WORDS_FIELD,
            )
        )


async def save_note(
    interaction: Interaction, match: re.Match[str], values: Mapping[str, str]
) -> None:
    """A submitted few-words form: the check-in with the note, for a member of the group."""
    picked = card.parse_state(match["state"])
    await save_and_confirm(interaction, int(match["group"]), picked, values.get(WORDS_FIELD))


NOTE_FORM = forms.Form(
    name="check-in note",
    prefix=card.NOTE_PREFIX,
    template=re.compile(card.NOTE),
    handle=save_note,
    field=WORDS_FIELD,
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


class WordsButton(_CardStateButton, template=card.WORDS):
    async def callback(self, interaction: AnyInteraction) -> None:
        async def work() -> None:
            picked = card.parse_state(self.state)
            if len(picked) != len(MEASURES):
                raise HoldfastError(texts.pick_all_three())
            await forms.open_form(interaction, NoteModal(self.group_id, picked))

        await private_guard(interaction, work)


class SaveButton(_CardStateButton, template=card.SAVE):
    async def callback(self, interaction: AnyInteraction) -> None:
        await private_guard(
            interaction,
            lambda: save_and_confirm(
                interaction, self.group_id, card.parse_state(self.state), None
            ),
        )


class GroupButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=card.GROUP):
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
            group = await entries.member_group(bot.db, self.group_id, interaction.user.id)
            await entries.remember_group(
                bot.db, bot.note_keys, interaction.user.id, group, bot.clock.now()
            )
            await interaction.response.edit_message(**card_message(group, {}))

        await private_guard(interaction, work)


class StartButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=card.START):
    """ "Check in" on a nudge: opens a fresh card for whoever clicks (only its recipient can)."""

    @classmethod
    async def from_custom_id(
        cls, interaction: AnyInteraction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> StartButton:
        assert isinstance(item, discord.ui.Button)
        return cls(item)

    async def callback(self, interaction: AnyInteraction) -> None:
        await private_guard(interaction, lambda: start_checkin(interaction))


BUTTONS = (PickButton, WordsButton, SaveButton, GroupButton, StartButton)


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

"""Forms (modals) that survive a restart: what a person typed is never lost to a deploy or a crash.

discord.py keeps an open modal in memory, by its custom id, until it is submitted
(discord/ui/view.py, ViewStore.dispatch_modal); a submit that reaches a process that did not open
the form (after a restart, a deploy, a crash) is discarded, Discord shows "This interaction
failed" and the words are gone. discord.py 2.7 has persistent views and DynamicItem for
components, but nothing for modals: `add_view` matches a modal's custom id exactly, never a
template. So each form here carries its state in its custom id (Discord allows 100 characters,
"Modal Submit Data Structure" echoes it back), and every submit takes one stateless path: a
listener on `on_interaction` that matches the custom id against each registered form's template
and reads the typed text from the interaction's components. The modal itself is only the form's
shape: it is never kept in discord.py's store (`open_form` stops it before sending; `send_modal`
stores only a modal that is not finished) and its `on_submit` does nothing, so each submit is
handled exactly once, whichever process opened the form.

A submit that cannot be used (a form from an older version of the bot, a group that has gone, a
role lost in between, text too long) is answered kindly and privately, with what the person typed
quoted back to them, so nothing they wrote is lost. Nothing here logs a form's custom id or text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import discord

from bot import texts
from bot.app import HoldfastBot
from bot.errors import HoldfastError
from bot.texts import fit
from cogs._interaction import AnyInteraction, Interaction, holdfast

log = logging.getLogger(__name__)

Handler = Callable[[Interaction, "re.Match[str]", Mapping[str, str]], Awaitable[None]]
"""Handles one submit: (interaction, the custom id's match, {text input custom id: value})."""

# Discord's component types in a modal submit ("Component Interaction Response Structures").
ACTION_ROW, LABEL = 1, 18


@dataclass(frozen=True)
class Form:
    name: str
    """What the form is, for the log (never its custom id: it may carry a check-in's answers)."""
    prefix: str
    """Every custom id this form has ever had starts with this, whatever its format."""
    template: re.Pattern[str]
    handle: Handler
    field: str
    """The text input whose words are given back when the submit cannot be used."""


FORMS: dict[str, Form] = {}


def register(bot: HoldfastBot, form: Form) -> None:
    """Handle `form`'s submits on `bot` (the one listener is added with the first form)."""
    FORMS[form.prefix] = form
    if on_form_submit not in bot.extra_events.get("on_interaction", []):
        bot.add_listener(on_form_submit, "on_interaction")


class StatelessModal(discord.ui.Modal):
    """A form's shape only: its submits are handled by `on_form_submit`, never here."""

    async def on_submit(self, interaction: AnyInteraction, /) -> None:
        """Nothing: `on_form_submit` handles every submit, in whichever process opened the form."""


async def open_form(interaction: AnyInteraction, modal: StatelessModal) -> None:
    """Show `modal` without keeping it in discord.py's memory (a stopped modal is not stored):
    its submit is handled from its custom id alone, now or after a restart."""
    modal.stop()
    await interaction.response.send_modal(modal)


def submitted_values(components: object) -> dict[str, str]:
    """{custom id: value} of the text inputs in a modal submit's components, in action rows or in
    Labels (discord.py 2.7's ui.Label, type 18: one `component`), as Discord sends them
    ("Modal Submit Data Structure"; discord/ui/modal.py, Modal._refresh, walks them the same
    way)."""
    found: dict[str, str] = {}
    if not isinstance(components, list):
        return found
    for component in components:
        if not isinstance(component, dict):
            continue
        kind = component.get("type")
        if kind == ACTION_ROW:
            found.update(submitted_values(component.get("components")))
        elif kind == LABEL:
            found.update(submitted_values([component.get("component")]))
        else:
            custom_id, value = component.get("custom_id"), component.get("value")
            if isinstance(custom_id, str) and isinstance(value, str):
                found[custom_id] = value
    return found


def form_for(custom_id: str) -> Form | None:
    return next((f for f in FORMS.values() if custom_id.startswith(f.prefix)), None)


async def on_form_submit(interaction: Interaction) -> None:
    """The one path every submit of a registered form takes."""
    if interaction.type is not discord.InteractionType.modal_submit:
        return
    data: Mapping[str, Any] = interaction.data or {}
    custom_id = data.get("custom_id")
    if not isinstance(custom_id, str) or (form := form_for(custom_id)) is None:
        return
    values = submitted_values(data.get("components"))
    words = values.get(form.field, "")
    match = form.template.fullmatch(custom_id)
    try:
        if match is None:
            raise HoldfastError(texts.form_out_of_date())
        await form.handle(interaction, match, values)
    except HoldfastError as error:
        await reply_privately(interaction, texts.form_not_saved(str(error), words))
    except Exception as error:
        # The form's name only: its custom id may carry a check-in's answers, its text a note.
        failed = holdfast(interaction).failure_reply(error, f"the {form.name} form")
        await reply_privately(interaction, texts.form_not_saved(failed, words))


async def reply_privately(interaction: AnyInteraction, content: str) -> None:
    content = fit.clip(content)
    none = discord.AllowedMentions.none()
    try:
        if interaction.response.is_done():
            await interaction.followup.send(content, ephemeral=True, allowed_mentions=none)
        else:
            await interaction.response.send_message(content, ephemeral=True, allowed_mentions=none)
    except discord.HTTPException:
        log.warning("could not answer a form (the interaction expired)")

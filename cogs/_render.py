"""Plain message values (bot/delivery/port.py) as discord.py objects, for replies and edits."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.delivery.port import Button, Card

_STYLES = {
    "primary": discord.ButtonStyle.primary,
    "secondary": discord.ButtonStyle.secondary,
    "success": discord.ButtonStyle.success,
    "danger": discord.ButtonStyle.danger,
}


def to_embed(card: Card) -> discord.Embed:
    embed = discord.Embed(title=card.title, description=card.description or None)
    if card.colour is not None:
        embed.colour = discord.Colour(card.colour)
    for name, value in card.fields:
        embed.add_field(name=name, value=value, inline=False)
    if card.footer:
        embed.set_footer(text=card.footer)
    return embed


def to_view(buttons: Sequence[Button]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for button in buttons:
        view.add_item(
            discord.ui.Button(
                label=button.label,
                custom_id=button.custom_id,
                style=_STYLES[button.style],
                emoji=button.emoji,
                disabled=button.disabled,
            )
        )
    return view

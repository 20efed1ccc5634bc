"""Previous / Next under a long private list, working after a restart.

A list's pages are never stored: the buttons' custom ids say which list (a kind and its subject,
e.g. a meeting's id) and which page, and a click builds the list again from the database, so it
shows what is true now. Each cog registers how to build its kinds of list, and may register
controls: more components under a page (e.g. a menu to act on the items shown), built the same way.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord

from bot.delivery.port import Button
from bot.discord_port import inert_view, to_view
from bot.texts import fit
from cogs._interaction import AnyInteraction, Interaction, guarded

Pages = Callable[[Interaction, int, int], Awaitable[list[str]]]
"""Builds a list's pages for whoever clicked: (interaction, subject, extra) → pages. It checks
that the person may see the list, as the command did."""

Controls = Callable[[Interaction, int, int, int], Awaitable[Sequence[discord.ui.Item[Any]]]]
"""More components under one page: (interaction, subject, extra, page) → items."""

SOURCES: dict[str, Pages] = {}
CONTROLS: dict[str, Controls] = {}


def register(kind: str, pages: Pages, controls: Controls | None = None) -> None:
    SOURCES[kind] = pages
    if controls is not None:
        CONTROLS[kind] = controls


def page_id(kind: str, subject: int, extra: int, page: int) -> str:
    return f"page:{kind}:{subject}:{extra}:{page}"


def page_view(
    kind: str,
    subject: int,
    extra: int,
    page: int,
    total: int,
    controls: Sequence[discord.ui.Item[Any]] = (),
) -> discord.ui.View | None:
    buttons: list[Button] = []
    if page > 0:
        buttons.append(
            Button(label=fit.previous_button(), custom_id=page_id(kind, subject, extra, page - 1))
        )
    if page < total - 1:
        buttons.append(
            Button(label=fit.next_button(), custom_id=page_id(kind, subject, extra, page + 1))
        )
    view = to_view(tuple(buttons))
    if controls:
        view = view or inert_view()
        for item in controls:
            view.add_item(item)
    return view


async def send_pages(
    interaction: Interaction,
    kind: str,
    subject: int,
    pages: list[str],
    *,
    extra: int = 0,
    followup: bool = False,
) -> None:
    """The first page, privately, with Next when there are more."""
    parts: dict[str, Any] = {
        "content": pages[0],
        "ephemeral": True,
        "allowed_mentions": discord.AllowedMentions.none(),
    }
    controls = await CONTROLS[kind](interaction, subject, extra, 0) if kind in CONTROLS else ()
    view = page_view(kind, subject, extra, 0, len(pages), controls)
    if view is not None:
        parts["view"] = view
    if followup:
        await interaction.followup.send(**parts)
    else:
        await interaction.response.send_message(**parts)


class PageButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"page:(?P<kind>[a-z]+):(?P<subject>\d+):(?P<extra>\d+):(?P<page>\d+)",
):
    def __init__(
        self,
        item: discord.ui.Button[discord.ui.View],
        kind: str,
        subject: int,
        extra: int,
        page: int,
    ) -> None:
        super().__init__(item)
        self.kind, self.subject, self.extra, self.page = kind, subject, extra, page

    @classmethod
    async def from_custom_id(
        cls, interaction: AnyInteraction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> PageButton:
        assert isinstance(item, discord.ui.Button)
        return cls(
            item, match["kind"], int(match["subject"]), int(match["extra"]), int(match["page"])
        )

    async def callback(self, interaction: AnyInteraction) -> None:
        async def work() -> None:
            source = SOURCES[self.kind]
            pages = await source(interaction, self.subject, self.extra)
            # The list may have shrunk since the page was shown: stay within it.
            page = min(self.page, len(pages) - 1)
            await show_page(interaction, self.kind, self.subject, self.extra, page, pages)

        await guarded(interaction, work)


async def show_page(
    interaction: AnyInteraction, kind: str, subject: int, extra: int, page: int, pages: list[str]
) -> None:
    """Replace the message a click came from with `page` of `pages` (and its controls)."""
    controls = await CONTROLS[kind](interaction, subject, extra, page) if kind in CONTROLS else ()
    await interaction.response.edit_message(
        content=pages[page],
        view=page_view(kind, subject, extra, page, len(pages), controls),
        allowed_mentions=discord.AllowedMentions.none(),
    )

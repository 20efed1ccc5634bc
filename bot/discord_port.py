"""The runtime side of `bot.delivery.port.DiscordPort`, with discord.py.

Buttons become a message component view, cards embeds, attachments files. Every send carries
the delivery's nonce, for which discord.py adds `enforce_nonce` (discord/http.py,
`handle_message_parameters`), so Discord answers a repeat within its window with the first
message instead of posting a second. Discord errors become `DeliveryFailed` with a reason that
names what went wrong and never what the message said.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from typing import Any

import aiohttp
import discord

from bot.delivery.dm_channels import DmChannels
from bot.delivery.port import (
    CANNOT_DM,
    MISSING_ACCESS,
    MISSING_PERMISSIONS,
    UNKNOWN_CHANNEL,
    UNKNOWN_MESSAGE,
    UNKNOWN_USER,
    Attachment,
    Button,
    Card,
    DeliveryFailed,
    Destination,
    EventSpec,
    OutgoingMessage,
    PeopleMenu,
    Sent,
)

_STYLES = {
    "primary": discord.ButtonStyle.primary,
    "secondary": discord.ButtonStyle.secondary,
    "success": discord.ButtonStyle.success,
    "danger": discord.ButtonStyle.danger,
}

_REASONS = {
    CANNOT_DM: "cannot send this user a direct message (DMs closed or no shared server)",
    UNKNOWN_CHANNEL: "the channel no longer exists",
    UNKNOWN_MESSAGE: "the message no longer exists",
    UNKNOWN_USER: "the user no longer exists",
    MISSING_ACCESS: "Holdfast cannot see the channel",
    MISSING_PERMISSIONS: "Holdfast lacks permission to post there",
}


class _InertView(discord.ui.View):
    """Only the components' shape. Clicks are handled by the cogs (dynamic items or
    persistent handlers keyed on custom_id); a view stored per message by discord.py would take
    those clicks first (ViewStore.dispatch_view looks up the message's view before persistent
    ones) and swallow them, so this view asks not to be stored."""

    def is_dispatchable(self) -> bool:
        return False


def failure_from(exc: BaseException) -> DeliveryFailed:
    """Classify an error from discord.py or the network: permanent or worth retrying."""
    if isinstance(exc, discord.HTTPException):
        status, code = exc.status, exc.code or None
        reason = f"Discord {status}" + (f" ({code})" if code else "")
        if code in _REASONS:
            reason += f": {_REASONS[code]}"
        # 5xx: Discord's side, try again; 429 only reaches us if discord.py gave up waiting.
        # Any other 4xx is this request being refused, and the same request will be again.
        transient = status >= 500 or status == 429
        return DeliveryFailed(reason, permanent=not transient, code=code, status=status)
    if isinstance(exc, TimeoutError):
        return DeliveryFailed("timed out talking to Discord", permanent=False)
    if isinstance(exc, aiohttp.ClientError | OSError):
        return DeliveryFailed(f"network error: {type(exc).__name__}", permanent=False)
    raise TypeError(f"not a delivery error: {type(exc).__name__}")


@contextlib.contextmanager
def _as_delivery_failure() -> Iterator[None]:
    try:
        yield
    except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise failure_from(exc) from exc


def allowed_mentions(
    *, users: tuple[int, ...] = (), roles: tuple[int, ...] = ()
) -> discord.AllowedMentions:
    """Exactly these people and roles may be notified; never @everyone, @here or anyone named
    in text a person wrote (a title, a place, a note, a group's name)."""
    return discord.AllowedMentions(
        everyone=False,
        users=[discord.Object(id=user_id) for user_id in users],
        roles=[discord.Object(id=role_id) for role_id in roles],
        replied_user=False,
    )


def _mentions(message: OutgoingMessage) -> discord.AllowedMentions:
    return allowed_mentions(users=message.ping_user_ids, roles=message.ping_role_ids)


def inert_view() -> discord.ui.View:
    """An empty view that discord.py will not store (see _InertView), to add items to."""
    return _InertView(timeout=None)


def to_view(
    buttons: tuple[Button, ...], menus: tuple[PeopleMenu, ...] = ()
) -> discord.ui.View | None:
    if not buttons and not menus:
        return None
    view = _InertView(timeout=None)
    for row, menu in enumerate(menus):
        # A select menu fills its action row on its own (Discord: "Select Menus").
        view.add_item(
            discord.ui.UserSelect(
                custom_id=menu.custom_id,
                placeholder=menu.placeholder,
                min_values=menu.min_values,
                max_values=menu.max_values,
                default_values=[discord.Object(id=user_id) for user_id in menu.picked],
                row=row,
            )
        )
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


def to_embed(card: Card) -> discord.Embed:
    embed = discord.Embed(
        title=card.title, description=card.description or None, colour=card.colour
    )
    for name, value in card.fields:
        embed.add_field(name=name, value=value, inline=False)
    if card.footer:
        embed.set_footer(text=card.footer)
    return embed


def _file(attachment: Attachment) -> discord.File:
    # Discord sniffs the content type from the upload; discord.File has no field for it.
    return discord.File(io.BytesIO(attachment.data), filename=attachment.filename)


def _custom_ids(components: list[Any]) -> Iterator[str]:
    """Every custom_id in a message's components, whatever the nesting (action rows, v2)."""
    for component in components:
        custom_id = getattr(component, "custom_id", None)
        if isinstance(custom_id, str):
            yield custom_id
        for attribute in ("children", "components"):
            nested = getattr(component, attribute, None)
            if isinstance(nested, list):
                yield from _custom_ids(nested)
        accessory = getattr(component, "accessory", None)
        if accessory is not None:
            yield from _custom_ids([accessory])


class DiscordPyPort:
    """`DiscordPort` over a logged-in discord.py client (HTTP only; no gateway needed).

    DM channels come from `dm_channels` (when given) so only a member's first DM opens the
    channel. Pacing is not done here: the bot's HTTP client paces every request it makes
    (bot/app.py, `pace_requests`), so a turn taken here as well would count each request twice.
    """

    def __init__(
        self,
        client: discord.Client,
        *,
        dm_channels: DmChannels | None = None,
    ) -> None:
        self.client = client
        self.dm_channels = dm_channels

    async def _messageable(self, destination: Destination) -> discord.abc.Messageable:
        if destination.user_id is not None:
            user_id = destination.user_id
            if self.dm_channels is not None:
                stored = await self.dm_channels.get(user_id)
                if stored is not None:
                    return self.client.get_partial_messageable(
                        stored, type=discord.ChannelType.private
                    )
            dm = await self.client.create_dm(discord.Object(id=user_id))
            if self.dm_channels is not None:
                await self.dm_channels.put(user_id, dm.id)
            return dm
        assert destination.channel_id is not None
        return self.client.get_partial_messageable(destination.channel_id)

    async def send(self, destination: Destination, message: OutgoingMessage, *, nonce: str) -> Sent:
        try:
            return await self._send(destination, message, nonce=nonce)
        except DeliveryFailed as failure:
            # A stored DM channel Discord no longer knows: open the DM again, once.
            if failure.code != UNKNOWN_CHANNEL or destination.user_id is None:
                raise
            if self.dm_channels is None or await self.dm_channels.get(destination.user_id) is None:
                raise
            await self.dm_channels.forget(destination.user_id)
            return await self._send(destination, message, nonce=nonce)

    async def _send(
        self, destination: Destination, message: OutgoingMessage, *, nonce: str
    ) -> Sent:
        with _as_delivery_failure():
            channel = await self._messageable(destination)
            # Only what the message has: discord.py's overloads take each part or none.
            parts: dict[str, Any] = {"nonce": nonce, "allowed_mentions": _mentions(message)}
            if message.content:
                parts["content"] = message.content
            if message.cards:
                parts["embeds"] = [to_embed(card) for card in message.cards]
            if message.files:
                parts["files"] = [_file(a) for a in message.files]
            if (view := to_view(message.buttons, message.menus)) is not None:
                parts["view"] = view
            sent = await channel.send(**parts)
        return Sent(channel_id=sent.channel.id, message_id=sent.id)

    async def edit(self, channel_id: int, message_id: int, message: OutgoingMessage) -> None:
        with _as_delivery_failure():
            partial = self.client.get_partial_messageable(channel_id).get_partial_message(
                message_id
            )
            await partial.edit(
                content=message.content or None,
                embeds=[to_embed(card) for card in message.cards],
                attachments=[_file(a) for a in message.files],
                view=to_view(message.buttons, message.menus),
                allowed_mentions=_mentions(message),
            )

    async def find_marker(
        self, destination: Destination, marker: str, *, limit: int = 50
    ) -> Sent | None:
        me = self.client.user
        assert me is not None, "find_marker needs a logged-in client"
        with _as_delivery_failure():
            channel = await self._messageable(destination)
            async for found in channel.history(limit=limit):
                if found.author.id != me.id:
                    continue
                if any(marker in cid.split(":") for cid in _custom_ids(found.components)):
                    return Sent(channel_id=found.channel.id, message_id=found.id)
        return None

    async def create_event(self, guild_id: int, spec: EventSpec) -> int:
        with _as_delivery_failure():
            created = await self.client.http.create_guild_scheduled_event(
                guild_id, **_event_payload(spec)
            )
        return int(created["id"])

    async def edit_event(self, guild_id: int, event_id: int, spec: EventSpec) -> None:
        with _as_delivery_failure():
            await self.client.http.edit_scheduled_event(guild_id, event_id, **_event_payload(spec))

    async def cancel_event(self, guild_id: int, event_id: int) -> None:
        with _as_delivery_failure():
            await self.client.http.edit_scheduled_event(
                guild_id, event_id, status=discord.EventStatus.cancelled.value
            )


# Discord's entity types: STAGE_INSTANCE 1, VOICE 2, EXTERNAL 3. discord.py's own
# Guild.create_scheduled_event omits entity_type unless it is passed, so it is always explicit.
_ENTITY_TYPES = {"stage": 1, "voice": 2, "external": 3}


def _event_payload(spec: EventSpec) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "name": spec.name,
        "privacy_level": discord.PrivacyLevel.guild_only.value,
        "scheduled_start_time": spec.starts_at.isoformat(),
        "scheduled_end_time": spec.ends_at.isoformat(),
        "entity_type": _ENTITY_TYPES[spec.place],
        "description": spec.description or "",
    }
    if spec.place == "external":
        payload["channel_id"] = None
        payload["entity_metadata"] = {"location": spec.location or ""}
    else:
        payload["channel_id"] = spec.channel_id
        payload["entity_metadata"] = None
    return payload

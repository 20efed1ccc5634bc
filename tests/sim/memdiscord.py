"""Discord in memory for the simulation's fast tier: `bot.delivery.port.DiscordPort` over the
emulator's own world (tests/emulator/world.py: users, guilds, channels, DM channels, messages,
snowflakes on the clock, enforce_nonce de-duplication) and its message rules
(tests/emulator/validation.py), with no sockets in between, so one seed gives one story.

The request body each send would carry is built with discord.py's own
`discord.http.handle_message_parameters` from the same embeds and view the real port
(bot/discord_port.py) builds, then checked like the emulator checks it: Discord's hard limits on
every message, the full OpenAPI schema on a sample. The create-message route's rules are those
of tests/emulator/rest.py `create_message`: a DM to a user with closed DMs answers 403 50007, an
unknown channel 404 10003, an empty message 400 50006, a repeated nonce with enforce_nonce the
first message.

Faults are decided by the simulation (its one seeded random source) and surface exactly as the
real port surfaces them (`bot.discord_port.failure_from`): 429 and 5xx as transient
DeliveryFailed (status kept), a reset connection as "network error", a held response as
"timed out". A kill makes the call never return: the simulation abandons the task, as SIGKILL
would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import discord

from bot.clock import ManualClock
from bot.delivery.port import (
    CANNOT_DM,
    UNKNOWN_CHANNEL,
    UNKNOWN_MESSAGE,
    DeliveryFailed,
    Destination,
    EventSpec,
    OutgoingMessage,
    Sent,
)
from bot.discord_port import allowed_mentions, to_embed, to_view
from tests.emulator.model import ChannelType, Message, SnowflakeGenerator, User
from tests.emulator.validation import get_validator, message_limit_problems
from tests.emulator.world import World
from tests.sim.adapter import ADMIN_ID

Fault = Literal[
    "429",
    "5xx-before",
    "5xx-after",
    "reset",
    "held",
    "kill-before-send",
    "kill-after-send",
    "lookup-5xx",
    "kill-in-lookup",
]
SEND_FAULTS: tuple[Fault, ...] = (
    "429",
    "5xx-before",
    "5xx-after",
    "reset",
    "held",
    "kill-before-send",
    "kill-after-send",
)
LOOKUP_FAULTS: tuple[Fault, ...] = ("lookup-5xx", "kill-in-lookup")
# Full OpenAPI validation costs milliseconds a message: the first few of each shape are checked
# against the schema, every message against the hard limits.
SCHEMA_SAMPLE_PER_SHAPE = 3


class ClockSnowflakes(SnowflakeGenerator):
    """Snowflakes stamped with the simulation's clock, never the host's: the same seed gives
    the same ids."""

    def __init__(self, clock: ManualClock) -> None:
        super().__init__()
        self.clock = clock

    def __call__(self) -> int:
        return self.at(self.clock.now())


@dataclass
class Received:
    """A message Discord created (what the invariants look at)."""

    at: datetime
    message_id: int
    channel_id: int
    dm_user: int | None
    markers: tuple[str, ...]
    text: str
    pinged: tuple[int, ...]


@dataclass
class Killed:
    """Set when a fault kills the bot mid-call; `where` says at which await."""

    event: asyncio.Event = field(default_factory=asyncio.Event)
    where: str | None = None


def _payload_text(payload: dict[str, Any]) -> str:
    parts = [str(payload.get("content") or "")]
    for embed in payload.get("embeds") or []:
        parts += [str(embed.get("title") or ""), str(embed.get("description") or "")]
        parts += [f"{f.get('name')} {f.get('value')}" for f in embed.get("fields") or []]
        parts.append(str((embed.get("footer") or {}).get("text") or ""))
    return "\n".join(parts)


def _custom_ids(components: list[dict[str, Any]]) -> list[str]:
    found: list[str] = []
    for comp in components:
        if isinstance(comp.get("custom_id"), str):
            found.append(comp["custom_id"])
        found += _custom_ids(comp.get("components") or [])
    return found


def markers_in(custom_ids: list[str]) -> tuple[str, ...]:
    """Delivery markers ("d<id>") among the components' custom_id segments."""
    out: list[str] = []
    for custom_id in custom_ids:
        for segment in custom_id.split(":"):
            if len(segment) > 1 and segment[0] == "d" and segment[1:].isdigit():
                out.append(segment)
    return tuple(dict.fromkeys(out))


class MemDiscord:
    """The in-memory Discord: one guild per group, users, channels and what was sent."""

    def __init__(self, clock: ManualClock, pick_fault: Callable[[str], Fault | None]) -> None:
        self.clock = clock
        self.world = World(clock=clock)
        self.world.snowflake = ClockSnowflakes(clock)
        self.bot: User = self.world.bot_user
        self.pick_fault = pick_fault
        self.received: list[Received] = []
        self.by_channel: dict[int, list[Message]] = {}
        self.limit_violations: list[str] = []
        self.faults: dict[str, int] = {}
        self.killed = Killed()
        self.recent: list[str] = []
        """Faults since the simulation last looked (it may follow one with downtime)."""
        self._shapes: dict[tuple[object, ...], int] = {}
        self.requests = 0
        self.admin = self.add_admin()

    def add_admin(self) -> User:
        """The admin (ADMIN_USER_IDS) whom escalations also go to by DM: a Discord user like
        any other, sharing every group's server."""
        admin = User(id=ADMIN_ID, username="admin", global_name="admin")
        self.world.users[ADMIN_ID] = admin
        return admin

    # --- the world -------------------------------------------------------------------------

    def new_guild(self, name: str) -> tuple[int, int, int, int]:
        """A guild with an announcements channel, a facilitators channel and a role: ids."""
        guild = self.world.create_guild(name)
        announce = self.world.create_channel(guild, "announcements")
        private = self.world.create_channel(guild, "facilitators")
        role = self.world.create_role(guild, "Facilitators", mentionable=True)
        self.world.add_member(guild, self.admin, dispatch=False)
        return guild.id, announce.id, private.id, role.id

    def new_user(self, name: str, guild_ids: list[int]) -> int:
        user = self.world.create_user(name)
        for guild_id in guild_ids:
            self.world.add_member(self.world.guilds[guild_id], user, dispatch=False)
        return user.id

    def set_dms_closed(self, user_id: int, closed: bool) -> None:
        self.world.users[user_id].dms_closed = closed

    def dms_closed(self, user_id: int) -> bool:
        return self.world.users[user_id].dms_closed

    def delete_channel(self, channel_id: int) -> None:
        self.world.channels[channel_id].deleted = True

    # --- the port --------------------------------------------------------------------------

    def _count(self, fault: str) -> None:
        self.faults[fault] = self.faults.get(fault, 0) + 1
        self.recent.append(fault)

    async def _kill(self, where: str) -> None:
        self._count(where)
        self.killed.where = where
        self.killed.event.set()
        await asyncio.Future()  # never returns: the simulation abandons this task

    def _channel(self, destination: Destination) -> tuple[int, int | None]:
        if destination.user_id is not None:
            user = self.world.users.get(destination.user_id)
            if user is None:
                raise DeliveryFailed("Discord 404 (10013)", permanent=True, code=10013, status=404)
            return self.world.dm_channel_for(user).id, user.id
        assert destination.channel_id is not None
        channel = self.world.channels.get(destination.channel_id)
        if channel is None or channel.deleted:
            raise DeliveryFailed(
                "Discord 404 (10003): the channel no longer exists",
                permanent=True,
                code=UNKNOWN_CHANNEL,
                status=404,
            )
        return channel.id, None

    def _payload(self, message: OutgoingMessage, nonce: str | None) -> dict[str, Any]:
        parts: dict[str, Any] = {
            "allowed_mentions": allowed_mentions(
                users=message.ping_user_ids, roles=message.ping_role_ids
            )
        }
        if nonce is not None:
            parts["nonce"] = nonce
        if message.content:
            parts["content"] = message.content
        if message.cards:
            parts["embeds"] = [to_embed(card) for card in message.cards]
        if (view := to_view(message.buttons)) is not None:
            parts["view"] = view
        params = discord.http.handle_message_parameters(**parts)
        return dict(params.payload or {})

    def _check(self, method: str, path: str, payload: dict[str, Any], shape: str) -> list[str]:
        problems = message_limit_problems(payload)
        seen = self._shapes.get((method, shape), 0)
        if seen < SCHEMA_SAMPLE_PER_SHAPE:
            self._shapes[(method, shape)] = seen + 1
            problems += get_validator().validate(method, path, payload)
        for problem in problems:
            self.limit_violations.append(f"{self.clock.now().isoformat()} {shape}: {problem}")
        return problems

    async def send(self, destination: Destination, message: OutgoingMessage, *, nonce: str) -> Sent:
        self.requests += 1
        fault = self.pick_fault("send")
        if fault == "429":
            self._count(fault)
            raise DeliveryFailed("Discord 429", permanent=False, status=429)
        if fault == "5xx-before":
            self._count(fault)
            raise DeliveryFailed("Discord 503", permanent=False, status=503)
        if fault == "reset":
            self._count(fault)
            raise DeliveryFailed("network error: ClientConnectionResetError", permanent=False)
        if fault == "kill-before-send":
            await self._kill(fault)
        channel_id, dm_user = self._channel(destination)
        if dm_user is not None and self.world.users[dm_user].dms_closed:
            raise DeliveryFailed(
                "Discord 403 (50007): cannot send this user a direct message",
                permanent=True,
                code=CANNOT_DM,
                status=403,
            )
        payload = self._payload(message, nonce)
        shape = message.buttons[0].custom_id.split(":")[0] if message.buttons else "plain"
        if self._check("POST", f"/channels/{channel_id}/messages", payload, shape):
            raise DeliveryFailed("Discord 400 (50035)", permanent=True, code=50035, status=400)
        if not any(payload.get(k) for k in ("content", "embeds", "components")):
            raise DeliveryFailed("Discord 400 (50006)", permanent=True, code=50006, status=400)
        existing = self.world.nonce_lookup(self.bot.id, channel_id, nonce)
        if existing is not None:
            sent = Sent(channel_id, existing.id)
        else:
            created = self.world.create_message(
                self.world.channels[channel_id],
                self.bot,
                content=payload.get("content") or "",
                embeds=payload.get("embeds") or [],
                components=payload.get("components") or [],
                nonce=nonce,
                allowed_mentions=payload.get("allowed_mentions"),
            )
            self.world.nonce_store(self.bot.id, channel_id, nonce, created)
            self.by_channel.setdefault(channel_id, []).append(created)
            self.received.append(
                Received(
                    at=self.clock.now(),
                    message_id=created.id,
                    channel_id=channel_id,
                    dm_user=dm_user,
                    markers=markers_in(_custom_ids(created.components)),
                    text=_payload_text(payload),
                    pinged=tuple(message.ping_user_ids),
                )
            )
            sent = Sent(channel_id, created.id)
        if fault == "5xx-after":
            self._count(fault)
            raise DeliveryFailed("Discord 503", permanent=False, status=503)
        if fault == "held":
            self._count(fault)
            raise DeliveryFailed("timed out talking to Discord", permanent=False)
        if fault == "kill-after-send":
            await self._kill(fault)
        return sent

    async def edit(self, channel_id: int, message_id: int, message: OutgoingMessage) -> None:
        self.requests += 1
        found = self.world.messages.get(message_id)
        if found is None or found.deleted or found.channel_id != channel_id:
            raise DeliveryFailed(
                "Discord 404 (10008)", permanent=True, code=UNKNOWN_MESSAGE, status=404
            )
        payload = self._payload(message, None)
        path = f"/channels/{channel_id}/messages/{message_id}"
        if self._check("PATCH", path, payload, "edit"):
            raise DeliveryFailed("Discord 400 (50035)", permanent=True, code=50035, status=400)
        found.content = payload.get("content") or ""
        found.embeds = payload.get("embeds") or []
        found.components = payload.get("components") or []
        found.edited_timestamp = self.clock.now()

    async def find_marker(
        self, destination: Destination, marker: str, *, limit: int = 50
    ) -> Sent | None:
        self.requests += 1
        fault = self.pick_fault("lookup")
        if fault == "lookup-5xx":
            self._count(fault)
            raise DeliveryFailed("Discord 503", permanent=False, status=503)
        if fault == "kill-in-lookup":
            await self._kill(fault)
        channel_id, _dm_user = self._channel(destination)
        # Get Channel Messages: the newest `limit` (at most 100), newest first.
        recent = [m for m in self.by_channel.get(channel_id, []) if not m.deleted][-limit:]
        for found in reversed(recent):
            if found.author.id == self.bot.id and marker in markers_in(
                _custom_ids(found.components)
            ):
                return Sent(channel_id, found.id)
        return None

    # Events are not simulated in the fast tier (see tests/sim/README in the package doc).
    async def create_event(self, guild_id: int, spec: EventSpec) -> int:
        raise DeliveryFailed("events are not simulated", permanent=True)

    async def edit_event(self, guild_id: int, event_id: int, spec: EventSpec) -> None:
        raise DeliveryFailed("events are not simulated", permanent=True)

    async def cancel_event(self, guild_id: int, event_id: int) -> None:
        raise DeliveryFailed("events are not simulated", permanent=True)


def is_dm_channel(world: World, channel_id: int) -> bool:
    return world.channels[channel_id].type == ChannelType.DM

"""The emulator's world: the Discord objects it holds, how people and Discord change them, and
the waiting helper that wakes up on every change."""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from .errors import ApiError, EmulatorTimeout
from .events import ScheduledEventRules
from .gateway import Intent
from .model import (
    JSON,
    AppCommand,
    Application,
    Channel,
    ChannelType,
    EmulatorClock,
    Guild,
    Member,
    Message,
    Role,
    ScheduledEvent,
    SnowflakeGenerator,
    SystemTime,
    User,
)
from .permissions import P, channel_permissions

if TYPE_CHECKING:
    from .gateway import Gateway

T = TypeVar("T")

USER_MENTION = re.compile(r"<@!?(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")
EVERYONE_MENTION = re.compile(r"@(?:everyone|here)\b")

# The allowed_mentions a message gets when the key is not in the body (Discord's "Allowed
# Mentions Reference", docs/resources/message: "If allowed_mentions is not passed in, the
# mentions will be parsed via the content"; but "In interactions and webhooks, only user
# mentions are parsed").
PARSE_ALL: JSON = {"parse": ["users", "roles", "everyone"]}
PARSE_USERS: JSON = {"parse": ["users"]}


@dataclass
class StoredFile:
    """An uploaded attachment's bytes, served at its URL (see ``World.new_attachments``)."""

    id: int
    channel_id: int
    filename: str
    content_type: str
    data: bytes


def content_type_for(filename: str, given: str | None) -> str:
    """Discord works the type out from the file (discord.py labels every upload
    application/octet-stream); text types get ``; charset=utf-8`` as Discord's do."""
    guessed = mimetypes.guess_type(filename)[0]
    if guessed is None and given and given != "application/octet-stream":
        guessed = given
    ctype = guessed or "application/octet-stream"
    if ctype.startswith("text/") and "charset" not in ctype:
        ctype += "; charset=utf-8"
    return ctype


class World:
    """Discord's state as the emulator keeps it (base class of :class:`Emulator`)."""

    gateway: Gateway

    def __init__(self, token: str | None = None, clock: EmulatorClock | None = None) -> None:
        self.clock: EmulatorClock = clock or SystemTime()
        """Discord's wall clock; tests set it to the bot's ManualClock to move time together."""
        self.snowflake = SnowflakeGenerator()
        self.users: dict[int, User] = {}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.roles: dict[int, Role] = {}
        self.messages: dict[int, Message] = {}
        self.scheduled_events: dict[int, ScheduledEvent] = {}
        self.event_rules = ScheduledEventRules(self)
        """Discord's scheduled-event rules; ``event_rules.auto_cancel_after`` is adjustable."""
        self.commands: dict[int, AppCommand] = {}
        self.dm_channels: dict[int, int] = {}  # user id -> DM channel id
        self.nonce_window = 300.0
        """Seconds of :attr:`clock` during which ``enforce_nonce`` de-duplicates a message."""
        self.attachment_files: dict[int, StoredFile] = {}
        self._change = asyncio.Event()
        self.changes = 0
        """How many times the world changed (:meth:`notify`): a watcher's "since" cursor."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._nonces: dict[tuple[int, int, str], tuple[datetime, int]] = {}
        owner = self.create_user("emulator-owner")
        bot_user = self.create_user("Holdfast Test Bot", bot=True)
        self.app = Application(
            id=self.snowflake(), name="Holdfast (emulated)", bot_user=bot_user, owner=owner
        )
        if token is not None:
            self.app.token = token

    @property
    def bot_token(self) -> str:
        return self.app.token

    @property
    def bot_user(self) -> User:
        return self.app.bot_user

    # --- changes -------------------------------------------------------------------------
    def notify(self) -> None:
        """Wake up everything waiting in :meth:`wait_until` (call after any state change)."""
        self.changes += 1
        self._change.set()
        self._change = asyncio.Event()

    async def wait_until(
        self, predicate: Callable[[], T | None], *, what: str, timeout: float = 5.0
    ) -> T:
        """Wait until ``predicate()`` returns something truthy and return it.

        Raises :class:`EmulatorTimeout` naming ``what`` after ``timeout`` seconds.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise EmulatorTimeout(f"timed out after {timeout}s waiting for {what}")
            event = self._change
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, 0.25))

    def create_user(self, username: str, *, bot: bool = False, dms_closed: bool = False) -> User:
        user = User(id=self.snowflake(), username=username, global_name=username, bot=bot)
        user.dms_closed = dms_closed
        self.users[user.id] = user
        return user

    def create_guild(
        self,
        name: str = "Emulated Guild",
        *,
        owner: User | None = None,
        bot_permissions: int | None = None,
    ) -> Guild:
        """A guild with an @everyone role, the bot as member (with a "Bot" role) and no channels."""
        owner = owner or self.app.owner
        guild = Guild(id=self.snowflake(), name=name, owner_id=owner.id)
        self.guilds[guild.id] = guild
        everyone = Role(
            id=guild.id, guild_id=guild.id, name="@everyone", permissions=P.DEFAULT_EVERYONE
        )
        self.roles[everyone.id] = everyone
        guild.role_ids.append(everyone.id)
        self.add_member(guild, owner, dispatch=False)
        bot_role = self.create_role(
            guild,
            "Holdfast",
            permissions=P.BOT_DEFAULT if bot_permissions is None else bot_permissions,
        )
        bot_role.managed = True
        self.add_member(guild, self.app.bot_user, roles=[bot_role], dispatch=False)
        return guild

    def create_role(
        self, guild: Guild, name: str, *, permissions: int = 0, mentionable: bool = False
    ) -> Role:
        role = Role(
            id=self.snowflake(),
            guild_id=guild.id,
            name=name,
            permissions=permissions,
            position=len(guild.role_ids),
            mentionable=mentionable,
        )
        self.roles[role.id] = role
        guild.role_ids.append(role.id)
        return role

    def create_channel(
        self,
        guild: Guild,
        name: str,
        *,
        type: int = ChannelType.TEXT,
        parent: Channel | None = None,
        topic: str | None = None,
    ) -> Channel:
        channel = Channel(
            id=self.snowflake(),
            type=type,
            name=name,
            guild_id=guild.id,
            position=len(guild.channel_ids),
            parent_id=parent.id if parent else None,
            topic=topic,
        )
        self.channels[channel.id] = channel
        guild.channel_ids.append(channel.id)
        return channel

    def add_member(
        self, guild: Guild, user: User, *, roles: list[Role] | None = None, dispatch: bool = True
    ) -> Member:
        member = Member(user=user, guild_id=guild.id, role_ids=[r.id for r in roles or []])
        guild.members[user.id] = member
        if dispatch:
            self._spawn(
                self.gateway.dispatch(
                    "GUILD_MEMBER_ADD",
                    {**member.to_json(), "guild_id": str(guild.id)},
                    intent=Intent.GUILD_MEMBERS,
                )
            )
        return member

    async def member_joins(
        self, guild: Guild, user: User, *, roles: list[Role] | None = None
    ) -> Member:
        """A user joins the guild (GUILD_MEMBER_ADD)."""
        member = self.add_member(guild, user, roles=roles, dispatch=False)
        await self.gateway.dispatch(
            "GUILD_MEMBER_ADD",
            {**member.to_json(), "guild_id": str(guild.id)},
            intent=Intent.GUILD_MEMBERS,
        )
        self.notify()
        return member

    async def member_leaves(self, guild: Guild, user: User) -> None:
        """A member leaves the guild (GUILD_MEMBER_REMOVE)."""
        guild.members.pop(user.id, None)
        await self.gateway.dispatch(
            "GUILD_MEMBER_REMOVE",
            {"guild_id": str(guild.id), "user": user.to_json()},
            intent=Intent.GUILD_MEMBERS,
        )
        self.notify()

    async def set_member_roles(self, guild: Guild, user: User, roles: list[Role]) -> None:
        member = guild.members[user.id]
        member.role_ids = [r.id for r in roles]
        await self.dispatch_member_update(guild, member)

    async def dispatch_member_update(self, guild: Guild, member: Member) -> None:
        await self.gateway.dispatch(
            "GUILD_MEMBER_UPDATE",
            {**member.to_json(), "guild_id": str(guild.id)},
            intent=Intent.GUILD_MEMBERS,
        )
        self.notify()

    async def create_scheduled_event(
        self,
        guild: Guild,
        name: str,
        start: datetime,
        *,
        creator: User | None = None,
        channel: Channel | None = None,
        location: str | None = None,
        description: str | None = None,
    ) -> ScheduledEvent:
        """A person creates a scheduled event in Discord's UI (GUILD_SCHEDULED_EVENT_CREATE).

        Without ``channel`` it is an external event at ``location``."""
        event = ScheduledEvent(
            id=self.snowflake(),
            guild_id=guild.id,
            name=name,
            scheduled_start_time=start,
            entity_type=(3 if channel is None else 1 if channel.type == ChannelType.STAGE else 2),
            channel_id=channel.id if channel else None,
            creator_id=(creator or self.app.owner).id,
            description=description,
            location=location or ("Somewhere" if channel is None else None),
            scheduled_end_time=start + timedelta(hours=1) if channel is None else None,
        )
        self.scheduled_events[event.id] = event
        guild.scheduled_event_ids.append(event.id)
        await self.gateway.dispatch(
            "GUILD_SCHEDULED_EVENT_CREATE", event.to_json(), intent=Intent.GUILD_SCHEDULED_EVENTS
        )
        self.notify()
        return event

    async def advance_scheduled_events(self) -> list[ScheduledEvent]:
        """Apply the status changes Discord makes on its own at ``clock.now()`` (external events
        start at their start time and complete at their end; events never started are canceled
        ``event_rules.auto_cancel_after`` past their start), dispatching
        GUILD_SCHEDULED_EVENT_UPDATE for each. Scheduled-event routes call this first, so the
        bot always sees what Discord would show; tests call it after moving the clock."""
        return await self.event_rules.advance()

    async def set_event_interest(self, event: ScheduledEvent, user: User, interested: bool) -> None:
        """A member marks (or unmarks) "Interested" on an event (GUILD_SCHEDULED_EVENT_USER_*)."""
        if interested == (user.id in event.subscriber_ids):
            return
        if interested:
            event.subscriber_ids.append(user.id)
        else:
            event.subscriber_ids.remove(user.id)
        await self.gateway.dispatch(
            "GUILD_SCHEDULED_EVENT_USER_ADD" if interested else "GUILD_SCHEDULED_EVENT_USER_REMOVE",
            {
                "guild_scheduled_event_id": str(event.id),
                "user_id": str(user.id),
                "guild_id": str(event.guild_id),
            },
            intent=Intent.GUILD_SCHEDULED_EVENTS,
        )
        self.notify()

    async def delete_channel(self, channel: Channel) -> None:
        channel.deleted = True
        if channel.guild_id is not None:
            guild = self.guilds[channel.guild_id]
            if channel.id in guild.channel_ids:
                guild.channel_ids.remove(channel.id)
            await self.gateway.dispatch("CHANNEL_DELETE", channel.to_json(), intent=Intent.GUILDS)
        self.notify()

    async def delete_role(self, role: Role) -> None:
        role.deleted = True
        guild = self.guilds[role.guild_id]
        if role.id in guild.role_ids:
            guild.role_ids.remove(role.id)
        for member in guild.members.values():
            if role.id in member.role_ids:
                member.role_ids.remove(role.id)
        await self.gateway.dispatch(
            "GUILD_ROLE_DELETE",
            {"guild_id": str(guild.id), "role_id": str(role.id)},
            intent=Intent.GUILDS,
        )
        self.notify()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            coro.close()
            return
        task = loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def bot_guilds(self) -> list[Guild]:
        return [g for g in self.guilds.values() if self.app.bot_user.id in g.members]

    def guild_create_payload(self, guild: Guild) -> JSON:
        channels = [
            self.channels[c].to_json() for c in guild.channel_ids if not self.channels[c].deleted
        ]
        for ch in channels:
            ch.pop("guild_id", None)
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(guild.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [self.roles[r].to_json() for r in guild.role_ids],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "joined_at": guild.created_at.isoformat(),
            "large": len(guild.members) > 250,
            "unavailable": False,
            "member_count": len(guild.members),
            "voice_states": [],
            "members": [m.to_json() for m in guild.members.values()],
            "channels": channels,
            "threads": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [
                self.scheduled_events[e].to_json()
                for e in guild.scheduled_event_ids
                if not self.scheduled_events[e].deleted
            ],
            "soundboard_sounds": [],
        }

    def member_of(self, guild_id: int | None, user_id: int) -> Member | None:
        if guild_id is None:
            return None
        guild = self.guilds.get(guild_id)
        return guild.members.get(user_id) if guild else None

    def permissions_in(self, channel: Channel, user_id: int) -> int:
        if channel.guild_id is None:
            return P.VIEW_CHANNEL | P.SEND_MESSAGES | P.READ_MESSAGE_HISTORY | P.EMBED_LINKS
        guild = self.guilds[channel.guild_id]
        return channel_permissions(guild, self.roles, channel, user_id)

    def message_json(self, message: Message, *, with_nonce: bool = False) -> JSON:
        """The message as Discord serialises it; ``with_nonce`` only where Discord echoes the
        nonce (the create response and MESSAGE_CREATE)."""
        member = self.member_of(message.guild_id, message.author.id)
        data = message.to_json(
            member,
            with_nonce=with_nonce,
            mentions=self.mentions_in(message),
            mention_roles=[str(r) for r in self.role_mentions_in(message)],
            mention_everyone=self.mentions_everyone(message),
        )
        if message.type == 19 and message.message_reference is not None:
            # A reply carries the message it replies to (null once that one is deleted).
            target = self.messages.get(int(message.message_reference["message_id"]))
            data["referenced_message"] = (
                None
                if target is None or target.deleted
                else target.to_json(
                    self.member_of(target.guild_id, target.author.id),
                    mentions=self.mentions_in(target),
                    mention_roles=[str(r) for r in self.role_mentions_in(target)],
                    mention_everyone=self.mentions_everyone(target),
                )
            )
        return data

    @staticmethod
    def _allowed(message: Message) -> tuple[set[str], set[int], set[int]]:
        """(parse types, user ids, role ids) the message may mention, per its allowed_mentions
        or the default for its kind when it had none."""
        allowed = message.allowed_mentions
        if allowed is None:
            allowed = PARSE_USERS if message.webhook_id is not None else PARSE_ALL
        parse = {str(t) for t in allowed.get("parse") or []}
        users = {int(u) for u in allowed.get("users") or []}
        roles = {int(r) for r in allowed.get("roles") or []}
        return parse, users, roles

    def _may_mention_everyone(self, message: Message) -> bool:
        """Discord's MENTION_EVERYONE permission ("Allows for using the @everyone tag to notify
        all users in a channel, and the @here tag to notify all online users"; it also lets
        non-mentionable roles be mentioned). Allowed mentions "check against user/bot
        permissions" (Allowed Mentions Object). A DM has neither roles nor @everyone."""
        if message.guild_id is None:
            return False
        channel = self.channels.get(message.channel_id)
        if channel is None:
            return False
        return bool(self.permissions_in(channel, message.author.id) & P.MENTION_EVERYONE)

    def mentions_in(self, message: Message) -> list[JSON]:
        """Users mentioned in the content (``<@id>`` / ``<@!id>``) that its allowed_mentions let
        through (``parse`` "users", or listed in ``users``), as Discord's ``mentions``: a user
        written in the content but not allowed is not mentioned (Allowed Mentions Reference)."""
        parse, allowed_users, _ = self._allowed(message)
        out: list[JSON] = []
        for raw in dict.fromkeys(USER_MENTION.findall(message.content)):
            if "users" not in parse and int(raw) not in allowed_users:
                continue
            user = self.users.get(int(raw))
            if user is not None:
                entry = user.to_json()
                member = self.member_of(message.guild_id, user.id)
                if member is not None:
                    member_json = member.to_json()
                    member_json.pop("user")
                    entry["member"] = member_json
                out.append(entry)
        return out

    def role_mentions_in(self, message: Message) -> list[int]:
        """Roles mentioned in the content (``<@&id>``) that its allowed_mentions let through
        (``parse`` "roles", or listed in ``roles``) and that may be mentioned at all: the role
        is mentionable ("whether this role is mentionable", Role Object) or the author has
        MENTION_EVERYONE. Discord's ``mention_roles``."""
        if message.guild_id is None:
            return []
        parse, _, allowed_roles = self._allowed(message)
        out: list[int] = []
        for raw in dict.fromkeys(ROLE_MENTION.findall(message.content)):
            role = self.roles.get(int(raw))
            if role is None or role.deleted or role.guild_id != message.guild_id:
                continue
            if "roles" not in parse and role.id not in allowed_roles:
                continue
            if role.mentionable or self._may_mention_everyone(message):
                out.append(role.id)
        return out

    def mentions_everyone(self, message: Message) -> bool:
        """``mention_everyone``: the content says @everyone or @here, ``parse`` has "everyone"
        (the only way to allow it) and the author has MENTION_EVERYONE."""
        parse, _, _ = self._allowed(message)
        return (
            "everyone" in parse
            and EVERYONE_MENTION.search(message.content) is not None
            and self._may_mention_everyone(message)
        )

    async def update_role(self, role: Role, **changes: Any) -> None:
        """Change a role as a server admin would (e.g. ``mentionable=True``); the bot hears
        GUILD_ROLE_UPDATE (Gateway events: "Guild Role Update", ``guild_id`` and ``role``)."""
        for name, value in changes.items():
            if not hasattr(role, name):
                raise AttributeError(f"a role has no {name!r}")
            setattr(role, name, value)
        await self.gateway.dispatch(
            "GUILD_ROLE_UPDATE",
            {"guild_id": str(role.guild_id), "role": role.to_json()},
            intent=Intent.GUILDS,
        )
        self.notify()

    def get_channel(self, channel_id: int | str) -> Channel:
        channel = self.channels.get(int(channel_id))
        if channel is None or channel.deleted:
            raise ApiError(404, 10003, "Unknown Channel")
        return channel

    def dm_channel_for(self, user: User) -> Channel:
        """The DM channel between the bot and ``user`` (created on first use)."""
        channel_id = self.dm_channels.get(user.id)
        if channel_id is not None:
            return self.channels[channel_id]
        channel = Channel(id=self.snowflake(), type=ChannelType.DM, recipient_ids=[user.id])
        self.channels[channel.id] = channel
        self.dm_channels[user.id] = channel.id
        return channel

    def create_message(
        self,
        channel: Channel,
        author: User,
        *,
        content: str = "",
        embeds: list[JSON] | None = None,
        components: list[JSON] | None = None,
        flags: int = 0,
        nonce: str | int | None = None,
        attachments: list[JSON] | None = None,
        webhook_id: int | None = None,
        interaction_metadata: JSON | None = None,
        message_reference: JSON | None = None,
        allowed_mentions: JSON | None = None,
        store: bool = True,
    ) -> Message:
        now = self.clock.now()
        message = Message(
            id=self.snowflake.at(now),
            timestamp=now,
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author=author,
            content=content,
            embeds=embeds or [],
            components=components or [],
            attachments=attachments or [],
            flags=flags,
            nonce=nonce,
            webhook_id=webhook_id,
            application_id=self.app.id if webhook_id else None,
            interaction_metadata=interaction_metadata,
            message_reference=message_reference,
            allowed_mentions=allowed_mentions,
        )
        if store:
            self.messages[message.id] = message
            channel.last_message_id = message.id
        return message

    async def dispatch_message_create(self, message: Message) -> None:
        intent = Intent.DIRECT_MESSAGES if message.guild_id is None else Intent.GUILD_MESSAGES
        data = self.message_json(message, with_nonce=True)
        await self.gateway.dispatch("MESSAGE_CREATE", data, intent=intent)
        self.notify()

    # --- attachments ---------------------------------------------------------------------------
    base_url: str  # set by the server

    def new_attachments(
        self, channel_id: int, files: list[JSON], specs: list[JSON] | None = None
    ) -> list[JSON]:
        """Attachment objects for uploaded ``files[n]`` parts. A payload ``attachments`` entry
        whose ``id`` is ``n`` gives that file's filename and description (Uploading Files).
        Each gets its own id and URL, like Discord's CDN
        (``/attachments/{channel_id}/{attachment_id}/{filename}``)."""
        by_index = {str(s.get("id")): s for s in specs or [] if isinstance(s, dict)}
        out: list[JSON] = []
        for position, f in enumerate(files):
            name = str(f.get("name") or "")
            index = name[len("files[") : -1] if name.startswith("files[") else str(position)
            spec = by_index.get(index, {})
            filename = str(spec.get("filename") or f.get("filename") or "file")
            aid = self.snowflake()
            stored = StoredFile(
                id=aid,
                channel_id=channel_id,
                filename=filename,
                content_type=content_type_for(filename, f.get("content_type")),
                data=bytes(f.get("data") or b""),
            )
            self.attachment_files[aid] = stored
            url = f"{self.base_url}/attachments/{channel_id}/{aid}/{quote(filename)}"
            attachment: JSON = {
                "id": str(aid),
                "filename": filename,
                "size": len(stored.data),
                "url": url,
                "proxy_url": url,
                "content_type": stored.content_type,
            }
            if spec.get("description"):
                attachment["description"] = spec["description"]
            out.append(attachment)
        return out

    def message_with_attachment(self, attachment_id: int) -> Message | None:
        """The live message that carries an attachment (none once deleted or edited away)."""
        for message in self.messages.values():
            if not message.deleted and any(
                a.get("id") == str(attachment_id) for a in message.attachments
            ):
                return message
        return None

    def attachment_bytes(self, attachment: object) -> bytes:
        """The bytes of an attachment: an attachment object (JSON), a ``discord.Attachment`` (or
        anything with ``.id``) or its id. Tests read back what the bot uploaded with it."""
        if isinstance(attachment, dict):
            raw = attachment["id"]
        elif isinstance(attachment, int | str):
            raw = attachment
        else:
            raw = getattr(attachment, "id")  # noqa: B009 - any object with an id
        return self.attachment_files[int(raw)].data

    # --- nonce de-duplication ------------------------------------------------------------------
    # Discord: with ``enforce_nonce`` "if another message was created by the same author with
    # the same nonce, that message will be returned and no new message will be created", for "a
    # few minutes" (``nonce_window`` seconds of ``clock``, so a ManualClock moves it). A nonce
    # whose message was deleted in the window answers 404 Unknown Message: discord.py's
    # ``Messageable.send`` documents NotFound for "a message with the same nonce as one that has
    # been explicitly deleted shortly earlier".
    def nonce_lookup(self, author_id: int, channel_id: int, nonce: str) -> Message | None:
        entry = self._nonces.get((author_id, channel_id, nonce))
        if entry is None:
            return None
        created, message_id = entry
        if (self.clock.now() - created).total_seconds() > self.nonce_window:
            return None
        message = self.messages.get(message_id)
        if message is None or message.deleted:
            raise ApiError(404, 10008, "Unknown Message")
        return message

    def nonce_store(self, author_id: int, channel_id: int, nonce: str, message: Message) -> None:
        self._nonces[(author_id, channel_id, nonce)] = (self.clock.now(), message.id)

"""The emulator's world: Discord objects as dataclasses, serialised in Discord's JSON shapes."""

from __future__ import annotations

import base64
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

DISCORD_EPOCH_MS = 1_420_070_400_000

JSON = dict[str, Any]


class SnowflakeGenerator:
    """Timestamp-based snowflakes like Discord's (ms since 2015 << 22 | worker | increment).

    ``gen()`` stamps the host's time; ``gen.at(when)`` stamps a given instant (messages use the
    emulator's clock, so ``Message.created_at`` and history queries by time agree with a
    ManualClock). The increment counts per millisecond, so ids made in one millisecond (a
    ManualClock that does not move) stay unique and in creation order."""

    def __init__(self, worker: int = 1) -> None:
        self._worker = worker & 0x1F
        self._next_increment: dict[int, int] = {}

    def __call__(self) -> int:
        return self._make(int(time.time() * 1000) - DISCORD_EPOCH_MS)

    def at(self, when: datetime) -> int:
        return self._make(int(when.timestamp() * 1000) - DISCORD_EPOCH_MS)

    def _make(self, ms: int) -> int:
        increment = self._next_increment.get(ms, 0)
        while increment > 0xFFF:  # 4096 ids in one millisecond: borrow the next one
            ms += 1
            increment = self._next_increment.get(ms, 0)
        self._next_increment[ms] = increment + 1
        return (ms << 22) | (self._worker << 17) | increment


def snowflake_time(snowflake: int) -> datetime:
    return datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, UTC)


def iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.isoformat()


def utcnow() -> datetime:
    return datetime.now(UTC)


class EmulatorClock(Protocol):
    """What the emulator asks for "now" (Discord's wall clock). Tests that move the bot's
    ManualClock give the emulator the same object, so windows Discord measures in wall time
    (the nonce window, scheduled-event start times) move with it."""

    def now(self) -> datetime: ...


class SystemTime:
    def now(self) -> datetime:
        return utcnow()


class ChannelType:
    TEXT = 0
    DM = 1
    VOICE = 2
    CATEGORY = 4
    NEWS = 5
    STAGE = 13


@dataclass
class User:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    dms_closed: bool = False
    """A member with DMs closed: the bot gets 50007 when it messages them."""

    def to_json(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "public_flags": 0,
            "flags": 0,
            "primary_guild": None,
        }
        if self.bot:
            data["bot"] = True
        return data

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass
class Role:
    id: int
    guild_id: int
    name: str
    permissions: int = 0
    position: int = 0
    color: int = 0
    managed: bool = False
    deleted: bool = False
    mentionable: bool = False
    """Role object ``mentionable``: "whether this role is mentionable" (off for a new role; the
    server setting "Allow anyone to @mention this role")."""

    def to_json(self) -> JSON:
        return {
            "id": str(self.id),
            "name": self.name,
            "color": self.color,
            "colors": {
                "primary_color": self.color,
                "secondary_color": None,
                "tertiary_color": None,
            },
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }


@dataclass
class Member:
    user: User
    guild_id: int
    role_ids: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: datetime = field(default_factory=utcnow)

    def to_json(self) -> JSON:
        return {
            "user": self.user.to_json(),
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "roles": [str(r) for r in self.role_ids],
            "joined_at": iso(self.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }


@dataclass
class Overwrite:
    id: int
    type: int  # 0 role, 1 member
    allow: int = 0
    deny: int = 0

    def to_json(self) -> JSON:
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


@dataclass
class Channel:
    id: int
    type: int
    name: str | None = None
    guild_id: int | None = None
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    overwrites: list[Overwrite] = field(default_factory=list)
    recipient_ids: list[int] = field(default_factory=list)
    last_message_id: int | None = None
    deleted: bool = False

    @property
    def is_dm(self) -> bool:
        return self.type == ChannelType.DM

    def to_json(self, users: dict[int, User] | None = None) -> JSON:
        if self.type == ChannelType.DM:
            recipients = [users[u].to_json() for u in self.recipient_ids] if users else []
            return {
                "id": str(self.id),
                "type": self.type,
                "recipients": recipients,
                "last_message_id": _opt_id(self.last_message_id),
                "flags": 0,
            }
        data: JSON = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [o.to_json() for o in self.overwrites],
            "parent_id": _opt_id(self.parent_id),
            "nsfw": False,
            "flags": 0,
        }
        if self.type in (ChannelType.TEXT, ChannelType.NEWS):
            data.update(
                topic=self.topic,
                last_message_id=_opt_id(self.last_message_id),
                rate_limit_per_user=0,
                default_auto_archive_duration=1440,
            )
        elif self.type in (ChannelType.VOICE, ChannelType.STAGE):
            data.update(
                bitrate=64000,
                user_limit=0,
                rtc_region=None,
                last_message_id=_opt_id(self.last_message_id),
                rate_limit_per_user=0,
            )
            if self.type == ChannelType.STAGE:
                data["topic"] = self.topic
        return data


@dataclass
class Message:
    id: int
    channel_id: int
    author: User
    content: str = ""
    guild_id: int | None = None
    embeds: list[JSON] = field(default_factory=list)
    components: list[JSON] = field(default_factory=list)
    attachments: list[JSON] = field(default_factory=list)
    flags: int = 0
    nonce: str | int | None = None
    timestamp: datetime = field(default_factory=utcnow)
    edited_timestamp: datetime | None = None
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_metadata: JSON | None = None
    message_reference: JSON | None = None
    deleted: bool = False
    type: int = 0
    allowed_mentions: JSON | None = None
    """The ``allowed_mentions`` the message was sent (or last edited) with; None: not passed."""

    SUPPRESS_EMBEDS = 1 << 2
    EPHEMERAL = 1 << 6
    LOADING = 1 << 7
    SUPPRESS_NOTIFICATIONS = 1 << 12
    IS_VOICE_MESSAGE = 1 << 13
    IS_COMPONENTS_V2 = 1 << 15
    CREATE_FLAGS = SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | IS_VOICE_MESSAGE | IS_COMPONENTS_V2
    """Flags a bot may set creating a channel message (Create Message, ``flags``)."""
    EDIT_FLAGS = SUPPRESS_EMBEDS | IS_COMPONENTS_V2
    """Flags a bot may set or unset editing one (Edit Message, ``flags``)."""

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & self.EPHEMERAL)

    def component_list(self) -> list[JSON]:
        """All interactive components (buttons, selects), flattened out of rows and containers."""
        out: list[JSON] = []

        def walk(items: list[JSON]) -> None:
            for item in items:
                if item.get("type") in (2, 3, 5, 6, 7, 8):
                    out.append(item)
                for key in ("components",):
                    if isinstance(item.get(key), list):
                        walk(item[key])
                if isinstance(item.get("accessory"), dict):
                    walk([item["accessory"]])

        walk(self.components)
        return out

    def to_json(
        self,
        member: Member | None = None,
        *,
        with_nonce: bool = False,
        mentions: list[JSON] | None = None,
        mention_roles: list[str] | None = None,
        mention_everyone: bool = False,
    ) -> JSON:
        """The message object. ``with_nonce`` only for the create response and MESSAGE_CREATE:
        Discord does not store nonces (discord.py ``Message.nonce``: "not stored long term
        within Discord's servers and is only used ephemerally")."""
        data: JSON = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "author": self.author.to_json(),
            "content": self.content,
            "timestamp": iso(self.timestamp),
            "edited_timestamp": iso(self.edited_timestamp),
            "tts": False,
            "mention_everyone": mention_everyone,
            "mentions": mentions or [],
            "mention_roles": mention_roles or [],
            "attachments": self.attachments,
            "embeds": self.embeds,
            "pinned": False,
            "type": self.type,
            "flags": self.flags,
            "components": self.components,
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if member is not None and self.webhook_id is None:
            member_json = member.to_json()
            member_json.pop("user")
            data["member"] = member_json
        if with_nonce and self.nonce is not None:
            data["nonce"] = self.nonce
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
        if self.application_id is not None:
            data["application_id"] = str(self.application_id)
        if self.interaction_metadata is not None:
            data["interaction_metadata"] = self.interaction_metadata
        if self.message_reference is not None:
            data["message_reference"] = self.message_reference
        return data


@dataclass
class VoiceState:
    """A member connected to a voice or stage channel (Discord's "Voice State Object",
    docs/resources/voice). One per user: Discord connects an account to one voice channel at a
    time, so joining another channel (in any guild) moves or disconnects the old state."""

    guild_id: int
    user_id: int
    channel_id: int | None
    session_id: str
    """The voice session; kept when the member moves channel, new after they disconnect."""
    self_mute: bool = False
    self_deaf: bool = False
    self_video: bool = False
    self_stream: bool = False
    suppress: bool = False
    """Stage audience: "whether this user's permission to speak is denied"."""
    request_to_speak_timestamp: datetime | None = None
    deaf: bool = False
    mute: bool = False

    def to_json(self, member: Member | None = None, *, in_guild_create: bool = False) -> JSON:
        """The voice state object. In GUILD_CREATE the states "lack the guild_id key" (Guild
        Create extra fields) and carry no member (the members are in ``members``)."""
        data: JSON = {
            "channel_id": _opt_id(self.channel_id),
            "user_id": str(self.user_id),
            "session_id": self.session_id,
            "deaf": self.deaf,
            "mute": self.mute,
            "self_deaf": self.self_deaf,
            "self_mute": self.self_mute,
            "self_video": self.self_video,
            "self_stream": self.self_stream,
            "suppress": self.suppress,
            "request_to_speak_timestamp": iso(self.request_to_speak_timestamp),
        }
        if not in_guild_create:
            data["guild_id"] = str(self.guild_id)
            if member is not None:
                data["member"] = member.to_json()
        return data


@dataclass
class ScheduledEvent:
    id: int
    guild_id: int
    name: str
    scheduled_start_time: datetime
    entity_type: int = 2  # 1 stage, 2 voice, 3 external
    channel_id: int | None = None
    creator_id: int | None = None
    description: str | None = None
    scheduled_end_time: datetime | None = None
    status: int = 1  # 1 scheduled, 2 active, 3 completed, 4 canceled
    location: str | None = None
    privacy_level: int = 2
    subscriber_ids: list[int] = field(default_factory=list)
    deleted: bool = False

    def to_json(self, with_user_count: bool = False) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "guild_id": str(self.guild_id),
            "channel_id": _opt_id(self.channel_id),
            "creator_id": _opt_id(self.creator_id),
            "name": self.name,
            "description": self.description,
            "scheduled_start_time": iso(self.scheduled_start_time),
            "scheduled_end_time": iso(self.scheduled_end_time),
            "privacy_level": self.privacy_level,
            "status": self.status,
            "entity_type": self.entity_type,
            "entity_id": None,
            "entity_metadata": {"location": self.location} if self.entity_type == 3 else None,
            "image": None,
            "recurrence_rule": None,
        }
        if with_user_count:
            data["user_count"] = len(self.subscriber_ids)
        return data


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    channel_ids: list[int] = field(default_factory=list)
    role_ids: list[int] = field(default_factory=list)
    members: dict[int, Member] = field(default_factory=dict)
    scheduled_event_ids: list[int] = field(default_factory=list)
    created_at: datetime = field(default_factory=utcnow)

    @property
    def everyone_role_id(self) -> int:
        return self.id


@dataclass
class AppCommand:
    id: int
    application_id: int
    name: str
    type: int = 1
    description: str = ""
    options: list[JSON] = field(default_factory=list)
    guild_id: int | None = None
    default_member_permissions: str | None = None
    contexts: list[int] | None = None
    integration_types: list[int] | None = None
    nsfw: bool = False
    version: int = 1
    raw: JSON = field(default_factory=dict)

    @classmethod
    def from_payload(
        cls, cmd_id: int, application_id: int, guild_id: int | None, payload: JSON
    ) -> AppCommand:
        return cls(
            id=cmd_id,
            application_id=application_id,
            name=payload["name"],
            type=payload.get("type", 1),
            description=payload.get("description", ""),
            options=payload.get("options") or [],
            guild_id=guild_id,
            default_member_permissions=payload.get("default_member_permissions"),
            contexts=payload.get("contexts"),
            integration_types=payload.get("integration_types"),
            nsfw=payload.get("nsfw", False),
            raw=payload,
        )

    def to_json(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "application_id": str(self.application_id),
            "version": str(self.version),
            "type": self.type,
            "name": self.name,
            "name_localizations": None,
            "description": self.description,
            "description_localizations": None,
            "options": self.options,
            "default_member_permissions": self.default_member_permissions,
            "dm_permission": True,
            "nsfw": self.nsfw,
            "contexts": self.contexts,
            "integration_types": self.integration_types or [0],
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        return data


@dataclass
class Application:
    id: int
    name: str
    bot_user: User
    owner: User
    token: str = ""

    def __post_init__(self) -> None:
        if not self.token:
            # Shaped like Discord's: base64(bot user id) . timestamp part . HMAC part, so the
            # real bot's token check accepts it.
            head = base64.urlsafe_b64encode(str(self.bot_user.id).encode()).decode().rstrip("=")
            self.token = f"{head}.{secrets.token_urlsafe(4)}.{secrets.token_urlsafe(27)}"

    def to_json(self) -> JSON:
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "description": "Emulated application",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "owner": self.owner.to_json(),
            "team": None,
            "flags": 0,
            "bot": self.bot_user.to_json(),
            "rpc_origins": [],
            "approximate_guild_count": 1,
            "interactions_endpoint_url": None,
            "redirect_uris": [],
            "tags": [],
        }


def _opt_id(value: int | None) -> str | None:
    return None if value is None else str(value)


def message_text(message: Message) -> str:
    """Content plus embed titles, descriptions and field texts, for ``contains`` matching."""
    parts = [message.content]
    for embed in message.embeds:
        parts += [str(embed.get("title", "")), str(embed.get("description", ""))]
        for f in embed.get("fields", []) or []:
            parts += [str(f.get("name", "")), str(f.get("value", ""))]
        footer = embed.get("footer") or {}
        parts.append(str(footer.get("text", "")))

    def walk(items: list[JSON]) -> None:
        for item in items:
            if item.get("type") == 10:
                parts.append(str(item.get("content", "")))
            if isinstance(item.get("components"), list):
                walk(item["components"])

    walk(message.components)
    return "\n".join(p for p in parts if p)

"""The domain's view of Discord for deliveries: plain message shapes and a small Protocol.

Nothing here imports discord.py; `bot/discord_port.py` implements `DiscordPort` with it, and
tests use a fake with the same shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

ButtonStyle = Literal["primary", "secondary", "success", "danger"]

# Discord JSON error codes that no retry can fix (https://discord.com/developers/docs/topics/
# opcodes-and-status-codes#json-json-error-codes).
CANNOT_DM = 50007
UNKNOWN_CHANNEL = 10003
UNKNOWN_MESSAGE = 10008
UNKNOWN_USER = 10013
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013
PERMANENT_CODES: frozenset[int] = frozenset(
    {CANNOT_DM, UNKNOWN_CHANNEL, UNKNOWN_MESSAGE, UNKNOWN_USER, MISSING_ACCESS, MISSING_PERMISSIONS}
)


@dataclass(frozen=True)
class Button:
    label: str
    custom_id: str
    style: ButtonStyle = "secondary"
    emoji: str | None = None
    disabled: bool = False


@dataclass(frozen=True)
class PeopleMenu:
    """A menu for picking people (Discord's user select), some already picked
    (`default_values`, at most 25)."""

    custom_id: str
    placeholder: str
    picked: tuple[int, ...] = ()
    min_values: int = 0
    max_values: int = 25

    def __post_init__(self) -> None:
        # Discord: a select's min_values 0-25, max_values 1-25, and default_values within
        # min_values..max_values ("Select Menu Structure").
        if not (0 <= self.min_values <= self.max_values <= 25 and self.max_values >= 1):
            raise ValueError("a people menu picks between 0 and 25 people")
        if len(self.picked) > self.max_values:
            raise ValueError("more people picked than the menu allows")


@dataclass(frozen=True)
class Card:
    """An embed: a titled block with optional name/value fields."""

    title: str
    description: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    footer: str | None = None
    colour: int | None = None


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    content_type: str


@dataclass(frozen=True)
class OutgoingMessage:
    content: str = ""
    cards: tuple[Card, ...] = ()
    buttons: tuple[Button, ...] = ()
    menus: tuple[PeopleMenu, ...] = ()
    """Each on its own row, above the buttons."""
    files: tuple[Attachment, ...] = ()
    ping_user_ids: tuple[int, ...] = ()
    """The people this message may notify (e.g. the member a channel reminder is for). Nobody
    else is pinged, whatever the text says: a title or note holding `<@id>` stays inert."""
    ping_role_ids: tuple[int, ...] = ()
    """Roles this message may notify (e.g. the facilitators for an escalation); none otherwise.
    @everyone and @here never notify anyone."""

    def carries_marker(self, marker: str) -> bool:
        """True if some button's custom_id has `marker` as a whole ':'-separated segment."""
        return any(marker in button.custom_id.split(":") for button in self.buttons)


@dataclass(frozen=True)
class Destination:
    """Exactly one of: a channel, or a user (a DM)."""

    channel_id: int | None = None
    user_id: int | None = None

    def __post_init__(self) -> None:
        if (self.channel_id is None) == (self.user_id is None):
            raise ValueError("a destination is exactly one of channel_id or user_id")

    @property
    def is_dm(self) -> bool:
        return self.user_id is not None


@dataclass(frozen=True)
class Sent:
    channel_id: int
    message_id: int


class DeliveryFailed(Exception):
    """Discord did not take the message. `reason` is safe to log and show: it never holds the
    message's content, only what went wrong (e.g. "Discord 403 (50007): cannot DM this user")."""

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool,
        code: int | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.code = code
        self.status = status


@dataclass(frozen=True)
class EventSpec:
    """A one-off Discord guild scheduled event mirroring one meeting."""

    name: str
    description: str | None
    starts_at: datetime
    ends_at: datetime
    place: Literal["voice", "stage", "external"]
    channel_id: int | None = None
    location: str | None = None


class DiscordPort(Protocol):
    async def send(self, destination: Destination, message: OutgoingMessage, *, nonce: str) -> Sent:
        """Post `message`; `nonce` is sent with enforce_nonce so a repeat within Discord's
        window returns the first message instead of a second one. Raises DeliveryFailed."""
        ...

    async def edit(self, channel_id: int, message_id: int, message: OutgoingMessage) -> None:
        """Replace a message the bot sent earlier. Raises DeliveryFailed."""
        ...

    async def find_marker(
        self, destination: Destination, marker: str, *, limit: int = 50
    ) -> Sent | None:
        """The newest of the bot's own recent messages at `destination` with a button whose
        custom_id has `marker` as a ':'-separated segment, if any.

        Discord does not return nonces in fetched messages, so in-doubt recovery looks for the
        marker, which lives in what Discord keeps (component custom_ids). Raises DeliveryFailed.
        """
        ...

    async def create_event(self, guild_id: int, spec: EventSpec) -> int:
        """Create a guild scheduled event; returns its id. Raises DeliveryFailed."""
        ...

    async def edit_event(self, guild_id: int, event_id: int, spec: EventSpec) -> None:
        """Bring an event in line with `spec`. Raises DeliveryFailed."""
        ...

    async def cancel_event(self, guild_id: int, event_id: int) -> None:
        """Mark a scheduled event cancelled. Raises DeliveryFailed."""
        ...

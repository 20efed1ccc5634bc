"""A Discord emulator for end-to-end tests of a real discord.py client (see README.md)."""

from .actors import Actor, InteractionHandle, Response
from .errors import ApiError, EmulatorTimeout, MessageGone
from .factories import Server, build_guild
from .faults import Fault, FaultKind, Faults
from .gateway import Gateway, Intent
from .harness import (
    FAST_CLIENT_OPTIONS,
    discord_endpoints,
    make_test_bot,
    poll_until,
    running_bot,
    wait_for_sync,
)
from .interactions import CallbackType, InteractionType
from .model import (
    Channel,
    ChannelType,
    Guild,
    Member,
    Message,
    Overwrite,
    Role,
    ScheduledEvent,
    User,
    VoiceState,
)
from .permissions import P
from .ratelimit import RateLimits
from .server import Emulator, RecordedRequest, Violation, message_text

__all__ = [
    "FAST_CLIENT_OPTIONS",
    "Actor",
    "ApiError",
    "CallbackType",
    "Channel",
    "ChannelType",
    "Emulator",
    "EmulatorTimeout",
    "Fault",
    "FaultKind",
    "Faults",
    "Gateway",
    "Guild",
    "Intent",
    "InteractionHandle",
    "InteractionType",
    "Member",
    "Message",
    "MessageGone",
    "Overwrite",
    "P",
    "RateLimits",
    "RecordedRequest",
    "Response",
    "Role",
    "ScheduledEvent",
    "Server",
    "User",
    "Violation",
    "VoiceState",
    "build_guild",
    "discord_endpoints",
    "make_test_bot",
    "message_text",
    "poll_until",
    "running_bot",
    "wait_for_sync",
]

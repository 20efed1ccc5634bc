"""Discord's permission computation: @everyone + roles, then channel overwrites, admin bypass."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Channel, Guild, Role


class P:
    """Permission bits (the ones the emulator enforces or factories grant)."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    MUTE_MEMBERS = 1 << 22
    MOVE_MEMBERS = 1 << 24
    MANAGE_ROLES = 1 << 28
    USE_APPLICATION_COMMANDS = 1 << 31
    REQUEST_TO_SPEAK = 1 << 32
    MANAGE_EVENTS = 1 << 33
    SEND_MESSAGES_IN_THREADS = 1 << 38
    CREATE_EVENTS = 1 << 44

    ALL = (1 << 51) - 1
    DEFAULT_EVERYONE = (
        CREATE_INSTANT_INVITE
        | ADD_REACTIONS
        | VIEW_CHANNEL
        | SEND_MESSAGES
        | EMBED_LINKS
        | ATTACH_FILES
        | READ_MESSAGE_HISTORY
        | CONNECT
        | SPEAK
        | USE_APPLICATION_COMMANDS
        | REQUEST_TO_SPEAK
        | SEND_MESSAGES_IN_THREADS
    )
    BOT_DEFAULT = DEFAULT_EVERYONE | MANAGE_EVENTS | CREATE_EVENTS | MANAGE_ROLES | MANAGE_MESSAGES


def base_permissions(guild: Guild, roles: dict[int, Role], user_id: int) -> int:
    """Guild-level permissions of a member (owner and administrator get everything)."""
    if user_id == guild.owner_id:
        return P.ALL
    everyone = roles.get(guild.everyone_role_id)
    perms = everyone.permissions if everyone else 0
    member = guild.members.get(user_id)
    if member is None:
        return 0
    for role_id in member.role_ids:
        role = roles.get(role_id)
        if role is not None and not role.deleted:
            perms |= role.permissions
    if perms & P.ADMINISTRATOR:
        return P.ALL
    return perms


def channel_permissions(
    guild: Guild, roles: dict[int, Role], channel: Channel, user_id: int
) -> int:
    """Permissions of a member in a channel: base, then @everyone, role and member overwrites."""
    perms = base_permissions(guild, roles, user_id)
    if perms & P.ADMINISTRATOR or user_id == guild.owner_id:
        return P.ALL
    overwrites = {(o.type, o.id): o for o in channel.overwrites}
    everyone = overwrites.get((0, guild.everyone_role_id))
    if everyone is not None:
        perms = (perms & ~everyone.deny) | everyone.allow
    member = guild.members.get(user_id)
    role_ids = member.role_ids if member else []
    allow = deny = 0
    for role_id in role_ids:
        ow = overwrites.get((0, role_id))
        if ow is not None:
            allow |= ow.allow
            deny |= ow.deny
    perms = (perms & ~deny) | allow
    own = overwrites.get((1, user_id))
    if own is not None:
        perms = (perms & ~own.deny) | own.allow
    if not perms & P.VIEW_CHANNEL:
        return 0
    return perms

"""Factories: a realistic peer-support server in one line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .model import Channel, ChannelType, Guild, Role, User
from .permissions import P

if TYPE_CHECKING:
    from .server import Emulator


@dataclass
class Server:
    """What :func:`build_guild` made: the guild, its channels, roles and people."""

    guild: Guild
    general: Channel
    meetings: Channel
    facilitators_channel: Channel
    voice: Channel
    stage: Channel
    everyone_role: Role
    facilitator_role: Role
    admin_role: Role
    member_role: Role
    owner: User
    admins: list[User] = field(default_factory=list)
    facilitators: list[User] = field(default_factory=list)
    members: list[User] = field(default_factory=list)

    @property
    def facilitator(self) -> User:
        return self.facilitators[0]

    @property
    def member(self) -> User:
        return self.members[0]

    @property
    def admin(self) -> User:
        return self.admins[0]


def build_guild(
    emu: Emulator,
    name: str = "Peer Support Circle",
    *,
    facilitators: int = 1,
    members: int = 5,
    admins: int = 1,
    dms_closed: int = 0,
    bot_permissions: int | None = None,
) -> Server:
    """A guild with #general, #meetings, a private #facilitators channel, a voice and a stage
    channel, roles Admin (administrator), Facilitator (manage events) and Member, and people.

    ``dms_closed`` members (the last ones) have DMs closed.
    """
    owner = emu.create_user(f"{name.split()[0].lower()}-owner")
    guild = emu.create_guild(name, owner=owner, bot_permissions=bot_permissions)
    everyone = emu.roles[guild.id]
    member_role = emu.create_role(guild, "Member")
    facilitator_role = emu.create_role(
        guild, "Facilitator", permissions=P.MANAGE_EVENTS | P.MANAGE_MESSAGES
    )
    admin_role = emu.create_role(guild, "Admin", permissions=P.ADMINISTRATOR)
    # The bot's role sits above the people's roles so it may assign them.
    bot_member = guild.members[emu.app.bot_user.id]
    for rid in bot_member.role_ids:
        emu.roles[rid].position = len(guild.role_ids) + 1
    general = emu.create_channel(guild, "general", topic="Welcome")
    meetings = emu.create_channel(guild, "meetings", topic="Monthly meetings")
    private = emu.create_channel(guild, "facilitators")
    from .model import Overwrite

    private.overwrites = [
        Overwrite(id=guild.id, type=0, deny=P.VIEW_CHANNEL),
        Overwrite(id=facilitator_role.id, type=0, allow=P.VIEW_CHANNEL),
        Overwrite(id=emu.app.bot_user.id, type=1, allow=P.VIEW_CHANNEL),
    ]
    voice = emu.create_channel(guild, "Meeting Room", type=ChannelType.VOICE)
    stage = emu.create_channel(guild, "Stage", type=ChannelType.STAGE)
    server = Server(
        guild=guild,
        general=general,
        meetings=meetings,
        facilitators_channel=private,
        voice=voice,
        stage=stage,
        everyone_role=everyone,
        facilitator_role=facilitator_role,
        admin_role=admin_role,
        member_role=member_role,
        owner=owner,
    )
    for i in range(admins):
        user = emu.create_user(f"admin{i + 1}")
        emu.add_member(guild, user, roles=[admin_role], dispatch=False)
        server.admins.append(user)
    for i in range(facilitators):
        user = emu.create_user(f"facilitator{i + 1}")
        emu.add_member(guild, user, roles=[facilitator_role, member_role], dispatch=False)
        server.facilitators.append(user)
    for i in range(members):
        user = emu.create_user(f"member{i + 1}", dms_closed=i >= members - dms_closed)
        emu.add_member(guild, user, roles=[member_role], dispatch=False)
        server.members.append(user)
    return server

"""The demo's Discord server: "North adopters", as a small UK support group would set it up."""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.emulator.model import Channel, ChannelType, Guild, Overwrite, Role, User
from tests.emulator.permissions import P
from tests.emulator.server import Emulator

FACILITATORS = ("Priya", "Tom")
MEMBERS = (
    "Sam", "Aisha", "Ben", "Chloe", "Dev", "Ellie",
    "Femi", "Grace", "Harry", "Imogen", "Jo", "Kieran",
)  # fmt: skip
ADMIN = "Alex"


@dataclass
class DemoServer:
    guild: Guild
    announcements: Channel
    general: Channel
    facilitators_channel: Channel
    voice: Channel
    facilitator_role: Role
    admin_role: Role
    member_role: Role
    admin: User
    facilitators: list[User] = field(default_factory=list)
    members: list[User] = field(default_factory=list)

    @property
    def people(self) -> list[tuple[User, str]]:
        """Everyone a visitor can be, with what they are: member, facilitator or admin."""
        return [
            (self.admin, "admin"),
            *((u, "facilitator") for u in self.facilitators),
            *((u, "member") for u in self.members),
        ]


def build_north_adopters(emu: Emulator) -> DemoServer:
    """2 facilitators, 12 members and an admin; #announcements, #general, a private
    #facilitators channel and a voice room. The facilitator role allows anyone to mention it,
    as the README's set-up asks."""
    admin = emu.create_user(ADMIN.lower())
    admin.global_name = ADMIN
    guild = emu.create_guild("North adopters", owner=admin)
    member_role = emu.create_role(guild, "Member")
    facilitator_role = emu.create_role(
        guild, "Facilitator", permissions=P.MANAGE_EVENTS | P.MANAGE_MESSAGES, mentionable=True
    )
    admin_role = emu.create_role(guild, "Admin", permissions=P.ADMINISTRATOR)
    bot_member = guild.members[emu.app.bot_user.id]
    for rid in bot_member.role_ids:
        emu.roles[rid].position = len(guild.role_ids) + 1
    announcements = emu.create_channel(
        guild, "announcements", topic="Our monthly meetings, and who's coming"
    )
    general = emu.create_channel(guild, "general", topic="Say hello")
    private = emu.create_channel(guild, "facilitators", topic="For the group's facilitators")
    private.overwrites = [
        Overwrite(id=guild.id, type=0, deny=P.VIEW_CHANNEL),
        Overwrite(id=facilitator_role.id, type=0, allow=P.VIEW_CHANNEL),
        Overwrite(id=emu.app.bot_user.id, type=1, allow=P.VIEW_CHANNEL),
    ]
    voice = emu.create_channel(guild, "Meeting room", type=ChannelType.VOICE)
    emu.guilds[guild.id].members[admin.id].role_ids.append(admin_role.id)
    server = DemoServer(
        guild=guild,
        announcements=announcements,
        general=general,
        facilitators_channel=private,
        voice=voice,
        facilitator_role=facilitator_role,
        admin_role=admin_role,
        member_role=member_role,
        admin=admin,
    )
    for name in FACILITATORS:
        user = _person(emu, name)
        emu.add_member(guild, user, roles=[facilitator_role, member_role], dispatch=False)
        server.facilitators.append(user)
    for name in MEMBERS:
        user = _person(emu, name)
        emu.add_member(guild, user, roles=[member_role], dispatch=False)
        server.members.append(user)
    return server


def _person(emu: Emulator, name: str) -> User:
    user = emu.create_user(name.lower())
    user.global_name = name
    return user

"""Members in voice and stage channels: joining, moving, leaving, and what the bot hears of it.

Sources for every rule here (https://discord.com/developers/docs):

* "Voice State Object" (resources/voice): the fields of a voice state; ``suppress`` "whether
  this user's permission to speak is denied", ``request_to_speak_timestamp`` "the time at
  which the user requested to speak".
* Gateway Events, "Voice State Update": "Sent when someone joins/leaves/moves voice channels.
  Inner payload is a voice state object." "Guild Create" extra fields: ``voice_states``,
  "States of members currently in voice channels; lacks the guild_id key".
* Gateway, "List of Intents": VOICE_STATE_UPDATE belongs to GUILD_VOICE_STATES (1 << 7), not a
  privileged intent. discord.py's ``Intents.voice_states`` ties ``VoiceChannel.members`` and
  ``Member.voice`` (filled from GUILD_CREATE's ``voice_states``) to it, so a session without
  the intent gets neither the events nor the initial states.
* Gateway Events, "Request Guild Members": without GUILD_PRESENCES Discord "will only send
  members who are in voice, plus the member for you" in GUILD_CREATE.
* Permissions: CONNECT "Allows for joining of a voice channel"; a channel a member cannot
  view they cannot join either. Stage ("Modify Current User Voice State"): "You must have the
  MUTE_MEMBERS permission to unsuppress yourself", "You must have the REQUEST_TO_SPEAK
  permission to request to speak".
* Get User Voice State (``GET /guilds/{guild.id}/voice-states/{user.id}``); error 10065
  "Unknown voice state" (Opcodes and Status Codes, JSON error codes).
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from .gateway import Intent
from .model import JSON, ChannelType, VoiceState
from .permissions import P

if TYPE_CHECKING:
    from .model import Channel, Guild, User
    from .world import World

VOICE_TYPES = (ChannelType.VOICE, ChannelType.STAGE)


class VoiceStates:
    """Who is connected where (``emu.voice``); people act through ``emu.join_voice`` etc."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.by_user: dict[int, VoiceState] = {}
        """user id -> their one live voice state (an account is in one voice channel at most)."""

    # --- queries --------------------------------------------------------------------------------
    def state_of(self, user: User | int, guild: Guild | int | None = None) -> VoiceState | None:
        """The user's voice state (in ``guild``, if given), or None when not connected."""
        user_id = user if isinstance(user, int) else user.id
        state = self.by_user.get(user_id)
        if state is None:
            return None
        if guild is not None and state.guild_id != (guild if isinstance(guild, int) else guild.id):
            return None
        return state

    def in_guild(self, guild: Guild) -> list[VoiceState]:
        return [s for s in self.by_user.values() if s.guild_id == guild.id]

    def in_channel(self, channel: Channel) -> list[VoiceState]:
        return [s for s in self.by_user.values() if s.channel_id == channel.id]

    def guild_create_states(self, guild: Guild) -> list[JSON]:
        return [s.to_json(in_guild_create=True) for s in self.in_guild(guild)]

    # --- people -------------------------------------------------------------------------------
    def _check_join(self, user: User, channel: Channel, *, speaker: bool, request: bool) -> None:
        if channel.type not in VOICE_TYPES or channel.guild_id is None:
            raise ValueError(f"#{channel.name} is not a voice or stage channel; nobody can join it")
        if channel.deleted:
            raise LookupError(f"#{channel.name} was deleted; nobody can join it")
        guild = self.world.guilds[channel.guild_id]
        if user.id not in guild.members:
            raise PermissionError(f"{user.username} is not a member of {guild.name}")
        perms = self.world.permissions_in(channel, user.id)
        if not perms & P.VIEW_CHANNEL or not perms & P.CONNECT:
            raise PermissionError(
                f"{user.username} cannot join #{channel.name}: Discord needs VIEW_CHANNEL and "
                "CONNECT there"
            )
        if channel.type == ChannelType.STAGE:
            if speaker and not perms & P.MUTE_MEMBERS:
                raise PermissionError(
                    f"{user.username} cannot speak on #{channel.name} unasked: unsuppressing "
                    "yourself needs MUTE_MEMBERS"
                )
            if request and not perms & P.REQUEST_TO_SPEAK:
                raise PermissionError(
                    f"{user.username} cannot request to speak on #{channel.name}: it needs "
                    "REQUEST_TO_SPEAK"
                )
        elif speaker or request:
            raise ValueError("speaker / request_to_speak only apply to stage channels")

    async def join(
        self,
        user: User,
        channel: Channel,
        *,
        self_mute: bool = False,
        self_deaf: bool = False,
        self_video: bool = False,
        self_stream: bool = False,
        speaker: bool = False,
        request_to_speak: bool = False,
    ) -> VoiceState:
        """``user`` connects to ``channel`` (or moves there from another voice channel)."""
        self._check_join(user, channel, speaker=speaker, request=request_to_speak)
        assert channel.guild_id is not None
        old = self.by_user.get(user.id)
        if old is not None and old.guild_id != channel.guild_id:
            # One voice connection per account: joining elsewhere disconnects the old one.
            await self.leave(user)
            old = None
        stage = channel.type == ChannelType.STAGE
        state = VoiceState(
            guild_id=channel.guild_id,
            user_id=user.id,
            channel_id=channel.id,
            session_id=old.session_id if old is not None else secrets.token_hex(16),
            self_mute=self_mute,
            self_deaf=self_deaf,
            self_video=self_video,
            self_stream=self_stream,
            # A stage audience member is suppressed until they speak (speaker) or are invited.
            suppress=stage and not speaker,
            request_to_speak_timestamp=(
                self.world.clock.now() if stage and request_to_speak else None
            ),
        )
        self.by_user[user.id] = state
        await self._dispatch(state)
        return state

    async def update(self, user: User, **flags: bool) -> VoiceState:
        """A connected member mutes, deafens, turns the camera on, etc. (``self_*`` flags)."""
        state = self.by_user.get(user.id)
        if state is None:
            raise LookupError(f"{user.username} is not in a voice channel")
        allowed = {"self_mute", "self_deaf", "self_video", "self_stream"}
        unknown = set(flags) - allowed
        if unknown:
            raise ValueError(f"only {sorted(allowed)} can be changed this way, not {unknown}")
        for name, value in flags.items():
            setattr(state, name, value)
        await self._dispatch(state)
        return state

    async def leave(self, user: User | int) -> VoiceState | None:
        """The member disconnects: VOICE_STATE_UPDATE with ``channel_id`` null. Returns the
        state they left (None if they were not connected)."""
        user_id = user if isinstance(user, int) else user.id
        state = self.by_user.pop(user_id, None)
        if state is None:
            return None
        gone = VoiceState(
            guild_id=state.guild_id,
            user_id=state.user_id,
            channel_id=None,
            session_id=state.session_id,
            self_mute=state.self_mute,
            self_deaf=state.self_deaf,
        )
        await self._dispatch(gone)
        return state

    async def disconnect_channel(self, channel: Channel) -> None:
        """Everyone in a deleted channel is disconnected."""
        for state in self.in_channel(channel):
            await self.leave(state.user_id)

    async def _dispatch(self, state: VoiceState) -> None:
        member = self.world.member_of(state.guild_id, state.user_id)
        await self.world.gateway.dispatch(
            "VOICE_STATE_UPDATE", state.to_json(member), intent=Intent.GUILD_VOICE_STATES
        )
        self.world.notify()

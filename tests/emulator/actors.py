"""The person-like API: a user runs slash commands, clicks buttons, picks options, submits modals
and sends messages; an :class:`InteractionHandle` shows what the bot answered."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import EmulatorTimeout, MessageGone
from .interactions import CallbackType, InteractionRecord, InteractionType
from .model import (
    JSON,
    AppCommand,
    Channel,
    ChannelType,
    Message,
    Role,
    ScheduledEvent,
    User,
    VoiceState,
)
from .permissions import P
from .server import message_text

if TYPE_CHECKING:
    from .server import Emulator

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER = 3, 4, 5, 6, 7, 8, 9, 10
_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


@dataclass
class Response:
    """The bot's initial response (interaction callback) as Discord received it."""

    type: int
    data: JSON

    @property
    def content(self) -> str:
        return str(self.data.get("content") or "")

    @property
    def embeds(self) -> list[JSON]:
        return list(self.data.get("embeds") or [])

    @property
    def components(self) -> list[JSON]:
        return list(self.data.get("components") or [])

    @property
    def flags(self) -> int:
        return int(self.data.get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & Message.EPHEMERAL)

    @property
    def deferred(self) -> bool:
        return self.type in (
            CallbackType.DEFERRED_CHANNEL_MESSAGE,
            CallbackType.DEFERRED_UPDATE_MESSAGE,
        )

    @property
    def is_modal(self) -> bool:
        return self.type == CallbackType.MODAL


class InteractionHandle:
    """One interaction a user started, and everything the bot answered to it."""

    def __init__(self, emu: Emulator, record: InteractionRecord, description: str) -> None:
        self.emu = emu
        self.record = record
        self.description = description

    def __repr__(self) -> str:
        return f"<InteractionHandle {self.description} response={self.response}>"

    @property
    def id(self) -> int:
        return self.record.id

    @property
    def response(self) -> Response | None:
        if self.record.callback_type is None:
            return None
        return Response(self.record.callback_type, self.record.callback_data or {})

    @property
    def original(self) -> Message | None:
        """The response message (type 4, or type 5 once edited/followed up)."""
        return self.record.original

    @property
    def message(self) -> Message | None:
        """The message the user now sees: the response message, or the updated message (type 7)."""
        if self.record.original is not None:
            return self.record.original
        if self.record.callback_type in (
            CallbackType.UPDATE_MESSAGE,
            CallbackType.DEFERRED_UPDATE_MESSAGE,
        ):
            return self.record.source_message
        return None

    @property
    def followups(self) -> list[Message]:
        return list(self.record.followups)

    @property
    def modal(self) -> JSON | None:
        """The modal the bot opened (type 9 callback data), if any."""
        if self.record.callback_type == CallbackType.MODAL:
            return self.record.callback_data
        return None

    @property
    def ephemeral(self) -> bool:
        response = self.response
        return bool(response and response.ephemeral)

    def texts(self) -> list[str]:
        """Everything the bot showed for this interaction: response, original, followups."""
        out = []
        if self.response is not None:
            out.append(message_text(_as_message(self.response.data)))
        for m in [self.message, *self.record.followups]:
            if m is not None:
                out.append(message_text(m))
        return [t for t in out if t]

    def _failed_callbacks(self) -> str:
        reqs = [
            r for r in self.emu.requests if r.path.startswith(f"/interactions/{self.record.id}/")
        ]
        if not reqs:
            return "the bot sent no callback at all (the user would see 'This interaction failed')"
        return "callback requests: " + ", ".join(f"{r.status} {r.body_text()[:200]}" for r in reqs)

    async def wait_for_response(self, timeout: float | None = None) -> Response:
        """Wait for the initial response (within the ack window by default)."""
        timeout = self.emu.interaction_ack_window + 0.5 if timeout is None else timeout
        try:
            await self.emu.wait_until(
                lambda: self.record.acknowledged,
                what=f"the bot's response to {self.description}",
                timeout=timeout,
            )
        except EmulatorTimeout as exc:
            raise EmulatorTimeout(f"{exc}; {self._failed_callbacks()}") from None
        response = self.response
        assert response is not None
        return response

    async def wait_for_text(self, contains: str, timeout: float = 5.0) -> str:
        """Wait until the response, the response message or a followup contains ``contains``."""

        def found() -> str | None:
            return next((t for t in self.texts() if contains in t), None)

        try:
            return await self.emu.wait_until(
                found, what=f"{contains!r} in the answer to {self.description}", timeout=timeout
            )
        except EmulatorTimeout as exc:
            raise EmulatorTimeout(f"{exc}; the bot showed: {self.texts()}") from None

    async def wait_for_followup(self, contains: str | None = None, timeout: float = 5.0) -> Message:
        def found() -> Message | None:
            return next(
                (
                    m
                    for m in self.record.followups
                    if contains is None or contains in message_text(m)
                ),
                None,
            )

        return await self.emu.wait_until(
            found, what=f"a followup to {self.description} containing {contains!r}", timeout=timeout
        )

    async def wait_for_modal(self, timeout: float | None = None) -> JSON:
        response = await self.wait_for_response(timeout)
        assert response.is_modal, (
            f"expected a modal for {self.description}, got callback {response}"
        )
        return response.data


def _field_ids(components: list[JSON]) -> list[str]:
    out: list[str] = []
    for c in components:
        if c.get("custom_id"):
            out.append(c["custom_id"])
        out += _field_ids(c.get("components") or [])
        if isinstance(c.get("component"), dict):
            out += _field_ids([c["component"]])
    return out


def _as_message(data: JSON) -> Message:
    from .model import User as _User

    return Message(
        id=0,
        channel_id=0,
        author=_User(0, "-"),
        content=str(data.get("content") or ""),
        embeds=list(data.get("embeds") or []),
        components=list(data.get("components") or []),
    )


class Actor:
    """A person using Discord: ``member = emulator.as_user(user)``."""

    def __init__(self, emu: Emulator, user: User, *, channel: Channel | None = None) -> None:
        self.emu = emu
        self.user = user
        self.channel = channel

    def __repr__(self) -> str:
        return f"<Actor {self.user.username}>"

    # --- context ------------------------------------------------------------------------------
    def default_channel(self) -> Channel:
        if self.channel is not None:
            return self.channel
        for guild in self.emu.bot_guilds():
            if self.user.id not in guild.members:
                continue
            for cid in guild.channel_ids:
                ch = self.emu.channels[cid]
                if ch.type == ChannelType.TEXT and not ch.deleted:
                    return ch
        raise LookupError(
            f"{self.user.username} shares no text channel with the bot; pass channel="
        )

    def dm_channel(self) -> Channel:
        return self.emu.dm_channel_for(self.user)

    # --- slash commands -----------------------------------------------------------------------
    async def run(
        self, text: str, *, channel: Channel | None = None, dm: bool = False, **options: Any
    ) -> InteractionHandle:
        """Run a slash command as typed, e.g. ``"/meeting schedule day:3 time:19:30"``.

        Extra keyword ``options`` are added as if typed (handy for values with spaces or objects
        such as a ``User``). ``dm=True`` runs it in the user's DM with the bot.
        """
        target, data = self._command_data(text, channel=channel, dm=dm, options=options)
        return await self._start(
            InteractionType.APPLICATION_COMMAND, target, data, None, f"'{text}'"
        )

    async def autocomplete(
        self, text: str, focused: str, *, channel: Channel | None = None
    ) -> InteractionHandle:
        """Type ``text`` (e.g. ``"/meeting schedule day:3 time:19"``) with the cursor in option
        ``focused``: an autocomplete interaction (type 4). The bot's choices are in
        ``(await handle.wait_for_response()).data["choices"]``."""
        target, data = self._command_data(
            text, channel=channel, dm=False, options={}, focused=focused
        )
        return await self._start(
            InteractionType.AUTOCOMPLETE, target, data, None, f"autocomplete of '{text}'"
        )

    def _command_data(
        self,
        text: str,
        *,
        channel: Channel | None,
        dm: bool,
        options: dict[str, Any],
        focused: str | None = None,
    ) -> tuple[Channel, JSON]:
        target = self.dm_channel() if dm else channel or self.default_channel()
        tokens = shlex.split(text)
        if not tokens or not tokens[0].startswith("/"):
            raise ValueError(f"a slash command starts with '/': {text!r}")
        name = tokens[0][1:]
        cmd = self._find_command(name, target)
        resolved: JSON = {}
        options_tree, rest_options = self._walk_subcommands(cmd, tokens[1:])
        provided: dict[str, Any] = {}
        for tok in rest_options:
            if ":" not in tok:
                raise ValueError(f"option {tok!r} in {text!r} is not name:value")
            key, value = tok.split(":", 1)
            provided[key] = value
        provided.update(options)
        leaf_defs, path = options_tree
        leaf = []
        for d in leaf_defs:
            if d["name"] not in provided:
                continue
            value = provided.pop(d["name"])
            if d["name"] == focused:
                leaf.append(
                    {"name": d["name"], "type": d["type"], "value": str(value), "focused": True}
                )
            else:
                leaf.append(self._option(d, value, resolved))
        if provided:
            raise ValueError(
                f"unknown option(s) {sorted(provided)} for /{' '.join([name, *path])}; "
                f"known: {[d['name'] for d in leaf_defs]}"
            )
        missing = [
            d["name"]
            for d in leaf_defs
            if d.get("required") and d["name"] not in {o["name"] for o in leaf}
        ]
        if missing and focused is None:
            raise ValueError(f"missing required option(s) {missing} for /{' '.join([name, *path])}")
        opts: list[JSON] = leaf
        if len(path) == 2:
            opts = [{"type": SUB_COMMAND_GROUP, "name": path[0], "options": [
                {"type": SUB_COMMAND, "name": path[1], "options": leaf}]}]  # fmt: skip
        elif len(path) == 1:
            opts = [{"type": SUB_COMMAND, "name": path[0], "options": leaf}]
        data: JSON = {"id": str(cmd.id), "name": cmd.name, "type": cmd.type, "options": opts}
        if cmd.guild_id is not None:
            data["guild_id"] = str(cmd.guild_id)
        if resolved:
            data["resolved"] = resolved
        return target, data

    def _resolved_role(self, value: Any, resolved: JSON) -> str:
        role = self._resolve_role(value)
        resolved.setdefault("roles", {})[str(role.id)] = role.to_json()
        return str(role.id)

    def _find_command(self, name: str, channel: Channel) -> AppCommand:
        cands = [c for c in self.emu.commands.values() if c.name == name and c.type == 1]
        guild_cmd = next(
            (c for c in cands if c.guild_id is not None and c.guild_id == channel.guild_id), None
        )
        cmd = guild_cmd or next((c for c in cands if c.guild_id is None), None)
        if cmd is None:
            known = sorted({c.name for c in self.emu.commands.values()})
            raise LookupError(
                f"no synced command /{name} for this channel (synced: {known}); "
                "was the tree synced?"
            )
        self._check_command_available(cmd, channel)
        return cmd

    def _check_command_available(self, cmd: AppCommand, channel: Channel) -> None:
        """Discord hides a command a person may not use there; they cannot run it at all."""
        in_dm = channel.guild_id is None
        context = 1 if in_dm else 0  # BOT_DM / GUILD interaction contexts
        if in_dm and cmd.guild_id is not None:
            raise PermissionError(f"/{cmd.name} is a server command; it is not offered in DMs")
        if cmd.contexts is not None and context not in cmd.contexts:
            where = "in DMs" if in_dm else "in a server"
            raise PermissionError(f"/{cmd.name} is not offered {where} (contexts {cmd.contexts})")
        if in_dm or cmd.default_member_permissions is None:
            return
        needed = int(cmd.default_member_permissions)
        has = self.emu.permissions_in(channel, self.user.id)
        if has & P.ADMINISTRATOR or (needed and has & needed == needed):
            return
        raise PermissionError(
            f"{self.user.username} cannot see /{cmd.name}: it needs permissions {needed} "
            "(default_member_permissions) and they do not have them"
        )

    def _walk_subcommands(
        self, cmd: AppCommand, tokens: list[str]
    ) -> tuple[tuple[list[JSON], list[str]], list[str]]:
        defs = cmd.options
        path: list[str] = []
        rest = list(tokens)
        for _ in range(2):
            subs = [d for d in defs if d.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP)]
            if not subs:
                break
            if not rest or ":" in rest[0]:
                raise ValueError(f"/{cmd.name} needs a subcommand: {[d['name'] for d in subs]}")
            word = rest.pop(0)
            sub = next((d for d in subs if d["name"] == word), None)
            if sub is None:
                raise ValueError(
                    f"/{cmd.name} has no subcommand {word!r}: {[d['name'] for d in subs]}"
                )
            path.append(word)
            defs = sub.get("options") or []
        return (defs, path), rest

    def _option(self, d: JSON, value: Any, resolved: JSON) -> JSON:
        t = d.get("type")
        name = d["name"]
        out: Any
        if t == STRING:
            out = str(value)
        elif t == INTEGER:
            out = int(value)
        elif t == NUMBER:
            out = float(value)
        elif t == BOOLEAN:
            if isinstance(value, bool):
                out = value
            elif str(value).lower() in _TRUE | _FALSE:
                out = str(value).lower() in _TRUE
            else:
                raise ValueError(f"option {name}: {value!r} is not a boolean")
        elif t in (USER, MENTIONABLE):
            user = self._resolve_user(value)
            if user is not None:
                out = str(user.id)
                self._add_resolved_user(user, resolved)
            elif t == MENTIONABLE:
                out = self._resolved_role(value, resolved)
            else:
                raise ValueError(f"option {name}: no user {value!r}")
        elif t == CHANNEL:
            ch = self._resolve_channel(value)
            out = str(ch.id)
            resolved.setdefault("channels", {})[str(ch.id)] = {
                **ch.to_json(self.emu.users),
                "permissions": str(self.emu.permissions_in(ch, self.user.id)),
            }
        elif t == ROLE:
            out = self._resolved_role(value, resolved)
        else:
            raise ValueError(f"option {name}: type {t} is not supported by the emulator")
        choices = d.get("choices")
        if choices and out not in [c["value"] for c in choices]:
            raise ValueError(
                f"option {name}: {out!r} is not one of {[c['value'] for c in choices]}"
            )
        return {"name": name, "type": t, "value": out}

    def _add_resolved_user(self, user: User, resolved: JSON) -> None:
        resolved.setdefault("users", {})[str(user.id)] = user.to_json()
        guild_id = (
            self.default_channel().guild_id if self.channel is None else self.channel.guild_id
        )
        member = self.emu.member_of(guild_id, user.id)
        if member is not None:
            mj = member.to_json()
            mj.pop("user")
            mj["permissions"] = "0"
            resolved.setdefault("members", {})[str(user.id)] = mj

    def _resolve_user(self, value: Any) -> User | None:
        if isinstance(value, User):
            return value
        text = str(value).strip("<@!>")
        if text.isdigit():
            return self.emu.users.get(int(text))
        return next((u for u in self.emu.users.values() if u.username == str(value)), None)

    def _resolve_channel(self, value: Any) -> Channel:
        if isinstance(value, Channel):
            return value
        text = str(value).strip("<#>")
        if text.isdigit() and int(text) in self.emu.channels:
            return self.emu.channels[int(text)]
        found = next((c for c in self.emu.channels.values() if c.name == text.lstrip("#")), None)
        if found is None:
            raise ValueError(f"no channel {value!r}")
        return found

    def _resolve_role(self, value: Any) -> Role:
        if isinstance(value, Role):
            return value
        text = str(value).strip("<@&>")
        if text.isdigit() and int(text) in self.emu.roles:
            return self.emu.roles[int(text)]
        found = next((r for r in self.emu.roles.values() if r.name == str(value).lstrip("@")), None)
        if found is None:
            raise ValueError(f"no role {value!r}")
        return found

    # --- components and modals ----------------------------------------------------------------
    def _message_of(self, source: Message | InteractionHandle) -> Message:
        if isinstance(source, InteractionHandle):
            if source.message is None:
                raise LookupError(f"{source.description} has no message to interact with")
            message = source.message
        else:
            message = self.emu.messages.get(source.id, source)
        if message.deleted:
            raise MessageGone(
                f"message {message.id} was deleted: {self.user.username} cannot click or pick "
                "anything on it any more (Discord removes it from everyone's screen)"
            )
        return message

    def _component(self, message: Message, key: str, types: tuple[int, ...]) -> JSON:
        comps = [c for c in message.component_list() if c.get("type") in types]
        for c in comps:
            if key in (c.get("custom_id"), c.get("label"), c.get("placeholder")):
                if c.get("disabled"):
                    raise ValueError(f"component {key!r} is disabled")
                if "custom_id" not in c:
                    raise ValueError(f"component {key!r} is a link button (no custom_id)")
                return c
        labels = [c.get("label") or c.get("placeholder") or c.get("custom_id") for c in comps]
        raise LookupError(f"no component {key!r} on message {message.id}; it has: {labels}")

    async def click(
        self, source: Message | InteractionHandle, label_or_custom_id: str
    ) -> InteractionHandle:
        """Click a button by label or custom_id (component interaction, type 3)."""
        message = self._message_of(source)
        button = self._component(message, label_or_custom_id, (2,))
        data = {"custom_id": button["custom_id"], "component_type": 2}
        channel = self.emu.channels[message.channel_id]
        return await self._start(
            InteractionType.MESSAGE_COMPONENT,
            channel,
            data,
            message,
            f"click on {label_or_custom_id!r}",
        )

    async def select(
        self, source: Message | InteractionHandle, custom_id_or_placeholder: str, values: list[Any]
    ) -> InteractionHandle:
        """Pick ``values`` in a select menu (string, user, role, mentionable or channel select)."""
        message = self._message_of(source)
        menu = self._component(message, custom_id_or_placeholder, (3, 5, 6, 7, 8))
        kind = menu["type"]
        resolved: JSON = {}
        out: list[str] = []
        for v in values:
            if kind == 3:
                allowed = [o["value"] for o in menu.get("options", [])]
                if str(v) not in allowed:
                    raise ValueError(
                        f"{v!r} is not an option of {custom_id_or_placeholder!r}: {allowed}"
                    )
                out.append(str(v))
            elif kind == 5:
                user = self._resolve_user(v)
                assert user is not None, f"no user {v!r}"
                self._add_resolved_user(user, resolved)
                out.append(str(user.id))
            elif kind == 6:
                role = self._resolve_role(v)
                resolved.setdefault("roles", {})[str(role.id)] = role.to_json()
                out.append(str(role.id))
            else:
                ch = self._resolve_channel(v)
                resolved.setdefault("channels", {})[str(ch.id)] = ch.to_json(self.emu.users)
                out.append(str(ch.id))
        data: JSON = {"custom_id": menu["custom_id"], "component_type": kind, "values": out}
        if resolved:
            data["resolved"] = resolved
        channel = self.emu.channels[message.channel_id]
        return await self._start(
            InteractionType.MESSAGE_COMPONENT,
            channel,
            data,
            message,
            f"select {values} in {custom_id_or_placeholder!r}",
        )

    async def submit_modal(
        self,
        opened_by: InteractionHandle,
        values: dict[str, Any],
        *,
        custom_id: str | None = None,
    ) -> InteractionHandle:
        """Fill in and submit the modal the bot opened in answer to ``opened_by`` (type 5).

        The submit carries what Discord's "Modal Submit Data Structure" lists: the modal's
        ``custom_id`` and its ``components`` as "component interaction response structures"
        (action rows and Labels around each field, every field with its ``id``, ``custom_id`` and
        ``value``; nothing of the form's labels, limits or defaults). ``custom_id`` replaces the
        modal's own, for what a bot must survive: a form opened by an older version of it (whose
        custom id format has since changed) or by a client that altered it."""
        modal = opened_by.modal
        if modal is None:
            raise LookupError(
                f"the bot did not open a modal for {opened_by.description} ({opened_by.response})"
            )
        fields = _field_ids(modal.get("components", []))
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise LookupError(f"modal has no field(s) {unknown}; fields: {fields}")
        remaining = dict(values)

        def submit(c: JSON) -> JSON:
            cid = str(c.get("custom_id"))
            if c.get("type") == 4:
                value = remaining.pop(cid, c.get("value") or "")
                if c.get("required", True) and not value:
                    raise ValueError(f"modal field {cid!r} is required")
                return {"type": 4, "id": c.get("id", 0), "custom_id": cid, "value": str(value)}
            if c.get("type") in (3, 5, 6, 7, 8):
                picked = remaining.pop(cid, [])
                return {
                    "type": c["type"],
                    "id": c.get("id", 0),
                    "custom_id": cid,
                    "values": [str(v) for v in picked],
                }
            return {"type": c.get("type"), "id": c.get("id", 0)}

        comps: list[JSON] = []
        for top in modal.get("components", []):
            if top.get("type") == 1:
                comps.append(
                    {
                        "type": 1,
                        "id": top.get("id", 0),
                        "components": [submit(c) for c in top["components"]],
                    }
                )
            elif top.get("type") == 18:
                comps.append(
                    {"type": 18, "id": top.get("id", 0), "component": submit(top["component"])}
                )
            else:
                comps.append(submit(top))
        data = {"custom_id": custom_id or modal["custom_id"], "components": comps}
        record = opened_by.record
        return await self._start(
            InteractionType.MODAL_SUBMIT,
            record.channel,
            data,
            record.source_message,
            f"submit of modal {modal.get('title')!r}",
        )

    async def _start(
        self, itype: int, channel: Channel, data: JSON, message: Message | None, description: str
    ) -> InteractionHandle:
        record = self.emu.interactions.create(
            type=itype, user=self.user, channel=channel, data=data, source_message=message
        )
        await self.emu.gateway.dispatch("INTERACTION_CREATE", record.payload)
        self.emu.notify()
        return InteractionHandle(self.emu, record, f"{self.user.username}'s {description}")

    # --- scheduled events ---------------------------------------------------------------------
    async def mark_interested(self, event: ScheduledEvent, interested: bool = True) -> None:
        """Click "Interested" on a Discord scheduled event (or, with False, take it back)."""
        await self.emu.set_event_interest(event, self.user, interested)

    async def unmark_interested(self, event: ScheduledEvent) -> None:
        """Take back "Interested" on a scheduled event."""
        await self.emu.set_event_interest(event, self.user, False)

    # --- voice --------------------------------------------------------------------------------
    async def join_voice(self, channel: Channel, **options: bool) -> VoiceState:
        """Join (or move to) a voice or stage channel; see :meth:`Emulator.join_voice`."""
        return await self.emu.join_voice(self.user, channel, **options)

    async def leave_voice(self) -> VoiceState | None:
        """Disconnect from voice."""
        return await self.emu.leave_voice(self.user)

    # --- messages -----------------------------------------------------------------------------
    async def send(
        self, content: str, *, channel: Channel | None = None, reply_to: Message | None = None
    ) -> Message:
        """Post a message as this user (MESSAGE_CREATE), optionally as a reply."""
        target = channel or self.default_channel()
        return await self.emu.user_message(self.user, target, content, reply_to=reply_to)

    async def send_dm(self, content: str, *, reply_to: Message | None = None) -> Message:
        """Send the bot a direct message (see :meth:`Emulator.dm_bot`)."""
        return await self.emu.dm_bot(self.user, content, reply_to=reply_to)

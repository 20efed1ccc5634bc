"""REST handlers: users, application, gateway, commands, channels, messages, DMs, guilds,
members, roles and scheduled events. Interaction callbacks/webhooks are in ``interactions.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from .errors import BODY_KEY, FILES_KEY, ApiError, forbidden, json_response, not_found
from .gateway import Intent
from .model import JSON, AppCommand, Channel, ChannelType, Message, ScheduledEvent
from .permissions import P

if TYPE_CHECKING:
    from .server import Emulator

Handler = Any


def no_content() -> web.Response:
    return web.Response(status=204)


def _int(value: str, code: int) -> int:
    try:
        return int(value)
    except ValueError:
        raise not_found(code) from None


def body_of(request: web.Request) -> JSON:
    body = request.get(BODY_KEY)
    return body if isinstance(body, dict) else {}


def add_routes(emu: Emulator, app: web.Application) -> None:
    from .interactions import add_interaction_routes

    r = app.router
    api = "/api/v10"
    bot = emu.app.bot_user

    # --- users, application, gateway ---------------------------------------------------------
    async def get_me(request: web.Request) -> web.Response:
        return json_response(
            {**bot.to_json(), "verified": True, "mfa_enabled": False, "email": None}
        )

    async def get_user(request: web.Request) -> web.Response:
        user = emu.users.get(_int(request.match_info["user_id"], 10013))
        if user is None:
            raise not_found(10013)
        return json_response(user.to_json())

    async def get_application(request: web.Request) -> web.Response:
        return json_response(emu.app.to_json())

    async def get_gateway(request: web.Request) -> web.Response:
        data: JSON = {"url": emu.gateway_url}
        if request.path.endswith("/bot"):
            data.update(
                shards=1,
                session_start_limit={
                    "total": 1000,
                    "remaining": 1000,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            )
        return json_response(data)

    r.add_get(f"{api}/users/@me", get_me)
    r.add_get(f"{api}/users/{{user_id}}", get_user)
    r.add_get(f"{api}/applications/@me", get_application)
    r.add_get(f"{api}/oauth2/applications/@me", get_application)
    r.add_get(f"{api}/gateway", get_gateway)
    r.add_get(f"{api}/gateway/bot", get_gateway)

    # --- application commands ----------------------------------------------------------------
    def _scope(request: web.Request) -> int | None:
        if _int(request.match_info["application_id"], 10002) != emu.app.id:
            raise ApiError(403, 50001, "Missing Access")
        gid = request.match_info.get("guild_id")
        if gid is None:
            return None
        guild_id = _int(gid, 10004)
        if guild_id not in emu.guilds:
            raise not_found(10004)
        return guild_id

    def _command(request: web.Request, guild_id: int | None) -> AppCommand:
        cmd = emu.commands.get(_int(request.match_info["command_id"], 10063))
        if cmd is None or cmd.guild_id != guild_id:
            raise not_found(10063)
        return cmd

    def _upsert(guild_id: int | None, payload: JSON) -> AppCommand:
        existing = next(
            (
                c
                for c in emu.commands.values()
                if c.guild_id == guild_id
                and c.name == payload["name"]
                and c.type == payload.get("type", 1)
            ),
            None,
        )
        cmd_id = existing.id if existing else emu.snowflake()
        cmd = AppCommand.from_payload(cmd_id, emu.app.id, guild_id, payload)
        if existing:
            cmd.version = existing.version + 1
        emu.commands[cmd.id] = cmd
        return cmd

    async def list_commands(request: web.Request) -> web.Response:
        gid = _scope(request)
        return json_response([c.to_json() for c in emu.commands.values() if c.guild_id == gid])

    async def bulk_commands(request: web.Request) -> web.Response:
        gid = _scope(request)
        payloads = request.get(BODY_KEY)
        if not isinstance(payloads, list):
            raise ApiError.invalid_form_body(["body: expected an array of commands"])
        keep = {(p["name"], p.get("type", 1)) for p in payloads}
        for cmd in [c for c in emu.commands.values() if c.guild_id == gid]:
            if (cmd.name, cmd.type) not in keep:
                del emu.commands[cmd.id]
        out = [_upsert(gid, p).to_json() for p in payloads]
        emu.notify()
        return json_response(out)

    async def create_command(request: web.Request) -> web.Response:
        gid = _scope(request)
        cmd = _upsert(gid, body_of(request))
        emu.notify()
        return json_response(cmd.to_json(), 201)

    async def get_command(request: web.Request) -> web.Response:
        return json_response(_command(request, _scope(request)).to_json())

    async def edit_command(request: web.Request) -> web.Response:
        gid = _scope(request)
        cmd = _command(request, gid)
        payload = {**cmd.raw, **body_of(request)}
        new = AppCommand.from_payload(cmd.id, emu.app.id, gid, payload)
        new.version = cmd.version + 1
        emu.commands[cmd.id] = new
        emu.notify()
        return json_response(new.to_json())

    async def delete_command(request: web.Request) -> web.Response:
        cmd = _command(request, _scope(request))
        del emu.commands[cmd.id]
        emu.notify()
        return no_content()

    for prefix in (
        f"{api}/applications/{{application_id}}",
        f"{api}/applications/{{application_id}}/guilds/{{guild_id}}",
    ):
        r.add_get(f"{prefix}/commands", list_commands)
        r.add_put(f"{prefix}/commands", bulk_commands)
        r.add_post(f"{prefix}/commands", create_command)
        r.add_get(f"{prefix}/commands/{{command_id}}", get_command)
        r.add_patch(f"{prefix}/commands/{{command_id}}", edit_command)
        r.add_delete(f"{prefix}/commands/{{command_id}}", delete_command)

    # --- channels and messages ---------------------------------------------------------------
    def _channel(request: web.Request, need: int = P.VIEW_CHANNEL) -> Channel:
        channel = emu.get_channel(_int(request.match_info["channel_id"], 10003))
        perms = emu.permissions_in(channel, bot.id)
        if not perms & P.VIEW_CHANNEL:
            raise forbidden(50001)
        if need & ~perms:
            raise forbidden(50013)
        return channel

    def _may_attach(channel: Channel, files: list[JSON]) -> None:
        # Uploading files to a guild channel needs Attach Files (Permissions: ATTACH_FILES,
        # "Allows for uploading images and files"); without it Discord answers 50013. DMs have
        # no overwrites: discord.py's DMChannel.permissions_for grants
        # Permissions._dm_permissions() (Permissions.text(), attach_files included) there.
        if channel.guild_id is None:
            return
        if files and not emu.permissions_in(channel, bot.id) & P.ATTACH_FILES:
            raise forbidden(50013)

    def _reply_reference(channel: Channel, ref: Any) -> JSON | None:
        """A reply's stored ``message_reference``. Discord (Message Reference object):
        ``fail_if_not_exists`` "whether to error if the referenced message doesn't exist
        instead of sending as a normal (non-reply) message, default true"; the error is
        50035 with MESSAGE_REFERENCE_UNKNOWN_MESSAGE "Unknown message"."""
        if not isinstance(ref, dict) or ref.get("type", 0) != 0:
            return ref if isinstance(ref, dict) else None
        target = None
        raw_id = str(ref.get("message_id") or "")
        if raw_id.isdigit() and str(ref.get("channel_id") or channel.id) == str(channel.id):
            target = emu.messages.get(int(raw_id))
        if target is None or target.deleted or target.ephemeral or target.channel_id != channel.id:
            if ref.get("fail_if_not_exists", True):
                raise ApiError.invalid_form_body(
                    ["body.message_reference: [MESSAGE_REFERENCE_UNKNOWN_MESSAGE] Unknown message"]
                )
            return None
        out: JSON = {"type": 0, "message_id": str(target.id), "channel_id": str(channel.id)}
        if channel.guild_id is not None:
            out["guild_id"] = str(channel.guild_id)
        return out

    def _message(request: web.Request, channel: Channel) -> Message:
        message = emu.messages.get(_int(request.match_info["message_id"], 10008))
        if (
            message is None
            or message.deleted
            or message.channel_id != channel.id
            or message.ephemeral
        ):
            raise not_found(10008)
        return message

    async def get_channel(request: web.Request) -> web.Response:
        channel = _channel(request)
        return json_response(channel.to_json(emu.users))

    async def create_message(request: web.Request) -> web.Response:
        channel = _channel(request, P.VIEW_CHANNEL | P.SEND_MESSAGES)
        body = body_of(request)
        if channel.is_dm:
            recipient = emu.users[channel.recipient_ids[0]]
            shares_guild = any(recipient.id in g.members for g in emu.bot_guilds())
            if recipient.dms_closed or not shares_guild or recipient.bot:
                raise forbidden(50007)
        files = request.get(FILES_KEY) or []
        parts = ("content", "embeds", "components", "sticker_ids", "poll")
        if not files and not any(body.get(k) for k in parts):
            raise ApiError(400, 50006, "Cannot send an empty message")
        flags = int(body.get("flags") or 0)
        if flags & ~Message.CREATE_FLAGS:
            # Create Message: "only SUPPRESS_EMBEDS, SUPPRESS_NOTIFICATIONS, IS_VOICE_MESSAGE,
            # and IS_COMPONENTS_V2 can be set" (EPHEMERAL only exists for interaction replies).
            raise invalid_flags(flags & ~Message.CREATE_FLAGS, "create")
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            existing = emu.nonce_lookup(bot.id, channel.id, str(nonce))
            if existing is not None:
                return json_response(emu.message_json(existing, with_nonce=True))
        _may_attach(channel, files)
        reference = _reply_reference(channel, body.get("message_reference"))
        attachments = emu.new_attachments(channel.id, files, body.get("attachments"))
        message = emu.create_message(
            channel,
            bot,
            content=body.get("content") or "",
            embeds=body.get("embeds") or [],
            components=body.get("components") or [],
            flags=flags,
            nonce=nonce,
            attachments=attachments,
            message_reference=reference,
            allowed_mentions=body.get("allowed_mentions"),
        )
        if reference is not None and reference.get("type") == 0:
            message.type = 19  # REPLY
        if nonce is not None and body.get("enforce_nonce"):
            emu.nonce_store(bot.id, channel.id, str(nonce), message)
        await emu.dispatch_message_create(message)
        return json_response(emu.message_json(message, with_nonce=True))

    async def list_messages(request: web.Request) -> web.Response:
        channel = _channel(request)
        if not emu.permissions_in(channel, bot.id) & P.READ_MESSAGE_HISTORY:
            return json_response([])
        q = request.query
        limit = max(1, min(100, int(q.get("limit", "50"))))
        msgs = sorted(emu.messages_in(channel), key=lambda m: m.id)
        if "before" in q:
            msgs = [m for m in msgs if m.id < int(q["before"])]
            msgs = msgs[-limit:]
        elif "after" in q:
            msgs = [m for m in msgs if m.id > int(q["after"])]
            msgs = msgs[:limit]
        elif "around" in q:
            around = int(q["around"])
            older = [m for m in msgs if m.id <= around][-(limit // 2 + limit % 2) :]
            newer = [m for m in msgs if m.id > around][: limit // 2]
            msgs = older + newer
        else:
            msgs = msgs[-limit:]
        return json_response([emu.message_json(m) for m in reversed(msgs)])

    async def get_message(request: web.Request) -> web.Response:
        channel = _channel(request, P.VIEW_CHANNEL | P.READ_MESSAGE_HISTORY)
        return json_response(emu.message_json(_message(request, channel)))

    async def edit_message(request: web.Request) -> web.Response:
        channel = _channel(request)
        message = _message(request, channel)
        if message.author.id != bot.id:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        body = body_of(request)
        if body.get("flags") is not None:
            # Edit Message: only SUPPRESS_EMBEDS and IS_COMPONENTS_V2 can be set or unset; the
            # message's other flags stay as they are.
            wanted = int(body["flags"])
            added = wanted & ~message.flags
            if added & ~Message.EDIT_FLAGS:
                raise invalid_flags(added & ~Message.EDIT_FLAGS, "edit")
            body = {
                **body,
                "flags": (wanted & Message.EDIT_FLAGS) | (message.flags & ~Message.EDIT_FLAGS),
            }
        files = request.get(FILES_KEY) or []
        _may_attach(channel, files)
        apply_edit(emu, message, body, files)
        data = emu.message_json(message)
        await emu.gateway.dispatch(
            "MESSAGE_UPDATE",
            data,
            intent=Intent.DIRECT_MESSAGES if channel.is_dm else Intent.GUILD_MESSAGES,
        )
        emu.notify()
        return json_response(data)

    async def delete_message(request: web.Request) -> web.Response:
        channel = _channel(request)
        message = _message(request, channel)
        if (
            message.author.id != bot.id
            and not emu.permissions_in(channel, bot.id) & P.MANAGE_MESSAGES
        ):
            raise forbidden(50013)
        message.deleted = True
        payload: JSON = {"id": str(message.id), "channel_id": str(channel.id)}
        if channel.guild_id is not None:
            payload["guild_id"] = str(channel.guild_id)
        await emu.gateway.dispatch(
            "MESSAGE_DELETE",
            payload,
            intent=Intent.DIRECT_MESSAGES if channel.is_dm else Intent.GUILD_MESSAGES,
        )
        emu.notify()
        return no_content()

    async def typing(request: web.Request) -> web.Response:
        _channel(request, P.VIEW_CHANNEL | P.SEND_MESSAGES)
        return no_content()

    async def create_dm(request: web.Request) -> web.Response:
        recipient_id = body_of(request).get("recipient_id")
        user = emu.users.get(int(str(recipient_id))) if str(recipient_id).isdigit() else None
        if user is None:
            raise ApiError.invalid_form_body(
                [f"body.recipient_id: Value {recipient_id!r} is not a known user snowflake."]
            )
        channel = emu.dm_channel_for(user)
        return json_response(channel.to_json(emu.users))

    r.add_get(f"{api}/channels/{{channel_id}}", get_channel)
    r.add_get(f"{api}/channels/{{channel_id}}/messages", list_messages)
    r.add_post(f"{api}/channels/{{channel_id}}/messages", create_message)
    r.add_get(f"{api}/channels/{{channel_id}}/messages/{{message_id}}", get_message)
    r.add_patch(f"{api}/channels/{{channel_id}}/messages/{{message_id}}", edit_message)
    r.add_delete(f"{api}/channels/{{channel_id}}/messages/{{message_id}}", delete_message)
    r.add_post(f"{api}/channels/{{channel_id}}/typing", typing)
    r.add_post(f"{api}/users/@me/channels", create_dm)

    # --- guilds, members, roles --------------------------------------------------------------
    def _guild(request: web.Request) -> Any:
        guild = emu.guilds.get(_int(request.match_info["guild_id"], 10004))
        if guild is None or bot.id not in guild.members:
            raise not_found(10004)
        return guild

    def _guild_perms(guild: Any) -> int:
        from .permissions import base_permissions

        return base_permissions(guild, emu.roles, bot.id)

    async def get_guild(request: web.Request) -> web.Response:
        guild = _guild(request)
        data = emu.guild_create_payload(guild)
        for key in (
            "members",
            "channels",
            "threads",
            "presences",
            "voice_states",
            "guild_scheduled_events",
        ):
            data.pop(key, None)
        if request.query.get("with_counts") in ("true", "1"):
            data["approximate_member_count"] = len(guild.members)
            data["approximate_presence_count"] = 0
        return json_response(data)

    async def guild_channels(request: web.Request) -> web.Response:
        guild = _guild(request)
        chans = [emu.channels[c] for c in guild.channel_ids if not emu.channels[c].deleted]
        return json_response([c.to_json() for c in chans])

    async def guild_roles(request: web.Request) -> web.Response:
        guild = _guild(request)
        return json_response([emu.roles[r].to_json() for r in guild.role_ids])

    async def get_member(request: web.Request) -> web.Response:
        guild = _guild(request)
        member = guild.members.get(_int(request.match_info["user_id"], 10013))
        if member is None:
            raise not_found(10007)
        return json_response(member.to_json())

    async def list_members(request: web.Request) -> web.Response:
        guild = _guild(request)
        limit = max(1, min(1000, int(request.query.get("limit", "1"))))
        after = int(request.query.get("after", "0"))
        members = sorted(guild.members.values(), key=lambda m: m.user.id)
        members = [m for m in members if m.user.id > after][:limit]
        return json_response([m.to_json() for m in members])

    def _role_change(request: web.Request) -> tuple[Any, Any, int]:
        guild = _guild(request)
        member = guild.members.get(_int(request.match_info["user_id"], 10013))
        if member is None:
            raise not_found(10007)
        role = emu.roles.get(_int(request.match_info["role_id"], 10011))
        if role is None or role.deleted or role.guild_id != guild.id:
            raise not_found(10011)
        perms = _guild_perms(guild)
        if not perms & P.MANAGE_ROLES:
            raise forbidden(50013)
        me = guild.members[bot.id]
        top = max((emu.roles[r].position for r in me.role_ids if r in emu.roles), default=0)
        if bot.id != guild.owner_id and not perms & P.ADMINISTRATOR and role.position >= top:
            raise forbidden(50013)
        return guild, member, role.id

    async def add_role(request: web.Request) -> web.Response:
        guild, member, role_id = _role_change(request)
        if role_id not in member.role_ids:
            member.role_ids.append(role_id)
            await emu.dispatch_member_update(guild, member)
        return no_content()

    async def remove_role(request: web.Request) -> web.Response:
        guild, member, role_id = _role_change(request)
        if role_id in member.role_ids:
            member.role_ids.remove(role_id)
            await emu.dispatch_member_update(guild, member)
        return no_content()

    g = f"{api}/guilds/{{guild_id}}"
    r.add_get(g, get_guild)
    r.add_get(f"{g}/channels", guild_channels)
    r.add_get(f"{g}/roles", guild_roles)
    r.add_get(f"{g}/members", list_members)
    r.add_get(f"{g}/members/{{user_id}}", get_member)
    r.add_put(f"{g}/members/{{user_id}}/roles/{{role_id}}", add_role)
    r.add_delete(f"{g}/members/{{user_id}}/roles/{{role_id}}", remove_role)

    # --- scheduled events --------------------------------------------------------------------
    def _event(request: web.Request, guild: Any) -> ScheduledEvent:
        event = emu.scheduled_events.get(_int(request.match_info["event_id"], 10070))
        if event is None or event.deleted or event.guild_id != guild.id:
            raise not_found(10070)
        return event

    async def list_events(request: web.Request) -> web.Response:
        guild = _guild(request)
        await emu.advance_scheduled_events()
        counts = request.query.get("with_user_count") in ("true", "1", "True")
        events = [emu.scheduled_events[e] for e in guild.scheduled_event_ids]
        return json_response([e.to_json(counts) for e in events if not e.deleted])

    async def create_event(request: web.Request) -> web.Response:
        guild = _guild(request)
        await emu.advance_scheduled_events()
        event = emu.event_rules.create(guild, body_of(request), user_id=bot.id)
        emu.scheduled_events[event.id] = event
        guild.scheduled_event_ids.append(event.id)
        data = {**event.to_json(), "creator": bot.to_json()}
        await emu.gateway.dispatch(
            "GUILD_SCHEDULED_EVENT_CREATE", data, intent=Intent.GUILD_SCHEDULED_EVENTS
        )
        emu.notify()
        return json_response(data)

    async def get_event(request: web.Request) -> web.Response:
        guild = _guild(request)
        await emu.advance_scheduled_events()
        counts = request.query.get("with_user_count") in ("true", "1", "True")
        return json_response(_event(request, guild).to_json(counts))

    async def edit_event(request: web.Request) -> web.Response:
        guild = _guild(request)
        await emu.advance_scheduled_events()
        event = _event(request, guild)
        emu.event_rules.modify(guild, event, body_of(request), user_id=bot.id)
        data = event.to_json()
        await emu.gateway.dispatch(
            "GUILD_SCHEDULED_EVENT_UPDATE", data, intent=Intent.GUILD_SCHEDULED_EVENTS
        )
        emu.notify()
        return json_response(data)

    async def delete_event(request: web.Request) -> web.Response:
        guild = _guild(request)
        await emu.advance_scheduled_events()
        event = _event(request, guild)
        emu.event_rules.check_delete(guild, event, user_id=bot.id)
        event.deleted = True
        await emu.gateway.dispatch(
            "GUILD_SCHEDULED_EVENT_DELETE", event.to_json(), intent=Intent.GUILD_SCHEDULED_EVENTS
        )
        emu.notify()
        return no_content()

    async def event_users(request: web.Request) -> web.Response:
        """Get Guild Scheduled Event Users: "Users will always be returned in ascending order by
        user_id. If both before and after are provided, only before is respected"; ``limit`` up
        to 100 (default 100; the validator refuses more); "Guild member data, if it exists, is
        included if the with_member query parameter is set". Each entry also carries
        ``user_id`` and ``response`` (1, INTERESTED), as Discord's OpenAPI spec
        (ScheduledEventUserResponse) requires. Which users a ``before`` page holds is not
        documented: the emulator returns the ``limit`` closest below it."""
        guild = _guild(request)
        event = _event(request, guild)
        q = request.query
        limit = int(q.get("limit", "100"))
        ids = sorted(event.subscriber_ids)
        if "before" in q:
            ids = [i for i in ids if i < int(q["before"])][-limit:]
        else:
            if "after" in q:
                ids = [i for i in ids if i > int(q["after"])]
            ids = ids[:limit]
        with_member = q.get("with_member", "").lower() in ("true", "1")
        out = []
        for uid in ids:
            entry: JSON = {
                "guild_scheduled_event_id": str(event.id),
                "user_id": str(uid),
                "user": emu.users[uid].to_json(),
                "response": 1,
            }
            member = guild.members.get(uid)
            if with_member and member is not None:
                entry["member"] = member.to_json()
            out.append(entry)
        return json_response(out)

    e = f"{g}/scheduled-events"
    r.add_get(e, list_events)
    r.add_post(e, create_event)
    r.add_get(f"{e}/{{event_id}}", get_event)
    r.add_patch(f"{e}/{{event_id}}", edit_event)
    r.add_delete(f"{e}/{{event_id}}", delete_event)
    r.add_get(f"{e}/{{event_id}}/users", event_users)

    # --- voice states ------------------------------------------------------------------------
    async def voice_state(request: web.Request) -> web.Response:
        """Get Current User Voice State / Get User Voice State: the user's voice state in the
        guild, or 404 10065 Unknown Voice State when they are not connected there."""
        guild = _guild(request)
        raw = request.match_info.get("user_id", "@me")
        user_id = bot.id if raw == "@me" else _int(raw, 10013)
        state = emu.voice.state_of(user_id, guild)
        if state is None:
            raise not_found(10065)
        return json_response(state.to_json(guild.members.get(user_id)))

    r.add_get(f"{g}/voice-states/@me", voice_state)
    r.add_get(f"{g}/voice-states/{{user_id}}", voice_state)

    add_interaction_routes(emu, app)


def invalid_flags(bad: int, where: str) -> ApiError:
    allowed = (
        "SUPPRESS_EMBEDS, SUPPRESS_NOTIFICATIONS, IS_VOICE_MESSAGE and IS_COMPONENTS_V2"
        if where == "create"
        else "SUPPRESS_EMBEDS and IS_COMPONENTS_V2"
    )
    return ApiError.invalid_form_body(
        [f"body.flags: Invalid message flags {bad}: only {allowed} can be set on {where}"]
    )


def apply_edit(
    emu: Emulator, message: Message, body: JSON, files: list[JSON] | None = None
) -> None:
    """Apply a message edit body (content, embeds, components, flags, attachments) and new
    ``files``. Edit Message: with ``attachments`` given, existing attachments not listed are
    removed; new files are added either way."""
    if "content" in body:
        message.content = body["content"] or ""
    if body.get("allowed_mentions") is not None:
        # Edit Message takes allowed_mentions too; what the content mentions is read anew.
        message.allowed_mentions = body["allowed_mentions"]
    if "embeds" in body:
        message.embeds = body["embeds"] or []
    if "components" in body:
        message.components = body["components"] or []
    if "flags" in body and body["flags"] is not None:
        # A message's visibility is fixed when it is created: an edit (or the followup that
        # replaces a deferred "thinking" message) cannot make it ephemeral or public.
        keep = message.flags & Message.EPHEMERAL
        message.flags = (int(body["flags"]) & ~Message.EPHEMERAL) | keep
    specs = body.get("attachments")
    if isinstance(specs, list):
        keep_ids = {str(a.get("id")) for a in specs if isinstance(a, dict)}
        message.attachments = [a for a in message.attachments if a["id"] in keep_ids]
    if files:
        new = emu.new_attachments(
            message.channel_id, files, specs if isinstance(specs, list) else None
        )
        message.attachments = [*message.attachments, *new]
    message.flags &= ~Message.LOADING
    message.edited_timestamp = emu.clock.now()


__all__ = ["ChannelType", "add_routes", "apply_edit"]

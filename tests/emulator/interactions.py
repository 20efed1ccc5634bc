"""Interactions: records, INTERACTION_CREATE payloads, callbacks and webhook followups."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from .errors import FILES_KEY, ApiError, json_response, not_found
from .model import JSON, Channel, Message, User
from .rest import apply_edit, body_of, no_content

if TYPE_CHECKING:
    from .server import Emulator


class CallbackType:
    PONG = 1
    CHANNEL_MESSAGE = 4
    DEFERRED_CHANNEL_MESSAGE = 5
    DEFERRED_UPDATE_MESSAGE = 6
    UPDATE_MESSAGE = 7
    AUTOCOMPLETE_RESULT = 8
    MODAL = 9


class InteractionType:
    PING = 1
    APPLICATION_COMMAND = 2
    MESSAGE_COMPONENT = 3
    AUTOCOMPLETE = 4
    MODAL_SUBMIT = 5


_CALLBACK_NAMES = {
    4: "CHANNEL_MESSAGE_WITH_SOURCE",
    5: "DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE",
    6: "DEFERRED_UPDATE_MESSAGE",
    7: "UPDATE_MESSAGE",
    8: "APPLICATION_COMMAND_AUTOCOMPLETE_RESULT",
    9: "MODAL",
    10: "PREMIUM_REQUIRED",
}

# Which callback types Discord accepts for which interaction type ("Receiving and Responding" →
# Interaction Callback Type: 6/7 "only valid for component-based interactions", 8 answers an
# autocomplete interaction, 9 "not available for MODAL_SUBMIT and PING interactions", 10 "not
# available for APPLICATION_COMMAND_AUTOCOMPLETE"). Discord answers anything else with 50035
# "In type: Value must be one of {...}" (seen for a modal answering a modal submit,
# Rapptz/discord.py#9187, whose list for MODAL_SUBMIT was {4, 5, 6, 7, 10}). 10 is deprecated
# and listed in that message, but the emulator does not implement it.
CALLBACKS_FOR: dict[int, tuple[int, ...]] = {
    InteractionType.APPLICATION_COMMAND: (4, 5, 9, 10),
    InteractionType.MESSAGE_COMPONENT: (4, 5, 6, 7, 9, 10),
    InteractionType.AUTOCOMPLETE: (8,),
    InteractionType.MODAL_SUBMIT: (4, 5, 6, 7, 10),
}


def callback_type_error(interaction_type: int, cb_type: int) -> ApiError:
    allowed = CALLBACKS_FOR.get(interaction_type, ())
    listed = ", ".join(f"<InteractionCallbackTypes.{_CALLBACK_NAMES[t]}: {t}>" for t in allowed)
    return ApiError(
        400,
        50035,
        "Invalid Form Body",
        {
            "type": {
                "_errors": [
                    {"code": "BASE_TYPE_CHOICES", "message": f"Value must be one of {{{listed}}}."}
                ]
            }
        },
    )


@dataclass
class InteractionRecord:
    """What the emulator knows about one interaction and the bot's answers to it."""

    id: int
    token: str
    type: int
    user: User
    channel: Channel
    guild_id: int | None
    data: JSON
    payload: JSON
    created: float = field(default_factory=time.monotonic)
    source_message: Message | None = None
    callback_type: int | None = None
    callback_data: JSON | None = None
    callback_attempts: int = 0
    original: Message | None = None
    followups: list[Message] = field(default_factory=list)

    @property
    def acknowledged(self) -> bool:
        return self.callback_type is not None


class Interactions:
    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.by_id: dict[int, InteractionRecord] = {}
        self.by_token: dict[str, InteractionRecord] = {}

    def create(
        self,
        *,
        type: int,
        user: User,
        channel: Channel,
        data: JSON,
        source_message: Message | None = None,
    ) -> InteractionRecord:
        emu = self.emu
        if type == InteractionType.MESSAGE_COMPONENT and (
            source_message is None or source_message.deleted
        ):
            # Nobody can click a component on a deleted message, so Discord never sends one.
            raise ValueError("a component interaction needs a message that still exists")
        iid = emu.snowflake()
        token = "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48)
        guild_id = channel.guild_id
        payload: JSON = {
            "id": str(iid),
            "application_id": str(emu.app.id),
            "type": type,
            "data": data,
            "channel_id": str(channel.id),
            "channel": channel.to_json(emu.users),
            "token": token,
            "version": 1,
            "app_permissions": str(emu.permissions_in(channel, emu.app.bot_user.id)),
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": emu.attachment_size_limit,
        }
        if guild_id is not None:
            member = emu.member_of(guild_id, user.id)
            if member is None:
                raise ValueError(f"{user.username} is not a member of the channel's guild")
            payload["guild_id"] = str(guild_id)
            payload["guild_locale"] = "en-US"
            payload["guild"] = {"id": str(guild_id), "locale": "en-US", "features": []}
            payload["member"] = {
                **member.to_json(),
                "permissions": str(emu.permissions_in(channel, user.id)),
            }
            payload["authorizing_integration_owners"] = {"0": str(guild_id)}
            payload["context"] = 0
        else:
            payload["user"] = user.to_json()
            payload["authorizing_integration_owners"] = {"1": str(user.id)}
            payload["context"] = 1
        if source_message is not None:
            payload["message"] = emu.message_json(source_message)
        record = InteractionRecord(
            id=iid,
            token=token,
            type=type,
            user=user,
            channel=channel,
            guild_id=guild_id,
            data=data,
            payload=payload,
            source_message=source_message,
        )
        self.by_id[iid] = record
        self.by_token[token] = record
        return record

    # --- lookups with Discord's token semantics ----------------------------------------------
    def for_callback(self, interaction_id: str, token: str) -> InteractionRecord:
        record = self.by_token.get(token)
        if record is None or str(record.id) != interaction_id:
            raise not_found(10062)
        record.callback_attempts += 1
        if record.acknowledged:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        if time.monotonic() - record.created > self.emu.interaction_ack_window:
            raise not_found(10062)
        return record

    def for_webhook(self, application_id: str, token: str) -> InteractionRecord:
        record = self.by_token.get(token)
        if record is None or application_id != str(self.emu.app.id):
            raise not_found(10015)
        age = time.monotonic() - record.created
        if age > self.emu.interaction_token_lifetime:
            raise ApiError(401, 50027, "Invalid Webhook Token")
        if not record.acknowledged:
            raise not_found(10015)
        return record


def _interaction_metadata(record: InteractionRecord) -> JSON:
    meta: JSON = {
        "id": str(record.id),
        "type": record.type,
        "user": record.user.to_json(),
        "authorizing_integration_owners": record.payload.get("authorizing_integration_owners", {}),
    }
    if record.type == InteractionType.APPLICATION_COMMAND:
        meta["name"] = record.data.get("name")
        meta["command_type"] = record.data.get("type", 1)
    if record.source_message is not None:
        meta["interacted_message_id"] = str(record.source_message.id)
    return meta


def add_interaction_routes(emu: Emulator, app: web.Application) -> None:
    r = app.router
    api = "/api/v10"
    bot = emu.app.bot_user

    def _new_message(
        record: InteractionRecord,
        body: JSON,
        *,
        loading: bool = False,
        files: list[JSON] | None = None,
    ) -> Message:
        flags = int(body.get("flags") or 0)
        if loading:
            flags |= Message.LOADING
        attachments = emu.new_attachments(record.channel.id, files or [], body.get("attachments"))
        return emu.create_message(
            record.channel,
            bot,
            content=body.get("content") or "",
            embeds=body.get("embeds") or [],
            components=body.get("components") or [],
            flags=flags,
            attachments=attachments,
            webhook_id=emu.app.id,
            interaction_metadata=_interaction_metadata(record),
            allowed_mentions=body.get("allowed_mentions"),
        )

    async def _announce(message: Message) -> None:
        if not message.ephemeral:
            await emu.dispatch_message_create(message)
        emu.notify()

    async def callback(request: web.Request) -> web.Response:
        record = emu.interactions.for_callback(
            request.match_info["interaction_id"], request.match_info["interaction_token"]
        )
        body = body_of(request)
        cb_type = int(body.get("type", 0))
        data = body.get("data") or {}
        if cb_type not in CALLBACKS_FOR.get(record.type, ()):
            raise callback_type_error(record.type, cb_type)
        if cb_type == 10:
            raise ApiError.invalid_form_body(
                ["type: PREMIUM_REQUIRED (10) is deprecated and not implemented by the emulator"]
            )
        if cb_type == 7 and record.source_message is None:
            # UPDATE_MESSAGE to a modal submit that came from a command: there is no message to
            # update, Discord answers 404 Unknown Message (discord/discord-api-docs#7774).
            raise not_found(10008)
        if cb_type == 6 and record.source_message is None:
            raise ApiError.invalid_form_body(
                [f"body.type: {cb_type} needs a message (only for component interactions)"]
            )
        has_body = data.get("content") or data.get("embeds") or data.get("components")
        if cb_type == 4 and not has_body and not request.get(FILES_KEY):
            raise ApiError(400, 50006, "Cannot send an empty message")
        record.callback_type = cb_type
        record.callback_data = data
        message: Message | None = None
        files = request.get(FILES_KEY) or []
        if cb_type == CallbackType.CHANNEL_MESSAGE:
            message = record.original = _new_message(record, data, files=files)
            await _announce(message)
        elif cb_type == CallbackType.DEFERRED_CHANNEL_MESSAGE:
            message = record.original = _new_message(record, data, loading=True)
            await _announce(message)
        elif cb_type == CallbackType.UPDATE_MESSAGE and record.source_message is not None:
            message = record.source_message
            apply_edit(emu, message, data, files)
            if not message.ephemeral:
                await emu.gateway.dispatch("MESSAGE_UPDATE", emu.message_json(message))
        emu.notify()
        if request.query.get("with_response") not in ("1", "true", "True"):
            return no_content()
        resp: JSON = {
            "interaction": {
                "id": str(record.id),
                "type": record.type,
                "response_message_id": str(message.id) if message else None,
                "response_message_loading": cb_type == CallbackType.DEFERRED_CHANNEL_MESSAGE,
                "response_message_ephemeral": bool(message and message.ephemeral),
            },
            "resource": {"type": cb_type},
        }
        if message is not None:
            resp["resource"]["message"] = emu.message_json(message)
        return json_response(resp)

    def _target(record: InteractionRecord, message_id: str) -> Message:
        if message_id == "@original":
            if (
                record.original is None
                and record.callback_type in (6, 7)
                and record.source_message is not None
            ):
                return record.source_message
            if record.original is None or record.original.deleted:
                raise not_found(10008)
            return record.original
        for m in [*record.followups, record.original]:
            if m is not None and str(m.id) == message_id and not m.deleted:
                return m
        raise not_found(10008)

    async def followup(request: web.Request) -> web.Response:
        record = emu.interactions.for_webhook(
            request.match_info["application_id"], request.match_info["interaction_token"]
        )
        body = body_of(request)
        if not (
            body.get("content")
            or body.get("embeds")
            or body.get("components")
            or request.get(FILES_KEY)
        ):
            raise ApiError(400, 50006, "Cannot send an empty message")
        if (
            record.callback_type == CallbackType.DEFERRED_CHANNEL_MESSAGE
            and record.original is not None
            and record.original.flags & Message.LOADING
        ):
            # Discord: the first followup after a deferred response edits the loading message,
            # so it keeps the defer's visibility: a public defer stays public even if the
            # followup asks for EPHEMERAL (and an ephemeral one stays private).
            message = record.original
            # keeps the ephemeral flag, clears "loading"
            apply_edit(emu, message, body, request.get(FILES_KEY) or [])
            message.edited_timestamp = None
            if not message.ephemeral:
                await emu.gateway.dispatch("MESSAGE_UPDATE", emu.message_json(message))
            emu.notify()
            return _webhook_reply(request, message)
        message = _new_message(record, body, files=request.get(FILES_KEY) or [])
        record.followups.append(message)
        await _announce(message)
        return _webhook_reply(request, message)

    def _webhook_reply(request: web.Request, message: Message) -> web.Response:
        if request.query.get("wait") in ("1", "true", "True"):
            return json_response(emu.message_json(message))
        return no_content()

    async def get_webhook_message(request: web.Request) -> web.Response:
        record = emu.interactions.for_webhook(
            request.match_info["application_id"], request.match_info["interaction_token"]
        )
        return json_response(emu.message_json(_target(record, request.match_info["message_id"])))

    async def edit_webhook_message(request: web.Request) -> web.Response:
        record = emu.interactions.for_webhook(
            request.match_info["application_id"], request.match_info["interaction_token"]
        )
        message = _target(record, request.match_info["message_id"])
        apply_edit(emu, message, body_of(request), request.get(FILES_KEY) or [])
        if not message.ephemeral:
            await emu.gateway.dispatch("MESSAGE_UPDATE", emu.message_json(message))
        emu.notify()
        return json_response(emu.message_json(message))

    async def delete_webhook_message(request: web.Request) -> web.Response:
        record = emu.interactions.for_webhook(
            request.match_info["application_id"], request.match_info["interaction_token"]
        )
        message = _target(record, request.match_info["message_id"])
        message.deleted = True
        payload: JSON = {"id": str(message.id), "channel_id": str(message.channel_id)}
        if message.guild_id is not None:
            payload["guild_id"] = str(message.guild_id)
        if not message.ephemeral:
            await emu.gateway.dispatch("MESSAGE_DELETE", payload)
        emu.notify()
        return no_content()

    r.add_post(f"{api}/interactions/{{interaction_id}}/{{interaction_token}}/callback", callback)
    w = f"{api}/webhooks/{{application_id}}/{{interaction_token}}"
    r.add_post(w, followup)
    r.add_get(f"{w}/messages/{{message_id}}", get_webhook_message)
    r.add_patch(f"{w}/messages/{{message_id}}", edit_webhook_message)
    r.add_delete(f"{w}/messages/{{message_id}}", delete_webhook_message)


__all__ = ["CallbackType", "InteractionRecord", "InteractionType", "Interactions"]

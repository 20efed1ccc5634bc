"""A small HTTP control API for the standalone emulator, so a person can act as a member:

curl -s localhost:8765/_emulator/state
curl -s localhost:8765/_emulator/act -d '{"user": "member1", "run": "/meeting next"}'
curl -s localhost:8765/_emulator/act -d '{"user": "member1", "click": "Going", "message_id": "…"}'
curl -s localhost:8765/_emulator/act -d '{"user": "member1", "say": "hi", "channel": "general"}'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from .errors import EmulatorTimeout, json_response
from .server import message_text

if TYPE_CHECKING:
    from .actors import InteractionHandle
    from .model import Message
    from .server import Emulator


def _msg(emu: Emulator, m: Message) -> dict[str, Any]:
    return {
        "id": str(m.id),
        "author": m.author.username,
        "text": message_text(m),
        "ephemeral": m.ephemeral,
        "buttons": [c.get("label") or c.get("custom_id") for c in m.component_list()],
    }


def add_control_routes(emu: Emulator, app: web.Application) -> None:
    async def state(request: web.Request) -> web.Response:
        out: dict[str, Any] = {"guilds": [], "dms": {}}
        for guild in emu.guilds.values():
            channels = {}
            for cid in guild.channel_ids:
                ch = emu.channels[cid]
                channels[ch.name or str(cid)] = [_msg(emu, m) for m in emu.messages_in(ch)][-20:]
            out["guilds"].append(
                {
                    "name": guild.name,
                    "members": [m.user.username for m in guild.members.values()],
                    "channels": channels,
                }
            )
        for user_id in emu.dm_channels:
            user = emu.users[user_id]
            out["dms"][user.username] = [_msg(emu, m) for m in emu.dms_to(user)][-20:]
        return json_response(out)

    async def act(request: web.Request) -> web.Response:
        body = await request.json()
        user = next((u for u in emu.users.values() if u.username == body.get("user")), None)
        if user is None:
            return json_response({"error": f"no user {body.get('user')!r}"}, 404)
        actor = emu.as_user(user)
        channel = None
        if body.get("channel"):
            channel = next((c for c in emu.channels.values() if c.name == body["channel"]), None)
        try:
            handle: InteractionHandle
            if "say" in body:
                m = await actor.send(body["say"], channel=channel)
                return json_response({"sent": _msg(emu, m)})
            if "run" in body:
                handle = await actor.run(body["run"], channel=channel, dm=bool(body.get("dm")))
            elif "click" in body:
                message = emu.messages[int(body["message_id"])]
                handle = await actor.click(message, body["click"])
            else:
                return json_response({"error": "give one of say, run or click"}, 400)
            response = await handle.wait_for_response()
        except PermissionError as exc:
            # Discord does not offer this person the command (default_member_permissions or
            # contexts), so they cannot run it: a refusal with the reason, never a 500.
            return json_response({"error": str(exc)}, 403)
        except (LookupError, ValueError, EmulatorTimeout) as exc:
            return json_response({"error": str(exc)}, 400)
        out = {"response_type": response.type, "data": response.data, "texts": handle.texts()}
        if handle.message is not None:
            out["message"] = _msg(emu, handle.message)
        return json_response(out)

    app.router.add_get("/_emulator/state", state)
    app.router.add_post("/_emulator/act", act)

"""The demo page: plain HTML and a little JavaScript (demo/static/), and a JSON API that shows
the emulated server as one person sees it and lets the visitor act as that person.

Every action goes through the emulator's person-like API (tests/emulator/actors.py), so the
real bot answers it exactly as it would answer Discord, and a refusal is Discord's refusal.
"""

from __future__ import annotations

import contextlib
import shlex
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.emulator.actors import InteractionHandle
from tests.emulator.errors import EmulatorTimeout
from tests.emulator.model import JSON, AppCommand, Channel, ChannelType, Message, User
from tests.emulator.permissions import P

from .runner import Demo

STATIC = Path(__file__).parent / "static"
LONG_POLL_SECONDS = 20.0
DEMO_KEY = web.AppKey("demo", Demo)
HANDLES_KEY = web.AppKey("handles", dict)
# Discord's own words when an app does not answer in time, or a command cannot be used.
INTERACTION_FAILED = "This interaction failed"
NOT_YOURS = "Only the person who used the command can use this."


def make_app(demo: Demo) -> web.Application:
    app = web.Application()
    app[DEMO_KEY] = demo
    app[HANDLES_KEY] = {}
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC)
    app.router.add_get("/api/view", view)
    app.router.add_get("/api/commands", commands)
    app.router.add_post("/api/run", run)
    app.router.add_post("/api/autocomplete", autocomplete)
    app.router.add_post("/api/click", click)
    app.router.add_post("/api/select", select)
    app.router.add_post("/api/modal", modal)
    app.router.add_post("/api/skip", skip)
    return app


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


def _person(demo: Demo, raw: object) -> User:
    user = demo.emulator.users.get(int(str(raw))) if str(raw).isdigit() else None
    if user is None or user.id not in demo.server.guild.members or user.bot:
        raise web.HTTPNotFound(text="No such person in North adopters.")
    return user


def _name(user: User) -> str:
    return user.global_name or user.username


def _sees(demo: Demo, channel: Channel, user: User) -> bool:
    return bool(demo.emulator.permissions_in(channel, user.id) & P.VIEW_CHANNEL)


def _shown_to(message: Message, user: User) -> bool:
    """Ephemeral messages are for the person who used the interaction only ("Only you can
    see this"); everything else in a channel they can see is for everyone."""
    if message.deleted:
        return False
    if message.ephemeral:
        meta = message.interaction_metadata or {}
        return str((meta.get("user") or {}).get("id")) == str(user.id)
    return True


def _message(demo: Demo, m: Message) -> JSON:
    meta = m.interaction_metadata or {}
    used_by = demo.emulator.users.get(int((meta.get("user") or {}).get("id") or 0))
    return {
        "id": str(m.id),
        "author": _name(m.author),
        "bot": m.author.bot,
        "content": m.content,
        "embeds": m.embeds,
        "components": m.components,
        "attachments": m.attachments,
        "timestamp": m.timestamp.isoformat(),
        "edited": m.edited_timestamp is not None,
        "ephemeral": m.ephemeral,
        "loading": bool(m.flags & Message.LOADING),
        "used": {"by": _name(used_by), "command": meta.get("name")} if used_by else None,
    }


async def view(request: web.Request) -> web.Response:
    """What one person sees, as soon as it differs from `since` (a long poll)."""
    demo = request.app[DEMO_KEY]
    since = int(request.query.get("since") or -1)
    try:
        user = _person(demo, request.query.get("user"))
    except web.HTTPNotFound:
        user, since = demo.server.members[0], -1  # nobody chosen yet: the first member
    emu = demo.emulator
    if since == emu.changes:
        with contextlib.suppress(EmulatorTimeout):
            await emu.wait_until(
                lambda: emu.changes != since, what="a change", timeout=LONG_POLL_SECONDS
            )
    version = emu.changes
    guild = demo.server.guild
    channels = []
    for cid in guild.channel_ids:
        ch = emu.channels[cid]
        if ch.deleted or not _sees(demo, ch, user):
            continue
        messages = [
            _message(demo, m)
            for m in emu.messages_in(ch, include_ephemeral=True)
            if _shown_to(m, user)
        ]
        channels.append(
            {
                "id": str(ch.id),
                "name": ch.name,
                "kind": "voice" if ch.type == ChannelType.VOICE else "text",
                "topic": ch.topic,
                "messages": messages[-60:],
            }
        )
    dm = emu.dm_channel_for(user)
    dms = [_message(demo, m) for m in emu.messages_in(dm, include_ephemeral=True)]
    things = await demo.upcoming()
    return _json(
        {
            "version": version,
            "now": demo.clock.now().isoformat(),
            "bot": demo.state,
            "problem": demo.problem,
            "next": [{"at": t.at.isoformat(), "what": t.what} for t in things],
            "guild": guild.name,
            "people": [
                {"id": str(u.id), "name": _name(u), "role": role} for u, role in demo.server.people
            ],
            "me": {"id": str(user.id), "name": _name(user)},
            "channels": channels,
            "dm": {"id": str(dm.id), "name": emu.bot_user.username, "messages": dms[-60:]},
            "names": {
                "users": {str(u.id): _name(u) for u in emu.users.values()},
                "roles": {str(r.id): r.name for r in emu.roles.values()},
                "channels": {str(c.id): c.name for c in emu.channels.values() if c.name},
            },
        }
    )


def _channel(demo: Demo, user: User, raw: object) -> tuple[Channel, bool]:
    emu = demo.emulator
    dm = emu.dm_channel_for(user)
    if str(raw) == str(dm.id) or raw == "dm":
        return dm, True
    channel = emu.channels.get(int(str(raw))) if str(raw).isdigit() else None
    if (
        channel is None
        or channel.guild_id != demo.server.guild.id
        or not _sees(demo, channel, user)
    ):
        raise web.HTTPNotFound(text="No such channel here.")
    return channel, False


def _offered(demo: Demo, user: User, channel: Channel) -> tuple[list[AppCommand], dict[str, str]]:
    """The commands Discord offers this person here, and why the others are not offered (the
    emulator's own rule, the one its `run` applies, so the list and a refusal always agree)."""
    actor = demo.emulator.as_user(user, channel=channel)
    offered: dict[str, AppCommand] = {}
    refused: dict[str, str] = {}
    for cmd in demo.emulator.commands.values():
        if cmd.type != 1 or cmd.guild_id not in (None, channel.guild_id):
            continue
        try:
            actor._check_command_available(cmd, channel)
        except PermissionError as exc:
            refused.setdefault(cmd.name, str(exc))
            continue
        # A guild command wins over a global one of the same name, as on Discord.
        if cmd.name not in offered or cmd.guild_id is not None:
            offered[cmd.name] = cmd
    for name in offered:
        refused.pop(name, None)
    return sorted(offered.values(), key=lambda c: c.name), refused


async def commands(request: web.Request) -> web.Response:
    demo = request.app[DEMO_KEY]
    user = _person(demo, request.query.get("user"))
    channel, _ = _channel(demo, user, request.query.get("channel"))
    offered, refused = _offered(demo, user, channel)
    return _json(
        {
            "commands": [
                {"name": c.name, "description": c.description, "options": c.options}
                for c in offered
            ],
            "not_offered": sorted(refused),
        }
    )


def _command_text(body: JSON) -> str:
    words = ["/" + str(body["name"]), *(str(p) for p in body.get("path") or [])]
    for key, value in (body.get("options") or {}).items():
        if value is None or value == "":
            continue
        words.append(f"{key}:{shlex.quote(str(value))}")
    return " ".join(words)


def _busy(demo: Demo) -> web.Response | None:
    if demo.state != "running":
        return _json(
            {"error": "Holdfast is restarting at the new time; try again in a moment."}, 409
        )
    return None


async def _answer(request: web.Request, handle: InteractionHandle) -> web.Response:
    """Wait for the bot's first answer, as Discord does (the 3 s window, then it fails)."""
    try:
        response = await handle.wait_for_response()
    except EmulatorTimeout:
        return _json({"failed": INTERACTION_FAILED})
    if response.is_modal:
        request.app[HANDLES_KEY][str(handle.id)] = handle
        return _json({"modal": response.data, "interaction": str(handle.id)})
    return _json({"ok": True})


async def run(request: web.Request) -> web.Response:
    demo = request.app[DEMO_KEY]
    body = await request.json()
    user = _person(demo, body.get("user"))
    channel, in_dm = _channel(demo, user, body.get("channel"))
    busy = _busy(demo)
    if busy is not None:
        return busy
    offered, refused = _offered(demo, user, channel)
    name = str(body.get("name") or "").lstrip("/")
    if name not in {c.name for c in offered}:
        if name in refused:
            # Discord does not offer it to this person here, so they cannot use it.
            return _json(
                {"refused": f"/{name} isn't available to you here.", "why": refused[name]}, 403
            )
        return _json({"error": f"There is no /{name} command here."}, 404)
    actor = demo.emulator.as_user(user, channel=None if in_dm else channel)
    try:
        handle = await actor.run(_command_text(body), channel=None if in_dm else channel, dm=in_dm)
    except PermissionError as exc:
        return _json({"refused": f"/{name} isn't available to you here.", "why": str(exc)}, 403)
    except (LookupError, ValueError) as exc:
        return _json({"error": str(exc)}, 400)
    return await _answer(request, handle)


async def autocomplete(request: web.Request) -> web.Response:
    demo = request.app[DEMO_KEY]
    body = await request.json()
    user = _person(demo, body.get("user"))
    channel, in_dm = _channel(demo, user, body.get("channel"))
    if demo.state != "running":
        return _json({"choices": []})
    focused = str(body["focused"])
    options = dict(body.get("options") or {})
    options.setdefault(focused, "")
    text = _command_text({**body, "options": {k: v for k, v in options.items() if k != focused}})
    text += f" {focused}:{shlex.quote(str(options[focused]))}"
    actor = demo.emulator.as_user(user, channel=None if in_dm else channel)
    try:
        handle = await actor.autocomplete(text, focused, channel=None if in_dm else channel)
        response = await handle.wait_for_response()
    except (LookupError, ValueError, PermissionError, EmulatorTimeout):
        return _json({"choices": []})
    return _json({"choices": response.data.get("choices") or []})


def _target(demo: Demo, user: User, raw: object) -> Message:
    message = demo.emulator.messages.get(int(str(raw))) if str(raw).isdigit() else None
    if message is None or not _shown_to(message, user):
        raise web.HTTPNotFound(text="That message is gone.")
    channel = demo.emulator.channels[message.channel_id]
    if channel.guild_id is None:
        if channel.recipient_ids != [user.id]:
            raise web.HTTPNotFound(text="That message is gone.")
    elif not _sees(demo, channel, user):
        raise web.HTTPNotFound(text="That message is gone.")
    return message


async def click(request: web.Request) -> web.Response:
    demo = request.app[DEMO_KEY]
    body = await request.json()
    user = _person(demo, body.get("user"))
    message = _target(demo, user, body.get("message"))
    busy = _busy(demo)
    if busy is not None:
        return busy
    try:
        handle = await demo.emulator.as_user(user).click(message, str(body["custom_id"]))
    except (LookupError, ValueError) as exc:
        return _json({"error": str(exc)}, 400)
    return await _answer(request, handle)


async def select(request: web.Request) -> web.Response:
    demo = request.app[DEMO_KEY]
    body = await request.json()
    user = _person(demo, body.get("user"))
    message = _target(demo, user, body.get("message"))
    busy = _busy(demo)
    if busy is not None:
        return busy
    values = [str(v) for v in body.get("values") or []]
    try:
        handle = await demo.emulator.as_user(user).select(message, str(body["custom_id"]), values)
    except (LookupError, ValueError, AssertionError) as exc:
        return _json({"error": str(exc)}, 400)
    return await _answer(request, handle)


async def modal(request: web.Request) -> web.Response:
    demo = request.app[DEMO_KEY]
    body = await request.json()
    user = _person(demo, body.get("user"))
    opened = request.app[HANDLES_KEY].pop(str(body.get("interaction")), None)
    if opened is None or opened.record.user.id != user.id:
        return _json({"error": "That form has closed."}, 404)
    busy = _busy(demo)
    if busy is not None:
        return busy
    try:
        handle = await demo.emulator.as_user(user).submit_modal(opened, body.get("values") or {})
    except (LookupError, ValueError) as exc:
        request.app[HANDLES_KEY][str(opened.id)] = opened
        return _json({"error": str(exc)}, 400)
    return await _answer(request, handle)


async def skip(request: web.Request) -> web.Response:
    demo = request.app[DEMO_KEY]
    if demo.state != "running":
        return _json({"error": "Holdfast is already moving to the next thing."}, 409)
    try:
        done = await demo.skip()
    except (AssertionError, TimeoutError) as exc:
        return _json({"error": f"Holdfast did not start again: {exc}"}, 500)
    if done is None:
        return _json({"error": "Holdfast has nothing planned."}, 404)
    return _json({"at": done.at.isoformat(), "what": done.what})


async def serve(demo: Demo, port: int) -> tuple[web.AppRunner, str]:
    """Serve the page on 127.0.0.1:`port` (0: any free port); returns the runner and URL."""
    runner = web.AppRunner(make_app(demo), access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    server = site._server
    assert server is not None
    bound = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    return runner, f"http://127.0.0.1:{bound}"

"""The Discord emulator: aiohttp app, middleware (recording, auth, validation, rate limits,
faults) and the queries tests assert with. State lives in ``world.py``; REST handlers in
``rest.py`` and ``interactions.py``; the gateway in ``gateway.py``."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .errors import BODY_ERROR_KEY, BODY_KEY, FILES_KEY, ApiError, EmulatorTimeout, json_response
from .faults import FaultKind, Faults
from .gateway import Gateway
from .model import (
    JSON,
    AppCommand,
    Channel,
    EmulatorClock,
    Guild,
    Message,
    User,
    message_text,
)
from .ratelimit import InvalidRequests, RateLimits
from .validation import get_validator
from .world import World

if TYPE_CHECKING:
    from .actors import Actor

API_PREFIX = "/api/v10"

log = logging.getLogger("tests.emulator")


@dataclass
class RecordedRequest:
    """One HTTP request the emulator received."""

    method: str
    route: str
    """Route template without the API prefix, e.g. ``/channels/{channel_id}/messages``."""
    path: str
    """Concrete path without the API prefix, e.g. ``/channels/123/messages``."""
    query: dict[str, str]
    body: Any
    status: int = 0
    timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))
    response: Any = None
    fault: str | None = None

    def body_text(self) -> str:
        return json.dumps(self.body, ensure_ascii=False) if self.body is not None else ""


@dataclass
class Violation:
    """A request the spec validator rejected."""

    method: str
    path: str
    problems: list[str]

    def __str__(self) -> str:
        return f"{self.method} {self.path}: " + "; ".join(self.problems)


class Emulator(World):
    """A Discord emulator serving REST under ``/api/v10`` and a gateway under ``/gateway``.

    Use ``await Emulator.start()`` / ``await emulator.stop()`` or ``async with Emulator() as emu``.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        clock: EmulatorClock | None = None,
    ) -> None:
        super().__init__(token, clock)
        self.host = host
        self.port = port
        self.requests: list[RecordedRequest] = []
        self.violations: list[Violation] = []
        self.violations_expected = False
        self.unimplemented: list[str] = []
        """Requests to routes the emulator does not implement (the fixture fails on them)."""
        self.faults = Faults()
        self.rate_limits = RateLimits()
        self.invalid_requests = InvalidRequests(now=lambda: self.clock.now())
        """401/403/429 answers over Discord's sliding 10 minutes; past ``.limit`` (10,000) the
        emulator answers like a Cloudflare ban until ``.ban_duration`` has passed."""
        self.gateway = Gateway(self)
        self.interaction_ack_window = 3.0
        """Seconds an interaction may wait for its initial response before the token dies."""
        self.interaction_token_lifetime = 900.0
        """Seconds followups and @original edits are accepted."""
        self.attachment_size_limit = 10 * 1024 * 1024
        """Largest file a bot may upload, in bytes (Discord's default for unboosted guilds)."""
        self.validate_requests = True
        self.control_api = False
        """Serve ``/_emulator/state`` and ``/_emulator/act`` (standalone mode)."""
        self._runner: web.AppRunner | None = None
        from .interactions import Interactions

        self.interactions = Interactions(self)

    # --- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> Emulator:
        from .rest import add_routes

        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/", self.gateway.handle)
        app.router.add_get(
            "/attachments/{channel_id}/{attachment_id}/{filename}", self._serve_attachment
        )
        add_routes(self, app)
        if self.control_api:
            from .control import add_control_routes

            add_control_routes(self, app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def stop(self) -> None:
        self.faults.clear()  # releases answers still held, so nothing waits forever
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base_url(self) -> str:
        """Value for ``discord.http.Route.BASE`` / ``DISCORD_API_BASE_URL``."""
        return f"{self.base_url}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        """Value for ``DiscordWebSocket.DEFAULT_GATEWAY`` / ``DISCORD_GATEWAY_URL``."""
        return f"ws://{self.host}:{self.port}/gateway"

    async def _serve_attachment(self, request: web.Request) -> web.Response:
        """The CDN: an attachment's bytes at its own URL while its message exists."""
        info = request.match_info
        stored = self.attachment_files.get(int(info["attachment_id"]))
        if (
            stored is None
            or str(stored.channel_id) != info["channel_id"]
            or stored.filename != info["filename"]
            or self.message_with_attachment(stored.id) is None
        ):
            return web.Response(status=404, text="404: Not Found")
        return web.Response(body=stored.data, headers={"Content-Type": stored.content_type})

    # --- queries for tests ---------------------------------------------------------------------
    def messages_in(
        self, channel: Channel | int, *, include_ephemeral: bool = False
    ) -> list[Message]:
        """Messages in a channel, oldest first (without deleted and, by default, ephemeral ones)."""
        channel_id = channel if isinstance(channel, int) else channel.id
        return [
            m
            for m in self.messages.values()
            if m.channel_id == channel_id
            and not m.deleted
            and (include_ephemeral or not m.ephemeral)
        ]

    def dms_to(self, user: User) -> list[Message]:
        """Messages the bot sent to ``user`` in their DM channel, oldest first."""
        channel_id = self.dm_channels.get(user.id)
        if channel_id is None:
            return []
        return [m for m in self.messages_in(channel_id) if m.author.id == self.app.bot_user.id]

    async def wait_for_dm(
        self, user: User, *, contains: str | None = None, timeout: float = 5.0, count: int = 1
    ) -> Message:
        """Wait until the bot sent ``user`` a DM (containing ``contains``); return the latest."""

        def found() -> list[Message] | None:
            hits = [m for m in self.dms_to(user) if contains is None or contains in message_text(m)]
            return hits if len(hits) >= count else None

        what = f"a DM to {user.username}" + (f" containing {contains!r}" if contains else "")
        try:
            hits = await self.wait_until(found, what=what, timeout=timeout)
        except EmulatorTimeout as exc:
            seen = [message_text(m)[:80] for m in self.dms_to(user)]
            raise EmulatorTimeout(f"{exc}; DMs sent to them so far: {seen}") from None
        return hits[-1]

    async def wait_for_message(
        self,
        channel: Channel,
        *,
        contains: str | None = None,
        author: User | None = None,
        timeout: float = 5.0,
    ) -> Message:
        """Wait for a message in ``channel`` (by default from the bot) containing ``contains``."""
        author = author or self.app.bot_user

        def found() -> Message | None:
            for m in reversed(self.messages_in(channel)):
                if m.author.id == author.id and (contains is None or contains in message_text(m)):
                    return m
            return None

        what = f"a message from {author.username} in #{channel.name}" + (
            f" containing {contains!r}" if contains else ""
        )
        try:
            return await self.wait_until(found, what=what, timeout=timeout)
        except EmulatorTimeout as exc:
            seen = [message_text(m)[:80] for m in self.messages_in(channel)]
            raise EmulatorTimeout(f"{exc}; messages in the channel: {seen}") from None

    def requests_to(self, method: str, route: str) -> list[RecordedRequest]:
        """Recorded requests by method and route template (``/channels/{channel_id}/messages``)."""
        return [r for r in self.requests if r.method == method.upper() and r.route == route]

    def requests_containing(self, needle: str) -> list[RecordedRequest]:
        """Recorded requests whose path, query or body contains ``needle``."""
        return [
            r
            for r in self.requests
            if needle in r.path or needle in json.dumps(r.query) or needle in r.body_text()
        ]

    def commands_for(self, guild: Guild | None = None) -> list[AppCommand]:
        gid = guild.id if guild else None
        return [c for c in self.commands.values() if c.guild_id == gid]

    async def wait_for_commands(
        self, *names: str, guild: Guild | None = None, timeout: float = 5.0
    ) -> list[AppCommand]:
        """Wait until commands were synced (globally, or to ``guild``); with ``names``, until
        all of those exist."""
        scope = f"guild {guild.name}" if guild else "global scope"

        def found() -> list[AppCommand] | None:
            cmds = self.commands_for(guild)
            have = {c.name for c in cmds}
            if names and not set(names) <= have:
                return None
            return cmds or None

        return await self.wait_until(
            found, what=f"commands {list(names) or '(any)'} synced to the {scope}", timeout=timeout
        )

    def as_user(self, user: User, *, channel: Channel | None = None) -> Actor:
        """A person-like handle for ``user``: ``await emulator.as_user(u).run("/meeting next")``."""
        from .actors import Actor

        return Actor(self, user, channel=channel)

    async def wait_for_bot_connected(self, timeout: float = 10.0) -> None:
        """Wait until a bot identified on the gateway, is connected, and got every GUILD_CREATE
        (for bots in another process; in-process, :func:`running_bot` waits for READY)."""

        def connected() -> bool:
            for session in self.gateway.sessions.values():
                conn = session.conn
                sent = sum(1 for p in session.buffer if p["t"] == "GUILD_CREATE")
                if session.valid and conn is not None and sent >= len(self.bot_guilds()):
                    return True
            return False

        await self.wait_until(connected, what="a bot to connect to the gateway", timeout=timeout)

    def invalid_request_count(self) -> int:
        """401, 403 and 429 answers (not shared-scope 429s) in the last 10 minutes of
        ``emu.clock`` ("Invalid Request Limit aka Cloudflare bans")."""
        return self.invalid_requests.count()

    def expect_violations(self) -> None:
        """Opt this test in to spec violations (it is testing that bad requests are rejected)."""
        self.violations_expected = True

    # --- middleware ----------------------------------------------------------------------------
    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX):
            return await handler(request)
        path = request.path[len(API_PREFIX) :]
        resource = request.match_info.route.resource
        route = resource.canonical[len(API_PREFIX) :] if resource is not None else path
        try:
            body = await read_body(request)
        except ValueError as exc:
            body = None
            request[BODY_ERROR_KEY] = str(exc)
        request[BODY_KEY] = body
        rec = RecordedRequest(request.method, route, path, dict(request.query), body)
        self.requests.append(rec)
        if self.invalid_requests.banned():
            rec.fault = "cloudflare_ban"
            response: web.StreamResponse = cloudflare_ban_response(
                self.invalid_requests.retry_after()
            )
        else:
            try:
                response = await self._process(request, rec, path, route)
            except ApiError as err:
                response = err.response()
            self.invalid_requests.record(response.status, response.headers.get("X-RateLimit-Scope"))
        rec.status = response.status
        log.info(
            "%s %s -> %s%s",
            rec.method,
            rec.path,
            rec.status,
            f" [{rec.fault}]" if rec.fault else "",
        )
        self.notify()
        return response

    async def _process(
        self, request: web.Request, rec: RecordedRequest, path: str, route: str
    ) -> web.StreamResponse:
        is_webhook = route.startswith(("/interactions/", "/webhooks/"))
        token = request.headers.get("Authorization", "")
        if not is_webhook and route not in ("/gateway",) and token != f"Bot {self.app.token}":
            raise ApiError(401, 0, "401: Unauthorized")
        # Buckets and the global limit count every authorised request, also the ones then
        # rejected as malformed (400): Discord limits before it looks at the body.
        decision = self.rate_limits.check(
            request.method, route, path, _major(request), token, is_webhook=is_webhook
        )
        if not decision.allowed:
            rec.fault = "rate_limited"
            return rate_limited_response(
                decision.retry_after, decision.headers, is_global=decision.is_global
            )
        try:
            response = await self._checked(request, rec, path)
        except ApiError as err:
            response = err.response()
        for key, value in decision.headers.items():
            response.headers.setdefault(key, value)
        return response

    async def _checked(
        self, request: web.Request, rec: RecordedRequest, path: str
    ) -> web.StreamResponse:
        files = request.get(FILES_KEY) or []
        if any(f["size"] > self.attachment_size_limit for f in files):
            # Discord: a file over the upload limit (10 MiB for a bot in an unboosted guild)
            # is refused before anything else: 413 / 40005 "Request entity too large".
            raise ApiError(413, 40005, "Request entity too large")
        if BODY_ERROR_KEY in request:
            raise ApiError(400, 50109, "The request body contains invalid JSON.")
        if self.validate_requests and request.method in ("POST", "PUT", "PATCH", "DELETE", "GET"):
            full = f"{path}?{request.query_string}" if request.query_string else path
            problems = get_validator().validate(request.method, full, rec.body)
            if problems:
                violation = Violation(request.method, full, list(problems))
                self.violations.append(violation)
                log.warning("spec violation: %s", violation)
                if all("Discord has no such route" in p for p in problems):
                    raise ApiError(404, 0, "404: Not Found")
                raise ApiError.invalid_form_body(problems)
        fault = self.faults.take(request.method, path)
        if fault is not None:
            rec.fault = fault.kind.value
            if fault.kind is FaultKind.LATENCY:
                await asyncio.sleep(fault.delay)
            elif fault.kind is FaultKind.RESET:
                if request.transport is not None:
                    request.transport.abort()
                return web.Response(status=599)  # never delivered; recorded as status 599
            elif fault.kind is FaultKind.STATUS:
                if fault.status == 429:
                    return rate_limited_response(
                        fault.retry_after, {}, is_global=fault.is_global, shared=fault.shared
                    )
                return error_response(fault.status)
        response = await self._call(request)
        if fault is not None and fault.kind is FaultKind.PROCESSED_THEN_HOLD:
            self.notify()  # a watcher waiting for the hold wakes once it has begun
            await fault.hold()
        processed = 200 <= response.status < 300
        if fault is not None and fault.kind is FaultKind.PROCESSED_THEN_RESET and processed:
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=599)  # processed, never answered: status 599
        if fault is not None and fault.kind is FaultKind.PROCESSED_THEN_STATUS:
            rec.response = getattr(response, "text", None)
            return error_response(fault.status)
        return response

    async def _call(self, request: web.Request) -> web.StreamResponse:
        handler = request.match_info.handler
        try:
            return await handler(request)
        except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
            if request.match_info.http_exception is None:
                raise
            # A route Discord has (the validator passed it) but the emulator lacks.
            entry = f"{request.method} {request.path[len(API_PREFIX) :]}"
            self.unimplemented.append(entry)
            log.warning("route not implemented by the emulator: %s", entry)
            raise ApiError(404, 0, "404: Not Found (not implemented by the emulator)") from None


def _major(request: web.Request) -> str:
    info = request.match_info
    for key in ("channel_id", "guild_id"):
        if key in info:
            return info[key]
    if "application_id" in info and "interaction_token" in info:
        return f"{info['application_id']}+{info['interaction_token']}"  # webhook_id + token
    if "interaction_token" in info:
        return info["interaction_token"]
    return ""


async def read_body(request: web.Request) -> Any:
    """Decoded JSON body, or for multipart the decoded ``payload_json`` plus attachment names."""
    if not request.body_exists:
        return None
    ctype = request.content_type
    if ctype.startswith("multipart/"):
        reader = await request.multipart()
        payload: Any = None
        files: list[JSON] = []
        while True:
            part = await reader.next()
            if part is None:
                break
            name = getattr(part, "name", None)
            data = await part.read()  # type: ignore[union-attr]
            if name == "payload_json":
                payload = json.loads(data.decode())
            else:
                files.append(
                    {
                        "name": name,
                        "filename": getattr(part, "filename", None),
                        "size": len(data),
                        "data": bytes(data),
                        "content_type": part.headers.get("Content-Type"),
                    }
                )
        request[FILES_KEY] = files
        return payload
    raw = await request.read()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(str(exc)) from exc


def rate_limited_response(
    retry_after: float, headers: dict[str, str], *, is_global: bool, shared: bool = False
) -> web.Response:
    body = {
        # "Example Exceeded Resource Rate Limit Response" has its own message.
        "message": "The resource is being rate limited."
        if shared
        else "You are being rate limited.",
        "retry_after": round(retry_after, 3),
        "global": is_global,
    }
    out = {
        "Via": "1.1 google",
        "Retry-After": str(max(1, round(retry_after))),
        "X-RateLimit-Scope": "global" if is_global else "shared" if shared else "user",
        **headers,
    }
    if is_global:
        out["X-RateLimit-Global"] = "true"
    return json_response(body, status=429, headers=out)


def cloudflare_ban_response(retry_after: float) -> web.Response:
    """What a Cloudflare-banned IP gets: a 429 HTML page (error 1015) without Discord's JSON,
    ``Via`` or rate-limit headers; discord.py raises instead of retrying ("Banned by Cloudflare
    more than likely", discord/http.py)."""
    return web.Response(
        status=429,
        text="<!DOCTYPE html><title>Access denied</title><h1>Error 1015</h1>"
        "<p>You are being rate limited.</p><p>error code: 1015</p>",
        content_type="text/html",
        headers={"Retry-After": str(max(1, round(retry_after)))},
    )


def error_response(status: int) -> web.Response:
    if status == 429:
        return rate_limited_response(0.05, {}, is_global=False)
    if status >= 500:
        return web.Response(
            status=status, text=f"{status}: Internal Server Error", content_type="text/plain"
        )
    return json_response({"message": f"{status}", "code": 0}, status=status)


__all__ = [
    "API_PREFIX",
    "Emulator",
    "RecordedRequest",
    "Violation",
    "message_text",
]

"""The emulated gateway: websocket connections, sessions with a resume buffer, gateway faults."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from .server import Emulator

JSON = dict[str, Any]


class Op:
    DISPATCH = 0
    HEARTBEAT = 1
    IDENTIFY = 2
    PRESENCE = 3
    VOICE_STATE = 4
    RESUME = 6
    RECONNECT = 7
    REQUEST_MEMBERS = 8
    INVALID_SESSION = 9
    HELLO = 10
    HEARTBEAT_ACK = 11


class Intent:
    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_VOICE_STATES = 1 << 7
    GUILD_MESSAGES = 1 << 9
    DIRECT_MESSAGES = 1 << 12
    MESSAGE_CONTENT = 1 << 15
    GUILD_SCHEDULED_EVENTS = 1 << 16


@dataclass
class GatewayEvent:
    """One entry of the gateway log (what happened on which connection)."""

    kind: str  # "connect", "identify", "resume", "resume_failed", "dispatch", "close", ...
    detail: str = ""


class Connection:
    """One websocket connection (zlib-stream compressed or plain JSON text)."""

    def __init__(
        self, ws: web.WebSocketResponse, request: web.Request, compress: str | None
    ) -> None:
        self.ws = ws
        self.request = request
        self.compress = compress
        self._zlib = zlib.compressobj() if compress == "zlib-stream" else None
        self._lock = asyncio.Lock()
        self.silent = False
        self.session: Session | None = None
        self.heartbeats = 0

    async def send(self, payload: JSON) -> None:
        if self.silent or self.ws.closed:
            return
        text = json.dumps(payload, separators=(",", ":"))
        async with self._lock:
            try:
                if self._zlib is not None:
                    data = self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
                    await self.ws.send_bytes(data)
                else:
                    await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                pass

    async def close(self, code: int) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.close(code=code, message=b"emulator")

    def abort(self) -> None:
        transport = self.request.transport
        if transport is not None:
            transport.abort()


@dataclass
class Session:
    id: str
    intents: int
    seq: int = 0
    buffer: list[JSON] = field(default_factory=list)
    conn: Connection | None = None
    valid: bool = True
    resumes: int = 0

    def has_intent(self, intent: int | None) -> bool:
        return intent is None or bool(self.intents & intent)


class Gateway:
    """Gateway side of the emulator. ``emulator.gateway``."""

    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator
        self.heartbeat_interval_ms = 41_250
        self.sessions: dict[str, Session] = {}
        self.connections: list[Connection] = []
        self.log: list[GatewayEvent] = []
        self.identify_payloads: list[JSON] = []
        self.resume_buffer_size = 10_000

    # --- counters the tests read -------------------------------------------------------------
    def count(self, kind: str) -> int:
        return sum(1 for e in self.log if e.kind == kind)

    @property
    def identifies(self) -> int:
        return self.count("identify")

    @property
    def resumes(self) -> int:
        return self.count("resume")

    @property
    def live_connections(self) -> list[Connection]:
        return [c for c in self.connections if c.session is not None and not c.ws.closed]

    def _record(self, kind: str, detail: str = "") -> None:
        self.log.append(GatewayEvent(kind, detail))
        self.emu.notify()

    # --- websocket handler -------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        compress = request.query.get("compress")
        conn = Connection(ws, request, compress)
        self.connections.append(conn)
        self._record("connect", request.query_string)
        if request.query.get("encoding", "json") != "json":
            await conn.close(4002)
            return ws
        await conn.send({"op": Op.HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    try:
                        payload = json.loads(msg.data)
                    except ValueError:
                        await conn.close(4002)
                        break
                    await self._on_payload(conn, payload)
                elif msg.type is WSMsgType.ERROR:
                    break
        finally:
            if conn.session is not None and conn.session.conn is conn:
                conn.session.conn = None
            self._record("close", str(ws.close_code))
        return ws

    async def _on_payload(self, conn: Connection, payload: JSON) -> None:
        op = payload.get("op")
        data = payload.get("d")
        if op == Op.HEARTBEAT:
            conn.heartbeats += 1
            await conn.send({"op": Op.HEARTBEAT_ACK})
        elif op == Op.IDENTIFY:
            await self._identify(conn, data or {})
        elif op == Op.RESUME:
            await self._resume(conn, data or {})
        elif op == Op.REQUEST_MEMBERS:
            await self._request_members(conn, data or {})
        elif op in (Op.PRESENCE, Op.VOICE_STATE):
            return
        else:
            await conn.close(4001)

    async def _identify(self, conn: Connection, data: JSON) -> None:
        self.identify_payloads.append(data)
        if conn.session is not None:
            await conn.close(4005)
            return
        if data.get("token") != self.emu.app.token:
            self._record("auth_failed")
            await conn.close(4004)
            return
        intents = int(data.get("intents", 0))
        session = Session(id=secrets.token_hex(16), intents=intents)
        self.sessions[session.id] = session
        session.conn = conn
        conn.session = session
        self._record("identify", session.id)
        emu = self.emu
        guilds = emu.bot_guilds()
        ready = {
            "v": 10,
            "user": emu.app.bot_user.to_json(),
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": emu.gateway_url,
            "application": {"id": str(emu.app.id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "user_settings": {},
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "auth_session_id_hash": "",
        }
        if "shard" in data:
            ready["shard"] = data["shard"]
        await self._send_dispatch(session, "READY", ready)
        for guild in guilds:
            payload = emu.guild_create_payload(guild)
            large = len(guild.members) > int(data.get("large_threshold") or 50)
            payload["large"] = large
            in_voice = {str(s.user_id) for s in emu.voice.in_guild(guild)}
            if large or not session.has_intent(Intent.GUILD_MEMBERS):
                # Like Discord: without the privileged intent, or in a large guild (offline
                # members are left out; chunk them with op 8), only the bot itself is sent,
                # plus "members who are in voice" (Gateway Events, "Request Guild Members").
                keep = in_voice | {str(emu.app.bot_user.id)}
                payload["members"] = [m for m in payload["members"] if m["user"]["id"] in keep]
            if not session.has_intent(Intent.GUILD_VOICE_STATES):
                # VOICE_STATE_UPDATE and the voice-state cache it feeds belong to
                # GUILD_VOICE_STATES ("List of Intents"; discord.py Intents.voice_states: "This
                # also corresponds to ... VoiceChannel.members, VoiceChannel.voice_states,
                # Member.voice"): without it the initial states are not sent either.
                payload["voice_states"] = []
            await self._send_dispatch(session, "GUILD_CREATE", payload)

    async def _resume(self, conn: Connection, data: JSON) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        if data.get("token") != self.emu.app.token:
            await conn.close(4004)
            return
        after = int(data.get("seq") or 0)
        trimmed = bool(session and session.buffer and session.buffer[0]["s"] > after + 1)
        if session is None or not session.valid or trimmed:
            self._record("resume_failed", str(data.get("session_id")))
            await conn.send({"op": Op.INVALID_SESSION, "d": False})
            return
        old = session.conn
        if old is not None and old is not conn:
            old.session = None
            asyncio.get_running_loop().create_task(old.close(4000))
        session.conn = conn
        conn.session = session
        session.resumes += 1
        missed = [p for p in session.buffer if p["s"] > after]
        self._record("resume", f"{session.id} replaying {len(missed)}")
        for payload in missed:
            await conn.send(payload)
        await self._send_dispatch(session, "RESUMED", {})

    async def _request_members(self, conn: Connection, data: JSON) -> None:
        session = conn.session
        if session is None:
            return
        guild = self.emu.guilds.get(int(data.get("guild_id", 0)))
        self._record("request_members", str(data.get("guild_id")))
        if guild is None or not session.has_intent(Intent.GUILD_MEMBERS):
            return
        members = list(guild.members.values())
        user_ids = data.get("user_ids")
        if user_ids:
            wanted = {int(u) for u in (user_ids if isinstance(user_ids, list) else [user_ids])}
            members = [m for m in members if m.user.id in wanted]
        query = data.get("query")
        if query:
            members = [m for m in members if m.user.username.lower().startswith(query.lower())]
        limit = int(data.get("limit") or 0)
        if limit:
            members = members[:limit]
        chunk: JSON = {
            "guild_id": str(guild.id),
            "members": [m.to_json() for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        await self._send_dispatch(session, "GUILD_MEMBERS_CHUNK", chunk)

    # --- dispatching -------------------------------------------------------------------------
    async def _send_dispatch(self, session: Session, event: str, data: JSON) -> None:
        session.seq += 1
        payload = {"op": Op.DISPATCH, "t": event, "s": session.seq, "d": data}
        session.buffer.append(payload)
        if len(session.buffer) > self.resume_buffer_size:
            del session.buffer[: len(session.buffer) - self.resume_buffer_size]
        self._record("dispatch", event)
        if session.conn is not None:
            await session.conn.send(payload)

    async def dispatch(self, event: str, data: JSON, *, intent: int | None = None) -> None:
        """Send a DISPATCH to every valid session whose intents cover ``intent``.

        Sessions whose connection is down (or silent) keep the event in their resume buffer.
        """
        for session in list(self.sessions.values()):
            if not session.valid or not session.has_intent(intent):
                continue
            payload = data
            if event in ("MESSAGE_CREATE", "MESSAGE_UPDATE") and not session.has_intent(
                Intent.MESSAGE_CONTENT
            ):
                payload = self._without_content(data)
                referenced = data.get("referenced_message")
                if isinstance(referenced, dict):
                    # The replied-to message is a message object too: the same exceptions
                    # decide whether its content reaches an app without the intent.
                    payload = {**payload, "referenced_message": self._without_content(referenced)}
            await self._send_dispatch(session, event, payload)

    def _without_content(self, message: JSON) -> JSON:
        if not self._content_withheld(message):
            return message
        return {**message, "content": "", "embeds": [], "attachments": [], "components": []}

    def _content_withheld(self, message: JSON) -> bool:
        """Gateway docs, "Message Content Intent": apps without it "will receive empty values in
        fields that contain user-inputted content with a few exceptions: content in messages
        that an app sends, content in DMs with the app, content in which the app is
        mentioned" (and message context menu targets, which the emulator does not model)."""
        bot_id = str(self.emu.app.bot_user.id)
        if "guild_id" not in message:
            return False  # a DM with the app
        if message.get("author", {}).get("id") == bot_id:
            return False
        return not any(m.get("id") == bot_id for m in message.get("mentions") or [])

    # --- faults ------------------------------------------------------------------------------
    async def drop(self, code: int = 4000, *, abort: bool = False) -> int:
        """Drop every live connection (close frame with ``code``, or a TCP abort).

        The session survives, so the client can RESUME and gets the missed events replayed.
        Returns the number of connections dropped.
        """
        conns = self.live_connections
        for conn in conns:
            if conn.session is not None:
                conn.session.conn = None
            conn.session = None
            if abort:
                conn.abort()
            else:
                asyncio.get_running_loop().create_task(conn.close(code))
        self._record("drop", f"{len(conns)} code={code} abort={abort}")
        return len(conns)

    async def close_with(self, code: int) -> None:
        """Close live connections with a close code such as 4004 (auth failed) or 4014."""
        for conn in self.live_connections:
            if code in (4004, 4010, 4011, 4012, 4013, 4014) and conn.session is not None:
                conn.session.valid = False
            await conn.close(code)

    def go_silent(self) -> None:
        """Stop answering on the live connections (no ACKs, no events): the client should time
        out, reconnect and resume. Events keep accumulating in the resume buffer."""
        for conn in self.live_connections:
            conn.silent = True
        self._record("silent")

    async def invalidate_session(self, *, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; unless resumable the session is forgotten."""
        for conn in self.live_connections:
            session = conn.session
            if session is not None and not resumable:
                session.valid = False
            await conn.send({"op": Op.INVALID_SESSION, "d": resumable})
        self._record("invalidate", str(resumable))

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT: the client closes and resumes."""
        for conn in self.live_connections:
            await conn.send({"op": Op.RECONNECT, "d": None})
        self._record("reconnect_requested")

    async def close_all(self) -> None:
        for conn in list(self.connections):
            if not conn.ws.closed:
                await conn.close(1001)

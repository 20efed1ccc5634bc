"""The emulator's wire protocol seen by a raw client: compression, heartbeats, errors, faults."""

from __future__ import annotations

import json
import zlib
from typing import Any

import aiohttp
import pytest

from tests.emulator import Emulator, Server


async def _receive(ws: aiohttp.ClientWebSocketResponse, inflator: Any | None) -> dict[str, Any]:
    msg = await ws.receive(timeout=2)
    if inflator is None:
        assert msg.type is aiohttp.WSMsgType.TEXT
        return json.loads(msg.data)
    assert msg.type is aiohttp.WSMsgType.BINARY
    assert msg.data.endswith(b"\x00\x00\xff\xff")
    return json.loads(inflator.decompress(msg.data))


@pytest.mark.parametrize("compress", [None, "zlib-stream"])
async def test_raw_gateway_handshake(
    emulator: Emulator, discord_server: Server, compress: str | None
) -> None:
    query = "?v=10&encoding=json" + (f"&compress={compress}" if compress else "")
    inflator = zlib.decompressobj() if compress else None
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(emulator.gateway_url + query) as ws,
    ):
        hello = await _receive(ws, inflator)
        assert hello["op"] == 10
        assert hello["d"]["heartbeat_interval"] > 0
        await ws.send_json({"op": 1, "d": None})
        assert (await _receive(ws, inflator))["op"] == 11
        await ws.send_json(
            {"op": 2, "d": {"token": emulator.bot_token, "intents": 513, "properties": {}}}
        )
        ready = await _receive(ws, inflator)
        assert (ready["t"], ready["s"]) == ("READY", 1)
        assert ready["d"]["resume_gateway_url"] == emulator.gateway_url
        assert ready["d"]["guilds"] == [{"id": str(discord_server.guild.id), "unavailable": True}]
        guild = await _receive(ws, inflator)
        assert (guild["t"], guild["s"]) == ("GUILD_CREATE", 2)
        names = {c["name"] for c in guild["d"]["channels"]}
        assert {"general", "meetings", "Meeting Room", "Stage"} <= names


async def test_wrong_gateway_token_closes_4004(emulator: Emulator) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(emulator.gateway_url) as ws:
        await ws.receive_json(timeout=2)
        await ws.send_json({"op": 2, "d": {"token": "nope", "intents": 1, "properties": {}}})
        msg = await ws.receive(timeout=2)
        assert msg.type is aiohttp.WSMsgType.CLOSE
        assert ws.close_code == 4004


async def test_rest_errors_look_like_discord(emulator: Emulator, discord_server: Server) -> None:
    headers = {"Authorization": f"Bot {emulator.bot_token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.get(
            f"{emulator.api_base_url}/channels/1234567890123/messages/1"
        ) as resp:
            assert resp.status == 404
            assert resp.headers["Content-Type"] == "application/json"
            assert await resp.json() == {"message": "Unknown Channel", "code": 10003}
        async with session.get(
            f"{emulator.api_base_url}/users/@me", headers={"Authorization": "Bot x"}
        ) as resp:
            assert resp.status == 401
        emulator.rate_limits.global_limit = 1
        emulator.rate_limits.reset()
        async with session.get(f"{emulator.api_base_url}/users/@me") as resp:
            assert resp.status == 200
            assert "X-RateLimit-Bucket" in resp.headers
        async with session.get(f"{emulator.api_base_url}/users/@me") as resp:
            assert resp.status == 429
            assert resp.headers["Via"]
            assert resp.headers["X-RateLimit-Scope"] == "global"
            body = await resp.json()
            assert body["global"] is True
            assert body["message"] == "You are being rate limited."


async def test_latency_and_connection_reset_faults(
    emulator: Emulator, discord_server: Server
) -> None:
    slow = emulator.faults.latency("GET", "/users/@me", 0.2)
    reset = emulator.faults.connection_reset("POST", "/channels/*/messages")
    url = f"{emulator.api_base_url}/channels/{discord_server.general.id}/messages"
    headers = {"Authorization": f"Bot {emulator.bot_token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.get(f"{emulator.api_base_url}/users/@me") as resp:
            assert resp.status == 200
        # (aiohttp silently retries idempotent GETs on a reset pooled connection; POSTs fail.)
        with pytest.raises(aiohttp.ClientError):
            async with session.post(url, json={"content": "lost"}) as resp:
                await resp.read()
        async with session.post(url, json={"content": "sent"}) as resp:
            assert resp.status == 200
    assert [m.content for m in emulator.messages_in(discord_server.general)] == ["sent"]
    assert (slow.hits, reset.hits) == (1, 1)
    first = emulator.requests_to("GET", "/users/@me")[0]
    assert first.fault == "latency"


async def test_processed_then_reset_keeps_the_message_and_loses_the_answer(
    emulator: Emulator, discord_server: Server
) -> None:
    lost = emulator.faults.processed_then_reset("POST", "/channels/*/messages")
    url = f"{emulator.api_base_url}/channels/{discord_server.general.id}/messages"
    headers = {"Authorization": f"Bot {emulator.bot_token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        with pytest.raises(aiohttp.ClientError):
            async with session.post(url, json={"content": "taken"}) as resp:
                await resp.read()
    # Discord has it; the client heard nothing back.
    assert [m.content for m in emulator.messages_in(discord_server.general)] == ["taken"]
    assert lost.hits == 1
    [request] = emulator.requests_to("POST", "/channels/{channel_id}/messages")
    assert (request.fault, request.status) == ("processed_then_reset", 599)


async def test_unknown_and_unimplemented_routes_are_reported(emulator: Emulator) -> None:
    emulator.expect_violations()
    headers = {"Authorization": f"Bot {emulator.bot_token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.get(f"{emulator.api_base_url}/no/such/route") as resp:
            assert resp.status == 404
            assert (await resp.json())["code"] == 0
        async with session.get(f"{emulator.api_base_url}/guilds/1234567890123/emojis") as resp:
            assert resp.status == 404
    assert len(emulator.violations) == 1
    assert "no such route" in emulator.violations[0].problems[0]
    assert emulator.unimplemented == ["GET /guilds/1234567890123/emojis"]

"""Rate limits as Discord applies them.

Source: Discord's "Rate Limits" topic (https://discord.com/developers/docs/topics/rate-limits):
per-route buckets per top-level resource with shared ``X-RateLimit-Bucket`` ids, the global
limit, and "Invalid Request Limit aka Cloudflare bans" (10,000 401/403/429 answers per
10 minutes, shared-scope 429s not counted). Per-route numbers are the long-observed ones
listed in ``tests/emulator/ratelimit.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import discord
import pytest

from bot.clock import ManualClock
from tests.emulator import Emulator, Overwrite, P, Server, make_test_bot, running_bot

NOW = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)


class Answer:
    def __init__(self, status: int, headers: Any, body: Any) -> None:
        self.status = status
        self.headers = headers
        self.body = body


async def call(
    emu: Emulator,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    token: str | None = None,
) -> Answer:
    headers = {"Authorization": f"Bot {token or emu.bot_token}"}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.request(method, f"{emu.api_base_url}{path}", json=body) as resp,
    ):
        data = await resp.json() if resp.content_type == "application/json" else await resp.text()
        return Answer(resp.status, resp.headers, data)


def _messages(channel_id: int) -> str:
    return f"/channels/{channel_id}/messages"


async def test_default_route_buckets_are_discords_observed_limits(
    emulator: Emulator, discord_server: Server
) -> None:
    """5 messages / 5 s per channel (a bucket shared by every channel, counted per channel_id),
    edits 5 / 5 s, deletes 5 / 1 s, role changes 10 / 10 s per guild with PUT and DELETE in one
    bucket, other routes 10 / s."""
    general = _messages(discord_server.general.id)
    sent = [await call(emulator, "POST", general, {"content": f"m{i}"}) for i in range(5)]
    assert [a.status for a in sent] == [200] * 5
    assert sent[0].headers["X-RateLimit-Limit"] == "5"
    assert 4.0 < float(sent[0].headers["X-RateLimit-Reset-After"]) <= 5.0
    assert sent[-1].headers["X-RateLimit-Remaining"] == "0"
    sixth = await call(emulator, "POST", general, {"content": "one too many"})
    assert sixth.status == 429
    assert sixth.headers["X-RateLimit-Scope"] == "user"
    assert sixth.body["global"] is False
    assert sixth.body["retry_after"] > 4.0
    assert len(emulator.messages_in(discord_server.general)) == 5

    elsewhere = await call(
        emulator, "POST", _messages(discord_server.meetings.id), {"content": "hi"}
    )
    assert elsewhere.status == 200
    assert elsewhere.headers["X-RateLimit-Bucket"] == sent[0].headers["X-RateLimit-Bucket"]

    first = sent[0].body["id"]
    edit = await call(emulator, "PATCH", f"{general}/{first}", {"content": "edited"})
    assert edit.headers["X-RateLimit-Limit"] == "5"
    assert edit.headers["X-RateLimit-Bucket"] != sent[0].headers["X-RateLimit-Bucket"]
    delete = await call(emulator, "DELETE", f"{general}/{first}")
    assert delete.status == 204
    assert delete.headers["X-RateLimit-Limit"] == "5"
    assert float(delete.headers["X-RateLimit-Reset-After"]) <= 1.0

    guild = discord_server.guild.id
    member, facilitator = discord_server.member.id, discord_server.facilitator_role.id
    role = f"/guilds/{guild}/members/{member}/roles/{facilitator}"
    add = await call(emulator, "PUT", role)
    remove = await call(emulator, "DELETE", role)
    assert add.headers["X-RateLimit-Limit"] == "10"
    assert add.headers["X-RateLimit-Bucket"] == remove.headers["X-RateLimit-Bucket"]
    assert remove.headers["X-RateLimit-Remaining"] == "8"
    other = await call(emulator, "GET", f"/channels/{discord_server.general.id}")
    assert other.headers["X-RateLimit-Limit"] == "10"


async def test_roomy_buckets_are_an_explicit_opt_in(
    emulator: Emulator, discord_server: Server
) -> None:
    emulator.rate_limits.roomy()
    general = _messages(discord_server.general.id)
    burst = [await call(emulator, "POST", general, {"content": f"m{i}"}) for i in range(8)]
    assert [a.status for a in burst] == [200] * 8
    emulator.rate_limits.discord_like()
    assert (await call(emulator, "POST", general, {"content": "m8"})).headers[
        "X-RateLimit-Limit"
    ] == "5"


async def test_a_request_rejected_with_400_still_uses_its_bucket_and_the_global_limit(
    emulator: Emulator, discord_server: Server
) -> None:
    """Discord rate-limits before it reads the body: a 400 costs a slot in the route's bucket
    and in the global limit like any other request."""
    emulator.expect_violations()
    general = _messages(discord_server.general.id)
    rejected = [await call(emulator, "POST", general, {"content": "x" * 2001}) for _ in range(5)]
    assert [a.status for a in rejected] == [400] * 5
    assert rejected[-1].headers["X-RateLimit-Remaining"] == "0"
    valid = await call(emulator, "POST", general, {"content": "fine"})
    assert valid.status == 429
    assert emulator.messages_in(discord_server.general) == []

    emulator.rate_limits.reset()
    emulator.rate_limits.global_limit = 3
    emulator.rate_limits.global_per = 60.0
    for channel in (discord_server.general, discord_server.meetings, discord_server.stage):
        bad = await call(emulator, "POST", _messages(channel.id), {"content": "x" * 2001})
        assert bad.status == 400
    fourth = await call(
        emulator, "POST", _messages(discord_server.facilitators_channel.id), {"content": "ok"}
    )
    assert fourth.status == 429
    assert fourth.headers["X-RateLimit-Scope"] == "global"


async def test_invalid_requests_are_counted_over_a_sliding_ten_minute_window(
    emulator: Emulator, discord_server: Server
) -> None:
    """401, 403 and 429 count; 400, 404 and 429s with X-RateLimit-Scope: shared do not."""
    emulator.expect_violations()
    clock = ManualClock(NOW)
    emulator.clock = clock
    general = _messages(discord_server.general.id)
    hidden = emulator.create_channel(discord_server.guild, "hidden")
    hidden.overwrites.append(
        Overwrite(id=discord_server.guild.everyone_role_id, type=0, deny=P.VIEW_CHANNEL)
    )
    assert (await call(emulator, "GET", "/users/@me", token="wrong")).status == 401
    assert (await call(emulator, "GET", "/users/@me", token="wrong")).status == 401
    assert (await call(emulator, "POST", _messages(hidden.id), {"content": "x"})).status == 403
    assert (await call(emulator, "GET", f"{general}/1")).status == 404
    assert (await call(emulator, "POST", general, {"content": "x" * 2001})).status == 400
    emulator.faults.rate_limit("GET", "/channels/*", shared=True)
    shared = await call(emulator, "GET", f"/channels/{discord_server.general.id}")
    assert shared.status == 429
    assert shared.headers["X-RateLimit-Scope"] == "shared"
    emulator.rate_limits.set_route("GET", "/users/@me", limit=1, per=60)
    assert (await call(emulator, "GET", "/users/@me")).status == 200
    assert (await call(emulator, "GET", "/users/@me")).status == 429
    assert emulator.invalid_request_count() == 4

    clock.advance(timedelta(minutes=5))
    assert (await call(emulator, "GET", "/users/@me", token="wrong")).status == 401
    assert emulator.invalid_request_count() == 5
    clock.advance(timedelta(minutes=5, seconds=1))
    assert emulator.invalid_request_count() == 1


async def test_past_the_invalid_request_limit_the_ip_is_banned_like_cloudflare_does(
    emulator: Emulator, discord_server: Server
) -> None:
    """At the invalid-request limit (10,000 on Discord; 5 here to stay fast) every API call gets
    Cloudflare's 429 page until the ban ends; discord.py raises instead of retrying it."""
    clock = ManualClock(NOW)
    emulator.clock = clock
    emulator.invalid_requests.limit = 5
    async with running_bot(emulator, make_test_bot()) as bot:
        channel = bot.get_channel(discord_server.general.id)
        assert isinstance(channel, discord.TextChannel)
        for _ in range(5):
            assert (await call(emulator, "GET", "/users/@me", token="wrong")).status == 401
        with pytest.raises(discord.HTTPException) as banned:
            await channel.send("during the ban")
        assert banned.value.status == 429
        assert "1015" in banned.value.text
        (post,) = emulator.requests_to("POST", "/channels/{channel_id}/messages")
        assert post.fault == "cloudflare_ban"
        assert emulator.invalid_requests.bans == 1

        clock.advance(emulator.invalid_requests.ban_duration)
        await channel.send("after the ban")
    assert [m.content for m in emulator.messages_in(discord_server.general)] == ["after the ban"]

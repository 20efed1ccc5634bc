"""How discord.py's errors become DeliveryFailed: permanent (never retried) or transient."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
import discord
import pytest

from bot.discord_port import failure_from


@dataclass
class Response:
    """The two attributes discord.HTTPException reads from aiohttp's response."""

    status: int
    reason: str = "reason"


def http_error(status: int, code: int) -> discord.HTTPException:
    body = {"code": code, "message": "sentinel words from Discord"}
    if status == 403:
        return discord.Forbidden(Response(status), body)  # type: ignore[arg-type]
    if status == 404:
        return discord.NotFound(Response(status), body)  # type: ignore[arg-type]
    if status >= 500:
        return discord.DiscordServerError(Response(status), body)  # type: ignore[arg-type]
    return discord.HTTPException(Response(status), body)  # type: ignore[arg-type]


# Codes from https://discord.com/developers/docs/topics/opcodes-and-status-codes#json
@pytest.mark.parametrize(
    ("status", "code", "reason"),
    [
        (403, 50007, "Discord 403 (50007): cannot send this user a direct message"),
        (404, 10003, "Discord 404 (10003): the channel no longer exists"),
        (403, 50001, "Discord 403 (50001): Holdfast cannot see the channel"),
        (403, 50013, "Discord 403 (50013): Holdfast lacks permission to post there"),
        (404, 10013, "Discord 404 (10013): the user no longer exists"),
        (400, 50035, "Discord 400 (50035)"),
    ],
)
def test_refusals_are_permanent(status: int, code: int, reason: str) -> None:
    failure = failure_from(http_error(status, code))
    assert failure.permanent
    assert (failure.status, failure.code) == (status, code)
    assert failure.reason.startswith(reason)
    assert "sentinel" not in failure.reason


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_discord_side_trouble_is_transient(status: int) -> None:
    failure = failure_from(http_error(status, 0))
    assert not failure.permanent
    assert failure.reason == f"Discord {status}"
    assert failure.code is None


@pytest.mark.parametrize(
    "error",
    [aiohttp.ClientConnectionError("reset"), TimeoutError(), ConnectionResetError()],
)
def test_network_trouble_is_transient(error: Exception) -> None:
    failure = failure_from(error)
    assert not failure.permanent
    assert failure.status is None

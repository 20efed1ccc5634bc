"""pytest fixtures for the Discord emulator (loaded via ``pytest_plugins`` in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from .factories import Server, build_guild
from .harness import discord_endpoints
from .server import Emulator


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """A running emulator on 127.0.0.1 (random port) with Discord's global and per-route limits.

    At teardown the test fails if the bot sent anything Discord's OpenAPI spec rejects, unless
    the test called ``emulator.expect_violations()``.
    """
    emu = Emulator()
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()
    problems = []
    if emu.violations and not emu.violations_expected:
        listed = "\n".join(f"  - {v}" for v in emu.violations)
        problems.append(f"the bot sent requests that Discord would reject:\n{listed}")
    if emu.unimplemented and not emu.violations_expected:
        listed = "\n".join(f"  - {r}" for r in emu.unimplemented)
        problems.append(f"the bot called routes the emulator does not implement yet:\n{listed}")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def discord_server(emulator: Emulator) -> Server:
    """A realistic guild: a facilitator, an admin, five members and the usual channels."""
    return build_guild(emulator, facilitators=1, members=5, admins=1)


@pytest.fixture
def emulated_discord(emulator: Emulator) -> Iterator[Emulator]:
    """Point discord.py (Route.BASE, DEFAULT_GATEWAY) at the emulator for the whole test."""
    with discord_endpoints(emulator):
        yield emulator

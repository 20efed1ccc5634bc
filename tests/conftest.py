"""Shared pytest setup. The emulator's fixtures live in tests/emulator/fixtures.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.delivery import replanning
from bot.planning import use_defaults
from bot.zones import use_bundled_tzdata

# Zone rules come from the pinned tzdata wheel in tests exactly as in production.
use_bundled_tzdata()

pytest_plugins = ["tests.emulator.fixtures"]


@pytest.fixture(autouse=True)
def default_planning() -> Iterator[None]:
    """Services called without a policy re-plan with the built-in settings, as a bot with an
    empty `.env` would (HoldfastBot does the same with its settings at start-up). Fresh for
    every test: nothing one test (or an in-process bot) registered leaks into the next."""
    use_defaults()
    yield
    replanning.use_by_default(None)

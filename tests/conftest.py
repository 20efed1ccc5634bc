"""Shared pytest setup. The emulator's fixtures live in tests/emulator/fixtures.py."""

from __future__ import annotations

from bot.zones import use_bundled_tzdata

# Zone rules come from the pinned tzdata wheel in tests exactly as in production.
use_bundled_tzdata()

pytest_plugins = ["tests.emulator.fixtures"]

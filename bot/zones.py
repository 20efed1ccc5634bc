"""Time zones come from the pinned `tzdata` package, never from the host.

A meeting at 19:30 Europe/London must be 19:30 on every machine the bot runs on, so the search
path for zone files is emptied and zoneinfo falls back to the `tzdata` wheel we pin.
"""

from __future__ import annotations

import zoneinfo
from functools import cache


class UnknownTimeZoneError(ValueError):
    """Raised with the offending name; callers turn it into wording for a person."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


@cache
def use_bundled_tzdata() -> None:
    zoneinfo.reset_tzpath(to=[])


def load_zone(name: str) -> zoneinfo.ZoneInfo:
    use_bundled_tzdata()
    cleaned = name.strip()
    if not cleaned or cleaned.startswith(("/", ".")) or ".." in cleaned:
        raise UnknownTimeZoneError(name)
    try:
        return zoneinfo.ZoneInfo(cleaned)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise UnknownTimeZoneError(name) from exc


# Offered first when a facilitator starts typing a zone: where Holdfast's groups meet most.
COMMON_ZONES = (
    "Europe/London",
    "Europe/Dublin",
    "Europe/Paris",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Asia/Kolkata",
    "UTC",
)


@cache
def _all_zones() -> tuple[str, ...]:
    use_bundled_tzdata()
    return tuple(sorted(zoneinfo.available_timezones()))


def zone_suggestions(typed: str, limit: int = 25) -> list[str]:
    """Zones matching what someone has typed so far (Discord shows at most 25)."""
    wanted = typed.strip().casefold().replace(" ", "_")
    if not wanted:
        return list(COMMON_ZONES)[:limit]
    common = [z for z in COMMON_ZONES if wanted in z.casefold()]
    rest = [z for z in _all_zones() if wanted in z.casefold() and z not in common]
    return (common + rest)[:limit]

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

"""Discord-like rate limits: per-route buckets (per major parameter), the global limit and the
invalid-request limit that gets an IP banned by Cloudflare.

Source: Discord's "Rate Limits" topic (https://discord.com/developers/docs/topics/rate-limits):
buckets are per route and per top-level resource ("channels (channel_id), guilds (guild_id),
and webhooks (webhook_id or webhook_id + webhook_token)"), shared buckets show the same
``X-RateLimit-Bucket``, the global limit is 50 requests/s with interaction endpoints exempt,
and "Invalid Request Limit aka Cloudflare bans" is 10,000 401/403/429 answers per 10 minutes
(429s with ``X-RateLimit-Scope: shared`` not counted).
"""

from __future__ import annotations

import fnmatch
import hashlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class BucketRule:
    method: str
    path: str
    limit: int
    per: float


@dataclass(frozen=True)
class RouteLimit:
    """A per-route limit: ``limit`` requests per ``per`` seconds per major parameter, in the
    bucket called ``bucket`` (routes naming the same bucket share it, as Discord's do)."""

    limit: int
    per: float
    bucket: str


# Discord publishes no per-route numbers ("rate limits should not be hard coded"); these are the
# long-standing observed ones: 5 messages / 5 s per channel, edits 5 / 5 s, deletes 5 / 1 s,
# bulk delete 1 / 1 s, reactions 1 / 0.25 s (discord-api-docs#182: the headers say 1 / 1 s),
# member role changes 10 / 10 s per guild and interaction webhooks (followups) 5 / 2 s.
_MESSAGE = "/channels/{channel_id}/messages/{message_id}"
_REACTION = _MESSAGE + "/reactions/{emoji}/@me"
_ROLE = "/guilds/{guild_id}/members/{user_id}/roles/{role_id}"
_WEBHOOK = "/webhooks/{application_id}/{interaction_token}"
DISCORD_ROUTE_LIMITS: dict[tuple[str, str], RouteLimit] = {
    ("POST", "/channels/{channel_id}/messages"): RouteLimit(5, 5.0, "message-create"),
    ("PATCH", _MESSAGE): RouteLimit(5, 5.0, "message-edit"),
    ("DELETE", _MESSAGE): RouteLimit(5, 1.0, "message-delete"),
    ("POST", "/channels/{channel_id}/messages/bulk-delete"): RouteLimit(1, 1.0, "bulk-delete"),
    ("PUT", _REACTION): RouteLimit(1, 0.25, "reaction"),
    ("DELETE", _REACTION): RouteLimit(1, 0.25, "reaction"),
    ("PUT", _ROLE): RouteLimit(10, 10.0, "member-role"),
    ("DELETE", _ROLE): RouteLimit(10, 10.0, "member-role"),
    ("PATCH", "/guilds/{guild_id}/members/{user_id}"): RouteLimit(10, 10.0, "member-edit"),
    ("POST", _WEBHOOK): RouteLimit(5, 2.0, "webhook"),
    ("PATCH", _WEBHOOK + "/messages/{message_id}"): RouteLimit(5, 2.0, "webhook"),
    ("DELETE", _WEBHOOK + "/messages/{message_id}"): RouteLimit(5, 2.0, "webhook"),
}
DEFAULT_ROUTE_LIMIT = RouteLimit(10, 1.0, "")
"""Routes without an observed number: 10 requests / s per route and major parameter."""
ROOMY_ROUTE_LIMIT = RouteLimit(1000, 1.0, "")


@dataclass
class _Window:
    limit: int
    per: float
    reset_at: float = 0.0
    used: int = 0

    def hit(self, now: float) -> tuple[bool, int, float]:
        """Count one request. Returns (allowed, remaining, reset_after)."""
        if now >= self.reset_at:
            self.reset_at = now + self.per
            self.used = 0
        if self.used >= self.limit:
            return False, 0, self.reset_at - now
        self.used += 1
        return True, self.limit - self.used, self.reset_at - now


@dataclass
class RateLimitDecision:
    allowed: bool
    headers: dict[str, str]
    retry_after: float = 0.0
    is_global: bool = False
    scope: str = "user"


@dataclass
class RateLimits:
    """Rate limit configuration and state of one emulator.

    By default both are Discord's: the global 50 requests/s per bot (interaction and webhook
    routes exempt) and the per-route buckets of :data:`DISCORD_ROUTE_LIMITS` (others
    :data:`DEFAULT_ROUTE_LIMIT`). A test that is about something else and legitimately bursts
    (e.g. one about the global limit) calls :meth:`roomy` and says why.
    """

    global_limit: int | None = 50
    global_per: float = 1.0
    routes: dict[tuple[str, str], RouteLimit] = field(
        default_factory=lambda: dict(DISCORD_ROUTE_LIMITS)
    )
    default: RouteLimit = DEFAULT_ROUTE_LIMIT
    rules: list[BucketRule] = field(default_factory=list)
    _windows: dict[str, _Window] = field(default_factory=dict)
    _global: dict[str, _Window] = field(default_factory=dict)
    hits_429: int = 0

    def discord_like(self) -> None:
        """Back to Discord's numbers (the default): observed per-route buckets, 50/s global,
        no ad-hoc :meth:`set_route` rules."""
        self.routes = dict(DISCORD_ROUTE_LIMITS)
        self.default = DEFAULT_ROUTE_LIMIT
        self.global_limit, self.global_per = 50, 1.0
        self.rules.clear()
        self.reset()

    def roomy(self) -> None:
        """Per-route buckets of 1,000/s (the global limit stays). Kinder than Discord: only for
        tests about something else that must burst on one route; say why at the call."""
        self.routes = {}
        self.default = ROOMY_ROUTE_LIMIT
        self.reset()

    def set_route(self, method: str, path: str, limit: int, per: float) -> None:
        """Limit requests matching ``method`` and glob ``path`` (e.g. ``/channels/*/messages``)."""
        self.rules.insert(0, BucketRule(method.upper(), path, limit, per))

    def reset(self) -> None:
        self._windows.clear()
        self._global.clear()

    def _limit_for(self, method: str, route: str, path: str) -> RouteLimit:
        for rule in self.rules:
            if rule.method in ("*", method) and fnmatch.fnmatchcase(path, rule.path):
                return RouteLimit(rule.limit, rule.per, f"rule {rule.method} {rule.path}")
        found = self.routes.get((method, route))
        if found is not None:
            return found
        return RouteLimit(self.default.limit, self.default.per, f"{method} {route}")

    def check(
        self,
        method: str,
        route: str,
        path: str,
        major: str,
        token: str,
        *,
        is_webhook: bool = False,
    ) -> RateLimitDecision:
        now = time.monotonic()
        route_limit = self._limit_for(method, route, path)
        limit, per = route_limit.limit, route_limit.per
        bucket_hash = hashlib.sha1(route_limit.bucket.encode()).hexdigest()[:16]
        key = f"{bucket_hash}:{major}"
        window = self._windows.get(key)
        if window is None or window.limit != limit or window.per != per:
            window = self._windows[key] = _Window(limit, per)
        if self.global_limit is not None and not is_webhook:
            g = self._global.get(token)
            if g is None or g.limit != self.global_limit:
                g = self._global[token] = _Window(self.global_limit, self.global_per)
            ok, _, reset_after = g.hit(now)
            if not ok:
                self.hits_429 += 1
                return RateLimitDecision(
                    False,
                    {"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"},
                    retry_after=max(reset_after, 0.001),
                    is_global=True,
                    scope="global",
                )
        ok, remaining, reset_after = window.hit(now)
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket_hash,
        }
        if not ok:
            self.hits_429 += 1
            headers["X-RateLimit-Scope"] = "user"
            return RateLimitDecision(False, headers, retry_after=max(reset_after, 0.001))
        return RateLimitDecision(True, headers)


@dataclass
class InvalidRequests:
    """ "Invalid Request Limit aka Cloudflare bans": an IP with ``limit`` 401/403/429 answers
    (not counting 429s with ``X-RateLimit-Scope: shared``) within ``window`` is banned for a
    while. Times come from the emulator's wall clock, so a test's ManualClock moves the window.
    """

    now: Callable[[], datetime]
    limit: int = 10_000
    window: timedelta = timedelta(minutes=10)
    ban_duration: timedelta = timedelta(hours=1)
    """Discord says "temporarily" without a number; an hour is what bans are reported to last."""
    times: deque[datetime] = field(default_factory=deque)
    banned_until: datetime | None = None
    bans: int = 0

    def _trim(self, now: datetime) -> None:
        while self.times and self.times[0] <= now - self.window:
            self.times.popleft()

    def count(self) -> int:
        """Invalid requests within the sliding window ending now."""
        self._trim(self.now())
        return len(self.times)

    def record(self, status: int, scope: str | None) -> None:
        if status not in (401, 403, 429) or (status == 429 and scope == "shared"):
            return
        now = self.now()
        self.times.append(now)
        self._trim(now)
        if len(self.times) >= self.limit and not self.banned(now):
            self.banned_until = now + self.ban_duration
            self.bans += 1

    def banned(self, now: datetime | None = None) -> bool:
        now = now or self.now()
        return self.banned_until is not None and now < self.banned_until

    def retry_after(self) -> float:
        if self.banned_until is None:
            return 0.0
        return max(0.0, (self.banned_until - self.now()).total_seconds())

"""Discord-like rate limits: per-route buckets (per major parameter) and a global limit."""

from __future__ import annotations

import fnmatch
import hashlib
import time
from dataclasses import dataclass, field


@dataclass
class BucketRule:
    method: str
    path: str
    limit: int
    per: float


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

    The global limit is Discord's (50 requests/s per bot; interaction and webhook routes are
    exempt, as on Discord). Per-route buckets are generous so ordinary tests never wait; call
    :meth:`discord_like` (or :meth:`set_route`) for Discord's per-route numbers.
    """

    default_limit: int = 1000
    default_per: float = 1.0
    global_limit: int | None = 50
    global_per: float = 1.0
    rules: list[BucketRule] = field(default_factory=list)
    _windows: dict[str, _Window] = field(default_factory=dict)
    _global: dict[str, _Window] = field(default_factory=dict)
    hits_429: int = 0

    def discord_like(self) -> None:
        """Discord's usual numbers: 5 messages / 5 s per channel and 50 requests/s globally."""
        self.default_limit, self.default_per = 5, 5.0
        self.global_limit, self.global_per = 50, 1.0

    def set_route(self, method: str, path: str, limit: int, per: float) -> None:
        """Limit requests matching ``method`` and glob ``path`` (e.g. ``/channels/*/messages``)."""
        self.rules.insert(0, BucketRule(method.upper(), path, limit, per))

    def reset(self) -> None:
        self._windows.clear()
        self._global.clear()

    def _rule_for(self, method: str, path: str) -> tuple[int, float]:
        for rule in self.rules:
            if rule.method in ("*", method) and fnmatch.fnmatchcase(path, rule.path):
                return rule.limit, rule.per
        return self.default_limit, self.default_per

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
        limit, per = self._rule_for(method, path)
        bucket_hash = hashlib.sha1(f"{method} {route}".encode()).hexdigest()[:16]
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

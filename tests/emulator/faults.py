"""Fault injection: match requests by method, path pattern and count; gateway faults."""

from __future__ import annotations

import asyncio
import fnmatch
import re
from dataclasses import dataclass, field
from enum import StrEnum


class FaultKind(StrEnum):
    STATUS = "status"
    """Answer with ``status`` (429, 500, 502, 503...) without processing the request."""
    PROCESSED_THEN_STATUS = "processed_then_status"
    """Process the request (e.g. create the message), then answer ``status`` anyway."""
    LATENCY = "latency"
    """Delay the request by ``delay`` seconds, then process it normally."""
    RESET = "reset"
    """Close the TCP connection without answering."""
    PROCESSED_THEN_HOLD = "processed_then_hold"
    """Process the request (e.g. create the message), then hold the answer until the test
    calls ``release()``: Discord has done it, the client does not know yet (the in-doubt
    moment a crash can fall into)."""
    PROCESSED_THEN_RESET = "processed_then_reset"
    """Process the request (e.g. create the message), then close the TCP connection without
    answering: Discord has done it, the answer is lost on the way (the client sees a network
    error, as after a reset or a response that never comes)."""


@dataclass
class Fault:
    method: str
    path: str
    kind: FaultKind
    status: int = 500
    count: int | None = 1
    """How many matching requests to affect (None: every one until removed)."""
    delay: float = 0.0
    retry_after: float = 0.05
    is_global: bool = False
    shared: bool = False
    """A 429 with ``X-RateLimit-Scope: shared`` (a per-resource limit, not the bot's fault)."""
    hits: int = 0
    held: int = 0
    """Requests processed and now waiting for ``release()`` (PROCESSED_THEN_HOLD)."""
    _released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        """Let held answers go (to whoever is still listening)."""
        self._released.set()

    async def hold(self) -> None:
        self.held += 1
        try:
            await self._released.wait()
        finally:
            self.held -= 1

    def matches(self, method: str, path: str) -> bool:
        if self.method not in ("*", method):
            return False
        if self.path.startswith("re:"):
            return re.fullmatch(self.path[3:], path) is not None
        return fnmatch.fnmatchcase(path, self.path)

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.hits >= self.count


@dataclass
class Faults:
    """The emulator's fault table. Paths are globs on the path without ``/api/v10``
    (``/channels/*/messages``) or regexes prefixed with ``re:``."""

    active: list[Fault] = field(default_factory=list)

    def add(
        self,
        method: str,
        path: str,
        *,
        status: int = 500,
        kind: FaultKind | str = FaultKind.STATUS,
        count: int | None = 1,
        delay: float = 0.0,
        retry_after: float = 0.05,
        is_global: bool = False,
        shared: bool = False,
    ) -> Fault:
        fault = Fault(
            method.upper(),
            path,
            FaultKind(kind),
            status=status,
            count=count,
            delay=delay,
            retry_after=retry_after,
            is_global=is_global,
            shared=shared,
        )
        self.active.append(fault)
        return fault

    def rate_limit(
        self,
        method: str,
        path: str,
        *,
        count: int = 1,
        retry_after: float = 0.05,
        shared: bool = False,
    ) -> Fault:
        """Answer the next ``count`` matching requests with 429 (``shared``: scope "shared")."""
        return self.add(
            method, path, status=429, count=count, retry_after=retry_after, shared=shared
        )

    def server_error(self, method: str, path: str, *, status: int = 500, count: int = 1) -> Fault:
        return self.add(method, path, status=status, count=count)

    def processed_then_error(
        self, method: str, path: str, *, status: int = 500, count: int = 1
    ) -> Fault:
        """Do the work, then answer ``status``: the ambiguous case where a retry can duplicate."""
        return self.add(
            method, path, status=status, kind=FaultKind.PROCESSED_THEN_STATUS, count=count
        )

    def latency(self, method: str, path: str, delay: float, *, count: int | None = 1) -> Fault:
        return self.add(method, path, kind=FaultKind.LATENCY, delay=delay, count=count)

    def processed_then_hold(self, method: str, path: str, *, count: int = 1) -> Fault:
        """Do the work, then keep the client waiting until ``fault.release()``."""
        return self.add(method, path, kind=FaultKind.PROCESSED_THEN_HOLD, count=count)

    def processed_then_reset(self, method: str, path: str, *, count: int = 1) -> Fault:
        """Do the work, then drop the connection unanswered (only when the work succeeded)."""
        return self.add(method, path, kind=FaultKind.PROCESSED_THEN_RESET, count=count)

    def connection_reset(self, method: str, path: str, *, count: int = 1) -> Fault:
        return self.add(method, path, kind=FaultKind.RESET, count=count)

    def take(self, method: str, path: str) -> Fault | None:
        """The first live fault matching the request (counted as hit), if any."""
        for fault in self.active:
            if not fault.exhausted and fault.matches(method, path):
                fault.hits += 1
                return fault
        return None

    def clear(self) -> None:
        for fault in self.active:
            fault.release()  # nothing stays held once the faults are gone
        self.active.clear()

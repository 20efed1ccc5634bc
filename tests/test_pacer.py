"""The global pacer: turns spaced evenly at the configured rate (with headroom), never bunched,
and no wait at all when traffic is sparse. Fake monotonic time; no real sleeping."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from bot.delivery.pacer import HEADROOM, Pacer


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_a_burst_is_spread_out_at_the_rate_with_headroom() -> None:
    fake = FakeTime()
    pacer = Pacer(50, monotonic=fake.monotonic, sleep=fake.sleep)
    times: list[float] = []
    for _ in range(101):
        await pacer.turn()
        times.append(fake.now)
    gaps = {round(b - a, 9) for a, b in itertools.pairwise(times)}
    assert gaps == {round(1 / (50 * HEADROOM), 9)}
    # Never more than 50 in any one-second window, wherever the window starts.
    assert max(sum(1 for t in times if s <= t < s + 1) for s in times) <= 50


async def test_sparse_traffic_never_waits() -> None:
    fake = FakeTime()
    pacer = Pacer(50, monotonic=fake.monotonic, sleep=fake.sleep)
    for _ in range(5):
        await pacer.turn()
        fake.now += 1.0
    assert fake.slept == []


async def test_concurrent_callers_take_turns() -> None:
    fake = FakeTime()
    pacer = Pacer(10, monotonic=fake.monotonic, sleep=fake.sleep)
    order: list[float] = []

    async def one() -> None:
        await pacer.turn()
        order.append(fake.now)

    await asyncio.gather(*(one() for _ in range(5)))
    assert order == sorted(order)
    assert len(set(order)) == 5


def test_the_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        Pacer(0)

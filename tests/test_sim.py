"""The seeded simulation (tests/sim): a fixed set of seeds, every seed in the regression list,
and the promise that makes a failure worth having: one seed, one story."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.emulator.server import Emulator
from tests.sim.__main__ import main, run_seeds
from tests.sim.run import OPS_PER_GROUP_DAY, Options, run_seed

REGRESSIONS = Path(__file__).parent / "sim" / "regressions.txt"
# Small worlds, so `make test` stays well under a minute on two cores.
FIXED = [Options(seed=seed, days=30, groups=4) for seed in (1, 2, 3)]


def regressions() -> list[Options]:
    found: list[Options] = []
    for line in REGRESSIONS.read_text().splitlines():
        text = line.split("#", 1)[0].split()
        if text:
            # seed days groups [operations per group per day, when not the default]
            seed, days, groups = (int(part) for part in text[:3])
            ops = float(text[3]) if len(text) > 3 else OPS_PER_GROUP_DAY
            found.append(Options(seed=seed, days=days, groups=groups, ops=ops))
    return found


def _id(options: Options) -> str:
    return f"seed{options.seed}-{options.days}d-{options.groups}g"


def test_fixed_and_regression_seeds_hold_every_invariant() -> None:
    # Two at a time (a process each): each seed is its own world, so this changes nothing but
    # the wall time.
    wanted = FIXED + regressions()
    found = dict(zip([_id(o) for o in wanted], run_seeds(wanted, jobs=2), strict=True))
    for name, (result, _took) in found.items():
        assert result.deliveries > 0, f"{name}: a world where nothing was sent proves nothing"
    broken = [f"{name}: {v}" for name, (r, _t) in found.items() for v in r.violations]
    assert broken == [], "\n".join(broken)


async def test_one_seed_tells_one_story() -> None:
    first = await run_seed(Options(seed=7, days=20, groups=3))
    second = await run_seed(Options(seed=7, days=20, groups=3))
    assert first.faults > 0, "the seed should meet faults"
    assert first.kills > 0, "the seed should meet kills"
    assert first.story == second.story
    assert first.line() == second.line()


def test_a_replay_in_another_process_tells_the_same_story() -> None:
    # What --seed N --verbose promises: a fresh process (another hash seed, so no reliance on
    # the order of sets of strings) prints the very same story, line for line.
    root = Path(__file__).resolve().parent.parent

    def replay(hash_seed: str) -> list[str]:
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(root)}
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.sim",
                "--seed",
                "5",
                "--days",
                "6",
                "--groups",
                "2",
                "--verbose",
            ],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        ).stdout
        return [re.sub(r" \([0-9.]+s\)$", "", line) for line in out.splitlines()]

    first, second = replay("1"), replay("2")
    assert len(first) > 20
    assert first == second


async def test_another_seed_tells_another_story() -> None:
    one = await run_seed(Options(seed=7, days=10, groups=2))
    other = await run_seed(Options(seed=8, days=10, groups=2))
    assert one.story != other.story


def test_the_command_line_ends_with_the_summary(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["--seed", "4", "--days", "5", "--groups", "2"])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("sim: seeds=1 days=5 groups=2 events=")
    assert last.endswith(f"violations={0 if status == 0 else last.rsplit('=', 1)[1]}")
    for part in (" deliveries=", " faults=", " kills="):
        assert part in last


async def test_it_can_fail_planning_that_forgets_a_member_left_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A deliberate break (issue 15, "it can fail"): leaving the group no longer re-plans the
    # leaver's reminders. Seed 0 has g1u4 leave on its first morning.
    from bot.delivery.replanning import MembershipChanged
    from bot.meetings import rsvp

    real = rsvp.replan_for

    async def forgetful(conn, subject, now, policy=None):  # type: ignore[no-untyped-def]
        if isinstance(subject, MembershipChanged):
            subject = MembershipChanged(subject.group_id, subject.user_ids[1:])
        return await real(conn, subject, now, policy)

    monkeypatch.setattr(rsvp, "replan_for", forgetful)
    result = await run_seed(Options(seed=0, days=2, groups=4))
    assert any("who has left the group" in v for v in result.violations), result.violations


# Tier 2 (tests/sim/real.py): the real discord.py client against the emulator. A small world
# that meets 5xx before and reset (nothing reached Discord), held (it did, the bot never heard),
# a lookup 5xx and a kill after Discord took a message, with snoozes, answers by a word,
# Interested and topic changes on the way, in about fifteen seconds (at three operations per
# group a day, the rate it was chosen at).
REAL = Options(seed=191, days=10, groups=2, ops=3)


async def test_a_real_seed_holds_every_invariant_and_tells_the_fast_tiers_story() -> None:
    from tests.sim.real import TIER_2, run_real_seed

    real = await run_real_seed(REAL)
    assert real.violations == [], "\n".join(real.violations)
    assert real.faults > 0, "the seed should meet faults"
    assert real.kills > 0, "the seed should meet kills"
    assert any(TIER_2 in line for line in real.story), "the websocket should be dropped"
    # Sockets vary the interleaving from run to run, but nothing the seed decides may vary:
    # the real client and the emulator tell the fast tier's story, line for line (less what
    # only tier 2 does), and so the same summary every run.
    fast = await run_seed(REAL)
    assert real.line() == fast.line()
    assert [line for line in real.story if TIER_2 not in line] == fast.story


async def test_tier_2_calls_every_429_it_did_not_inject_and_every_refused_request_a_violation(
    emulator: Emulator,
) -> None:
    # Invariant 8 in tier 2, over what the emulator answered (tests/sim/emulated.py, collect).
    from bot.clock import ManualClock
    from tests.sim.emulated import EmulatedDiscord
    from tests.sim.run import START

    emulator.expect_violations()  # this test sends what Discord refuses, on purpose
    discord = EmulatedDiscord(ManualClock(START), lambda where: None, emulator)
    _guild, announce, private, _role = discord.new_guild("a guild")
    headers = {"Authorization": f"Bot {emulator.bot_token}"}

    async def post(session: aiohttp.ClientSession, channel: int, body: object) -> int:
        url = f"{emulator.api_base_url}/channels/{channel}/messages"
        async with session.post(url, json=body) as resp:
            return resp.status

    async with aiohttp.ClientSession(headers=headers) as session:
        # Five injected 429s fill the channel's 5-per-5-s bucket (the emulator counts them, and
        # discord.py reads no headers from a 429): the emulator's own 429 next is theirs.
        emulator.faults.rate_limit("POST", "/channels/*/messages", count=5)
        statuses = [await post(session, announce, {"content": "hello"}) for _ in range(6)]
        assert statuses == [429] * 6
        discord.collect()
        assert discord.limit_violations == []
        # A bucket overrun with nothing injected is the bot's.
        emulator.rate_limits.set_route("POST", f"/channels/{private}/messages", 1, 60)
        assert await post(session, private, {"content": "one"}) == 200
        assert await post(session, private, {"content": "two"}) == 429
        discord.collect()
        assert discord.limit_violations == [
            "POST /channels/{channel_id}/messages: a 429 that was not injected (rate_limited)"
        ]
        discord.limit_violations.clear()
        # Refused as invalid: an empty message (400 50006), a body the spec rejects.
        emulator.rate_limits.discord_like()
        assert await post(session, announce, {"content": ""}) == 400
        assert await post(session, announce, {"content": 5}) == 400
        discord.collect()
    assert len(discord.limit_violations) == 3, discord.limit_violations
    assert discord.limit_violations[0].endswith(": 400, refused as invalid")
    assert discord.limit_violations[2].startswith("spec violation: POST /channels/")


def test_the_command_line_runs_tier_2_with_real(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["--seed", "4", "--days", "5", "--groups", "2", "--real", "--verbose"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert status == 0
    assert lines[-1].startswith("sim: seeds=1 days=5 groups=2 events=")
    assert lines[-1].endswith(" violations=0")
    # Only tier 2 has a websocket to drop (and this seed drops it).
    assert any(" tier 2: websocket dropped" in line for line in lines)


async def test_tier_2_looks_for_notes_in_every_request_not_only_new_messages(
    emulator: Emulator,
) -> None:
    # Invariant 7 in tier 2 (tests/sim/real.py, RealChecker): an edit that carried a note is
    # caught though no new message holds it.
    from types import SimpleNamespace

    from bot.clock import ManualClock
    from tests.sim.emulated import EmulatedDiscord
    from tests.sim.invariants import NOTE_PREFIX
    from tests.sim.model import Model
    from tests.sim.real import RealChecker
    from tests.sim.run import START

    clock = ManualClock(START)
    discord = EmulatedDiscord(clock, lambda where: None, emulator)
    _guild, announce, _private, _role = discord.new_guild("a guild")
    sim = SimpleNamespace(discord=discord, model=Model(), story=[], clock=clock)
    checker = RealChecker(sim)  # type: ignore[arg-type]
    note = f"{NOTE_PREFIX}0-secret"
    sim.model.notes.add(note)
    url = f"{emulator.api_base_url}/channels/{announce}/messages"
    headers = {"Authorization": f"Bot {emulator.bot_token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.post(url, json={"content": "a meeting"}) as resp:
            message_id = (await resp.json())["id"]
        await checker.after_step()
        assert not any(v.startswith("invariant 7") for v in checker.violations)
        async with session.patch(f"{url}/{message_id}", json={"content": note}) as resp:
            assert resp.status == 200
    await checker.after_step()
    assert [v for v in checker.violations if v.startswith("invariant 7")] == [
        "invariant 7: 2026-02-02 09:00:00 a check-in note appears in a request: "
        "PATCH /channels/{channel_id}/messages/{message_id}"
    ]

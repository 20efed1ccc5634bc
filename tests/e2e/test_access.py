"""Who sees and who may do what, end to end through the real discord.py client and the emulator:
the privacy rule as people read it, /status per server, member counts in /group list, the
facilitators' role mention that must really notify, and who may be put on the rota."""

from __future__ import annotations

from bot.app import HoldfastBot
from bot.clock import ManualClock
from tests.e2e.test_meetings import create_group
from tests.emulator import Emulator, Server


async def test_about_and_trends_state_the_privacy_rule_as_built(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    # K = 5 (the default): a month shows with 6 people, 5 besides any one, whoever looks.
    s = discord_server
    assert holdfast.settings.PRIVACY_MIN_MEMBERS == 5
    await create_group(emulator, s)
    about = await emulator.as_user(s.member, channel=s.general).run("/about")
    text = await about.wait_for_text("Holdfast")
    assert "at least 6 people checked in (5 besides any one person)" in text
    assert "the same for everyone who looks" in text

    trends = await emulator.as_user(s.facilitator, channel=s.general).run("/trends")
    heading = await trends.wait_for_text("How North adopters has been")
    assert "at least 6 people checked in: 5 besides any one person" in heading
    assert "everyone who looks sees the same months" in heading
    assert "besides you" not in heading

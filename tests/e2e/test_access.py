"""Who sees and who may do what, end to end through the real discord.py client and the emulator:
the privacy rule as people read it, /status per server, member counts in /group list, the
facilitators' role mention that must really notify, and who may be put on the rota."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import HoldfastBot
from bot.clock import ManualClock
from bot.meetings import queries
from tests.e2e.conftest import emulator_settings, start_holdfast
from tests.e2e.test_meetings import create_group, create_last_thursday
from tests.emulator import Emulator, Server
from tests.emulator.factories import build_guild
from tests.emulator.harness import poll_until
from tests.emulator.model import Overwrite
from tests.emulator.permissions import P


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def group_and_series(
    emulator: Emulator, server: Server, group: str, when: str, title: str
) -> None:
    """An admin makes a group; its facilitator saves a series (the first meeting is soon, so
    it is announced at once)."""
    await emulator.wait_for_commands("group", guild=server.guild)
    admin = emulator.as_user(server.admin, channel=server.general)
    made = await admin.run(
        "/group create",
        name=group,
        announcements=server.meetings,
        facilitator_role=server.facilitator_role,
        timezone="Europe/London",
    )
    await made.wait_for_text("is ready")
    facilitator = emulator.as_user(server.facilitator, channel=server.general)
    preview = await facilitator.run(
        "/series create", title=title, when=when, time="19:30", room=server.voice
    )
    await preview.wait_for_text("next dates")
    saved = await facilitator.click(preview, "Save")
    await saved.wait_for_text("is saved")


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


async def test_status_shows_an_admin_only_their_own_servers_deliveries(
    emulator: Emulator, discord_server: Server, clock: ManualClock, tmp_path: Path
) -> None:
    north = discord_server
    kin = build_guild(emulator, "Kinship Circle", members=2)
    settings = emulator_settings(tmp_path, emulator, north, kin)
    async with start_holdfast(emulator, settings, clock) as holdfast:
        # North: last Thursday, 26 Nov 19:30 GMT; announced at once, and it gets through.
        await group_and_series(emulator, north, "North adopters", "last Thursday", "Meet-up")
        await emulator.wait_for_message(north.meetings, contains="Meet-up")
        # Kinship: last Friday, 27 Nov 19:30 GMT; Holdfast may not post in its channel (50013).
        await group_and_series(emulator, kin, "Kinship carers", "last Friday", "Kin meet")
        kin.meetings.overwrites = [
            Overwrite(id=emulator.app.bot_user.id, type=1, deny=P.SEND_MESSAGES)
        ]
        await holdfast.alarm.wake()
        await emulator.wait_until(
            lambda: (
                any(r.status == 403 and str(kin.meetings.id) in r.path for r in emulator.requests)
                or None
            ),
            what="the Kinship announcement to be refused",
        )

        north_status = await emulator.as_user(north.admin, channel=north.general).run("/status")
        north_text = await north_status.wait_for_text("Deliveries")
        kin_status = await emulator.as_user(kin.admin, channel=kin.general).run("/status")
        kin_text = await kin_status.wait_for_text("Deliveries")

    # Each server sees its own: North's announcement went, Kinship's failed, and only Kinship's
    # admin sees why. Next due is each server's own rota check, 24 h before its meeting.
    assert re.search(r"Deliveries: \d+ pending, 1 sent, 0 skipped, 0 failed\.", north_text)
    assert "50013" not in north_text
    assert "Last problems" not in north_text
    assert re.search(r"Deliveries: \d+ pending, 0 sent, 0 skipped, 1 failed\.", kin_text)
    assert "50013" in kin_text
    north_due = int(utc(2026, 11, 25, 19, 30).timestamp())
    kin_due = int(utc(2026, 11, 26, 19, 30).timestamp())
    assert f"Next due: <t:{north_due}:F>" in north_text
    assert f"Next due: <t:{kin_due}:F>" in kin_text


async def test_group_list_shows_member_counts_to_facilitators_and_admins_only(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server
) -> None:
    s = discord_server
    welcome = await create_group(emulator, s)
    for person in s.members[:2]:
        joined = await emulator.as_user(person).click(welcome, "Join this group")
        await joined.wait_for_text("You're in North adopters")

    member_view = await emulator.as_user(s.members[0], channel=s.general).run("/group list")
    member_text = await member_view.wait_for_text("North adopters")
    assert member_text.rstrip().endswith("Europe/London")
    assert "member" not in member_text.split("North adopters", 1)[1]
    for holder in (s.facilitator, s.admin):
        view = await emulator.as_user(holder, channel=s.general).run("/group list")
        assert "Europe/London, 2 members" in await view.wait_for_text("North adopters")


async def test_rota_assign_accepts_only_the_groups_facilitators_and_admins(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    s = discord_server
    await create_group(emulator, s)
    await create_last_thursday(emulator, s, holdfast)
    [meeting] = await queries.upcoming_meetings(holdfast.db, 1, clock.now(), limit=1)
    facilitator = emulator.as_user(s.facilitator, channel=s.general)

    # A plain member cannot be put down (they could confirm and silence the escalation).
    refused = await facilitator.run("/rota assign", meeting=meeting.id, who=s.member)
    text = await refused.wait_for_text("can be put down")
    assert refused.ephemeral
    assert "Only the facilitators of North adopters" in text
    assert f"<@&{s.facilitator_role.id}>" in text
    assert "server admin" in text
    shown = await facilitator.run("/rota show")
    assert "nobody yet" in await shown.wait_for_text("Rota for North adopters")
    await holdfast.alarm.wake()
    assert emulator.dms_to(s.member) == []

    # An admin (Administrator, no facilitator role) and a facilitator can.
    admin = await facilitator.run("/rota assign", meeting=meeting.id, who=s.admin)
    assert f"<@{s.admin.id}> is down to hold" in await admin.wait_for_text("is down to hold")
    itself = await facilitator.run("/rota assign", meeting=meeting.id, who=s.facilitator)
    await itself.wait_for_text(f"<@{s.facilitator.id}> is down to hold")


async def test_admins_are_told_when_the_facilitator_role_cannot_be_notified(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    s = discord_server
    role = s.facilitator_role
    fix = "Allow anyone to @mention this role"
    # A new role is not mentionable and Holdfast's invite asks for no Mention Everyone.
    assert not role.mentionable
    await emulator.wait_for_commands("group", guild=s.guild)
    admin = emulator.as_user(s.admin, channel=s.general)
    made = await admin.run(
        "/group create",
        name="North adopters",
        announcements=s.meetings,
        facilitator_role=role,
        facilitators_channel=s.facilitators_channel,
    )
    assert fix in await made.wait_for_text("is ready")
    listed = await admin.run("/group list")
    assert fix in await listed.wait_for_text("North adopters")
    seen_by_member = await emulator.as_user(s.member, channel=s.general).run("/group list")
    assert fix not in await seen_by_member.wait_for_text("North adopters")

    # As things stand the rota's call to step in mentions the role, and nobody is notified.
    await create_last_thursday(emulator, s, holdfast)
    _november, december = await queries.upcoming_meetings(holdfast.db, 1, clock.now(), limit=2)
    clock.set(utc(2026, 11, 25, 19, 30))
    await holdfast.alarm.wake()
    first = await emulator.wait_for_message(s.facilitators_channel, contains="no confirmed")
    assert f"<@&{role.id}>" in first.content
    assert emulator.message_json(first)["mention_roles"] == []

    # The admin turns the one setting on: the warning goes and the next call notifies them.
    await emulator.update_role(role, mentionable=True)
    await poll_until(
        lambda: holdfast.get_guild(s.guild.id).get_role(role.id).mentionable,  # type: ignore[union-attr]
        what="the bot to hear the role changed",
    )
    listed = await admin.run("/group list")
    assert fix not in await listed.wait_for_text("North adopters")
    clock.set(december.starts_at - timedelta(hours=24))
    await holdfast.alarm.wake()
    await emulator.wait_until(
        lambda: (
            len(
                [
                    m
                    for m in emulator.messages_in(s.facilitators_channel)
                    if "no confirmed" in m.content
                ]
            )
            == 2
            or None
        ),
        what="December's call to step in",
    )
    second = [
        m for m in emulator.messages_in(s.facilitators_channel) if "no confirmed" in m.content
    ][-1]
    assert second.id != first.id
    assert emulator.message_json(second)["mention_roles"] == [str(role.id)]

    # /group edit to a role nobody can ping says so too.
    assert not s.member_role.mentionable
    edited = await admin.run("/group edit", group="North adopters", facilitator_role=s.member_role)
    assert fix in await edited.wait_for_text("is updated")

"""No text a person typed can ping anyone. A facilitator or admin who writes `<@someone>`,
`<@&role>`, @everyone or @here into a group's name or ground rules, a series' title, place or
description, or a meeting's note or topic makes every message that shows it *show* it, and
notify nobody: each message notifies exactly whom it was built for (the member a channel
reminder is for; the facilitator role, and the facilitator who was down, for an escalation; the
facilitator role for a reach-out).

The emulator works out `mentions`, `mention_roles` and `mention_everyone` as Discord does (the
content, the message's `allowed_mentions`, and MENTION_EVERYONE or a mentionable role). The bot
here has MENTION_EVERYONE and the planted role is mentionable, so anything let through would
really ping."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.app import HoldfastBot
from bot.clock import ManualClock
from bot.config import Settings
from bot.meetings import queries
from tests.e2e.conftest import emulator_settings
from tests.emulator import Emulator, P, Server
from tests.emulator.model import Message, message_text
from tests.emulator.server import RecordedRequest

MESSAGES = "/channels/{channel_id}/messages"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def holdfast_settings(tmp_path: Path, emulator: Emulator, discord_server: Server) -> Settings:
    # A one-day nudge, so that the member who has not answered is nudged in this story.
    return emulator_settings(tmp_path, emulator, discord_server, NUDGE_DAYS_BEFORE=1)


def outgoing(emulator: Emulator) -> Iterator[tuple[RecordedRequest, dict[str, Any]]]:
    """Every request that carried a message's text or cards, with the part that holds it."""
    for request in emulator.requests:
        body = request.body
        if not isinstance(body, dict):
            continue
        if request.route.endswith("/callback"):
            body = body.get("data") or {}
        if body.get("content") or body.get("embeds"):
            yield request, body


async def test_user_text_with_mentions_pings_nobody_and_each_message_pings_whom_it_is_for(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    s = discord_server
    dm_member, channel_member, quiet_member, waiting_member, victim = s.members[:5]
    planted_role = s.member_role
    planted_role.mentionable = True
    for role_id in s.guild.members[emulator.app.bot_user.id].role_ids:
        emulator.roles[role_id].permissions |= P.MENTION_EVERYONE
    poison = f"<@{victim.id}> <@&{planted_role.id}> @everyone @here"
    group_name = f"<@{victim.id}><@&{planted_role.id}> @everyone"  # @here too: over 60

    # An admin makes a group whose name pings; Holdfast posts its welcome.
    await emulator.wait_for_commands("group", guild=s.guild)
    admin = emulator.as_user(s.admin, channel=s.general)
    made = await admin.run(
        "/group create",
        name=group_name,
        announcements=s.meetings,
        facilitator_role=s.facilitator_role,
        facilitators_channel=s.facilitators_channel,
        timezone="Europe/London",
    )
    await made.wait_for_response()
    welcome = await emulator.wait_for_message(s.meetings, contains="Welcome to")
    # Ground rules that ping, which every newcomer's welcome carries.
    facilitator = emulator.as_user(s.facilitator, channel=s.general)
    offered = await facilitator.run("/group rules")
    await offered.wait_for_text("ground rules")
    opened = await facilitator.click(offered, "Edit")
    await opened.wait_for_modal()
    ruled = await facilitator.submit_modal(opened, {"rules": f"Be kind {poison}"})
    await ruled.wait_for_text("are saved")
    for person in (dm_member, channel_member, quiet_member, waiting_member):
        joined = await emulator.as_user(person).click(welcome, "Join this group")
        await joined.wait_for_text("You're in")
        await emulator.wait_for_dm(person, contains=f"Be kind {poison}")
    how = await emulator.as_user(channel_member, channel=s.general).run(
        "/reminders how", via="channel"
    )
    await how.wait_for_response()

    # A series whose title, place and description ping, with two places.
    preview = await facilitator.run(
        "/series create",
        title=f"Meet-up {poison}",
        when="last Thursday",
        time="19:30",
        place=f"Library {poison}",
        description=f"About {poison}",
        places=2,
    )
    await preview.wait_for_text("next dates")
    await (await facilitator.click(preview, "Save")).wait_for_text("is saved")
    announcement = await emulator.wait_for_message(s.meetings, contains="Meet-up")
    [meeting, *_] = await queries.upcoming_meetings(holdfast.db, 1, clock.now(), limit=1)

    # Answers; the third "Going" waits, and gets the place (by DM) when one frees up.
    for person in (dm_member, channel_member, waiting_member):
        await (await emulator.as_user(person).click(announcement, "Going")).wait_for_response()
    maybe = await emulator.as_user(channel_member).click(announcement, "Maybe")
    await maybe.wait_for_response()
    await emulator.wait_for_dm(waiting_member, contains="a place came up")

    # A note that pings, and the rota: the assigned facilitator is asked by DM.
    noted = await facilitator.run("/meeting note", meeting=meeting.id, note=f"Bring {poison}")
    await noted.wait_for_response()
    topic = await facilitator.run("/meeting topic", meeting=meeting.id, topic=f"Talk {poison}")
    await topic.wait_for_response()
    assigned = await facilitator.run("/rota assign", meeting=meeting.id)
    await assigned.wait_for_text("is down to hold")
    await holdfast.alarm.wake()
    await emulator.wait_for_dm(s.facilitator, contains="Can you confirm")

    # A day before: reminders by DM and in the channel, the nudge, and the escalation.
    clock.set(utc(2026, 11, 25, 19, 30))
    await holdfast.alarm.wake()
    await emulator.wait_for_dm(dm_member, contains="A reminder")
    channel_reminder = await emulator.wait_for_message(s.meetings, contains="A reminder")
    assert f"Talk {poison}" in channel_reminder.content
    await emulator.wait_for_dm(quiet_member, contains="Will you come?")  # the nudge
    escalation = await emulator.wait_for_message(
        s.facilitators_channel, contains="no confirmed facilitator"
    )

    # A member asks the facilitators to reach out.
    asked = await emulator.as_user(dm_member).run("/reachout", dm=True)
    await asked.wait_for_response()
    reachout = await emulator.wait_for_message(s.facilitators_channel, contains="get in touch")

    # The meeting is moved, then cancelled: notices in the channel and DMs.
    moved = await facilitator.run("/meeting move", meeting=meeting.id, date="2026-11-27")
    await moved.wait_for_response()
    await emulator.wait_for_message(s.meetings, contains="has moved")
    await emulator.wait_for_dm(dm_member, contains="A change to")
    cancelled = await facilitator.run("/meeting cancel", meeting=meeting.id)
    await cancelled.wait_for_response()
    await emulator.wait_for_message(s.meetings, contains="is cancelled")
    await emulator.wait_for_dm(dm_member, contains="is cancelled")
    await emulator.wait_until(
        lambda: "cancelled" in message_text(emulator.messages[announcement.id]) or None,
        what="the announcement edited to say so",
    )

    # What each message may notify, by what it is.
    intended_users: dict[int, set[int]] = {
        channel_reminder.id: {channel_member.id},
        escalation.id: {s.facilitator.id},
    }
    intended_roles: dict[int, set[int]] = {
        escalation.id: {s.facilitator_role.id},
        reachout.id: {s.facilitator_role.id},
    }

    # The planted text reached people: the test would see a ping if one got through.
    bot_messages: list[Message] = [
        m for m in emulator.messages.values() if m.author.id == emulator.app.bot_user.id
    ]
    # (The welcome is a card: its text is in the embed.)
    showing = [m for m in bot_messages if f"<@{victim.id}>" in message_text(m)]
    kinds = (
        "Welcome to",
        "A reminder",
        "Will you come?",
        "Can you confirm",
        "has moved",
        "is cancelled",
        "no confirmed",
        "in touch",
    )
    for kind in kinds:
        assert any(kind in message_text(m) for m in showing), f"no {kind!r} message shows it"
    assert any("a place came up" in message_text(m) for m in showing)

    for message in bot_messages:
        data = emulator.message_json(message)
        users = {int(u["id"]) for u in data["mentions"]}
        roles = {int(r) for r in data["mention_roles"]}
        where = message_text(message)[:60]
        assert users == intended_users.get(message.id, set()), where
        assert roles == intended_roles.get(message.id, set()), where
        assert data["mention_everyone"] is False, where

    # Every request with content named whom it may ping, explicitly: nothing parsed from text.
    for message in bot_messages:
        if message.content:
            assert message.allowed_mentions is not None, message_text(message)[:60]
            assert message.allowed_mentions["parse"] == [], message_text(message)[:60]
    sent = list(outgoing(emulator))
    assert len(sent) > 30
    # The announcement (a card) was posted and edited, with the rest.
    edits = emulator.requests_to("PATCH", MESSAGES + "/{message_id}")
    assert any(r.path.endswith(str(announcement.id)) for r in edits)
    assert {id(r) for r in edits if r.status == 200} <= {id(r) for r, _ in sent}
    for request, body in sent:
        allowed = body.get("allowed_mentions")
        assert allowed is not None, request.path
        assert allowed["parse"] == [], request.path
        assert victim.id not in {int(u) for u in allowed.get("users") or []}
        assert {int(r) for r in allowed.get("roles") or []} <= {s.facilitator_role.id}

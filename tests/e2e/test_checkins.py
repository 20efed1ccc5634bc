"""Check-ins end to end: members in the server and in DMs, a facilitator's trends, export and
delete, and the note that must appear nowhere but its author's own views."""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.app import HoldfastBot
from bot.checkins import mydata
from bot.clock import ManualClock
from bot.config import Settings
from tests.e2e.conftest import BotProcess
from tests.e2e.test_meetings import create_group
from tests.emulator import Emulator, Server
from tests.emulator.actors import Actor, InteractionHandle
from tests.emulator.factories import build_guild
from tests.emulator.model import Message, message_text

SENTINEL = "SENTINEL-7c1e the words only their author may see"


@pytest.fixture
def discord_server(emulator: Emulator) -> Server:
    """Enough members for a month to be shown: K = 5 others besides the viewer."""
    return build_guild(emulator, facilitators=1, members=8, admins=1)


async def check_in(
    actor: Actor,
    mood: str,
    stress: str,
    supported: str,
    note: str | None = None,
    *,
    dm: bool = False,
) -> str:
    """Three taps and Save (or "Add a few words" and submit): what the member then reads."""
    handle = await actor.run("/checkin", dm=dm)
    response = await handle.wait_for_response()
    assert response.ephemeral
    for label in (mood, stress, supported):
        handle = await actor.click(handle, label)
        await handle.wait_for_response()
    if note is None:
        saved = await actor.click(handle, "Save")
    else:
        opened = await actor.click(handle, "Add a few words")
        await opened.wait_for_modal()
        saved = await actor.submit_modal(opened, {"words": note})
    return await saved.wait_for_text("Saved")


async def shown_message(handle: InteractionHandle, contains: str) -> Message:
    """The message a deferred command ended up showing (its first followup edits the
    "thinking" message, as on Discord)."""
    await handle.wait_for_text(contains)
    for message in [handle.original, *handle.followups]:
        if message is not None and contains in message_text(message):
            return message
    raise AssertionError(f"{contains!r} not in any message of {handle.description}")


def database_bytes(path: Path) -> bytes:
    return b"".join(
        p.read_bytes()
        for p in sorted(path.parent.iterdir())
        if p.name.startswith(path.name) and not p.name.endswith((".keys", ".lock"))
    )


async def test_members_check_in_a_facilitator_sees_closed_months_and_data_can_leave(
    holdfast: HoldfastBot,
    emulator: Emulator,
    discord_server: Server,
    clock: ManualClock,
    holdfast_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Everything at DEBUG, except discord.py's raw traffic, which bot/logs.py keeps quieter in
    # production too (its DEBUG lines are whole request and gateway payloads).
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.WARNING, logger="discord.http")
    caplog.set_level(logging.INFO, logger="discord.gateway")
    s = discord_server
    welcome = await create_group(emulator, s)
    for person in [*s.members[:7], s.facilitator]:
        joined = await emulator.as_user(person).click(welcome, "Join this group")
        await joined.wait_for_text("You're in North adopters")

    author = emulator.as_user(s.members[0], channel=s.general)
    # A very low entry with a few words: saved, and support signposts shown only to them.
    reply = await check_in(author, "Very low", "Overwhelmed", "Alone", SENTINEL)
    assert SENTINEL not in reply
    assert "/reachout" in reply
    assert "NHS 111" in reply
    assert "999" in reply
    assert "last checked" in reply
    assert "Nobody watches this bot" in reply
    for person in s.members[1:6]:
        text = await check_in(emulator.as_user(person, channel=s.general), "Good", "Some", "Mostly")
        assert "NHS 111" not in text, "signposts only for a very low entry"
    # In a DM with the bot, too.
    dm_reply = await check_in(emulator.as_user(s.members[6]), "Okay", "A bit", "Mostly", dm=True)
    assert "first check-in" in dm_reply

    # Their own history and chart, only to them.
    mine = await author.run("/mycheckins")
    history = await shown_message(mine, "Your check-ins")
    assert history.ephemeral
    assert SENTINEL in history.content
    assert emulator.attachment_bytes(history.attachments[0]).startswith(b"\x89PNG")
    # The chart's facts in words beside it, and alt text on the picture, for screen readers.
    assert "The chart shows your one check-in" in history.content
    assert "mood Very low, stress Overwhelmed, feeling supported Alone." in history.content
    assert history.attachments[0]["description"].startswith("Chart of your check-ins")

    # The month in progress is never shown; a non-facilitator is refused.
    facilitator = emulator.as_user(s.facilitator, channel=s.general)
    early = await facilitator.run("/trends")
    early_text = message_text(await shown_message(early, "How North adopters"))
    assert "Nov 2026" not in early_text
    assert "Oct 2026**: not enough check-ins" in early_text
    assert "none of them had enough check-ins to show, so all are grey" in early_text
    refused = await emulator.as_user(s.members[1], channel=s.general).run("/trends")
    assert "facilitators" in await refused.wait_for_text("facilitator")

    # December: November has closed with 7 people (6 besides any viewer).
    clock.set(datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    shown = await facilitator.run("/trends")
    view = await shown_message(shown, "How North adopters")
    text = message_text(view)
    assert "Nov 2026**: 5–9 people checked in" in text
    # Seven people: moods 1, 4 x5, 3 average 3.43; stress 5, 3 x5, 2: 3.14; supported 1, 4 x5,
    # 4: 3.57; rounded to 0.5 and named as the chart's axes name them.
    assert "Mood 3.5 (Okay–Good), stress 3 (Some), supported 3.5 (Somewhat–Mostly)" in text
    assert "1 had enough check-ins to show; the other 11 are grey" in text
    assert SENTINEL not in text
    assert emulator.attachment_bytes(view.attachments[0]).startswith(b"\x89PNG")
    assert view.attachments[0]["description"].startswith("Chart of North adopters")
    audit = await emulator.as_user(s.admin, channel=s.general).run("/audit")
    audit_text = await audit.wait_for_text("looked at trends")
    assert audit_text.count(f"<@{s.facilitator.id}>") == 2

    # Export: everything, in a DM, the note included.
    exported = await author.run("/mydata export")
    await exported.wait_for_text("sent everything")
    dm: Message = await emulator.wait_for_dm(s.members[0], contains="everything Holdfast holds")
    files = {a["filename"]: emulator.attachment_bytes(a) for a in dm.attachments}
    assert set(files) == {
        "holdfast-data.json",
        "holdfast-checkins.csv",
        "holdfast-memberships.csv",
        "holdfast-rsvps.csv",
    }
    data = json.loads(files["holdfast-data.json"])
    assert data["checkins"][0]["note"] == SENTINEL
    assert data["group_memberships"][0]["group"] == "North adopters"
    assert SENTINEL.encode() in files["holdfast-checkins.csv"]

    # Delete, for real, everywhere.
    asked = await author.run("/mydata delete")
    await asked.wait_for_text("can't be undone")
    done = await author.click(asked, "Yes, delete everything")
    await done.wait_for_text("everything Holdfast held about you has been deleted")
    conn = sqlite3.connect(holdfast_settings.DATABASE_PATH)
    try:
        for erasure in mydata.ERASURES:
            if erasure.how != "delete" or erasure.column == "member_key":
                continue
            count = conn.execute(
                f"SELECT COUNT(*) FROM {erasure.table} WHERE {erasure.column} = ?",
                (s.members[0].id,),
            ).fetchone()
            assert count == (0,), erasure.table
        assert conn.execute("SELECT COUNT(*) FROM checkins").fetchone() == (6,)
    finally:
        conn.close()
    # The closed month stays as it was shown.
    again = await facilitator.run("/trends")
    again_text = message_text(await shown_message(again, "How North adopters"))
    assert "Nov 2026**: 5–9 people checked in" in again_text

    # The note appears nowhere but the author's own views and export.
    leaked = {r.name for r in caplog.records if SENTINEL in r.getMessage()}
    assert not leaked, leaked
    own_paths = {
        f"/webhooks/{holdfast.application_id}/{mine.record.token}",
        f"/channels/{dm.channel_id}/messages",
    }
    for request in emulator.requests_containing(SENTINEL):
        assert any(request.path.startswith(p) for p in own_paths), request.path
    # The database files hold neither the note nor the member's id (as text or as SQLite's
    # 8-byte integer).
    on_disk = database_bytes(holdfast_settings.DATABASE_PATH)
    assert SENTINEL.encode() not in on_disk
    assert str(s.members[0].id).encode() not in on_disk
    assert s.members[0].id.to_bytes(8, "big") not in on_disk


async def test_an_opt_in_nudge_arrives_by_dm_and_leads_into_a_check_in(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    s = discord_server
    welcome = await create_group(emulator, s)
    joined = await emulator.as_user(s.members[0]).click(welcome, "Join this group")
    await joined.wait_for_text("You're in North adopters")
    member = emulator.as_user(s.members[0])
    chosen = await member.run(
        "/checkin-nudge", dm=True, how="weekly", day="sun", at="19:00", timezone="Europe/London"
    )
    await chosen.wait_for_text("every Sunday at 19:00 (Europe/London)")
    # Wednesday 25 November → Sunday 29 November, 19:00 GMT.
    assert not [m for m in emulator.dms_to(s.members[0]) if "gentle nudge" in m.content]
    clock.set(datetime(2026, 11, 29, 19, 0, 30, tzinfo=UTC))
    await holdfast.alarm.wake()
    nudge = await emulator.wait_for_dm(s.members[0], contains="gentle nudge")
    card = await member.click(nudge, "Check in")
    await card.wait_for_text("A quick check-in")
    handle = card
    for label in ("Good", "Calm", "Well held"):
        handle = await member.click(handle, label)
        await handle.wait_for_response()
    saved = await member.click(handle, "Save")
    await saved.wait_for_text("Saved")
    stopped = await member.run("/checkin-nudge", dm=True, how="off")
    await stopped.wait_for_text("No more nudges")


async def test_reachout_tells_the_facilitators_only_that_the_member_asked(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server
) -> None:
    s = discord_server
    await emulator.wait_for_commands("group", guild=s.guild)
    admin = emulator.as_user(s.admin, channel=s.general)
    made = await admin.run(
        "/group create",
        name="North adopters",
        announcements=s.meetings,
        facilitator_role=s.facilitator_role,
        facilitators_channel=s.facilitators_channel,
        timezone="Europe/London",
    )
    await made.wait_for_text("is ready")
    welcome = await emulator.wait_for_message(s.meetings, contains="Welcome to North adopters")
    await (await emulator.as_user(s.members[0]).click(welcome, "Join this group")).wait_for_text(
        "You're in"
    )
    member = emulator.as_user(s.members[0])
    await check_in(member, "Low", "A lot", "A little", SENTINEL, dm=True)
    asked = await member.run("/reachout", dm=True)
    await asked.wait_for_text("asked the facilitators of North adopters")
    posted = await emulator.wait_for_message(s.facilitators_channel, contains="get in touch")
    assert f"<@{s.members[0].id}>" in posted.content
    assert f"<@&{s.facilitator_role.id}>" in posted.content
    assert SENTINEL not in message_text(posted)
    assert "Low" not in posted.content


async def test_start_up_refuses_a_key_file_that_does_not_match_the_data(
    bot_process: BotProcess, holdfast_settings: Settings
) -> None:
    await bot_process.start()
    key_file = holdfast_settings.DATABASE_PATH.with_name(
        holdfast_settings.DATABASE_PATH.name + ".keys"
    )
    assert "Back that file up" in bot_process.output
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert await bot_process.stop() == 0
    key_file.write_text(Fernet.generate_key().decode() + "\n")
    await bot_process.start(wait_ready=False)
    assert await bot_process.wait_exit() == 1
    assert "do not open this database's check-ins" in bot_process.output
    assert "Traceback" not in bot_process.output


async def test_a_month_shows_with_k_others_besides_the_viewer_and_hides_with_one_fewer(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    """K = PRIVACY_MIN_MEMBERS = 5: a month needs K + 1 people in all, whoever views it."""
    s = discord_server
    k = holdfast.settings.PRIVACY_MIN_MEMBERS
    assert k == 5
    welcome = await create_group(emulator, s)
    for person in [*s.members[:k], s.facilitator]:
        joined = await emulator.as_user(person).click(welcome, "Join this group")
        await joined.wait_for_text("You're in North adopters")

    # November: the facilitator and K members (K others besides the facilitator).
    for person in [s.facilitator, *s.members[:k]]:
        await check_in(emulator.as_user(person, channel=s.general), "Good", "Some", "Mostly")
    # December: the facilitator and K - 1 members.
    clock.set(datetime(2026, 12, 2, 10, 0, tzinfo=UTC))
    for person in [s.facilitator, *s.members[: k - 1]]:
        await check_in(emulator.as_user(person, channel=s.general), "Good", "Some", "Mostly")

    clock.set(datetime(2027, 1, 4, 10, 0, tzinfo=UTC))
    views: dict[int, str] = {}
    # The facilitator checked in both months; the admin never did, so for the admin December
    # had K people besides them, and still shows nothing: the viewer is never counted either way.
    for viewer in (s.facilitator, s.admin):
        handle = await emulator.as_user(viewer, channel=s.general).run("/trends")
        views[viewer.id] = message_text(await shown_message(handle, "How North adopters"))
    for text in views.values():
        assert "**Nov 2026**: 5–9 people checked in" in text
        assert "**Dec 2026**: not enough check-ins" in text
    assert views[s.facilitator.id] == views[s.admin.id]


async def test_start_up_refuses_a_key_file_other_users_can_read_and_says_how_to_fix_it(
    bot_process: BotProcess, holdfast_settings: Settings
) -> None:
    # As ssh refuses a private key others can read: the keys open every note.
    await bot_process.start()
    key_file = holdfast_settings.DATABASE_PATH.with_name(
        holdfast_settings.DATABASE_PATH.name + ".keys"
    )
    assert await bot_process.stop() == 0
    key_file.chmod(0o644)
    await bot_process.start(wait_ready=False)
    assert await bot_process.wait_exit() == 1
    assert "permissions are 0644" in bot_process.output
    assert f"chmod 600 {key_file}" in bot_process.output
    assert "Traceback" not in bot_process.output
    key_file.chmod(0o600)
    await bot_process.start()
    assert await bot_process.stop() == 0

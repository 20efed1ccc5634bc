"""Forms (modals) that survive a restart, through the real discord.py client and the emulator: a
member's few words and a facilitator's rules are saved when the bot restarted while the form was
open, a normal submit saves exactly once, and a submit the bot cannot use (a form from an older
version, a group that has gone, a member who left) gets a kind answer with the words given back."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from bot import texts
from bot.app import HoldfastBot
from bot.clock import ManualClock
from bot.config import Settings
from bot.texts import checkins as checkin_texts
from bot.texts import groups as group_texts
from tests.e2e.conftest import start_holdfast
from tests.e2e.test_checkins import shown_message
from tests.e2e.test_meetings import create_group
from tests.e2e.test_welcome_topics import text_inputs
from tests.emulator import Emulator, Server
from tests.emulator.actors import Actor, InteractionHandle
from tests.emulator.factories import build_guild

NOTE = "NOTE-4b7f a hard week at school, but we got through it together"
TOKEN = "0123456789abcdef"


@pytest.fixture
def discord_server(emulator: Emulator) -> Server:
    return build_guild(emulator, facilitators=1, members=2, admins=1)


def checkin_rows(path: Path) -> list[tuple[int, int, int, bool]]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT mood, stress, supported, note IS NOT NULL FROM checkins")
        return [(int(m), int(s), int(p), bool(n)) for m, s, p, n in rows]
    finally:
        conn.close()


async def joined(emulator: Emulator, server: Server) -> Actor:
    """The group exists and the first member is in it: that member, in the server's channel."""
    welcome = await create_group(emulator, server)
    clicked = await emulator.as_user(server.members[0]).click(welcome, "Join this group")
    await clicked.wait_for_text("You're in North adopters")
    return emulator.as_user(server.members[0], channel=server.general)


async def open_note_form(member: Actor) -> InteractionHandle:
    """/checkin, three taps (Low, A lot, Mostly: 2, 4, 4) and "Add a few words": the form."""
    handle = await member.run("/checkin")
    await handle.wait_for_response()
    for label in ("Low", "A lot", "Mostly"):
        handle = await member.click(handle, label)
        await handle.wait_for_response()
    opened = await member.click(handle, "Add a few words")
    await opened.wait_for_modal()
    return opened


async def test_a_note_form_opened_before_a_restart_saves_after_it(
    holdfast: HoldfastBot,
    emulator: Emulator,
    discord_server: Server,
    clock: ManualClock,
    holdfast_settings: Settings,
) -> None:
    member = await joined(emulator, discord_server)
    opened = await open_note_form(member)
    modal = opened.modal
    assert modal is not None
    # The form carries the card's group and picks (never who, never a note), and a token.
    assert re.fullmatch(r"checkin:note:\d+:244:[0-9a-f]{16}", modal["custom_id"])

    await holdfast.close()
    async with start_holdfast(emulator, holdfast_settings, clock) as again:
        saved = await member.submit_modal(opened, {"words": NOTE})
        text = await saved.wait_for_text("Saved")
        assert text.startswith(checkin_texts.saved(False))
        # The normal confirmation: the (private) card itself now says it was saved, buttons gone.
        assert saved.response is not None
        assert saved.response.type == 7
        assert saved.message is not None
        assert saved.message.ephemeral
        assert saved.message.components == []
        assert checkin_rows(holdfast_settings.DATABASE_PATH) == [(2, 4, 4, True)]
        mine = await member.run("/mycheckins")
        assert NOTE in (await shown_message(mine, "Your check-ins")).content
        await again.close()


async def test_a_normal_submit_saves_exactly_once(
    holdfast: HoldfastBot,
    emulator: Emulator,
    discord_server: Server,
    holdfast_settings: Settings,
) -> None:
    member = await joined(emulator, discord_server)
    opened = await open_note_form(member)
    # Nothing of the open form is kept in discord.py's memory: a form opened and never submitted
    # costs nothing, and no second handler can see the submit.
    assert holdfast._connection._view_store._modals == {}
    saved = await member.submit_modal(opened, {"words": NOTE})
    await saved.wait_for_text("Saved")
    # Answered once (a second answer would be a second callback), and one row.
    await emulator.wait_until(lambda: saved.record.callback_attempts >= 1 or None, what="answer")
    assert saved.record.callback_attempts == 1
    assert saved.followups == []
    assert checkin_rows(holdfast_settings.DATABASE_PATH) == [(2, 4, 4, True)]
    # A form with nothing written saves the answers alone.
    empty = await member.submit_modal(await open_note_form(member), {"words": ""})
    await empty.wait_for_text("Saved")
    assert sorted(checkin_rows(holdfast_settings.DATABASE_PATH)) == [
        (2, 4, 4, False),
        (2, 4, 4, True),
    ]


async def test_a_note_form_that_cannot_be_used_is_answered_kindly_with_the_words_given_back(
    holdfast: HoldfastBot,
    emulator: Emulator,
    discord_server: Server,
    holdfast_settings: Settings,
) -> None:
    member = await joined(emulator, discord_server)
    opened = await open_note_form(member)
    modal = opened.modal
    assert modal is not None
    group = modal["custom_id"].split(":")[2]
    cases = {
        # A group that does not exist.
        f"checkin:note:999999:244:{TOKEN}": group_texts.group_gone(),
        # Answers missing (the form is only offered once all three are picked).
        f"checkin:note:{group}:204:{TOKEN}": checkin_texts.pick_all_three(),
        # A form opened before this version (the old random id), or one altered out of shape.
        f"checkin:note:{TOKEN}": texts.form_out_of_date(),
        f"checkin:note:{'9' * 30}:244:{TOKEN}": texts.form_out_of_date(),
        f"checkin:note:{group}:244:{TOKEN}:more": texts.form_out_of_date(),
    }
    for custom_id, reason in cases.items():
        refused = await member.submit_modal(opened, {"words": NOTE}, custom_id=custom_id)
        text = await refused.wait_for_text(reason)
        assert refused.ephemeral, custom_id
        assert NOTE in text, f"the words are given back for {custom_id}"
        assert texts.something_went_wrong() not in text
    assert checkin_rows(holdfast_settings.DATABASE_PATH) == []

    # Someone who left the group while the form was open: told so, and nothing is lost.
    left = await member.run("/group leave")
    await left.wait_for_text("North adopters")
    late = await member.submit_modal(opened, {"words": NOTE})
    text = await late.wait_for_text(checkin_texts.not_in_group("North adopters"))
    assert NOTE in text
    assert late.ephemeral
    assert checkin_rows(holdfast_settings.DATABASE_PATH) == []


async def test_a_rules_form_opened_before_a_restart_saves_after_it(
    holdfast: HoldfastBot,
    emulator: Emulator,
    discord_server: Server,
    clock: ManualClock,
    holdfast_settings: Settings,
) -> None:
    s = discord_server
    await create_group(emulator, s)
    facilitator = emulator.as_user(s.facilitator, channel=s.general)
    offered = await facilitator.run("/group rules")
    await offered.wait_for_text("suggested rules")
    opened = await facilitator.click(offered, "Edit")
    modal = await opened.wait_for_modal()
    assert re.fullmatch(r"rules:form:\d+:[0-9a-f]{16}", modal["custom_id"])
    (field,) = text_inputs(modal["components"])
    rules = "Be gentle with each other. What is said here stays here."

    await holdfast.close()
    async with start_holdfast(emulator, holdfast_settings, clock) as again:
        saved = await facilitator.submit_modal(opened, {field["custom_id"]: rules})
        await saved.wait_for_text("are saved")
        assert saved.ephemeral
        read = await emulator.as_user(s.members[0], channel=s.general).run("/group rules")
        assert rules in await read.wait_for_text("ground rules of North adopters")

        # A form for a group that does not exist, and one from before this version.
        cases = {
            f"rules:form:999999:{TOKEN}": group_texts.group_gone(),
            f"rules:form:{TOKEN}": texts.form_out_of_date(),
        }
        for custom_id, reason in cases.items():
            refused = await facilitator.submit_modal(
                opened, {field["custom_id"]: "Mine now"}, custom_id=custom_id
            )
            text = await refused.wait_for_text(reason)
            assert refused.ephemeral
            assert "Mine now" in text, f"the words are given back for {custom_id}"
        kept = await emulator.as_user(s.members[0], channel=s.general).run("/group rules")
        assert rules in await kept.wait_for_text("ground rules of North adopters")
        await again.close()

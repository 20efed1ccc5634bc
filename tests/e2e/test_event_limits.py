"""The server's Events list always takes a meeting, however long its place, description and
note: Discord refuses a scheduled event with a name or location over 100 characters or a
description over 1,000 (Create Guild Scheduled Event), and the emulator checks those limits
against Discord's OpenAPI spec, so a refused event would fail this test."""

from __future__ import annotations

from bot.app import HoldfastBot
from bot.clock import ManualClock
from tests.e2e.test_meetings import create_group, events_in
from tests.emulator import Emulator, Server

PLACE = "The community room at the back of St Anne's church hall, " * 4  # 228 characters
DESCRIPTION = "A relaxed evening for adopters to share how the month went. " * 15  # 900
NOTE = "This month our guest is a post-adoption social worker from the county. " * 4  # 288


async def test_a_long_place_description_and_note_still_make_an_event(
    holdfast: HoldfastBot, emulator: Emulator, discord_server: Server, clock: ManualClock
) -> None:
    s = discord_server
    await create_group(emulator, s)
    facilitator = emulator.as_user(s.facilitator, channel=s.general)
    preview = await facilitator.run(
        "/series create",
        title="Monthly meet-up",
        when="last Thursday",
        time="19:30",
        place=PLACE[:200],  # the option's own limit
        description=DESCRIPTION,
    )
    await preview.wait_for_text("next dates")
    await (await facilitator.click(preview, "Save")).wait_for_text("is saved")

    event = await emulator.wait_until(
        lambda: next(iter(events_in(emulator, s)), None), what="the meeting's event"
    )
    assert event.entity_type == 3  # external: the place is a location
    assert event.location is not None
    assert event.description is not None
    # Cut to Discord's 100 characters, with "…" to show there is more.
    assert len(event.location) == 100
    assert event.location == PLACE[:99].rstrip() + "…"
    assert event.description == DESCRIPTION.strip()  # 900 characters fit as they are

    # A note takes the description past 1,000: the event is edited, cut to fit.
    choices = await facilitator.autocomplete("/meeting note meeting:", focused="meeting")
    first = (await choices.wait_for_response()).data["choices"][0]
    noted = await facilitator.run("/meeting note", meeting=first["value"], note=NOTE.strip())
    await noted.wait_for_response()
    await emulator.wait_until(
        lambda: (event.description or "").endswith("…") or None,
        what="the event's description to carry the note",
    )
    assert len(event.description) == 1000
    assert event.description.startswith(DESCRIPTION.strip() + "\n\nThis month our guest")
    edits = emulator.requests_to("PATCH", "/guilds/{guild_id}/scheduled-events/{event_id}")
    assert edits
    assert all(r.status == 200 for r in edits)
    assert emulator.violations == []

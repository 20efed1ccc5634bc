"""Guild scheduled events in the emulator follow Discord's rules.

Source: Discord's "Guild Scheduled Event" resource page
(https://discord.com/developers/docs/resources/guild-scheduled-event) — status transitions,
field requirements by entity type, status update automation and permission requirements — and
JSON error code 180000 ("Cannot update a finished event") from "Opcodes and Status Codes".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import discord
import pytest

from bot.clock import ManualClock
from tests.emulator import Emulator, Intent, P, Server, make_test_bot, poll_until, running_bot

NOW = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)


async def api(
    emu: Emulator, method: str, path: str, body: dict[str, Any] | None = None
) -> tuple[int, Any]:
    """One raw REST call with the bot's token (the checks under test are the server's)."""
    headers = {"Authorization": f"Bot {emu.bot_token}"}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.request(method, f"{emu.api_base_url}{path}", json=body) as resp,
    ):
        data = await resp.json() if resp.content_type == "application/json" else None
        return resp.status, data


def _events(server: Server) -> str:
    return f"/guilds/{server.guild.id}/scheduled-events"


def _voice(server: Server, start: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "name": "Monthly meeting",
        "privacy_level": 2,
        "entity_type": 2,
        "channel_id": str(server.voice.id),
        "scheduled_start_time": start.isoformat(),
        **extra,
    }


def _external(start: datetime, end: datetime | None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Picnic",
        "privacy_level": 2,
        "entity_type": 3,
        "entity_metadata": {"location": "The park"},
        "scheduled_start_time": start.isoformat(),
        **extra,
    }
    if end is not None:
        body["scheduled_end_time"] = end.isoformat()
    return body


def _bot_role(emu: Emulator, server: Server) -> int:
    return next(
        r
        for r in server.guild.members[emu.bot_user.id].role_ids
        if r != server.guild.everyone_role_id
    )


async def test_status_follows_discords_valid_transitions_and_finished_events_are_frozen(
    emulator: Emulator, discord_server: Server
) -> None:
    """ "Valid Guild Scheduled Event Status Transitions": SCHEDULED → ACTIVE → COMPLETED and
    SCHEDULED → CANCELED only; "once status is set to COMPLETED or CANCELED, the status can no
    longer be updated" (any edit answers 180000 "Cannot update a finished event")."""
    emulator.clock = ManualClock(NOW)
    base = _events(discord_server)
    status, created = await api(emulator, "POST", base, _voice(discord_server, NOW + timedelta(1)))
    assert status == 200
    assert created["status"] == 1
    one = f"{base}/{created['id']}"

    status, body = await api(emulator, "PATCH", one, {"status": 3})  # SCHEDULED → COMPLETED
    assert (status, body["code"]) == (400, 50035)
    assert "status" in body["errors"]
    assert (await api(emulator, "PATCH", one, {"status": 2}))[0] == 200
    status, body = await api(emulator, "PATCH", one, {"status": 1})  # ACTIVE → SCHEDULED
    assert (status, body["code"]) == (400, 50035)
    status, body = await api(emulator, "PATCH", one, {"status": 4})  # ACTIVE → CANCELED
    assert (status, body["code"]) == (400, 50035)
    assert (await api(emulator, "PATCH", one, {"status": 3}))[0] == 200
    status, body = await api(emulator, "PATCH", one, {"status": 1})  # COMPLETED → SCHEDULED
    assert (status, body) == (400, {"code": 180000, "message": "Cannot update a finished event"})
    status, body = await api(emulator, "PATCH", one, {"name": "Renamed after the fact"})
    assert (status, body["code"]) == (400, 180000)

    status, other = await api(emulator, "POST", base, _voice(discord_server, NOW + timedelta(2)))
    two = f"{base}/{other['id']}"
    assert (await api(emulator, "PATCH", two, {"status": 4}))[0] == 200  # SCHEDULED → CANCELED
    status, body = await api(emulator, "PATCH", two, {"status": 2})  # CANCELED → ACTIVE
    assert (status, body["code"]) == (400, 180000)
    assert emulator.scheduled_events[int(other["id"])].status == 4
    # Deleting a finished event is still allowed (the docs put no rule on it).
    assert (await api(emulator, "DELETE", two))[0] == 204


async def test_create_is_scheduled_in_the_future_by_discords_clock_and_ends_after_it_starts(
    emulator: Emulator, discord_server: Server
) -> None:
    """A new event is SCHEDULED (Create Guild Scheduled Event has no status), starts after
    Discord's "now" (emu.clock, here a ManualClock ten days ahead of the real time) and ends
    after it starts."""
    emulator.clock = ManualClock(datetime.now(UTC) + timedelta(days=10))
    base = _events(discord_server)
    now = emulator.clock.now()
    status, body = await api(
        emulator, "POST", base, _voice(discord_server, now + timedelta(days=1), status=3)
    )
    assert (status, body["code"]) == (400, 50035)
    assert "status" in body["errors"]
    # In the real future but in the past of Discord's clock.
    real_future = datetime.now(UTC) + timedelta(days=3)
    status, body = await api(emulator, "POST", base, _voice(discord_server, real_future))
    assert (status, body["code"]) == (400, 50035)
    assert "scheduled_start_time" in body["errors"]
    start = now + timedelta(days=1)
    ends_first = _external(start, start - timedelta(minutes=1))
    status, body = await api(emulator, "POST", base, ends_first)
    assert (status, body["code"]) == (400, 50035)
    assert "scheduled_end_time" in body["errors"]
    assert emulator.scheduled_events == {}

    status, created = await api(
        emulator, "POST", base, _external(start, start + timedelta(hours=2))
    )
    assert status == 200
    one = f"{base}/{created['id']}"
    status, body = await api(
        emulator, "PATCH", one, {"scheduled_start_time": (now - timedelta(hours=1)).isoformat()}
    )
    assert (status, body["code"]) == (400, 50035)
    status, body = await api(
        emulator, "PATCH", one, {"scheduled_end_time": (start - timedelta(hours=1)).isoformat()}
    )
    assert (status, body["code"]) == (400, 50035)
    assert emulator.scheduled_events[int(created["id"])].scheduled_end_time == start + timedelta(
        hours=2
    )


async def test_entity_types_need_their_channel_kind_and_external_events_a_place_and_an_end(
    emulator: Emulator, discord_server: Server
) -> None:
    """ "Field Requirements By Entity Type": STAGE_INSTANCE needs a stage channel, VOICE a voice
    channel, EXTERNAL channel_id null, entity_metadata.location and scheduled_end_time (also
    when an edit changes the type or clears the end)."""
    emulator.clock = ManualClock(NOW)
    base = _events(discord_server)
    start = NOW + timedelta(days=1)
    on_text = _voice(discord_server, start, channel_id=str(discord_server.general.id))
    status, body = await api(emulator, "POST", base, on_text)
    assert (status, body["code"]) == (400, 50035)
    assert "channel_id" in body["errors"]
    stage_on_voice = _voice(discord_server, start, entity_type=1)
    status, body = await api(emulator, "POST", base, stage_on_voice)
    assert (status, body["code"]) == (400, 50035)
    voice_on_stage = _voice(discord_server, start, channel_id=str(discord_server.stage.id))
    status, body = await api(emulator, "POST", base, voice_on_stage)
    assert (status, body["code"]) == (400, 50035)

    status, ext = await api(emulator, "POST", base, _external(start, start + timedelta(hours=1)))
    assert status == 200
    one = f"{base}/{ext['id']}"
    status, body = await api(emulator, "PATCH", one, {"scheduled_end_time": None})
    assert (status, body["code"]) == (400, 50035)
    assert "scheduled_end_time" in body["errors"]
    status, body = await api(emulator, "PATCH", one, {"entity_metadata": {}})
    assert (status, body["code"]) == (400, 50035)
    stored = emulator.scheduled_events[int(ext["id"])]
    assert stored.scheduled_end_time is not None
    assert stored.location == "The park"

    status, voice = await api(emulator, "POST", base, _voice(discord_server, start))
    assert status == 200
    two = f"{base}/{voice['id']}"
    # To EXTERNAL, channel_id must be sent (as null) with the location and the end time.
    end = (start + timedelta(hours=1)).isoformat()
    no_channel = {"entity_type": 3, "entity_metadata": {"location": "Café"}}
    status, body = await api(emulator, "PATCH", two, {**no_channel, "scheduled_end_time": end})
    assert (status, body["code"]) == (400, 50035)
    assert "channel_id" in body["errors"]
    status, body = await api(
        emulator,
        "PATCH",
        two,
        {
            "entity_type": 3,
            "channel_id": None,
            "entity_metadata": {"location": "Café"},
            "scheduled_end_time": end,
        },
    )
    assert status == 200
    assert body["channel_id"] is None
    assert body["entity_metadata"] == {"location": "Café"}


async def test_event_permissions_are_create_events_and_manage_events_as_documented(
    emulator: Emulator, discord_server: Server
) -> None:
    """ "Guild Scheduled Event Permissions Requirements": create needs CREATE_EVENTS (1 << 44);
    modify/delete needs MANAGE_EVENTS (1 << 33), or CREATE_EVENTS for the event's creator;
    voice events need VIEW_CHANNEL and CONNECT in the channel, stage events MANAGE_CHANNELS,
    MUTE_MEMBERS and MOVE_MEMBERS."""
    emulator.clock = ManualClock(NOW)
    role = emulator.roles[_bot_role(emulator, discord_server)]
    base = _events(discord_server)
    start = NOW + timedelta(days=1)

    role.permissions = (role.permissions | P.MANAGE_EVENTS) & ~P.CREATE_EVENTS
    status, body = await api(emulator, "POST", base, _voice(discord_server, start))
    assert (status, body["code"]) == (403, 50013)

    role.permissions |= P.CREATE_EVENTS
    status, body = await api(emulator, "POST", base, _voice(discord_server, start, entity_type=1))
    assert status == 400  # a voice channel for a stage event is a form error first
    stage = _voice(discord_server, start, entity_type=1, channel_id=str(discord_server.stage.id))
    status, body = await api(emulator, "POST", base, stage)
    assert (status, body["code"]) == (403, 50013)  # no MANAGE_CHANNELS / MUTE / MOVE
    role.permissions |= P.MANAGE_CHANNELS | P.MUTE_MEMBERS | P.MOVE_MEMBERS
    assert (await api(emulator, "POST", base, stage))[0] == 200

    role.permissions &= ~P.CONNECT
    everyone = emulator.roles[discord_server.guild.everyone_role_id]
    everyone.permissions &= ~P.CONNECT
    status, body = await api(emulator, "POST", base, _voice(discord_server, start))
    assert (status, body["code"]) == (403, 50013)
    everyone.permissions |= P.CONNECT

    # Own event: CREATE_EVENTS is enough; someone else's needs MANAGE_EVENTS.
    role.permissions &= ~P.MANAGE_EVENTS
    status, mine = await api(emulator, "POST", base, _voice(discord_server, start))
    assert status == 200
    assert (await api(emulator, "PATCH", f"{base}/{mine['id']}", {"name": "Mine"}))[0] == 200
    theirs = await emulator.create_scheduled_event(
        discord_server.guild,
        "Facilitator's event",
        start,
        creator=discord_server.facilitator,
        channel=discord_server.voice,
    )
    status, body = await api(emulator, "PATCH", f"{base}/{theirs.id}", {"name": "Taken over"})
    assert (status, body["code"]) == (403, 50013)
    assert (await api(emulator, "DELETE", f"{base}/{theirs.id}"))[0] == 403
    role.permissions |= P.MANAGE_EVENTS
    assert (await api(emulator, "PATCH", f"{base}/{theirs.id}", {"name": "Taken over"}))[0] == 200


async def test_discord_starts_and_ends_external_events_and_cancels_unstarted_ones(
    emulator: Emulator, discord_server: Server
) -> None:
    """ "Guild Scheduled Event Status Update Automation": an EXTERNAL event becomes ACTIVE at its
    scheduled_start_time and COMPLETED at its scheduled_end_time; an event still SCHEDULED
    hours after its start is CANCELED. Each change is a GUILD_SCHEDULED_EVENT_UPDATE, sent
    only to sessions with the GUILD_SCHEDULED_EVENTS intent (1 << 16)."""
    clock = ManualClock(NOW)
    emulator.clock = clock
    start = NOW + timedelta(hours=1)
    bot = make_test_bot()
    seen: list[tuple[str, discord.EventStatus]] = []

    @bot.event
    async def on_scheduled_event_update(
        before: discord.ScheduledEvent, after: discord.ScheduledEvent
    ) -> None:
        seen.append((after.name, after.status))

    async with running_bot(emulator, bot):
        guild = bot.get_guild(discord_server.guild.id)
        assert guild is not None
        picnic = await guild.create_scheduled_event(
            name="Picnic",
            start_time=start,
            end_time=start + timedelta(hours=2),
            entity_type=discord.EntityType.external,
            location="The park",
            privacy_level=discord.PrivacyLevel.guild_only,
        )
        voice = await guild.create_scheduled_event(
            name="Call",
            start_time=start,
            entity_type=discord.EntityType.voice,
            channel=discord.Object(discord_server.voice.id, type=discord.VoiceChannel),
            privacy_level=discord.PrivacyLevel.guild_only,
        )
        assert await emulator.advance_scheduled_events() == []

        clock.advance(timedelta(hours=1))
        changed = await emulator.advance_scheduled_events()
        assert [e.id for e in changed] == [picnic.id]
        await poll_until(
            lambda: seen == [("Picnic", discord.EventStatus.active)], what="the picnic starting"
        )

        clock.advance(timedelta(hours=2))
        changed = await emulator.advance_scheduled_events()
        assert {e.id: e.status for e in changed} == {picnic.id: 3, voice.id: 4}
        await poll_until(lambda: len(seen) == 3, what="the picnic ending, the call canceled")
        assert set(seen[1:]) == {
            ("Picnic", discord.EventStatus.completed),
            ("Call", discord.EventStatus.cancelled),
        }
        with_rules = await guild.fetch_scheduled_event(picnic.id)
        assert with_rules.status is discord.EventStatus.completed
        with pytest.raises(discord.HTTPException) as finished:
            await with_rules.edit(name="Picnic (again)")
        assert (finished.value.status, finished.value.code) == (400, 180000)


async def test_scheduled_event_dispatches_need_the_guild_scheduled_events_intent(
    emulator: Emulator, discord_server: Server
) -> None:
    """Gateway "List of Intents": GUILD_SCHEDULED_EVENTS (1 << 16) covers
    GUILD_SCHEDULED_EVENT_CREATE/UPDATE/DELETE; a session without it gets none of them, even
    for Discord's automatic transitions."""
    clock = ManualClock(NOW)
    emulator.clock = clock
    intents = discord.Intents.default()
    intents.guild_scheduled_events = False
    async with running_bot(emulator, make_test_bot(intents=intents)):
        start = NOW + timedelta(hours=1)
        event = await emulator.create_scheduled_event(
            discord_server.guild, "Picnic", start, creator=discord_server.facilitator
        )
        clock.advance(timedelta(hours=3))
        assert [e.id for e in await emulator.advance_scheduled_events()] == [event.id]
        await emulator.as_user(discord_server.member).send(
            "sentinel", channel=discord_server.general
        )
        (session,) = [s for s in emulator.gateway.sessions.values() if s.valid]
        assert not session.intents & Intent.GUILD_SCHEDULED_EVENTS

        def sentinel_seen() -> bool:
            return any(p["t"] == "MESSAGE_CREATE" for p in session.buffer)

        await emulator.wait_until(sentinel_seen, what="the sentinel message dispatched")
        assert not [p for p in session.buffer if p["t"].startswith("GUILD_SCHEDULED_EVENT")]

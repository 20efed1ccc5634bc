"""Handing a meeting over (/rota handover) on a real SQLite file, with the dispatcher and the fake
port: the offer, accepted (the rota's ask follows the new holder), declined, replaced, closed by
the meeting starting or the rota changing, refused kindly; and rota DMs that wait for a
facilitator's quiet hours."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import time, timedelta
from pathlib import Path

import aiosqlite
import pytest
import pytest_asyncio

from bot.checkins import mydata
from bot.checkins.crypto import load_note_keys
from bot.clock import ManualClock
from bot.db import open_database
from bot.delivery.dispatcher import Dispatcher
from bot.delivery.port import Destination
from bot.errors import Conflict, NotAllowed
from bot.groups.model import Actor, Group
from bot.meetings import changes
from bot.meetings.model import Meeting
from bot.migrate import migrate
from bot.reminders import cards, handover, rota, service
from bot.reminders.model import PrefsChange, QuietHours
from bot.reminders.plan import rota_facts
from bot.texts import reminders as texts
from bot.texts.fit import CONTENT_LIMIT
from tests.test_outbox import FakeMessage, FakePort
from tests.test_reminders import POLICY, october_meeting, utc

RENDERERS = {k: v for k, v in cards.RENDERERS.items() if k.startswith("rota")}
HOLDER = 77
OTHER = 78
THIRD = 79
REMINDERS = POLICY.reminders


def holds(group: Group, user_id: int) -> Actor:
    return Actor(user_id, role_ids=frozenset({group.facilitator_role_id}))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(utc(2026, 9, 20, 12, 0))


@pytest_asyncio.fixture
async def db(tmp_path: Path, clock: ManualClock) -> AsyncIterator[aiosqlite.Connection]:
    path = tmp_path / "holdfast.sqlite3"
    await migrate(path, clock.now())
    conn = await open_database(path)
    try:
        yield conn
    finally:
        await conn.close()


SELECT_ROWS = """
SELECT idempotency_key AS key, kind, state, due_at, user_id, last_error
FROM outbox
WHERE kind LIKE 'rota%' AND subject_id = :meeting_id
ORDER BY id
"""


async def rows(db: aiosqlite.Connection, meeting_id: int) -> list[aiosqlite.Row]:
    async with db.execute(SELECT_ROWS, {"meeting_id": meeting_id}) as cursor:
        return list(await cursor.fetchall())


async def pending(db: aiosqlite.Connection, meeting_id: int) -> list[tuple[str, int | None]]:
    return [
        (r["kind"], r["user_id"]) for r in await rows(db, meeting_id) if r["state"] == "pending"
    ]


def dms_to(port: FakePort, user_id: int) -> list[FakeMessage]:
    return port.in_channel(port.channel_of(Destination(user_id=user_id)))


def labels(message: FakeMessage) -> list[str]:
    return [b.label for b in message.message.buttons]


async def held_meeting(
    db: aiosqlite.Connection, clock: ManualClock
) -> tuple[Group, Meeting, FakePort, Dispatcher]:
    """29 Oct 19:30 GMT, held by HOLDER (unconfirmed), with a dispatcher for the rota's DMs."""
    group, meeting = await october_meeting(db, clock)
    await rota.assign(db, meeting.id, holds(group, HOLDER), HOLDER, clock.now(), REMINDERS)
    port = FakePort()
    return group, meeting, port, Dispatcher(db, port, clock, RENDERERS)


async def test_accepted_the_new_holder_is_asked_to_confirm_and_the_old_one_is_not(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting, port, dispatcher = await held_meeting(db, clock)
    offered = await handover.offer(
        db, meeting.id, holds(group, HOLDER), holds(group, OTHER), clock.now(), REMINDERS
    )
    assert (offered.replaced, offered.again) == (None, False)
    assert await dispatcher.run_due() == 1
    [offer_dm] = dms_to(port, OTHER)
    assert f"<@{HOLDER}> has asked whether you could hold **Monthly meet-up**" in (
        offer_dm.message.content
    )
    assert labels(offer_dm) == ["Yes, I'll take it", "Sorry, I can't"]
    accept_id = offer_dm.message.buttons[0].custom_id
    assert accept_id.startswith(f"handover:accept:{offered.offer.id}:d")
    # The offer pings nobody (a DM needs no ping; the asker's mention stays inert).
    assert offer_dm.message.ping_user_ids == ()

    taken = await handover.accept(db, offered.offer.id, holds(group, OTHER), clock.now(), REMINDERS)
    assert (taken.already, taken.offer.state) == (False, "accepted")
    facts = await rota_facts(db, meeting.id)
    assert (facts.facilitator_id, facts.confirmed) == (OTHER, False)
    # The old holder's ask is dropped, the new holder's is planned; the escalation stays.
    assert sorted(await pending(db, meeting.id), key=str) == sorted(
        [("rota_ask", OTHER), ("rota_escalation", None), ("rota_handover_answer", HOLDER)],
        key=str,
    )
    # A second click changes nothing.
    again = await handover.accept(db, offered.offer.id, holds(group, OTHER), clock.now(), REMINDERS)
    assert again.already

    # The one who asked hears, warmly, at once.
    assert await dispatcher.run_due() == 1
    [told] = dms_to(port, HOLDER)
    assert f"Good news: <@{OTHER}> has taken **Monthly meet-up**" in told.message.content
    # At the ask's time (3 days before), only the new holder is asked to confirm.
    clock.set(utc(2026, 10, 26, 19, 30))
    assert await dispatcher.run_due() == 1
    [ask] = [m for m in dms_to(port, OTHER) if "Can you confirm" in m.message.content]
    assert labels(ask) == ["I'll be there"]
    assert [m for m in dms_to(port, HOLDER) if "Can you confirm" in m.message.content] == []
    # The old holder can no longer confirm it; the new one can, and that stops the escalation.
    with pytest.raises(NotAllowed):
        await rota.confirm(db, meeting.id, HOLDER, clock.now(), REMINDERS)
    await rota.confirm(db, meeting.id, OTHER, clock.now(), REMINDERS)
    assert await pending(db, meeting.id) == []


async def test_declined_the_asker_still_holds_it_and_is_told_kindly(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting, port, dispatcher = await held_meeting(db, clock)
    offered = await handover.offer(
        db, meeting.id, holds(group, HOLDER), holds(group, OTHER), clock.now(), REMINDERS
    )
    await dispatcher.run_due()
    with pytest.raises(NotAllowed):  # only the facilitator asked can answer
        await handover.decline(db, offered.offer.id, THIRD, clock.now(), REMINDERS)
    declined = await handover.decline(db, offered.offer.id, OTHER, clock.now(), REMINDERS)
    assert (declined.already, declined.offer.state) == (False, "declined")
    assert (await rota_facts(db, meeting.id)).facilitator_id == HOLDER
    again = await handover.decline(db, offered.offer.id, OTHER, clock.now(), REMINDERS)
    assert again.already
    with pytest.raises(handover.HandoverClosed, match="said you can't take it"):
        await handover.accept(db, offered.offer.id, holds(group, OTHER), clock.now(), REMINDERS)
    assert await dispatcher.run_due() == 1
    [told] = dms_to(port, HOLDER)
    assert f"<@{OTHER}> can't take **Monthly meet-up**" in told.message.content
    assert "still yours" in told.message.content
    assert labels(told) == ["I'll be there"]
    assert told.message.buttons[0].custom_id.startswith(f"rota:confirm:{meeting.id}:d")
    # Their own ask is still planned for them.
    assert ("rota_ask", HOLDER) in await pending(db, meeting.id)


async def test_a_second_offer_replaces_the_first_whose_buttons_then_say_it_is_closed(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting, port, dispatcher = await held_meeting(db, clock)
    asker = holds(group, HOLDER)
    first = await handover.offer(db, meeting.id, asker, holds(group, OTHER), clock.now(), REMINDERS)
    await dispatcher.run_due()
    second = await handover.offer(
        db, meeting.id, asker, holds(group, THIRD), clock.now(), REMINDERS
    )
    assert second.replaced == OTHER
    # Asking the same person again is harmless: the same offer, nothing sent twice.
    repeat = await handover.offer(
        db, meeting.id, asker, holds(group, THIRD), clock.now(), REMINDERS
    )
    assert (repeat.again, repeat.offer.id) == (True, second.offer.id)
    assert await dispatcher.run_due() == 1
    assert len(dms_to(port, THIRD)) == 1
    with pytest.raises(handover.HandoverClosed, match="has made other plans"):
        await handover.accept(db, first.offer.id, holds(group, OTHER), clock.now(), REMINDERS)
    with pytest.raises(handover.HandoverClosed, match="no longer open"):
        await handover.decline(db, first.offer.id, OTHER, clock.now(), REMINDERS)
    taken = await handover.accept(db, second.offer.id, holds(group, THIRD), clock.now(), REMINDERS)
    assert not taken.already
    assert (await rota_facts(db, meeting.id)).facilitator_id == THIRD

    # An offer replaced before it went out is never sent.
    fourth = await handover.offer(
        db, meeting.id, holds(group, THIRD), holds(group, OTHER), clock.now(), REMINDERS
    )
    await handover.offer(
        db, meeting.id, holds(group, THIRD), holds(group, HOLDER), clock.now(), REMINDERS
    )
    [row] = [
        r for r in await rows(db, meeting.id) if r["key"] == f"handover-offer:{fourth.offer.id}"
    ]
    assert row["state"] == "cancelled"


async def test_refused_kindly_and_nothing_is_recorded(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting = await october_meeting(db, clock)
    asker, other = holds(group, HOLDER), holds(group, OTHER)
    # Nobody holds it: nothing to hand over (/rota assign puts someone down).
    with pytest.raises(NotAllowed, match="Nobody holds this meeting yet"):
        await handover.offer(db, meeting.id, asker, other, clock.now(), REMINDERS)
    await rota.assign(db, meeting.id, other, HOLDER, clock.now(), REMINDERS)
    with pytest.raises(NotAllowed, match=f"<@{OTHER}> holds this one"):
        await handover.offer(db, meeting.id, asker, holds(group, THIRD), clock.now(), REMINDERS)
    with pytest.raises(Conflict, match="You already hold this meeting"):
        await handover.offer(db, meeting.id, other, other, clock.now(), REMINDERS)
    bot = Actor(THIRD, role_ids=frozenset({group.facilitator_role_id}), is_bot=True)
    with pytest.raises(NotAllowed, match="A bot can't hold a meeting"):
        await handover.offer(db, meeting.id, other, bot, clock.now(), REMINDERS)
    member = Actor(THIRD, role_ids=frozenset({group.facilitator_role_id + 1}))
    with pytest.raises(NotAllowed, match="Only the facilitators of"):
        await handover.offer(db, meeting.id, other, member, clock.now(), REMINDERS)
    not_a_facilitator = Actor(OTHER)  # lost the role since: may not hand over either
    with pytest.raises(NotAllowed):
        await handover.offer(db, meeting.id, not_a_facilitator, asker, clock.now(), REMINDERS)
    async with db.execute("SELECT COUNT(*) FROM rota_handovers") as cursor:
        assert (await cursor.fetchone())[0] == 0
    # An admin may take it (admins may hold meetings).
    admin = Actor(THIRD, is_admin=True)
    assert not (await handover.offer(db, meeting.id, other, admin, clock.now(), REMINDERS)).again
    # Too late: started, or cancelled.
    with pytest.raises(Conflict):
        await handover.offer(db, meeting.id, other, asker, meeting.starts_at, REMINDERS)
    await changes.cancel_meeting(db, meeting, clock.now(), POLICY)
    with pytest.raises(Conflict):
        await handover.offer(db, meeting.id, other, asker, clock.now(), REMINDERS)


async def test_an_offer_closes_when_the_meeting_starts_or_is_cancelled(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting, port, dispatcher = await held_meeting(db, clock)
    offered = await handover.offer(
        db, meeting.id, holds(group, HOLDER), holds(group, OTHER), clock.now(), REMINDERS
    )
    await dispatcher.run_due()
    with pytest.raises(handover.HandoverClosed, match="the meeting has started"):
        await handover.accept(
            db, offered.offer.id, holds(group, OTHER), meeting.starts_at, REMINDERS
        )
    assert (await rota_facts(db, meeting.id)).facilitator_id == HOLDER
    # Not yet sent when the meeting starts (the bot was down): never sent.
    clock.set(utc(2026, 10, 1, 12, 0))
    later = await handover.offer(
        db, meeting.id, holds(group, HOLDER), holds(group, THIRD), clock.now(), REMINDERS
    )
    clock.set(meeting.starts_at + timedelta(minutes=1))
    await dispatcher.run_due()
    assert dms_to(port, THIRD) == []
    [row] = [
        r for r in await rows(db, meeting.id) if r["key"] == f"handover-offer:{later.offer.id}"
    ]
    assert (row["state"], row["last_error"]) == ("skipped", "too late")


async def test_cancelling_the_meeting_or_changing_the_rota_closes_an_open_offer(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting, _port, _dispatcher = await held_meeting(db, clock)
    offered = await handover.offer(
        db, meeting.id, holds(group, HOLDER), holds(group, OTHER), clock.now(), REMINDERS
    )
    # Someone else is put down in the meantime: the offer no longer stands.
    await rota.assign(db, meeting.id, holds(group, THIRD), THIRD, clock.now(), REMINDERS)
    assert ("rota_handover_offer", OTHER) not in await pending(db, meeting.id)
    with pytest.raises(handover.HandoverClosed, match="someone else has been put down"):
        await handover.accept(db, offered.offer.id, holds(group, OTHER), clock.now(), REMINDERS)
    second = await handover.offer(
        db, meeting.id, holds(group, THIRD), holds(group, OTHER), clock.now(), REMINDERS
    )
    await changes.cancel_meeting(db, meeting, clock.now(), POLICY)
    assert await pending(db, meeting.id) == []
    with pytest.raises(handover.HandoverClosed, match="cancelled"):
        await handover.decline(db, second.offer.id, OTHER, clock.now(), REMINDERS)


async def test_taking_over_needs_the_facilitator_role_still(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting, _port, _dispatcher = await held_meeting(db, clock)
    offered = await handover.offer(
        db, meeting.id, holds(group, HOLDER), holds(group, OTHER), clock.now(), REMINDERS
    )
    with pytest.raises(NotAllowed, match="Only the facilitators of"):
        await handover.accept(db, offered.offer.id, Actor(OTHER), clock.now(), REMINDERS)
    assert (await rota_facts(db, meeting.id)).facilitator_id == HOLDER
    assert (await handover.get_offer(db, offered.offer.id)).state == "open"  # type: ignore[union-attr]


async def test_rota_dms_wait_for_the_end_of_a_facilitators_quiet_hours(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    reminders = replace(REMINDERS, admins=(901,))
    group, meeting = await october_meeting(db, clock)
    await rota.assign(db, meeting.id, holds(group, HOLDER), HOLDER, clock.now(), reminders)
    for person in (HOLDER, OTHER, 901):
        await service.update_prefs(
            db,
            person,
            PrefsChange(quiet=QuietHours(time(22), time(7)), timezone="Europe/London"),
            clock.now(),
            reminders,
        )
    port = FakePort()
    dispatcher = Dispatcher(db, port, clock, RENDERERS)
    # The ask was due 26 Oct 19:30 GMT; the bot comes back at 23:00, inside quiet hours:
    # the ask waits until 07:00, then goes (late, and saying so).
    clock.set(utc(2026, 10, 26, 23, 0))
    assert await dispatcher.run_due() == 0
    [ask_row] = [r for r in await rows(db, meeting.id) if r["kind"] == "rota_ask"]
    assert (ask_row["state"], ask_row["last_error"]) == ("pending", cards.QUIET)
    # A handover offered at 23:00 waits too.
    await handover.offer(
        db, meeting.id, holds(group, HOLDER), holds(group, OTHER), clock.now(), reminders
    )
    assert await dispatcher.run_due() == 0
    clock.set(utc(2026, 10, 27, 6, 59))
    assert await dispatcher.run_due() == 0
    clock.set(utc(2026, 10, 27, 7, 0))
    assert await dispatcher.run_due() == 2
    assert "Can you confirm" in dms_to(port, HOLDER)[0].message.content
    assert "has asked whether you could hold" in dms_to(port, OTHER)[0].message.content
    # The escalation (bot down at its time): the channel's goes at once at 23:00; an admin's
    # copy by DM waits for 07:00.
    clock.set(utc(2026, 10, 28, 23, 0))
    await dispatcher.run_due()
    assert len(port.in_channel(group.announce_channel_id)) == 1
    assert dms_to(port, 901) == []
    clock.set(utc(2026, 10, 29, 7, 0))
    await dispatcher.run_due()
    assert "For admins" in dms_to(port, 901)[0].message.content


async def test_handover_offers_are_in_the_export_and_go_with_delete(
    db: aiosqlite.Connection, clock: ManualClock, tmp_path: Path
) -> None:
    keys = (await load_note_keys(db, (), tmp_path / "holdfast.sqlite3", clock.now())).keys
    group, meeting, port, dispatcher = await held_meeting(db, clock)
    offered = await handover.offer(
        db, meeting.id, holds(group, HOLDER), holds(group, OTHER), clock.now(), REMINDERS
    )
    exported = await mydata.export(db, keys, OTHER, clock.now())
    [entry] = exported.data["rota_handovers"]
    assert entry["offer"] == "you were asked to take it"
    assert entry["state"] == "open"
    assert str(HOLDER) not in exported.json_text  # the other facilitator is not theirs to take
    assert (await mydata.export(db, keys, HOLDER, clock.now())).data["rota_handovers"][0][
        "offer"
    ] == "you asked someone to take it"
    # The one who asked deletes their data before the offer went out: it never goes, and its
    # buttons (had it gone) would say it is no longer open.
    await mydata.delete_everything(db, keys, HOLDER, clock.now())
    assert await dispatcher.run_due() == 0
    assert dms_to(port, OTHER) == []
    with pytest.raises(handover.HandoverClosed, match="withdrawn"):
        await handover.accept(db, offered.offer.id, holds(group, OTHER), clock.now(), REMINDERS)
    assert (await mydata.export(db, keys, OTHER, clock.now())).data["rota_handovers"] == []


def test_every_handover_text_fits_at_the_longest_title_and_group_name() -> None:
    # /series create allows titles of 80 characters, /group create names of 60 (tests/e2e/
    # test_fit.py); Discord ids are at most 20 digits.
    title, group, someone = "T" * 80, "G" * 60, 2**64 - 1
    start = utc(2026, 10, 29, 19, 30)
    written = [
        texts.handover_offer(someone, title, group, start, late=True),
        texts.handover_offered(someone, title, start, replaced=someone),
        texts.handover_asked_already(someone, title),
        texts.handover_taken(title, group, start),
        texts.handover_declined_thanks(someone, title),
        texts.handover_accepted_to_asker(someone, title, group, start),
        texts.handover_declined_to_asker(someone, title, group, start, still_yours=True),
        texts.handover_not_holder(someone),
        texts.handover_closed_replaced(title, someone),
        texts.handover_closed_rota_changed(title),
        texts.handover_closed_answered(title, "declined"),
    ]
    assert all(len(text) <= CONTENT_LIMIT for text in written)

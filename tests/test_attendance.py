"""Noting who came and "we missed you", on a real SQLite file with the real migrations, a
ManualClock and the dispatcher with the fake Discord port of test_outbox.

The meeting: the last Thursday of September 2026, 19:30 BST (18:30 UTC) for 90 minutes; the next
is 29 October, 19:30 GMT. Instants are written out by hand (the oracle)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import aiosqlite
import pytest
import pytest_asyncio

from bot.attendance import cards as attendance_cards
from bot.attendance import service
from bot.attendance.plan import Noted, who_was_missed
from bot.checkins import mydata
from bot.checkins.crypto import load_note_keys
from bot.clock import ManualClock
from bot.db import open_database
from bot.delivery.dispatcher import Dispatcher
from bot.delivery.port import Destination
from bot.errors import HoldfastError, NotAllowed
from bot.groups import service as groups
from bot.groups.model import Actor, Group
from bot.meetings import cards as meeting_cards
from bot.meetings import queries, rsvp, series
from bot.meetings.model import Answer, Meeting, Place
from bot.migrate import migrate
from bot.reminders import cards as reminder_cards
from bot.reminders import rota
from bot.reminders import service as reminder_service
from bot.reminders.model import PrefsChange
from bot.texts import attendance as texts
from tests.test_outbox import FakePort
from tests.test_reminders import POLICY, VOICE, last_thursday, make_group, utc

RENDERERS = {
    **meeting_cards.RENDERERS,
    **reminder_cards.RENDERERS,
    **attendance_cards.RENDERERS,
}
CAME, MISSED, MAYBE, SAID_NO, LURKER, STRANGER = 11, 12, 13, 14, 15, 99
FACILITATOR = 77

START = utc(2026, 9, 24, 18, 30)
END = utc(2026, 9, 24, 20, 0)
NEXT_MORNING = utc(2026, 9, 25, 9, 0)  # 10:00 BST
NEXT_START = utc(2026, 10, 29, 19, 30)


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


def facilitator(group: Group, user_id: int = FACILITATOR) -> Actor:
    return Actor(user_id, role_ids=frozenset({group.facilitator_role_id}))


async def september(
    db: aiosqlite.Connection, clock: ManualClock, place: Place | None = None, on: bool = True
) -> tuple[Group, Meeting]:
    """A group noting who came (`on`), its members' answers, and September's meeting."""
    group = await make_group(db, clock)
    draft = last_thursday() if place is None else replace(last_thursday(), place=place)
    change = await series.create_series(db, group, draft, 9, clock.now(), POLICY)
    meeting = (await queries.series_meetings(db, change.series.id))[0]
    assert meeting.starts_at == START
    for user, answer in (
        (CAME, Answer.GOING),
        (MISSED, Answer.GOING),
        (MAYBE, Answer.MAYBE),
        (SAID_NO, Answer.NO),
        (LURKER, None),
    ):
        await groups.join_group(db, group, user, clock.now(), POLICY)
        if answer is not None:
            await rsvp.answer_meeting(db, meeting.id, user, answer, clock.now(), POLICY)
    if on:
        assert await service.set_attendance(db, group, facilitator(group), True, clock.now())
    return group, meeting


async def rows_of(
    db: aiosqlite.Connection, kind: str, meeting_id: int | None = None
) -> list[aiosqlite.Row]:
    """The outbox rows of `kind` (about `meeting_id`, or any meeting)."""
    async with db.execute(
        "SELECT idempotency_key, state, due_at, not_after, user_id, channel_id FROM outbox "
        "WHERE kind = :kind AND (:meeting_id IS NULL OR subject_id = :meeting_id) ORDER BY id",
        {"kind": kind, "meeting_id": meeting_id},
    ) as cursor:
        return list(await cursor.fetchall())


async def came(db: aiosqlite.Connection, meeting_id: int) -> set[int]:
    async with db.execute(
        "SELECT user_id FROM attendance WHERE meeting_id = :m", {"m": meeting_id}
    ) as cursor:
        return {int(row[0]) for row in await cursor.fetchall()}


def missed_you_dms(port: FakePort) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for sent in port.messages:
        if "We missed you" in sent.message.content:
            found.setdefault(sent.channel_id - 100_000, []).append(sent.message.content)
    return found


# --- the rule ------------------------------------------------------------------------------------


def test_who_was_missed_going_or_maybe_who_did_not_come_and_regulars_twice_in_a_row() -> None:
    members = [1, 2, 3, 4, 5, 6, 7]
    answers = {1: Answer.GOING, 2: Answer.MAYBE, 3: Answer.NO, 4: Answer.GOING}
    here = frozenset({4})
    # 5 came the time before last and missed last time: this is the second in a row.
    # 6 came last time (one miss so far). 7 came three times back (already told last time).
    earlier = [Noted(20, frozenset({6})), Noted(19, frozenset({5})), Noted(18, frozenset({7}))]
    assert who_was_missed(members, answers, here, earlier) == [1, 2, 5]
    # Without history nobody is a "regular"; Can't make it and no answer are never missed.
    assert who_was_missed(members, answers, here, []) == [1, 2]
    # Someone who came is never missed, whatever they answered.
    assert who_was_missed(members, answers, frozenset(members), earlier) == []


# --- voice ---------------------------------------------------------------------------------------


async def test_voice_notes_members_in_the_room_during_the_meeting_only(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    _group, meeting = await september(db, clock)
    # Eleven minutes before the start is too early; ten is in.
    clock.set(START - timedelta(minutes=11))
    assert await service.note_in_voice(db, VOICE, [CAME], clock.now()) == 0
    clock.set(START - timedelta(minutes=10))
    assert await service.note_in_voice(db, VOICE, [CAME], clock.now()) == 1
    # Someone not in the group is never stored; another channel is not the meeting's.
    clock.set(START + timedelta(minutes=30))
    assert await service.note_in_voice(db, VOICE, [STRANGER], clock.now()) == 0
    assert await service.note_in_voice(db, VOICE + 1, [MAYBE], clock.now()) == 0
    # Twice is harmless.
    assert await service.note_in_voice(db, VOICE, [CAME], clock.now()) == 0
    # After the end, joining does not count.
    clock.set(END + timedelta(seconds=1))
    assert await service.note_in_voice(db, VOICE, [MAYBE], clock.now()) == 0
    assert await came(db, meeting.id) == {CAME}
    assert await service.was_noted(db, meeting.id)


async def test_nothing_is_noted_or_planned_while_the_group_has_it_off(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    _, meeting = await september(db, clock, place=Place.external("the library"), on=False)
    clock.set(START)
    assert await service.note_in_voice(db, VOICE, [CAME], clock.now()) == 0
    assert await service.held_in_voice(db, clock.now()) == []
    assert await came(db, meeting.id) == set()
    assert await rows_of(db, "attendance_ask") == []
    assert await rows_of(db, "missed_you") == []


async def test_we_missed_you_the_next_morning_once_to_those_who_meant_to_come(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, _meeting = await september(db, clock)
    clock.set(START + timedelta(minutes=5))
    await service.note_in_voice(db, VOICE, [CAME], clock.now())
    planned = await rows_of(db, "missed_you")
    assert {row["user_id"] for row in planned} == {MISSED, MAYBE}
    assert {row["due_at"] for row in planned} == {"2026-09-25T09:00:00.000000+00:00"}
    # Someone who arrives late after all is no longer missed.
    clock.set(START + timedelta(minutes=40))
    await service.note_in_voice(db, VOICE, [MAYBE], clock.now())
    port = FakePort()
    dispatcher = Dispatcher(db, port, clock, RENDERERS)
    clock.set(END + timedelta(hours=2))
    await dispatcher.run_due()
    assert missed_you_dms(port) == {}  # not that evening
    clock.set(NEXT_MORNING)
    await dispatcher.run_due()
    dms = missed_you_dms(port)
    assert list(dms) == [MISSED]
    [text] = dms[MISSED]
    assert "no need to explain" in text
    assert f"<t:{int(NEXT_START.timestamp())}:F>" in text
    assert "welcome whenever you're ready" in text
    [message] = [m.message for m in port.messages if m.channel_id == 100_000 + MISSED]
    assert [b.label for b in message.buttons] == ["Going", "Maybe", "Can't make it"]
    october = (await queries.upcoming_meetings(db, group.id, clock.now(), limit=1))[0]
    assert all(b.custom_id.startswith(f"rsvp:{october.id}:") for b in message.buttons)
    assert message.ping_user_ids == ()
    # Never twice: more noting and another run send nothing more.
    clock.set(NEXT_MORNING + timedelta(hours=1))
    await service.set_attendance(db, group, facilitator(group), False, clock.now())
    await service.set_attendance(db, group, facilitator(group), True, clock.now())
    await dispatcher.run_due()
    assert missed_you_dms(port) == {MISSED: [text]}


async def test_the_member_can_turn_it_off_and_a_pause_stops_it_too(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    _, _meeting = await september(db, clock)
    await reminder_service.update_prefs(
        db, MISSED, PrefsChange(missed_you=False), clock.now(), POLICY.reminders
    )
    await reminder_service.update_prefs(
        db, MAYBE, PrefsChange(paused=True), clock.now(), POLICY.reminders
    )
    clock.set(START)
    await service.note_in_voice(db, VOICE, [CAME], clock.now())
    port = FakePort()
    clock.set(NEXT_MORNING)
    await Dispatcher(db, port, clock, RENDERERS).run_due()
    assert missed_you_dms(port) == {}
    assert {row["state"] for row in await rows_of(db, "missed_you")} == {"skipped"}


async def test_nobody_is_missed_when_attendance_was_not_noted(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    # Nobody was seen in the room (the bot was away, or the meeting met elsewhere).
    await september(db, clock)
    clock.set(NEXT_MORNING)
    port = FakePort()
    await Dispatcher(db, port, clock, RENDERERS).run_due()
    assert await rows_of(db, "missed_you") == []
    assert missed_you_dms(port) == {}


# --- the facilitator's question ------------------------------------------------------------------


async def test_the_holder_is_asked_after_a_meeting_elsewhere_and_answers_once_or_twice(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting = await september(db, clock, place=Place.external("the library"))
    await rota.assign(
        db, meeting.id, facilitator(group, 78), 78, clock.now(), POLICY.reminders, POLICY
    )
    # Someone else takes it: the question follows whoever holds it.
    await rota.assign(
        db, meeting.id, facilitator(group), FACILITATOR, clock.now(), POLICY.reminders, POLICY
    )
    [asked] = await rows_of(db, "attendance_ask", meeting.id)
    assert asked["user_id"] == FACILITATOR
    assert asked["due_at"] == "2026-09-24T20:00:00.000000+00:00"
    port = FakePort()
    dispatcher = Dispatcher(db, port, clock, RENDERERS)
    clock.set(END)
    await dispatcher.run_due()
    [question] = [m.message for m in port.messages if m.channel_id == 100_000 + FACILITATOR]
    [menu] = question.menus
    assert set(menu.picked) == {CAME, MISSED, MAYBE}
    assert menu.min_values == 0
    assert [b.label for b in question.buttons] == ["Everyone who said Going came"]
    assert question.ping_user_ids == ()
    # Only the holder (or the group's facilitators) may answer.
    with pytest.raises(NotAllowed):
        await service.note_from_facilitator(db, meeting.id, Actor(CAME), [CAME], clock.now())
    holder = Actor(FACILITATOR)  # in a DM: no roles, but they hold the meeting
    assert await service.note_from_facilitator(db, meeting.id, holder, [CAME], clock.now()) == 1
    assert await service.note_from_facilitator(db, meeting.id, holder, [CAME], clock.now()) == 1
    # A correction replaces the answer; strangers picked are left out.
    picked = [CAME, MAYBE, STRANGER]
    assert await service.note_from_facilitator(db, meeting.id, holder, picked, clock.now()) == 2
    assert await came(db, meeting.id) == {CAME, MAYBE}
    # "Everyone who said Going came" adds them; pressing it twice changes nothing.
    assert await service.note_from_facilitator(db, meeting.id, holder, None, clock.now()) == 3
    assert await service.note_from_facilitator(db, meeting.id, holder, None, clock.now()) == 3
    assert await came(db, meeting.id) == {CAME, MISSED, MAYBE}
    assert {row["state"] for row in await rows_of(db, "missed_you")} == {"cancelled"}


async def test_with_nobody_on_the_rota_the_facilitators_channel_is_asked(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting = await september(db, clock, place=Place.external("the library"))
    [asked] = await rows_of(db, "attendance_ask", meeting.id)
    assert asked["user_id"] is None
    assert asked["channel_id"] == group.announce_channel_id  # no facilitators' channel here
    clock.set(END + timedelta(minutes=1))
    answer = [CAME]
    assert await service.note_from_facilitator(
        db, meeting.id, facilitator(group), answer, clock.now()
    )
    planned = await rows_of(db, "missed_you")
    assert {row["user_id"] for row in planned} == {MISSED, MAYBE}


async def test_the_question_cannot_be_answered_before_the_meeting_nor_when_off(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, meeting = await september(db, clock, place=Place.external("the library"))
    with pytest.raises(HoldfastError, match="hasn't finished"):
        await service.note_from_facilitator(db, meeting.id, facilitator(group), [CAME], clock.now())
    await service.set_attendance(db, group, facilitator(group), False, clock.now())
    assert {row["state"] for row in await rows_of(db, "attendance_ask")} == {"cancelled"}
    clock.set(END)
    with pytest.raises(HoldfastError, match="doesn't note who came"):
        await service.note_from_facilitator(db, meeting.id, facilitator(group), [CAME], clock.now())


async def test_only_facilitators_turn_it_on_and_twice_changes_nothing(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, _ = await september(db, clock, on=False)
    with pytest.raises(NotAllowed):
        await service.set_attendance(db, group, Actor(CAME), True, clock.now())
    assert await service.set_attendance(db, group, facilitator(group), True, clock.now())
    assert not await service.set_attendance(db, group, facilitator(group), True, clock.now())
    assert await service.groups_noting(db, group.guild_id) == ["North"]
    assert await service.welcome_note(db, group) is not None


# --- regulars ------------------------------------------------------------------------------------


async def test_a_regular_who_misses_two_in_a_row_hears_once(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, september_meeting = await september(db, clock)
    meetings = await queries.upcoming_meetings(db, group.id, clock.now(), limit=3)
    port = FakePort()
    dispatcher = Dispatcher(db, port, clock, RENDERERS)
    # LURKER never answers: came in September, missed October and November.
    for index, meeting in enumerate(meetings):
        clock.set(meeting.starts_at)
        await service.note_in_voice(
            db, VOICE, [CAME] + ([LURKER] if index == 0 else []), clock.now()
        )
        clock.set(meeting.ends_at + timedelta(days=1))
        await dispatcher.run_due()
    told = {user: len(texts_) for user, texts_ in missed_you_dms(port).items()}
    assert told[LURKER] == 1
    assert meetings[0].id == september_meeting.id


# --- turnout -------------------------------------------------------------------------------------


async def test_turnout_is_counts_only_and_for_facilitators(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    group, _meeting = await september(db, clock)
    clock.set(START)
    await service.note_in_voice(db, VOICE, [CAME, MAYBE], clock.now())
    clock.set(utc(2026, 11, 1, 12, 0))  # October's meeting passed without anyone noted
    with pytest.raises(NotAllowed):
        await service.turnout(db, group, Actor(CAME), clock.now())
    rows = await service.turnout(db, group, facilitator(group), clock.now())
    assert [(r.starts_at, r.came, r.going) for r in rows] == [
        (START, 2, 2),
        (NEXT_START, None, 0),
    ]
    lines = [texts.turnout_line(r.title, r.starts_at, r.came, r.going) for r in rows]
    pages = texts.turnout("North", 6, lines, texts.turnout_total(2, 2, 1))
    shown = "\n".join(pages)
    assert "2 came · 2 said Going" in shown
    assert "not noted" in shown
    # Nobody is named: no mention, no id.
    assert not re.search(r"<@!?\d+>", shown)
    for user in (CAME, MISSED, MAYBE, SAID_NO, LURKER):
        assert str(user) not in shown.replace(str(int(START.timestamp())), "").replace(
            str(int(NEXT_START.timestamp())), ""
        )
    assert all(len(page) <= 2000 for page in pages)


def test_every_text_fits_at_the_longest_input() -> None:
    long = "x" * 4000
    assert len(texts.missed_you(long, long, NEXT_START, long)) <= 2000
    assert len(texts.form_question(long, long, START, True)) <= 2000
    assert len(texts.welcome_note(long)) <= 1000
    # The welcome (an embed) with its extra paragraph at its longest: tests/test_rules_welcome.py.
    assert len(texts.about_note([long] * 30)) <= 1200
    pages = texts.turnout(long, 6, [texts.turnout_line(long, START, 3, 4)] * 300, long)
    assert all(len(page) <= 2000 for page in pages)


async def test_a_dm_destination_for_the_missed_you_never_names_a_channel(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    _, _meeting = await september(db, clock)
    clock.set(START)
    await service.note_in_voice(db, VOICE, [CAME], clock.now())
    for row in await rows_of(db, "missed_you"):
        assert row["channel_id"] is None
        assert Destination(user_id=row["user_id"]).is_dm


# --- the member's own record ---------------------------------------------------------------------


async def test_a_member_sees_their_own_record_in_the_export_and_delete_removes_it(
    db: aiosqlite.Connection, clock: ManualClock, tmp_path: Path
) -> None:
    _, meeting = await september(db, clock)
    await reminder_service.update_prefs(
        db, CAME, PrefsChange(missed_you=False), clock.now(), POLICY.reminders
    )
    clock.set(START)
    await service.note_in_voice(db, VOICE, [CAME, MAYBE], clock.now())
    keys = (await load_note_keys(db, (), tmp_path / "holdfast.sqlite3", clock.now())).keys
    exported = (await mydata.export(db, keys, CAME, clock.now())).data
    assert exported["meetings_you_came_to"] == [
        {
            "group": "North",
            "meeting": "Monthly meet-up",
            "starts": START.isoformat(),
            "noted_by": "voice",
        }
    ]
    assert exported["preferences"]["reminders"]["missed_you"] == 0
    # Only their own: MAYBE's attendance is not in CAME's export.
    assert len(exported["meetings_you_came_to"]) == 1
    await mydata.delete_everything(db, keys, CAME, clock.now(), POLICY)
    assert await came(db, meeting.id) == {MAYBE}
    assert (await mydata.export(db, keys, CAME, clock.now())).data["meetings_you_came_to"] == []

"""Check-ins against a real SQLite file: keys, encryption, keyed ids, trends, export and delete,
and the files on disk."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import sqlite3
import stat
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import aiosqlite
import pytest
import pytest_asyncio
from cryptography.fernet import Fernet

from bot.attendance import service as attendance
from bot.backup import backup_database
from bot.checkins import card, entries, mydata, nudges, trends
from bot.checkins.crypto import (
    KeyProblem,
    NoteKeys,
    key_file_path,
    load_note_keys,
    read_key_file,
    rotate_keys,
)
from bot.checkins.entries import Answers
from bot.cli import main
from bot.clock import ManualClock
from bot.config import ConfigError, load_settings
from bot.db import open_database, transaction
from bot.delivery.dispatcher import Dispatcher
from bot.delivery.dm_channels import DmChannels
from bot.delivery.port import DeliveryFailed, Destination
from bot.errors import HoldfastError, NotAllowed
from bot.groups import service as groups
from bot.groups import suggestions
from bot.groups.model import Actor, Group, GroupSettings
from bot.meetings import cards as meeting_cards
from bot.meetings import changes, interest, queries, rsvp, series
from bot.meetings.model import Answer, Place, SeriesDraft
from bot.meetings.recurrence import Rule, parse_leads
from bot.migrate import migrate
from bot.planning import Policy
from bot.reminders import cards as reminder_cards
from bot.reminders import handover, replies, rota, snooze
from bot.reminders import service as reminder_service
from bot.reminders import status as reminder_status
from bot.reminders.model import PrefsChange, QuietHours
from bot.texts import checkins as checkin_texts
from tests.test_outbox import FakePort

GUILD = 111111111111111111
CHANNEL = 222222222222222222
ROLE = 333333333333333333
MEMBER = 987654321098765432
GOOD = Answers(4, 2, 4)
SENTINEL = "SENTINEL-note-7f3a kept only for its author"
EVERY_RENDERER = {**meeting_cards.RENDERERS, **reminder_cards.RENDERERS, **nudges.RENDERERS}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 10, 10, 12, 0, tzinfo=UTC))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "holdfast.sqlite3"


@pytest_asyncio.fixture
async def db(db_path: Path, clock: ManualClock) -> AsyncIterator[aiosqlite.Connection]:
    await migrate(db_path, clock.now())
    conn = await open_database(db_path)
    try:
        yield conn
    finally:
        await conn.close()


@pytest_asyncio.fixture
async def keys(db: aiosqlite.Connection, db_path: Path, clock: ManualClock) -> NoteKeys:
    return (await load_note_keys(db, (), db_path, clock.now())).keys


async def make_group(db: aiosqlite.Connection, clock: ManualClock, name: str = "North") -> Group:
    return await groups.create_group(
        db, GUILD, GroupSettings(name, CHANNEL, ROLE, None, "Europe/London"), clock.now()
    )


async def rows(db: aiosqlite.Connection, sql: str) -> list[tuple[object, ...]]:
    async with db.execute(sql) as cursor:
        return [tuple(r) for r in await cursor.fetchall()]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- keys ---------------------------------------------------------------------------------------


async def test_a_key_file_is_made_once_beside_the_database_readable_only_by_the_bot(
    db: aiosqlite.Connection, db_path: Path, clock: ManualClock
) -> None:
    first = await load_note_keys(db, (), db_path, clock.now())
    key_file = key_file_path(db_path)
    assert first.generated_file == key_file
    assert mode(key_file) == 0o600
    again = await load_note_keys(db, (), db_path, clock.now())
    assert again.generated_file is None
    assert again.keys.keys == first.keys.keys
    assert again.keys.member_key(MEMBER) == first.keys.member_key(MEMBER)


async def test_keys_in_the_environment_take_precedence_and_a_wrong_key_is_a_clear_error(
    db: aiosqlite.Connection, db_path: Path, clock: ManualClock
) -> None:
    env_key = Fernet.generate_key().decode()
    loaded = await load_note_keys(db, (env_key,), db_path, clock.now())
    assert loaded.keys.source == "environment"
    assert not key_file_path(db_path).exists(), "no key file when the environment has keys"
    with pytest.raises(KeyProblem, match="do not open this database"):
        await load_note_keys(db, (Fernet.generate_key().decode(),), db_path, clock.now())
    # The data exists but no keys are given at all: never silently make new ones.
    with pytest.raises(KeyProblem, match=r"key file .* is missing"):
        await load_note_keys(db, (), db_path, clock.now())


async def test_a_key_file_from_another_database_is_refused_at_start_up(
    db: aiosqlite.Connection, db_path: Path, clock: ManualClock, tmp_path: Path
) -> None:
    await load_note_keys(db, (), db_path, clock.now())
    key_file_path(db_path).write_text(Fernet.generate_key().decode() + "\n")
    with pytest.raises(KeyProblem, match="do not open this database"):
        await load_note_keys(db, (), db_path, clock.now())


@pytest.mark.parametrize("loose", [0o644, 0o640, 0o604, 0o620, 0o602, 0o700])
async def test_a_key_file_other_users_can_reach_is_refused_with_the_fix(
    db: aiosqlite.Connection, db_path: Path, clock: ManualClock, loose: int
) -> None:
    await load_note_keys(db, (), db_path, clock.now())
    key_file = key_file_path(db_path)
    key_file.chmod(loose)
    if loose & 0o077:
        with pytest.raises(KeyProblem) as caught:
            await load_note_keys(db, (), db_path, clock.now())
        assert f"permissions are {loose:04o}" in str(caught.value)
        assert str(caught.value).endswith(f"chmod 600 {key_file}")
    else:
        # Only the bot's own user: as private as 0600.
        await load_note_keys(db, (), db_path, clock.now())


async def test_rotate_keys_re_encrypts_every_note_with_the_newest_key(
    db: aiosqlite.Connection, db_path: Path, clock: ManualClock
) -> None:
    old = Fernet.generate_key().decode()
    keys = (await load_note_keys(db, (old,), db_path, clock.now())).keys
    group = await make_group(db, clock)
    await groups.join_group(db, group, MEMBER, clock.now())
    await entries.record_checkin(db, keys, group, MEMBER, Answers(3, 3, 3), SENTINEL, clock.now())
    new = Fernet.generate_key().decode()
    rotated = (await load_note_keys(db, (new, old), db_path, clock.now())).keys
    assert await rotate_keys(db, rotated, clock.now()) == 1
    only_new = (await load_note_keys(db, (new,), db_path, clock.now())).keys
    assert only_new.member_key(MEMBER) == keys.member_key(MEMBER)
    [own] = await entries.own_checkins(db, only_new, MEMBER)
    assert own.note == SENTINEL


async def test_rotate_keys_command_adds_a_key_to_the_key_file_and_keeps_notes_readable(
    db_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    await migrate(db_path, clock.now())
    conn = await open_database(db_path)
    keys = (await load_note_keys(conn, (), db_path, clock.now())).keys
    group = await make_group(conn, clock)
    await groups.join_group(conn, group, MEMBER, clock.now())
    await entries.record_checkin(conn, keys, group, MEMBER, Answers(2, 4, 3), SENTINEL, clock.now())
    await conn.close()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_PATH", str(db_path))
    monkeypatch.delenv("NOTE_ENCRYPTION_KEYS", raising=False)
    assert await asyncio.to_thread(main, ["rotate-keys"]) == 0
    on_file = read_key_file(key_file_path(db_path))
    assert len(on_file) == 2
    assert on_file[1] == keys.keys[0]
    assert mode(key_file_path(db_path)) == 0o600
    conn = await open_database(db_path)
    try:
        newest_only = NoteKeys.from_keys(on_file[:1], keys.member_secret)
        [own] = await entries.own_checkins(conn, newest_only, MEMBER)
        assert own.note == SENTINEL
    finally:
        await conn.close()


def test_a_privacy_floor_below_five_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(None, PRIVACY_MIN_MEMBERS=4)
    assert "PRIVACY_MIN_MEMBERS" in str(raised.value)
    assert "at least 5" in str(raised.value)
    assert load_settings(None, PRIVACY_MIN_MEMBERS=7).PRIVACY_MIN_MEMBERS == 7


def test_signposts_are_read_with_their_last_checked_dates() -> None:
    settings = load_settings(None, SUPPORT_SIGNPOSTS="Talk to your GP|2026-01-02; 999|2026-02-03")
    assert [(t, d.isoformat()) for t, d in settings.SUPPORT_SIGNPOSTS] == [
        ("Talk to your GP", "2026-01-02"),
        ("999", "2026-02-03"),
    ]
    default = load_settings(None).SUPPORT_SIGNPOSTS
    assert any("NHS 111" in text for text, _ in default)
    assert any("999" in text for text, _ in default)
    with pytest.raises(ConfigError, match="SUPPORT_SIGNPOSTS"):
        load_settings(None, SUPPORT_SIGNPOSTS="no date here")


# --- entries ------------------------------------------------------------------------------------


async def test_a_check_in_stores_no_discord_id_and_no_plaintext(
    db: aiosqlite.Connection, keys: NoteKeys, clock: ManualClock
) -> None:
    group = await make_group(db, clock)
    await groups.join_group(db, group, MEMBER, clock.now())
    await entries.remember_group(db, keys, MEMBER, group, clock.now())
    await entries.record_checkin(db, keys, group, MEMBER, Answers(2, 5, 1), SENTINEL, clock.now())
    stored = await rows(db, "SELECT * FROM checkins")
    chosen = await rows(db, "SELECT * FROM checkin_members")
    dumped = repr(stored) + repr(chosen)
    assert str(MEMBER) not in dumped
    assert SENTINEL not in dumped
    assert keys.member_key(MEMBER) in dumped
    [own] = await entries.own_checkins(db, keys, MEMBER)
    assert (own.answers, own.note) == (Answers(2, 5, 1), SENTINEL)
    assert own.answers.lowest == 1


async def test_only_members_check_in_and_notes_have_a_limit(
    db: aiosqlite.Connection, keys: NoteKeys, clock: ManualClock
) -> None:
    group = await make_group(db, clock)
    with pytest.raises(NotAllowed):
        await entries.record_checkin(db, keys, group, MEMBER, Answers(3, 3, 3), None, clock.now())
    await groups.join_group(db, group, MEMBER, clock.now())
    with pytest.raises(HoldfastError, match="1000 characters"):
        await entries.record_checkin(
            db, keys, group, MEMBER, Answers(3, 3, 3), "x" * 1001, clock.now()
        )
    with pytest.raises(HoldfastError):
        Answers(0, 3, 3)


async def test_a_member_of_several_groups_picks_once_and_it_is_remembered(
    db: aiosqlite.Connection, keys: NoteKeys, clock: ManualClock
) -> None:
    north = await make_group(db, clock, "North")
    south = await make_group(db, clock, "South")
    assert await entries.checkin_group(db, keys, MEMBER) == (None, [])
    await groups.join_group(db, north, MEMBER, clock.now())
    assert (await entries.checkin_group(db, keys, MEMBER))[0] == north
    await groups.join_group(db, south, MEMBER, clock.now())
    chosen, choices = await entries.checkin_group(db, keys, MEMBER)
    assert chosen is None
    assert [g.name for g in choices] == ["North", "South"]
    await entries.remember_group(db, keys, MEMBER, south, clock.now())
    assert (await entries.checkin_group(db, keys, MEMBER))[0] == south


async def test_checkin_names_a_group_in_any_case_and_spacing_and_it_is_remembered(
    db: aiosqlite.Connection, keys: NoteKeys, clock: ManualClock
) -> None:
    with pytest.raises(HoldfastError, match="not in one yet"):
        await entries.choose_checkin_group(db, keys, MEMBER, None, clock.now())
    north = await make_group(db, clock, "North Leeds")
    south = await make_group(db, clock, "South")
    elsewhere = await make_group(db, clock, "West")
    for group in (north, south):
        await groups.join_group(db, group, MEMBER, clock.now())
    chosen, choices = await entries.choose_checkin_group(db, keys, MEMBER, None, clock.now())
    assert (chosen, [g.name for g in choices]) == (None, ["North Leeds", "South"])
    named = await entries.choose_checkin_group(db, keys, MEMBER, "  north   LEEDS ", clock.now())
    assert named[0] == north
    assert (await entries.checkin_group(db, keys, MEMBER))[0] == north, "remembered"
    # A group they are not in is not one of theirs, whatever it is called.
    with pytest.raises(HoldfastError, match="not in a group called “West”"):
        await entries.choose_checkin_group(db, keys, MEMBER, elsewhere.name, clock.now())
    assert (await entries.checkin_group(db, keys, MEMBER))[0] == north


async def test_saving_a_card_needs_all_three_answers_and_membership_and_spots_a_low_day(
    db: aiosqlite.Connection, keys: NoteKeys, clock: ManualClock
) -> None:
    group = await make_group(db, clock)
    with pytest.raises(NotAllowed):
        await entries.save_checkin(db, keys, group.id, MEMBER, GOOD.__dict__, None, 1, clock.now())
    await groups.join_group(db, group, MEMBER, clock.now())
    with pytest.raises(HoldfastError, match="each of the three rows"):
        await entries.save_checkin(
            db, keys, group.id, MEMBER, {"mood": 3, "stress": 3}, None, 1, clock.now()
        )
    assert await entries.own_checkins(db, keys, MEMBER) == []
    answered = [(4, 2, 4), (3, 3, 3), (5, 1, 5)]
    for mood, stress, supported in answered:
        picked = {"mood": mood, "stress": stress, "supported": supported}
        saved = await entries.save_checkin(
            db, keys, group.id, MEMBER, picked, None, 1, clock.now(), recent=2
        )
        assert not saved.very_low
        clock.advance(timedelta(minutes=1))
    assert saved.recent == answered[-2:], "the last few, oldest first, this one last"
    # Stress counts the other way round: 5 ("a lot") is as low as mood 1.
    for picked, threshold, low in (
        ({"mood": 3, "stress": 5, "supported": 3}, 1, True),
        ({"mood": 2, "stress": 3, "supported": 3}, 1, False),
        ({"mood": 2, "stress": 3, "supported": 3}, 2, True),
    ):
        saved = await entries.save_checkin(
            db, keys, group.id, MEMBER, picked, "a few words", threshold, clock.now()
        )
        assert saved.very_low is low, (picked, threshold)
    assert (await entries.own_checkins(db, keys, MEMBER, limit=1))[0].note == "a few words"


async def test_reachout_goes_to_the_check_in_group_if_it_has_a_facilitators_channel(
    db: aiosqlite.Connection, keys: NoteKeys, clock: ManualClock
) -> None:
    with pytest.raises(HoldfastError, match="not in one yet"):
        await entries.reachout_group(db, keys, MEMBER)
    quiet = await make_group(db, clock, "Quiet")
    await groups.join_group(db, quiet, MEMBER, clock.now())
    with pytest.raises(HoldfastError, match="no facilitators' channel"):
        await entries.reachout_group(db, keys, MEMBER)
    staffed = await groups.create_group(
        db,
        GUILD,
        GroupSettings("Staffed", CHANNEL, ROLE, CHANNEL + 1, "Europe/London"),
        clock.now(),
    )
    await groups.join_group(db, staffed, MEMBER, clock.now())
    with pytest.raises(HoldfastError, match="more than one group"):
        await entries.reachout_group(db, keys, MEMBER)
    await entries.remember_group(db, keys, MEMBER, staffed, clock.now())
    assert await entries.reachout_group(db, keys, MEMBER) == staffed


def test_card_custom_ids_keep_the_format_of_buttons_already_posted() -> None:
    # Literal ids as they sit on cards and nudges in live servers: these must keep matching.
    posted = {
        card.PICK: "checkin:pick:42:305:s2",
        card.WORDS: "checkin:words:42:315",
        card.SAVE: "checkin:save:42:315",
        card.GROUP: "checkin:group:42",
        card.START: "checkin:start:d1234",
    }
    for template, custom_id in posted.items():
        assert re.fullmatch(template, custom_id), custom_id
    assert re.fullmatch(card.START, "checkin:start"), "nudges sent before markers existed"
    pick = re.fullmatch(card.PICK, posted[card.PICK])
    assert pick is not None
    assert card.with_pick(pick["state"], pick["letter"], int(pick["value"])) == {
        "mood": 3,
        "stress": 2,
        "supported": 5,
    }
    # A fresh card: every id it carries is matched, and the picks travel in them.
    picked = {"mood": 3, "supported": 5}
    buttons = card.card_buttons(42, picked)
    assert [b.custom_id for b in buttons[:15] if b.style == "success"] == [
        "checkin:pick:42:305:m3",
        "checkin:pick:42:305:p5",
    ]
    assert [b.disabled for b in buttons[-2:]] == [True, True], "words and Save need all three"
    templates = (card.PICK, card.WORDS, card.SAVE)
    for button in buttons:
        assert any(re.fullmatch(t, button.custom_id) for t in templates), button.custom_id
    assert card.parse_state(card.state_text(picked)) == picked
    full = card.card_buttons(42, {"mood": 1, "stress": 2, "supported": 3})
    assert [(b.custom_id, b.disabled) for b in full[-2:]] == [
        ("checkin:words:42:123", False),
        ("checkin:save:42:123", False),
    ]
    assert re.fullmatch(card.START, card.start_button("d77").custom_id)


def test_a_nudge_is_read_from_what_the_member_typed() -> None:
    sunday = nudges.parse_nudge(MEMBER, "weekly", " sun ", None, " Europe/London")
    assert (sunday.day, sunday.local_time, sunday.zone) == (6, time(19, 0), "Europe/London")
    assert nudges.parse_nudge(MEMBER, "monthly", "28", "7:30pm", "UTC").local_time == time(19, 30)
    for cadence, day in (("weekly", "t"), ("weekly", None), ("monthly", "29"), ("monthly", "x")):
        with pytest.raises(HoldfastError, match="Pick a"):
            nudges.parse_nudge(MEMBER, cadence, day, None, "UTC")  # type: ignore[arg-type]
    with pytest.raises(HoldfastError):
        nudges.parse_nudge(MEMBER, "weekly", "Sunday", "25:00", "UTC")
    with pytest.raises(HoldfastError):
        nudges.parse_nudge(MEMBER, "weekly", "Sunday", None, "Mars/Olympus")


# --- trends -------------------------------------------------------------------------------------


async def checkins_for(
    db: aiosqlite.Connection,
    keys: NoteKeys,
    group: Group,
    members: list[int],
    when: datetime,
    answers: Answers = GOOD,
) -> None:
    for member in members:
        await groups.join_group(db, group, member, when)
        await entries.record_checkin(db, keys, group, member, answers, None, when)


async def test_trends_show_only_closed_months_with_enough_members_and_never_change(
    db: aiosqlite.Connection, keys: NoteKeys, clock: ManualClock
) -> None:
    group = await make_group(db, clock)
    september = datetime(2026, 9, 15, 12, tzinfo=UTC)
    await checkins_for(db, keys, group, list(range(1, 7)), september)  # 6 people: 5 + viewer
    await checkins_for(db, keys, group, list(range(11, 16)), clock.now())  # October, open
    viewer = 999
    months = await trends.view_trends(db, group, viewer, 5, clock.now())
    assert [m.month for m in months][-1] == "2026-09", "the month in progress is never shown"
    assert len(months) == 12
    sep = months[-1]
    assert (sep.shown, sep.band, sep.mood, sep.stress, sep.supported) == (True, "5–9", 4, 2, 4)
    assert all(not m.shown for m in months[:-1])
    # Late deletion (a member deletes their data): the closed month's snapshot stays.
    await mydata.delete_everything(db, keys, 1, clock.now())
    clock.advance(timedelta(days=40))
    later = await trends.view_trends(db, group, viewer, 5, clock.now())
    assert later[-2] == sep
    audit = await trends.audit_log(db, GUILD)
    assert [(a.viewer_id, a.group_name) for a in audit] == [(viewer, "North")] * 2


async def test_a_facilitator_deleting_their_data_keeps_the_audit_record_without_their_id(
    db: aiosqlite.Connection, keys: NoteKeys, clock: ManualClock
) -> None:
    group = await make_group(db, clock)
    facilitator, colleague = 777777777777777777, 888888888888888888
    await trends.view_trends(db, group, facilitator, 5, clock.now())
    clock.advance(timedelta(minutes=5))
    await trends.view_trends(db, group, colleague, 5, clock.now())
    clock.advance(timedelta(minutes=5))
    await trends.view_trends(db, group, facilitator, 5, clock.now())
    # Their export still holds the views they made.
    exported = await mydata.export(db, keys, facilitator, clock.now())
    assert [v["group_name"] for v in exported.data["trend_views"]] == ["North", "North"]
    await mydata.delete_everything(db, keys, facilitator, clock.now())
    audit = await trends.audit_log(db, GUILD)
    assert [a.viewer_id for a in audit] == [None, colleague, None], "every view is still there"
    assert [a.viewed_at for a in audit] == sorted((a.viewed_at for a in audit), reverse=True)
    assert await rows(db, f"SELECT COUNT(*) FROM trend_audit WHERE viewer_id = {facilitator}") == [
        (0,)
    ]
    shown = checkin_texts.audit_lines(
        [(a.viewer_id, a.viewed_at, a.group_name, a.months) for a in audit]
    )
    assert shown.count("A former facilitator viewed North") == 2
    assert f"<@{colleague}> viewed North" in shown
    assert str(facilitator) not in shown
    assert (await mydata.export(db, keys, facilitator, clock.now())).data["trend_views"] == []


async def test_five_members_are_not_enough_because_the_viewer_is_counted_out(
    db: aiosqlite.Connection, keys: NoteKeys, clock: ManualClock
) -> None:
    group = await make_group(db, clock)
    await checkins_for(db, keys, group, list(range(1, 6)), datetime(2026, 9, 3, tzinfo=UTC))
    months = await trends.view_trends(db, group, 1, 5, clock.now())
    assert not months[-1].shown
    stored = await rows(db, "SELECT band, mood, stress, supported FROM trend_snapshots")
    assert all(r == (None, None, None, None) for r in stored), "a hidden month keeps no numbers"


async def test_the_snapshot_job_works_out_the_month_that_just_closed_once(
    db: aiosqlite.Connection, keys: NoteKeys, clock: ManualClock
) -> None:
    group = await make_group(db, clock)
    await checkins_for(db, keys, group, list(range(1, 8)), datetime(2026, 9, 3, tzinfo=UTC))
    assert await trends.snapshot_closed_months(db, 5, clock.now()) == 1
    assert await trends.snapshot_closed_months(db, 5, clock.now()) == 0
    with pytest.raises(ValueError, match="has not closed"):
        await trends.snapshot_month(db, group, "2026-10", 5, clock.now())


def test_the_month_follows_the_group_zone() -> None:
    # 23:30 UTC on 31 October is already 1 November in Auckland.
    late = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)
    assert entries.month_of(late, "Europe/London") == "2026-10"
    assert entries.month_of(late, "Pacific/Auckland") == "2026-11"
    assert trends.closed_months(late, "Pacific/Auckland", 2) == ["2026-09", "2026-10"]


def test_bands_rounding_and_distribution() -> None:
    assert [trends.band_for(n) for n in (6, 9, 10, 19, 20, 300)] == [
        "5–9",
        "5–9",
        "10–19",
        "10–19",
        "20+",
        "20+",
    ]
    assert [trends.round_half(v) for v in (2.24, 2.25, 2.74, 2.75, 3.0)] == [2, 2.5, 2.5, 3, 3]
    # One frequent member is averaged first: ten check-ins count as one person.
    frequent = [trends.MonthEntry("a", 1, 1, 1)] * 10
    others = [trends.MonthEntry(f"m{i}", 5, 5, 5) for i in range(9)]
    shown = trends.summarise("2026-09", frequent + others, 5)
    assert shown.mood == 4.5  # (1 + 9*5) / 10 = 4.6
    assert shown.distribution is not None
    assert shown.distribution["mood"] == (10, 0, 90)
    small = trends.summarise("2026-09", others[:7], 5)
    assert small.shown
    assert small.distribution is None


# --- export and delete --------------------------------------------------------------------------

PERSON_COLUMN = re.compile(r"(^|_)(user|member|viewer)(_id|_key)?$|_by$")


async def test_every_column_that_names_a_person_is_covered_by_delete(
    db: aiosqlite.Connection,
) -> None:
    found: set[tuple[str, str]] = set()
    for (table,) in await rows(
        db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ):
        for column in await rows(db, f"PRAGMA table_info({table})"):
            if PERSON_COLUMN.search(str(column[1])):
                found.add((str(table), str(column[1])))
    covered = {(e.table, e.column) for e in mydata.ERASURES}
    # Some erasures reach a person's id inside text (the outbox's scope): those columns are
    # not named for a person, but must exist.
    text_columns = {("outbox", "scope")}
    assert found | text_columns == covered, (
        f"columns naming a person without an erasure: {sorted(found - covered)}; "
        f"erasures for columns that do not exist: {sorted(covered - found - text_columns)}"
    )


OTHER = 424242
SUGGESTION = "Talking to school about trauma, suggested by one member alone"


async def use_every_feature(
    db: aiosqlite.Connection, keys: NoteKeys, clock: ManualClock, person: int
) -> None:
    """`person` (a member who is also a facilitator) uses everything Holdfast stores: answers
    and the waiting list, reminders by DM then in the channel, every-meeting reminders, nudges,
    quiet hours, the rota (put down by, and putting down, others; handing a meeting over and
    being asked to take one), a moved meeting, a draft, check-ins with a note, the check-in
    nudge, trends views, a topic suggestion; then messages go out."""
    policy = Policy()
    reminders = policy.reminders
    group = await make_group(db, clock)
    for user in (person, OTHER):
        await groups.join_group(db, group, user, clock.now())
    draft = SeriesDraft(
        title="Monthly meet-up",
        rule=Rule.last_weekday(3),
        local_time=time(19, 30),
        duration_minutes=90,
        place=Place.external("the library"),
        capacity=1,
    )
    await series.save_draft(db, group, draft, person, clock.now())
    change = await series.create_series(db, group, draft, person, clock.now(), policy)
    first, second, third, *_ = await queries.series_meetings(db, change.series.id)
    # A full meeting: waiting, then given the place (a DM about it).
    await rsvp.answer_meeting(db, first.id, OTHER, Answer.GOING, clock.now(), policy)
    await rsvp.answer_meeting(db, first.id, person, Answer.GOING, clock.now(), policy)
    await rsvp.answer_meeting(db, first.id, OTHER, Answer.NO, clock.now(), policy)
    await reminder_service.update_prefs(
        db,
        person,
        PrefsChange(
            leads=tuple(parse_leads("3d,1d,2h")),
            quiet=QuietHours(time(22), time(7)),
            timezone="Europe/London",
        ),
        clock.now(),
        reminders,
    )
    # Nudges for the meetings not answered, by DM and then in the channel.
    await reminder_service.update_prefs(
        db, person, PrefsChange(via="channel"), clock.now(), reminders
    )
    await reminder_service.set_every_meeting(db, group, person, True, clock.now(), reminders)
    # Both hold the group's facilitator role (only facilitators and admins may be put down).
    as_facilitator = frozenset({group.facilitator_role_id})
    await rota.assign(db, first.id, Actor(person, as_facilitator), person, clock.now(), reminders)
    await rota.confirm(db, first.id, person, clock.now(), reminders)
    await rota.assign(db, second.id, Actor(OTHER, as_facilitator), person, clock.now(), reminders)
    await rota.assign(db, third.id, Actor(person, as_facilitator), OTHER, clock.now(), reminders)
    # Handing over: they ask the other to take the third (declined, so they are told), and are
    # asked to take the second (still open, so the offer's DM is theirs).
    facilitator, other_facilitator = Actor(person, as_facilitator), Actor(OTHER, as_facilitator)
    asked = await handover.offer(
        db, third.id, facilitator, other_facilitator, clock.now(), reminders
    )
    await handover.decline(db, asked.offer.id, OTHER, clock.now(), reminders)
    await handover.offer(db, second.id, other_facilitator, facilitator, clock.now(), reminders)
    await changes.move_meeting(
        db, first, first.starts_at + timedelta(hours=1), None, clock.now(), policy
    )
    await entries.remember_group(db, keys, person, group, clock.now())
    await entries.record_checkin(db, keys, group, person, Answers(1, 5, 2), SENTINEL, clock.now())
    await nudges.set_nudge(
        db, nudges.Nudge(person, "weekly", 0, time(9), "Europe/London"), clock.now()
    )
    await trends.view_trends(db, group, person, 5, clock.now())
    # Private topic suggestions, theirs and someone else's.
    await suggestions.suggest(db, group, person, SUGGESTION, clock.now())
    await suggestions.suggest(db, group, OTHER, "Starting school", clock.now())
    await DmChannels(db, clock.now).put(person, 5555)
    async with transaction(db):
        await reminder_status.mark_told(db, person, clock.now())
    # Issue 16: "Remind me in an hour" on a reminder (a snooze row and its outbox row).
    await snooze.snooze(db, third.id, person, "hour", clock.now())
    # A DM that was not an answer: the once-a-day hint is remembered.
    await replies.answer_by_word(db, person, 5555, "hello", None, clock.now(), policy)
    # Interested on the meeting's Events entry: a Maybe whose origin is remembered.
    async with transaction(db):
        await db.execute("UPDATE meetings SET event_id = 4242 WHERE id = :id", {"id": second.id})
    await interest.set_interest(db, 4242, person, True, clock.now(), policy)
    # Messages go out: announcements, reminders in the channel, rota asks, nudges.
    port = FakePort()
    dispatcher = Dispatcher(db, port, clock, EVERY_RENDERER)
    for days in (10, 14, 17, 18):
        clock.set(datetime(2026, 10, days, 12, tzinfo=UTC))
        await dispatcher.run_due()
        await nudges.plan_all(db, clock.now())
    # One last change after some went out: the channel rows are re-planned again.
    await reminder_service.update_prefs(
        db, person, PrefsChange(leads=tuple(parse_leads("1d"))), clock.now(), reminders
    )
    assert port.messages
    # The group notes who came: the person came to one meeting, and meant to come to the next
    # and did not (a "we missed you" is planned for them); they turned that message off.
    await attendance.set_attendance(db, group, Actor(person, as_facilitator), True, clock.now())
    await rsvp.answer_meeting(db, second.id, person, Answer.MAYBE, clock.now(), policy)
    await reminder_service.update_prefs(
        db, person, PrefsChange(missed_you=False), clock.now(), reminders
    )
    clock.set(second.ends_at + timedelta(minutes=1))
    holder = Actor(OTHER, as_facilitator)
    await attendance.note_from_facilitator(db, first.id, holder, [person], clock.now())
    await attendance.note_from_facilitator(db, second.id, holder, [OTHER], clock.now())


async def where_found(db: aiosqlite.Connection, person: int) -> set[tuple[str, str]]:
    """Every (table, column) holding `person`'s id: as the integer, or inside text or bytes."""
    text = str(person)
    found: set[tuple[str, str]] = set()
    for (table,) in await rows(
        db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ):
        columns = [str(c[1]) for c in await rows(db, f"PRAGMA table_info({table})")]
        for row in await rows(db, f"SELECT * FROM {table}"):
            for column, value in zip(columns, row, strict=True):
                if (
                    (isinstance(value, int) and value == person)
                    or (isinstance(value, str) and text in value)
                    or (isinstance(value, bytes) and text.encode() in value)
                ):
                    found.add((str(table), column))
    return found


async def test_delete_leaves_the_id_in_no_column_of_any_table_nor_in_the_files(
    db: aiosqlite.Connection, keys: NoteKeys, clock: ManualClock, db_path: Path
) -> None:
    await use_every_feature(db, keys, clock, MEMBER)
    before = await where_found(db, MEMBER)
    # The export holds their suggestion (and only theirs).
    exported = (await mydata.export(db, keys, MEMBER, clock.now())).data["topic_suggestions"]
    assert [(e["group"], e["suggestion"]) for e in exported] == [("North", SUGGESTION)]
    # The scan is real: the id is in the places a member's data lives, text included.
    for place in [
        ("outbox", "scope"),
        ("outbox", "idempotency_key"),
        ("outbox", "user_id"),
        ("rsvps", "user_id"),
        ("rota", "assigned_by"),
        ("rota_handovers", "from_user_id"),
        ("rota_handovers", "to_user_id"),
        ("trend_audit", "viewer_id"),
        ("checkin_nudges", "user_id"),
        ("series", "created_by"),
        ("attendance", "user_id"),
        ("reminder_prefs", "user_id"),
        ("topic_suggestions", "user_id"),
        ("snoozes", "user_id"),
        ("reply_hints", "user_id"),
        ("interest_answers", "user_id"),
    ]:
        assert place in before, place
    async with db.execute(
        "SELECT COUNT(*) FROM outbox WHERE channel_id IS NOT NULL AND scope LIKE :like",
        {"like": f"%{MEMBER}%"},
    ) as cursor:
        assert (await cursor.fetchone())[0] > 10, "reminders in the channel, keyed to the member"
    async with db.execute(
        "SELECT COUNT(*) FROM outbox WHERE kind = 'missed_you' AND user_id = :user_id",
        {"user_id": MEMBER},
    ) as cursor:
        assert (await cursor.fetchone())[0] == 1, "a we-missed-you planned for the member"
    deleted = await mydata.delete_everything(db, keys, MEMBER, clock.now())
    assert deleted.checkpointed
    assert await where_found(db, MEMBER) == set()
    disk = b"".join(
        p.read_bytes()
        for p in db_path.parent.iterdir()
        if p.name.startswith(db_path.name) and not p.name.endswith((".keys", ".lock"))
    )
    assert str(MEMBER).encode() not in disk
    assert MEMBER.to_bytes(8, "big") not in disk
    assert keys.member_key(MEMBER).encode() not in disk
    assert SENTINEL.encode() not in disk
    assert SUGGESTION.encode() not in disk
    # Everyone else's data stays.
    assert await where_found(db, OTHER)


async def test_export_holds_snoozes_interest_maybes_and_the_dm_hint(
    db: aiosqlite.Connection, keys: NoteKeys, clock: ManualClock
) -> None:
    """Issue 16's personal data is in /mydata export (and nobody else's)."""
    await use_every_feature(db, keys, clock, MEMBER)
    data = mydata.export(db, keys, MEMBER, clock.now())
    exported = (await data).data
    [snoozed] = exported["snoozed_reminders"]
    assert snoozed["meeting"] == "Monthly meet-up"
    assert snoozed["remind_at"] > snoozed["asked_at"]
    [maybe] = exported["maybe_from_interested"]
    assert maybe["meeting"] == "Monthly meet-up"
    assert exported["last_told_how_to_answer_by_dm"] is not None
    others = (await mydata.export(db, keys, OTHER, clock.now())).data
    assert others["snoozed_reminders"] == others["maybe_from_interested"] == []
    assert others["last_told_how_to_answer_by_dm"] is None


async def test_export_holds_everything_and_delete_removes_it_from_the_files_on_disk(
    db: aiosqlite.Connection, keys: NoteKeys, clock: ManualClock, db_path: Path
) -> None:
    group = await make_group(db, clock)
    await groups.join_group(db, group, MEMBER, clock.now())
    await entries.remember_group(db, keys, MEMBER, group, clock.now())
    await entries.record_checkin(db, keys, group, MEMBER, Answers(1, 5, 2), SENTINEL, clock.now())
    exported = await mydata.export(db, keys, MEMBER, clock.now())
    assert SENTINEL in exported.json_text
    assert SENTINEL in exported.checkins_csv
    assert exported.data["group_memberships"][0]["group"] == "North"
    assert exported.data["preferences"]["checkin_group"] == "North"
    [(ciphertext,)] = await rows(db, "SELECT note FROM checkins")
    assert isinstance(ciphertext, bytes)
    member_hash = keys.member_key(MEMBER).encode()

    def on_disk() -> bytes:
        return b"".join(
            p.read_bytes()
            for p in db_path.parent.iterdir()
            if p.name.startswith(db_path.name) and not p.name.endswith(".keys")
        )

    # Make sure the values really reached the files before deleting.
    async with db.execute("PRAGMA wal_checkpoint(TRUNCATE)"):
        pass
    assert ciphertext in on_disk()
    assert member_hash in on_disk()
    deleted = await mydata.delete_everything(db, keys, MEMBER, clock.now())
    assert deleted.checkpointed
    for erasure in mydata.ERASURES:
        if erasure.how == "delete":
            left = await rows(
                db,
                f"SELECT COUNT(*) FROM {erasure.table} WHERE {erasure.column} IN "
                f"({MEMBER}, '{keys.member_key(MEMBER)}')",
            )
            assert left == [(0,)], erasure.table
    disk = on_disk()
    assert ciphertext not in disk
    assert member_hash not in disk
    assert SENTINEL.encode() not in disk
    assert str(MEMBER).encode() not in disk


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
async def test_export_csv_cells_never_start_a_spreadsheet_formula(
    db: aiosqlite.Connection, keys: NoteKeys, clock: ManualClock, start: str
) -> None:
    formula = f'{start}HYPERLINK("http://example.invalid","x")'
    group = await make_group(db, clock, name=f"{start}North")
    await groups.join_group(db, group, MEMBER, clock.now())
    await entries.record_checkin(db, keys, group, MEMBER, GOOD, formula, clock.now())
    change = await series.create_series(
        db,
        group,
        SeriesDraft(
            title=f"{start}cmd|' /C calc'!A0",
            rule=Rule.last_weekday(3),
            local_time=time(19, 30),
            duration_minutes=90,
            place=Place.external("the library"),
        ),
        MEMBER,
        clock.now(),
        Policy(),
    )
    [first, *_] = await queries.series_meetings(db, change.series.id)
    await rsvp.answer_meeting(db, first.id, MEMBER, Answer.GOING, clock.now(), Policy())
    exported = await mydata.export(db, keys, MEMBER, clock.now())
    cells = [
        cell
        for text in (exported.checkins_csv, exported.memberships_csv, exported.rsvps_csv)
        for row in csv.reader(io.StringIO(text))
        for cell in row
    ]
    assert f"'{formula}" in cells
    assert f"'{start}North" in cells
    assert f"'{start}cmd|' /C calc'!A0" in cells
    assert not [cell for cell in cells if cell.startswith(mydata.FORMULA_STARTS)]
    # The JSON is data, not a spreadsheet: it keeps the words exactly as written.
    assert exported.data["checkins"][0]["note"] == formula


# --- files --------------------------------------------------------------------------------------


async def test_database_side_files_copies_and_keys_are_private(
    db: aiosqlite.Connection, keys: NoteKeys, db_path: Path, clock: ManualClock, tmp_path: Path
) -> None:
    await make_group(db, clock)  # something in the WAL
    folder = db_path.parent
    assert mode(folder) == 0o700
    for suffix in ("", "-wal", "-shm", ".keys"):
        path = folder / (db_path.name + suffix)
        assert path.exists(), suffix
        assert mode(path) == 0o600, suffix
    copy = backup_database(db_path, tmp_path / "backups" / "copy.sqlite3")
    assert mode(copy) == 0o600
    assert mode(copy.parent) == 0o700


async def test_an_old_world_readable_database_is_made_private_and_premigration_copy_too(
    tmp_path: Path, clock: ManualClock
) -> None:
    path = tmp_path / "old" / "holdfast.sqlite3"
    path.parent.mkdir()
    path.parent.chmod(0o755)
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "checksum TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    conn.commit()
    conn.close()
    path.chmod(0o644)
    # Pretend only 0001 was applied, so migrating makes a pre-migration copy.
    from bot.migrate import load_migrations

    first = load_migrations()[0]
    conn = sqlite3.connect(path)
    conn.executescript(first.sql)
    conn.execute(
        "INSERT INTO schema_migrations VALUES (?, ?, ?, ?)",
        (first.version, first.name, first.checksum, clock.now().isoformat()),
    )
    conn.commit()
    conn.close()
    result = await migrate(path, clock.now())
    assert result.backup is not None
    assert mode(result.backup) == 0o600
    assert mode(path) == 0o600


# --- nudges -------------------------------------------------------------------------------------


def test_a_weekly_nudge_keeps_its_wall_clock_time_across_the_clock_change() -> None:
    nudge = nudges.Nudge(MEMBER, "weekly", 6, time(19, 0), "Europe/London")  # Sundays 19:00
    # Sunday 18 October 2026 is BST (18:00 UTC); Sunday 25 October is GMT (19:00 UTC).
    first = nudges.next_nudge_at(nudge, datetime(2026, 10, 12, tzinfo=UTC))
    assert first == datetime(2026, 10, 18, 18, 0, tzinfo=UTC)
    assert nudges.next_nudge_at(nudge, first) == datetime(2026, 10, 25, 19, 0, tzinfo=UTC)
    monthly = nudges.Nudge(MEMBER, "monthly", 1, time(9, 30), "Europe/London")
    assert nudges.next_nudge_at(monthly, datetime(2026, 10, 1, 9, 30, tzinfo=UTC)) == datetime(
        2026, 11, 1, 9, 30, tzinfo=UTC
    )
    with pytest.raises(ValueError, match="does not fit"):
        nudges.Nudge(MEMBER, "monthly", 31, time(9), "Europe/London")


async def test_nudges_are_off_by_default_planned_one_at_a_time_and_stop(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    assert await nudges.get_nudge(db, MEMBER) is None
    assert await rows(db, "SELECT * FROM outbox") == []
    nudge = nudges.Nudge(MEMBER, "weekly", 6, time(19, 0), "Europe/London")
    first = await nudges.set_nudge(db, nudge, clock.now())
    assert first == datetime(2026, 10, 11, 18, 0, tzinfo=UTC)
    pending = "SELECT due_at, user_id FROM outbox WHERE state = 'pending'"
    assert await rows(db, pending) == [(first.isoformat(timespec="microseconds"), MEMBER)]
    # Once it has gone, the hourly planning adds the next one.
    await db.execute("UPDATE outbox SET state = 'skipped'")
    clock.set(first + timedelta(minutes=5))
    assert await nudges.plan_all(db, clock.now()) == 1
    [(due, _)] = await rows(db, pending)
    assert str(due).startswith("2026-10-18T18:00")
    await nudges.stop_nudge(db, MEMBER, clock.now())
    assert await rows(db, pending) == []


async def test_a_nudge_comes_once_at_the_members_local_day_and_time_never_before(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    # Mondays 07:00 in Auckland (NZDT, UTC+13 from 27 Sep 2026): Monday 12 Oct 07:00 there is
    # Sunday 11 Oct 18:00 UTC. Set on Saturday 10 Oct 12:00 UTC (Sunday 01:00 in Auckland).
    nudge = nudges.Nudge(MEMBER, "weekly", 0, time(7, 0), "Pacific/Auckland")
    due = datetime(2026, 10, 11, 18, 0, tzinfo=UTC)
    assert await nudges.set_nudge(db, nudge, clock.now()) == due
    port = FakePort()
    dispatcher = Dispatcher(db, port, clock, nudges.RENDERERS)
    dm = port.channel_of(Destination(user_id=MEMBER))

    async def hour_passes(to: datetime) -> int:
        """The hourly planning job, then the dispatcher, at `to`; how many were sent."""
        clock.set(to)
        await nudges.plan_all(db, clock.now())
        return await dispatcher.run_due()

    for hour in range(13, 18):
        assert await hour_passes(datetime(2026, 10, 11, hour, 0, tzinfo=UTC)) == 0
    assert await hour_passes(due - timedelta(seconds=1)) == 0, "not a second early"
    assert port.send_calls == []
    assert await hour_passes(due) == 1
    [sent] = port.messages
    assert sent.channel_id == dm
    assert [b.custom_id.split(":")[:2] for b in sent.message.buttons] == [["checkin", "start"]]
    for minutes in (1, 60, 120, 24 * 60):
        assert await hour_passes(due + timedelta(minutes=minutes)) == 0, "once, not again"
    # The next one is a week on, at the same local time.
    assert await hour_passes(due + timedelta(days=7) - timedelta(seconds=1)) == 0
    assert await hour_passes(due + timedelta(days=7)) == 1
    assert len(port.messages) == 2


async def test_a_nudge_waiting_for_a_retry_is_not_replaced_by_the_hourly_planning(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    nudge = nudges.Nudge(MEMBER, "weekly", 6, time(19, 0), "Europe/London")  # Sundays 19:00
    due = await nudges.set_nudge(db, nudge, clock.now())
    assert due == datetime(2026, 10, 11, 18, 0, tzinfo=UTC)
    port = FakePort(plan=[DeliveryFailed("Discord 503", permanent=False, status=503)])
    dispatcher = Dispatcher(db, port, clock, nudges.RENDERERS, spread=lambda: 0.0)
    clock.set(due)
    assert await dispatcher.run_due() == 0, "Discord had a moment: retried in 5 seconds"
    # The hourly job happens to run before the retry: this week's nudge still stands.
    clock.advance(timedelta(seconds=2))
    await nudges.plan_all(db, clock.now())
    clock.advance(timedelta(seconds=3))
    assert await dispatcher.run_due() == 1
    assert len(port.messages) == 1


async def test_a_members_chart_is_drawn_in_their_own_zone_else_their_first_groups(
    db: aiosqlite.Connection, clock: ManualClock
) -> None:
    nobody = 777
    assert str(await entries.reader_zone(db, nobody)) == "UTC"
    group = await make_group(db, clock)  # Europe/London
    await groups.join_group(db, group, nobody, clock.now(), Policy())
    assert str(await entries.reader_zone(db, nobody)) == "Europe/London"
    await reminder_service.update_prefs(
        db, nobody, PrefsChange(timezone="Asia/Kolkata"), clock.now(), Policy().reminders
    )
    assert str(await entries.reader_zone(db, nobody)) == "Asia/Kolkata"

"""One seed, one world: the fast, deterministic tier of the simulation.

A single `random.Random(seed)` decides everything: the groups and people, every operation and
when it happens, every fault. The bot's ManualClock jumps from one scheduled instant to the
next (the earliest of: the next outbox due time, the next operation, the next periodic job,
a sweep after a row was left in doubt), and every task settles before the next step, so a seed
always tells the same story. The real services, planners, outbox, dispatcher (claim, send,
in-doubt recovery) and renderers run on a real SQLite file with the real migrations; Discord is
tests/sim/memdiscord.py. Invariants are checked after every step and at the end
(tests/sim/invariants.py).
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import aiosqlite

from bot.checkins.crypto import NoteKeys
from bot.clock import ManualClock
from bot.delivery.dispatcher import Dispatcher
from bot.errors import HoldfastError
from bot.meetings.model import Answer, Place
from bot.reminders.model import PrefsChange, QuietHours, Via
from tests.sim import adapter
from tests.sim.invariants import NOTE_PREFIX, Checker
from tests.sim.memdiscord import LOOKUP_FAULTS, SEND_FAULTS, Fault, Killed, MemDiscord
from tests.sim.model import HandoverModel, Model

ZONES = ("Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata")
RULES = (
    "second Tuesday",
    "first Saturday",
    "last Thursday",
    "last Sunday",
    "day 15",
    "day 31",
    "weekly Monday",
    "fortnightly Friday",
)
LEAD_CHOICES = (None, "7d,1d,2h", "1d", "3d,2h", "2d,30m", "1d,1h")
# Early March to late October holds both clock changes in London and New York, and both in
# Sydney (April and October); Kolkata has none.
START = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
PERIODIC_EVERY = timedelta(hours=6)
# Everyone's planning is checked once a day (whoever acts is checked at once, after each
# operation): the whole check reads every pending row, which a year of groups makes many.
FULL_CHECK_EVERY = 4
# The world's SQLite file lives in memory-backed storage where the machine has it (Linux's
# /dev/shm): the same SQLite and the same file, without waiting on a disk for each commit.
FAST_DISK = "/dev/shm" if Path("/dev/shm").is_dir() else None
SWEEP_AFTER = timedelta(seconds=60)
# After the last operation the world runs on this long (meetings further ahead keep their
# rows pending, which is their right: only rows overdue or in doubt must not be left).
SETTLE_FOR = timedelta(days=2)
# What members write back to a DM about a meeting: answers in their variants, and not answers.
WORDS = ("going", "Yes!", "maybe", "can't make it 😔", "CANT", "no, sorry", "thanks!", "hello")
# About one thing a day per group (an answer, a check-in, a preference, a move...): a lively
# group of a dozen members meeting monthly. Faults ride on every send and lookup whatever the
# rate. (The seeds in tests/sim/regressions.txt name their rate where it differs.)
OPS_PER_GROUP_DAY = 1.0
FAULT_RATE = 0.04
LOOKUP_FAULT_RATE = 0.1
# How often an error after Discord took a message (5xx after, a held response) is followed by
# downtime: the retry then comes after Discord's nonce window has closed.
DOWN_AFTER_UNSURE = 0.3


@dataclass
class Options:
    seed: int
    days: int = 60
    groups: int = 8
    ops: float = OPS_PER_GROUP_DAY
    """Operations per group per simulated day, on average."""
    verbose: bool = False
    faults: bool = True
    kills: bool = True


@dataclass
class GroupInfo:
    index: int
    id: int
    zone: str
    guild_id: int
    announce: int
    private: int
    role: int
    facilitators: list[int]
    people: list[int]
    series: list[int] = field(default_factory=list)


@dataclass
class Result:
    seed: int
    days: int
    groups: int
    events: int
    deliveries: int
    faults: int
    kills: int
    violations: list[str]
    story: list[str]

    def line(self) -> str:
        return (
            f"seed={self.seed} days={self.days} groups={self.groups} events={self.events} "
            f"deliveries={self.deliveries} faults={self.faults} kills={self.kills} "
            f"violations={len(self.violations)}"
        )


class LogCapture(logging.Handler):
    """Every log line the bot writes during a run: the privacy invariant reads them."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


class Simulation:
    def __init__(self, options: Options, folder: Path) -> None:
        self.o = options
        self.rng = random.Random(options.seed)
        self.clock = ManualClock(START)
        self.path = folder / "holdfast.sqlite3"
        self.discord = MemDiscord(self.clock, self.pick_fault)
        self.model = Model()
        self.story: list[str] = []
        self.groups: list[GroupInfo] = []
        self.names: dict[int, str] = {}
        self.abandoned: list[asyncio.Task[int]] = []
        self.kills = 0
        self.periodics = 0
        self.events = 0
        self.faults_on = False
        self.end = START + timedelta(days=options.days)
        self.conn: aiosqlite.Connection
        self.dconn: aiosqlite.Connection
        self.keys: NoteKeys
        self.dispatcher: Dispatcher
        self.checker: Checker
        self.final_meetings: dict[int, adapter.Meeting] = {}
        self.actor: int | None = None
        self.holders: dict[int, int] = {}
        """Meeting → who the rota says holds it, as far as the simulation's own steps said."""
        """Who the current operation is for (their planning is checked after it)."""

    # --- the story ---------------------------------------------------------------------------

    def say(self, text: str) -> None:
        self.events += 1
        self.story.append(f"{self.clock.now().strftime('%Y-%m-%d %H:%M:%S')} {text}")

    def name(self, user_id: int) -> str:
        return self.names.get(user_id, "?")

    def pick_fault(self, where: str) -> Fault | None:
        if not self.faults_on or not self.o.faults:
            return None
        if where == "send":
            if self.rng.random() >= FAULT_RATE:
                return None
            choices = SEND_FAULTS if self.o.kills else SEND_FAULTS[:5]
        else:
            if self.rng.random() >= LOOKUP_FAULT_RATE:
                return None
            choices = LOOKUP_FAULTS if self.o.kills else LOOKUP_FAULTS[:1]
        fault = self.rng.choice(choices)
        self.say(f"fault: {fault}")
        return fault

    # --- start and restart -------------------------------------------------------------------

    def _new_dispatcher(self) -> None:
        rng = self.rng
        self.dispatcher = adapter.dispatcher(
            self.dconn,
            self.discord,
            self.clock,
            adapter.renderers(),
            spread=rng.random,
            new_nonce=lambda: f"{rng.getrandbits(96):024x}",
        )

    async def start(self) -> None:
        self.conn, self.keys = await adapter.start_database(
            self.path, self.clock.now(), self.o.seed
        )
        self.dconn, _ = await adapter.reopen(self.path, self.clock.now(), self.o.seed)
        self._new_dispatcher()
        self.checker = Checker(self)

    async def restart(self, why: str) -> None:
        """As after SIGKILL or a stop: both connections go (nothing uncommitted survives), a
        new dispatcher starts and its first cycle recovers what was in doubt."""
        await self.conn.close()
        await self.dconn.close()
        self.conn, self.keys = await adapter.reopen(self.path, self.clock.now(), self.o.seed)
        self.dconn, _ = await adapter.reopen(self.path, self.clock.now(), self.o.seed)
        self._new_dispatcher()
        self.say(f"restart ({why})")
        # bot.app.setup_hook: the horizon is extended at start, then the first delivery cycle.
        for meeting_id in await adapter.extend_horizon(self.conn, self.clock.now()):
            self.model.meeting_created(meeting_id, self.clock.now())
        await adapter.plan_nudges_in_reach(self.conn, self.clock.now())

    async def cycle(self) -> None:
        """The alarm's one job (recover, then send what is due), as many times as kills need."""
        while True:
            self.discord.killed = Killed()
            task = asyncio.ensure_future(self.dispatcher.cycle())
            killer = asyncio.ensure_future(self.discord.killed.event.wait())
            done, _ = await asyncio.wait({task, killer}, return_when=asyncio.FIRST_COMPLETED)
            if task in done:
                killer.cancel()
                task.result()
                await self.checker.after_step()
                unsure = {"5xx-after", "held"} & set(self.discord.recent)
                self.discord.recent.clear()
                if unsure and self.rng.random() < DOWN_AFTER_UNSURE:
                    # Discord took a message but the bot heard an error, and then the bot is
                    # down for longer than Discord's nonce window before it can retry.
                    await self.down(timedelta(minutes=self.rng.randint(6, 180)))
                return
            # Killed mid-call: the task is abandoned where it stands (no clean-up runs).
            self.abandoned.append(task)
            self.kills += 1
            self.say(f"kill: {self.discord.killed.where}")
            await self.checker.after_step()
            self.clock.advance(timedelta(seconds=self.rng.randint(1, 30)))
            await self.restart("after a kill")

    # --- the world ---------------------------------------------------------------------------

    async def build(self) -> None:
        now = self.clock.now()
        for index in range(self.o.groups):
            zone = ZONES[index % len(ZONES)] if index < len(ZONES) else self.rng.choice(ZONES)
            guild_id, announce, private, role = self.discord.new_guild(f"guild {index}")
            group = await adapter.create_group(
                self.conn, guild_id, f"Group {index}", announce, role, private, zone, now
            )
            people: list[int] = []
            for n in range(self.rng.randint(8, 16)):
                user_id = self.discord.new_user(f"g{index}u{n}", [guild_id])
                self.names[user_id] = f"g{index}u{n}"
                self.model.add_user(user_id)
                people.append(user_id)
            facilitators = people[:2]
            info = GroupInfo(
                index, group.id, zone, guild_id, announce, private, role, facilitators, people
            )
            self.groups.append(info)
            self.model.add_group(group.id, zone)
            self.say(f"group g{index} in {zone}")
            for user_id in people:
                if user_id in facilitators or self.rng.random() < 0.7:
                    await self._join(info, user_id)
            await self._new_series(info)

    async def _join(self, info: GroupInfo, user_id: int) -> None:
        if await adapter.join(self.conn, info.id, user_id, self.clock.now()):
            self.model.join(info.id, user_id, self.clock.now())
            self.say(f"{self.name(user_id)} joins g{info.index}")

    async def _new_series(self, info: GroupInfo) -> None:
        rule = self.rng.choice(RULES)
        at = time(self.rng.choice((1, 7, 10, 12, 18, 19, 20, 23)), self.rng.choice((0, 30)))
        capacity = self.rng.choice((None, None, None, 4, 6))
        place = Place.external("The community centre, Room 2")
        wanted = adapter.draft(rule, at, place, capacity, f"Monthly meet-up {info.index}")
        series_id, added = await adapter.create_series(
            self.conn, info.id, wanted, info.facilitators[0], self.clock.now()
        )
        info.series.append(series_id)
        for meeting_id in added:
            self.model.meeting_created(meeting_id, self.clock.now())
        self.say(f"g{info.index} series s{series_id}: {rule} at {at:%H:%M} cap {capacity}")

    # --- operations --------------------------------------------------------------------------

    async def operation(self) -> None:
        ops = (
            (self.op_answer, 30),
            (self.op_join_leave, 6),
            (self.op_prefs, 8),
            (self.op_dms, 2),
            (self.op_move_cancel, 3),
            (self.op_series, 2),
            (self.op_rota, 5),
            (self.op_checkin, 14),
            (self.op_trends, 2),
            (self.op_mydata, 1),
            (self.op_every, 2),
            (self.op_checkin_nudge, 2),
            (self.op_downtime, 1),
            (self.op_snooze, 3),
            (self.op_word, 3),
            (self.op_interest, 3),
            (self.op_attendance, 1),
            (self.op_note_came, 4),
            (self.op_handover, 3),
            (self.op_topic, 1),
        )
        op = self.rng.choices([o for o, _ in ops], weights=[w for _, w in ops])[0]
        self.actor = None
        try:
            await op()
        except HoldfastError as exc:
            # The domain said no, kindly, as it would to a person: part of the story.
            self.say(f"  refused: {type(exc).__name__}")
        if self.actor is not None:
            # Planning for whoever just acted is checked at once (everyone's, every 6 hours).
            await self.checker.check_plan(self.actor)
            await self.checker.check_planned_extras(self.actor)

    def _group(self) -> GroupInfo:
        return self.rng.choice(self.groups)

    async def _meeting(self, info: GroupInfo) -> int | None:
        upcoming = await adapter.upcoming(self.conn, info.id, self.clock.now())
        if not upcoming:
            return None
        return self.rng.choice(upcoming[:3]).id

    async def op_answer(self) -> None:
        info = self._group()
        members = sorted(self.model.members[info.id])
        meeting_id = await self._meeting(info)
        if not members or meeting_id is None:
            return
        user_id = self.rng.choice(members)
        self.actor = user_id
        wanted = self.rng.choice((Answer.GOING, Answer.GOING, Answer.MAYBE, Answer.NO))
        self.say(f"{self.name(user_id)} answers {wanted.value} to m{meeting_id}")
        result = await adapter.answer(self.conn, meeting_id, user_id, wanted, self.clock.now())
        now = self.clock.now()
        if result.changed or self.model.answer_of(meeting_id, user_id) is not result.answer:
            # The same answer again is no new answer (a snooze asked since still stands).
            self.model.answered(meeting_id, user_id, result.answer, now)
        for promoted in result.promoted:
            self.model.answered(meeting_id, promoted, Answer.GOING, now)
            self.say(f"  {self.name(promoted)} moves up from the waitlist")
        await adapter.refresh(self.conn, self.discord, meeting_id)

    async def op_join_leave(self) -> None:
        info = self._group()
        user_id = self.rng.choice(info.people[2:])
        self.actor = user_id
        if user_id in self.model.members[info.id]:
            self.say(f"{self.name(user_id)} leaves g{info.index}")
            await adapter.leave(self.conn, info.id, user_id, self.clock.now())
            self.model.leave(info.id, user_id, self.clock.now())
        else:
            await self._join(info, user_id)

    async def op_prefs(self) -> None:
        info = self._group()
        user_id = self.rng.choice(info.people)
        self.actor = user_id
        user = self.model.users[user_id]
        what = self.rng.choice(("pause", "quiet", "via", "leads"))
        change: PrefsChange
        if what == "pause":
            change = PrefsChange(paused=not user.paused)
            self.say(f"{self.name(user_id)} {'resumes' if user.paused else 'pauses'} reminders")
        elif what == "quiet":
            if user.quiet is None:
                start = time(self.rng.choice((21, 22, 23, 0)), 0)
                end = time(self.rng.choice((6, 7, 8)), 0)
                zone = self.rng.choice((None, *ZONES))
                change = PrefsChange(quiet=QuietHours(start, end), timezone=zone)
                self.say(f"{self.name(user_id)} quiet {start:%H:%M}-{end:%H:%M} {zone}")
            else:
                change = PrefsChange(clear_quiet=True)
                self.say(f"{self.name(user_id)} quiet off")
        elif what == "via":
            via: Via = "channel" if user.via == "dm" else "dm"
            change = PrefsChange(via=via)
            self.say(f"{self.name(user_id)} reminders by {via}")
        else:
            leads = self.rng.choice(LEAD_CHOICES)
            change = (
                PrefsChange(use_default_leads=True)
                if leads is None
                else PrefsChange(leads=tuple(adapter.parse_leads(leads)))
            )
            self.say(f"{self.name(user_id)} leads {leads or 'default'}")
        await adapter.change_prefs(self.conn, user_id, change, self.clock.now())
        self.model.prefs_changed(user_id, change, self.clock.now())

    async def op_dms(self) -> None:
        info = self._group()
        user_id = self.rng.choice(info.people)
        self.actor = user_id
        closed = not self.discord.dms_closed(user_id)
        self.discord.set_dms_closed(user_id, closed)
        self.model.user_touched(user_id, self.clock.now())
        self.say(f"{self.name(user_id)} {'closes' if closed else 'opens'} DMs")

    async def op_move_cancel(self) -> None:
        info = self._group()
        meeting_id = await self._meeting(info)
        if meeting_id is None:
            return
        now = self.clock.now()
        if self.rng.random() < 0.5:
            meeting = await adapter.meeting(self.conn, meeting_id)
            shift = timedelta(hours=self.rng.choice((-26, -3, 2, 24, 72)))
            self.say(f"m{meeting_id} moved by {shift}")
            self.model.meeting_touched(meeting_id, now)
            await adapter.move(self.conn, meeting_id, meeting.starts_at + shift, now)
        else:
            self.say(f"m{meeting_id} cancelled")
            self.model.meeting_touched(meeting_id, now)
            await adapter.cancel(self.conn, meeting_id, now)
        await adapter.refresh(self.conn, self.discord, meeting_id)

    async def op_series(self) -> None:
        info = self._group()
        series_id = info.series[-1]
        now = self.clock.now()
        for meeting in await adapter.upcoming(self.conn, info.id, now):
            self.model.meeting_touched(meeting.id, now)
        if self.rng.random() < 0.7:
            rule = self.rng.choice(RULES)
            at = time(self.rng.choice((10, 18, 19, 20)), self.rng.choice((0, 30)))
            capacity = self.rng.choice((None, 4, 8))
            wanted = adapter.draft(
                rule, at, Place.external("The library"), capacity, f"Meet-up {info.index}"
            )
            self.say(f"s{series_id} edited: {rule} at {at:%H:%M} cap {capacity}")
            change = await adapter.edit_series(self.conn, series_id, wanted, now)
        else:
            self.say(f"s{series_id} ended")
            change = await adapter.end_series(self.conn, series_id, now)
            await self._new_series(info)
        for meeting_id in [*change.retimed, *change.removed]:
            self.model.meeting_touched(meeting_id, now)
        for meeting_id in change.added:
            self.model.meeting_created(meeting_id, now)

    async def op_rota(self) -> None:
        info = self._group()
        meeting_id = await self._meeting(info)
        if meeting_id is None:
            return
        who = self.rng.choice(info.facilitators)
        now = self.clock.now()
        action = self.rng.choice(("assign", "confirm", "step in"))
        self.say(f"{self.name(who)} rota {action} m{meeting_id}")
        if action == "assign":
            await adapter.rota_assign(self.conn, meeting_id, who, info.role, now)
            self.holders[meeting_id] = who
        elif action == "confirm":
            await adapter.rota_confirm(self.conn, meeting_id, who, now)
        else:
            await adapter.rota_step_in(self.conn, meeting_id, who, now)
            self.holders[meeting_id] = who

    async def op_checkin(self) -> None:
        info = self._group()
        members = sorted(self.model.members[info.id])
        if not members:
            return
        user_id = self.rng.choice(members)
        scores = (self.rng.randint(1, 5), self.rng.randint(1, 5), self.rng.randint(1, 5))
        note = None
        if self.rng.random() < 0.4:
            note = f"{NOTE_PREFIX}{self.o.seed}-{self.rng.getrandbits(40):010x}"
            self.model.notes.add(note)
        await adapter.check_in(
            self.conn, self.keys, info.id, user_id, scores, note, self.clock.now()
        )
        self.model.checked_in(info.id, user_id, self.clock.now())
        self.say(f"{self.name(user_id)} checks in to g{info.index}")

    async def op_trends(self) -> None:
        info = self._group()
        viewer = self.rng.choice(info.facilitators)
        shown = await adapter.view_trends(self.conn, info.id, viewer, self.clock.now())
        self.say(
            f"{self.name(viewer)} views trends of g{info.index}: "
            f"{sum(1 for s in shown if s.shown)} month(s) shown"
        )
        await self.checker.check_snapshots()

    async def op_mydata(self) -> None:
        info = self._group()
        user_id = self.rng.choice(info.people[2:])
        self.actor = user_id
        self.say(f"{self.name(user_id)} deletes their data")
        answered = await adapter.delete_my_data(self.conn, self.keys, user_id, self.clock.now())
        self.model.deleted(user_id, self.clock.now())
        for meeting_id in answered:
            self.model.meeting_touched(meeting_id, self.clock.now())

    async def op_every(self) -> None:
        info = self._group()
        members = sorted(self.model.members[info.id])
        if not members:
            return
        user_id = self.rng.choice(members)
        self.actor = user_id
        on = self.rng.random() < 0.6
        self.say(f"{self.name(user_id)} every-meeting {'on' if on else 'off'} g{info.index}")
        await adapter.every_meeting(self.conn, info.id, user_id, on, self.clock.now())
        self.model.user_touched(user_id, self.clock.now())

    async def op_checkin_nudge(self) -> None:
        info = self._group()
        user_id = self.rng.choice(info.people)
        now = self.clock.now()
        if self.rng.random() < 0.7:
            at = time(self.rng.choice((8, 12, 20)), 0)
            self.say(f"{self.name(user_id)} check-in nudge weekly at {at:%H:%M}")
            await adapter.set_checkin_nudge(
                self.conn, user_id, self.rng.randint(0, 6), at, info.zone, now
            )
        else:
            self.say(f"{self.name(user_id)} check-in nudge off")
            await adapter.stop_checkin_nudge(self.conn, user_id, now)

    # --- between meetings (issue 16) ---------------------------------------------------------

    def _dms_about_meetings(self, kinds: tuple[str, ...]) -> list[tuple[int, int, int, int]]:
        """(message id, DM channel, member, meeting) of the DMs of `kinds` sent so far, for
        meetings still to come: what a member could click on or reply to."""
        now = self.clock.now()
        found = []
        for message_id, (r, kind, _key) in self.checker.messages.items():
            if kind not in kinds or r.dm_user is None:
                continue
            meeting_id = self.checker.subjects.get(message_id)
            starts = self.checker.starts.get(message_id)
            if meeting_id is None or starts is None or starts <= now:
                continue
            found.append((message_id, r.channel_id, r.dm_user, meeting_id))
        return sorted(found)[-40:]

    async def op_snooze(self) -> None:
        """A member clicks "Remind me in an hour" / "this evening" on a reminder DM."""
        found = self._dms_about_meetings(("reminder", "nudge", "snooze"))
        if not found:
            return
        _message, _channel, user_id, meeting_id = self.rng.choice(found)
        self.actor = user_id
        choice = self.rng.choice(("hour", "hour", "evening"))
        self.say(f"{self.name(user_id)} snoozes m{meeting_id} ({choice})")
        now = self.clock.now()
        due = await adapter.snooze_reminder(self.conn, meeting_id, user_id, choice, now)
        self.model.snoozes[(meeting_id, user_id)] = (due, now)
        self.say(f"  snoozed until {due:%Y-%m-%d %H:%M}")

    async def op_word(self) -> None:
        """A member answers a DM about a meeting with a word (replying to it, or not)."""
        found = self._dms_about_meetings(
            ("reminder", "nudge", "snooze", "meeting_changed", "waitlist_promoted")
        )
        if not found:
            return
        message_id, channel_id, user_id, meeting_id = self.rng.choice(found)
        self.actor = user_id
        text = self.rng.choice(WORDS)
        replied = self.rng.random() < 0.6
        self.say(
            f"{self.name(user_id)} writes {text!r}"
            + (f" in reply to m{meeting_id}'s DM" if replied else "")
        )
        now = self.clock.now()
        reply = await adapter.answer_by_word(
            self.conn, user_id, channel_id, text, message_id if replied else None, now
        )
        self.checker.check_word_reply(
            user_id, text, meeting_id if replied else None, reply.text, reply.answered_meeting_id
        )
        answered = reply.answered_meeting_id
        if answered is None:
            self.say("  no answer" + (" (a hint)" if reply.text == adapter.reply_hint() else ""))
            return
        self.say(f"  answers for m{answered}")
        await self._answers_from_bot(answered, now)
        await adapter.refresh(self.conn, self.discord, answered)

    async def _answers_from_bot(self, meeting_id: int, now: datetime) -> None:
        """What a word's answer did (the reply says only which meeting): everyone's answer to it
        as the attendee list now shows (a Can't make it can move someone up the waitlist)."""
        found = await adapter.answers_to(self.conn, meeting_id)
        for user_id, answer in sorted(found.items()):
            if self.model.answer_of(meeting_id, user_id) is not answer:
                self.model.answered(meeting_id, user_id, answer, now)
                self.say(f"  {self.name(user_id)} is now {answer.value}")

    async def op_interest(self) -> None:
        """Someone clicks Interested on a meeting's Events entry, or takes it back."""
        info = self._group()
        meeting_id = await self._meeting(info)
        if meeting_id is None:
            return
        user_id = self.rng.choice(info.people)
        self.actor = user_id
        interested = self.model.interested[meeting_id]
        if user_id in interested:
            interested.discard(user_id)
            self.say(f"{self.name(user_id)} is no longer Interested in m{meeting_id}")
        else:
            interested.add(user_id)
            self.say(f"{self.name(user_id)} is Interested in m{meeting_id}")
        now = self.clock.now()
        expected = self.model.interest_outcome(meeting_id, info.id, user_id)
        outcomes = await adapter.set_interest(self.conn, meeting_id, set(interested), now)
        self.checker.check_interest(meeting_id, user_id, expected, outcomes.get(user_id))
        for who, outcome in sorted(outcomes.items()):
            self.say(f"  {self.name(who)}: {outcome}")
            if outcome == "maybe":
                self.model.answered(meeting_id, who, Answer.MAYBE, now)
                self.model.maybe_from_interest[(meeting_id, who)] = now
            elif outcome == "removed":
                self.model.unanswered(meeting_id, who)
            elif outcome == "offered_join":
                self.model.join_offered[(info.id, who)] = now
        if outcomes:
            await adapter.refresh(self.conn, self.discord, meeting_id)

    async def op_attendance(self) -> None:
        """A facilitator turns noting who came on or off for their group."""
        info = self._group()
        who = self.rng.choice(info.facilitators)
        on = not self.model.attendance_on.get(info.id, False)
        self.say(f"{self.name(who)} turns noting who came {'on' if on else 'off'} g{info.index}")
        now = self.clock.now()
        await adapter.set_attendance(self.conn, info.id, who, info.role, on, now)
        self.model.attendance_on[info.id] = on

    async def op_note_came(self) -> None:
        """The facilitator answers the question after a meeting: who came."""
        now = self.clock.now()
        held: list[tuple[int, GroupInfo]] = []
        for info in self.groups:
            if self.model.attendance_on.get(info.id):
                for meeting_id in await adapter.recent_meetings(self.conn, info.id, now, 3):
                    held.append((meeting_id, info))
        if not held:
            return
        meeting_id, info = self.rng.choice(held)
        who = self.rng.choice(info.facilitators)
        members = sorted(self.model.members[info.id])
        if self.rng.random() < 0.4:
            picked = None
            came = {u for u in members if self.model.answer_of(meeting_id, u) is Answer.GOING}
            self.say(f"{self.name(who)} notes everyone Going came to m{meeting_id}")
        else:
            picked = sorted(u for u in members if self.rng.random() < 0.5)
            came = set(picked)
            self.say(
                f"{self.name(who)} notes who came to m{meeting_id}: "
                + (", ".join(self.name(u) for u in picked) or "nobody")
            )
        await adapter.note_who_came(self.conn, meeting_id, who, info.role, picked, now)
        if picked is None:
            self.model.came[meeting_id] |= came
        else:
            self.model.came[meeting_id] = came
        self.model.noted.add(meeting_id)

    async def op_handover(self) -> None:
        """A facilitator hands a meeting to the other, or answers an open offer."""
        now = self.clock.now()
        open_offers = sorted(i for i, o in self.model.offers.items() if o.state == "open")
        if open_offers and self.rng.random() < 0.6:
            offer_id = self.rng.choice(open_offers)
            offer = self.model.offers[offer_id]
            info = next(g for g in self.groups if offer.to_user in g.facilitators)
            yes = self.rng.random() < 0.6
            self.say(
                f"{self.name(offer.to_user)} {'accepts' if yes else 'declines'} handover "
                f"h{offer_id} of m{offer.meeting_id}"
            )
            try:
                await adapter.rota_handover_answer(
                    self.conn, offer_id, offer.to_user, info.role, yes, now
                )
            except HoldfastError:
                offer.state = "closed"  # started, cancelled, or the rota changed under it
                raise
            offer.state = "accepted" if yes else "declined"
            offer.answered_at = now
            if yes:
                self.holders[offer.meeting_id] = offer.to_user
            return
        info = self._group()
        meeting_id = await self._meeting(info)
        if meeting_id is None:
            return
        asker, to = self.rng.sample(info.facilitators, 2)
        if self.holders.get(meeting_id) == to and self.rng.random() < 0.8:
            asker, to = to, asker  # mostly the one who holds it asks
        self.say(f"{self.name(asker)} hands m{meeting_id} over to {self.name(to)}")
        made = await adapter.rota_handover(self.conn, meeting_id, asker, to, info.role, now)
        if made.again:
            return
        for offer in self.model.offers.values():
            if offer.meeting_id == meeting_id and offer.state == "open":
                offer.state = "replaced"
                offer.answered_at = now
        self.model.offers[made.offer.id] = HandoverModel(meeting_id, asker, to)
        self.say(f"  offer h{made.offer.id}")

    async def op_topic(self) -> None:
        """A facilitator sets (or clears) a meeting's topic: nobody is told."""
        info = self._group()
        meeting_id = await self._meeting(info)
        if meeting_id is None:
            return
        topic = self.rng.choice((None, "Contact with birth family", "School transitions"))
        self.say(f"m{meeting_id} topic: {topic}")
        async with adapter.watching_outbox(self.conn) as outbox_changes:
            await adapter.set_topic(self.conn, meeting_id, topic, self.clock.now())
            changed = await outbox_changes()
        self.model.topics += 1
        self.checker.check_topic_change(meeting_id, changed)
        await adapter.refresh(self.conn, self.discord, meeting_id)

    async def op_downtime(self) -> None:
        length = timedelta(minutes=self.rng.choice((3, 20, 90, 6 * 60, 26 * 60, 3 * 24 * 60)))
        await self.down(length)

    async def down(self, length: timedelta) -> None:
        start = self.clock.now()
        self.say(f"down for {length}")
        await self.conn.close()
        await self.dconn.close()
        self.conn, self.keys = await adapter.reopen(self.path, start, self.o.seed)
        self.dconn, _ = await adapter.reopen(self.path, start, self.o.seed)
        self.clock.advance(length)
        self.model.downtime.append((start, self.clock.now()))
        await self.restart("after downtime")

    # --- periodic jobs (bot.app and the cogs' every()) ---------------------------------------

    async def periodic(self) -> None:
        now = self.clock.now()
        for meeting_id in await adapter.extend_horizon(self.conn, now):
            self.model.meeting_created(meeting_id, now)
        await adapter.snapshot_months(self.conn, now)
        await adapter.plan_checkin_nudges(self.conn, now)
        await adapter.plan_nudges_in_reach(self.conn, now)
        # At once: a month shown is judged by who contributed when it closed (a member who
        # deletes their data later leaves a closed month's snapshot as it is).
        await self.checker.check_snapshots()
        self.periodics += 1
        if self.periodics % FULL_CHECK_EVERY == 0:
            await self.checker.check_plan()
            await self.checker.check_planned_extras()

    # --- the loop ----------------------------------------------------------------------------

    async def run(self) -> Result:
        capture = LogCapture()
        root = logging.getLogger("bot")
        root.addHandler(capture)
        old_level = root.level
        root.setLevel(logging.DEBUG)
        try:
            await self.start()
            await self.build()
            self.faults_on = True
            await self.loop()
            await self.settle()
            self.final_meetings = await adapter.all_meetings(self.dconn)
            await self.checker.at_end(capture.lines)
        finally:
            root.removeHandler(capture)
            root.setLevel(old_level)
            for task in self.abandoned:
                task.cancel()
            if self.abandoned:
                await asyncio.gather(*self.abandoned, return_exceptions=True)
            await self.conn.close()
            await self.dconn.close()
        faults = sum(v for k, v in self.discord.faults.items() if not k.startswith("kill"))
        return Result(
            seed=self.o.seed,
            days=self.o.days,
            groups=self.o.groups,
            events=self.events,
            deliveries=len(self.discord.received),
            faults=faults,
            kills=self.kills,
            violations=self.checker.violations,
            story=self.story,
        )

    def _next_op_after(self, now: datetime) -> datetime:
        mean_seconds = 86400 / (self.o.groups * self.o.ops)
        return now + timedelta(seconds=math.ceil(self.rng.expovariate(1 / mean_seconds)))

    async def loop(self) -> None:
        next_op = self._next_op_after(self.clock.now())
        next_periodic = self.clock.now()
        sweep: datetime | None = None
        while True:
            due = await adapter.next_due(self.dconn)
            candidates = [next_op, next_periodic]
            if due is not None:
                candidates.append(max(due, self.clock.now()))
            if sweep is not None:
                candidates.append(sweep)
            at = min(candidates)
            if at >= self.end:
                return
            self.clock.set(max(at, self.clock.now()))
            if at == next_op:
                before = len(self.model.downtime)
                await self.operation()
                next_op = self._next_op_after(self.clock.now())
                if len(self.model.downtime) != before:
                    next_periodic = max(next_periodic, self.clock.now())
            elif at == next_periodic:
                await self.periodic()
                next_periodic += PERIODIC_EVERY
            sweep = None
            await self.cycle()
            if await adapter.in_doubt_count(self.dconn):
                sweep = self.clock.now() + SWEEP_AFTER

    async def settle(self) -> None:
        """No more operations: let every row reach its end (what is due goes, the rest lapses),
        still under faults, so every row can be judged."""
        self.say("settling: no more operations")
        limit = self.clock.now() + SETTLE_FOR
        while True:
            await self.cycle()
            if await adapter.in_doubt_count(self.dconn):
                self.clock.advance(SWEEP_AFTER)
                continue
            due = await adapter.next_due(self.dconn)
            if due is None or due > limit:
                return
            self.clock.set(max(due, self.clock.now()))


async def run_seed(options: Options) -> Result:
    with tempfile.TemporaryDirectory(
        prefix=f"holdfast-sim-{options.seed}-", dir=FAST_DISK
    ) as folder:
        return await Simulation(options, Path(folder)).run()

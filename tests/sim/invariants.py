"""The invariants (issue 15, 1–8), over everything the in-memory Discord received and the
database, after every step where cheap and at the end. Each violation names its invariant,
the simulated time and the message or row it is about.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.delivery.outbox import parse
from bot.errors import NotFound
from bot.meetings.model import Answer, Meeting
from tests.sim import adapter
from tests.sim.memdiscord import Received

if TYPE_CHECKING:
    from tests.sim.run import Simulation

MEETING_KINDS = {
    "announcement",
    "meeting_changed",
    "meeting_notice",
    "waitlist_promoted",
    "reminder",
    "nudge",
    "rota_ask",
    "rota_escalation",
    "snooze",
    "rota_handover_offer",
    "interest_join",
}
# About a meeting, but after it: judged by their own rules (check_after_meeting).
AFTER_KINDS = {"missed_you", "attendance_ask"}
# A member's own messages about a meeting, with the member's id in the key's third part.
KEYED_BY_MEMBER = {"reminder", "nudge", "snooze", "missed_you"}
# Planning's documented late limit for a cancellation (bot/delivery/planners.py).
CANCELLATION_WINDOW = timedelta(hours=2)
DEFAULT_LEADS = ("7d", "1d", "2h")
TERMINAL = {"sent", "skipped", "failed", "cancelled"}
NOTE_PREFIX = "private-note-"
"""Every note the simulation writes starts so (and holds a random part), so a message or log
line is searched for the notes only when it could hold one."""


def resolve(wall: datetime, zone: ZoneInfo) -> datetime:
    """A local wall time as an instant, by the design's DST rule (a time the clocks skip moves
    forward by the gap; a repeated one takes the first), worked out here from the zone alone."""
    first = wall.replace(tzinfo=zone, fold=0)
    back = first.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None)
    if back != wall:  # in the gap: the clocks jumped over it
        # Forward by the gap: the wall time read with the offset in force before the jump
        # (01:30 on London's spring-forward day is 01:30 UTC, shown as 02:30 BST). fold=1
        # would read it with the offset after the jump, an hour back (00:30 UTC).
        before = (wall - timedelta(days=1)).replace(tzinfo=zone).utcoffset()
        assert before is not None
        return (wall - before).replace(tzinfo=ZoneInfo("UTC"))
    return first.astimezone(ZoneInfo("UTC"))


def lead_base(start: datetime, lead: str, zone: str) -> datetime:
    """When a lead's reminder is due, from the calendar alone: "Nd" is the same local wall
    time N days earlier; hours and minutes are real time."""
    amount, unit = int(lead[:-1]), lead[-1]
    if unit == "d":
        tz = ZoneInfo(zone)
        wall = start.astimezone(tz).replace(tzinfo=None) - timedelta(days=amount)
        return resolve(wall, tz)
    return start - timedelta(hours=amount) if unit == "h" else start - timedelta(minutes=amount)


def lead_code(lead: str) -> str:
    amount, unit = int(lead[:-1]), lead[-1]
    return lead if unit == "d" else f"{amount * (60 if unit == 'h' else 1)}m"


def in_quiet(at: datetime, quiet: tuple[object, object], zone: str) -> tuple[bool, datetime]:
    """Whether `at` falls in the quiet hours (local wall clock in `zone`), and when that quiet
    period ends."""
    start, end = quiet
    tz = ZoneInfo(zone)
    local = at.astimezone(tz)
    for offset in (-1, 0):
        day = (local + timedelta(days=offset)).date()
        begin = resolve(datetime.combine(day, start), tz)  # type: ignore[arg-type]
        end_day = day if end > start else day + timedelta(days=1)  # type: ignore[operator]
        finish = resolve(datetime.combine(end_day, end), tz)  # type: ignore[arg-type]
        if begin <= at < finish:
            return True, finish
    return False, at


class Checker:
    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.violations: list[str] = []
        self.seen = 0
        self.by_marker: Counter[str] = Counter()
        self.messages: dict[int, tuple[Received, str, str]] = {}
        """message id → (what arrived, kind, key)."""
        self.snapshots: dict[tuple[int, str], tuple[object, ...]] = {}
        self.misplanned: set[str] = set()
        self.subjects: dict[int, int] = {}
        """message id → the meeting it is about (DMs a member could click on or reply to)."""
        self.starts: dict[int, datetime] = {}
        self.by_key: dict[str, datetime] = {}
        """idempotency key → when its message was last delivered."""
        self.missed: Counter[tuple[int, int]] = Counter()
        self.hinted: dict[int, datetime] = {}

    def fail(self, number: int, text: str, at: datetime | None = None) -> None:
        when = (at or self.sim.clock.now()).strftime("%Y-%m-%d %H:%M:%S")
        line = f"invariant {number}: {when} {text}"
        self.violations.append(line)
        self.sim.story.append(f"{when} VIOLATION {line}")

    # --- after every step --------------------------------------------------------------------

    async def after_step(self) -> None:
        received = self.sim.discord.received
        while self.seen < len(received):
            message = received[self.seen]
            self.seen += 1
            await self.check_message(message)
        for problem in self.sim.discord.limit_violations:
            self.fail(8, f"a request breaks Discord's limits: {problem}")
        self.sim.discord.limit_violations.clear()

    async def check_message(self, r: Received) -> None:
        sim = self.sim
        if NOTE_PREFIX in r.text and any(note in r.text for note in sim.model.notes):
            self.fail(7, f"a check-in note appears in message {r.message_id}", r.at)
        if len(r.markers) != 1:
            self.fail(5, f"message {r.message_id} carries markers {r.markers}", r.at)
            return
        marker = r.markers[0]
        self.by_marker[marker] += 1
        row = await adapter.delivery(sim.dconn, int(marker[1:]))
        if row is None:
            self.fail(5, f"message {r.message_id} has marker {marker} of no outbox row", r.at)
            return
        to = sim.name(r.dm_user) if r.dm_user else f"channel {r.channel_id}"
        sim.say(f"sent {row.kind} {marker} to {to}: {row.key}")
        self.messages[r.message_id] = (r, row.kind, row.key)
        if self.by_marker[marker] > 1:
            self.fail(1, f"{row.kind} {row.key} ({marker}) is visible twice", r.at)
        before = self.by_key.get(row.key)
        self.by_key[row.key] = r.at
        # /mydata delete forgets a member's deliveries, keys included: after it, a key may
        # come again (e.g. the offer to join, when they click Interested again).
        forgot = sim.model.deleted_at.get(r.dm_user or 0)
        if before is not None and self.by_marker[marker] == 1 and not (forgot and forgot > before):
            self.fail(1, f"{row.kind} {row.key} is delivered a second time ({marker})", r.at)
        if row.kind not in MEETING_KINDS | AFTER_KINDS or row.subject_id is None:
            self.check_handover(r, row.kind, row.key)
            return
        try:
            meeting = await adapter.meeting(sim.dconn, row.subject_id)
        except NotFound:
            self.fail(2, f"{row.kind} {row.key} is about a meeting that no longer exists", r.at)
            return
        self.subjects[r.message_id] = meeting.id
        self.starts[r.message_id] = meeting.starts_at
        if row.kind in AFTER_KINDS:
            self.check_after_meeting(r, row.kind, row.key, meeting)
        else:
            self.check_timing(r, row.kind, row.key, meeting)
        self.check_handover(r, row.kind, row.key)
        self.check_recipient(r, row.kind, row.key, meeting, row.due_at)

    def check_timing(self, r: Received, kind: str, key: str, meeting: Meeting) -> None:
        if r.at < meeting.starts_at:
            return
        cancellation = kind in ("meeting_changed", "meeting_notice") and meeting.cancelled
        if cancellation and r.at < meeting.starts_at + CANCELLATION_WINDOW:
            return
        self.fail(2, f"{kind} {key} sent after the meeting began ({meeting.starts_at})", r.at)

    def check_after_meeting(self, r: Received, kind: str, key: str, meeting: Meeting) -> None:
        """2, for what comes after a meeting: the question to the facilitator and "we missed
        you" go only once it has ended, only while the group notes who came, and never for a
        meeting that was cancelled."""
        if r.at < meeting.ends_at:
            self.fail(2, f"{kind} {key} sent before the meeting ended ({meeting.ends_at})", r.at)
        if meeting.cancelled:
            self.fail(2, f"{kind} {key} sent about a cancelled meeting", r.at)
        if not self.sim.model.attendance_on.get(meeting.group_id, False):
            self.fail(3, f"{kind} {key} sent while the group does not note who came", r.at)

    def check_handover(self, r: Received, kind: str, key: str) -> None:
        """A handover offer goes to the one asked while the offer is open (never once it was
        replaced or answered); the answer goes back to the one who asked, once answered."""
        if kind not in ("rota_handover_offer", "rota_handover_answer"):
            return
        offer = self.sim.model.offers.get(int(key.rsplit(":", 1)[1]))
        if offer is None:
            self.fail(3, f"{kind} {key} about an offer nobody made", r.at)
            return
        if kind == "rota_handover_offer":
            if r.dm_user != offer.to_user:
                self.fail(3, f"{kind} {key} to someone other than the one asked", r.at)
            if offer.state in ("replaced", "accepted", "declined"):
                self.fail(3, f"{kind} {key} sent after the offer was {offer.state}", r.at)
        else:
            if r.dm_user != offer.from_user:
                self.fail(3, f"{kind} {key} to someone other than the one who asked", r.at)
            if offer.state not in ("accepted", "declined"):
                self.fail(3, f"{kind} {key} sent though the offer is {offer.state}", r.at)

    def check_recipient(
        self, r: Received, kind: str, key: str, meeting: Meeting, due_at: datetime
    ) -> None:
        model = self.sim.model
        if kind in KEYED_BY_MEMBER:
            user_id = int(key.split(":")[2])
        elif kind in ("meeting_changed", "waitlist_promoted", "interest_join"):
            assert r.dm_user is not None
            user_id = r.dm_user
        else:
            return
        user = model.users.get(user_id)
        who = self.sim.name(user_id)
        if user is None:
            return
        if kind == "interest_join":
            self.check_join_offer(r, key, meeting, user_id)
            return
        if user.deleted:
            self.fail(3, f"{kind} {key} to {who}, who deleted their data", r.at)
        if user_id not in model.members[meeting.group_id]:
            self.fail(3, f"{kind} {key} to {who}, who had left the group", r.at)
            return
        answer = model.answer_of(meeting.id, user_id)
        if kind in ("reminder", "nudge", "snooze") and user.paused:
            self.fail(3, f"{kind} {key} to {who}, who paused reminders", r.at)
        if kind in ("reminder", "nudge", "snooze", "meeting_changed") and answer is Answer.NO:
            self.fail(3, f"{kind} {key} to {who}, who said Can't make it", r.at)
        if kind == "snooze":
            self.check_snooze(r, key, meeting, user_id)
            return
        if kind == "missed_you":
            self.missed[(meeting.id, user_id)] += 1
            if self.missed[(meeting.id, user_id)] > 1:
                self.fail(1, f"{key}: a second 'we missed you' to {who}", r.at)
            if user_id in model.came.get(meeting.id, set()):
                self.fail(3, f"{key}: 'we missed you' to {who}, who came", r.at)
            if meeting.id not in model.noted:
                self.fail(3, f"{key}: 'we missed you' though nobody noted who came", r.at)
            return
        if kind not in ("reminder", "nudge"):
            return
        if user.quiet is not None:
            zone = user.quiet_zone or meeting.zone
            quiet, ends = in_quiet(r.at, user.quiet, zone)
            # Documented: a reminder planned in quiet hours that end after the meeting starts
            # still goes (never dropped), so only quiet hours that end before it count.
            if quiet and ends < meeting.starts_at:
                self.fail(4, f"{kind} {key} to {who} in their quiet hours ({zone})", r.at)
        elif kind == "reminder" and r.at == due_at:
            lead = key.split(":")[3]
            if lead.endswith("d"):
                expected = lead_base(meeting.starts_at, lead, meeting.zone)
                if expected != r.at:
                    self.fail(
                        4,
                        f"{key}: a {lead} reminder at {r.at:%H:%M} UTC, not at the meeting's "
                        f"local wall time ({expected:%Y-%m-%d %H:%M} UTC)",
                        r.at,
                    )

    def check_snooze(self, r: Received, key: str, meeting: Meeting, user_id: int) -> None:
        """A snooze is the one the member asked for last (a second click replaces the first),
        at the time asked for, and not once they answered Going or Can't make it after
        asking."""
        model = self.sim.model
        asked = model.snoozes.get((meeting.id, user_id))
        due = int(key.split(":")[3])
        who = self.sim.name(user_id)
        if asked is None or int(asked[0].timestamp()) != due:
            self.fail(3, f"{key} to {who}, who had not asked for it (or asked again)", r.at)
            return
        if r.at < asked[0]:
            self.fail(4, f"{key} to {who} before the time asked for ({asked[0]})", r.at)
        found = model.answers.get((meeting.id, user_id))
        if found is not None and found[0] is not Answer.MAYBE and found[1] > asked[1]:
            self.fail(3, f"{key} to {who}, who answered {found[0].value} after asking", r.at)

    def check_join_offer(self, r: Received, key: str, meeting: Meeting, user_id: int) -> None:
        """The offer to join goes to someone not in the group, and never once they deleted
        their data after clicking Interested."""
        model = self.sim.model
        who = self.sim.name(user_id)
        if user_id in model.members[meeting.group_id]:
            self.fail(3, f"{key}: an offer to join to {who}, who is in the group", r.at)
        user = model.users[user_id]
        offered = model.join_offered.get((meeting.group_id, user_id))
        if user.deleted and (offered is None or (user.changed_at or offered) >= offered):
            self.fail(3, f"{key}: an offer to join to {who}, who deleted their data", r.at)

    def check_word_reply(
        self,
        user_id: int,
        text: str,
        replied_about: int | None,
        reply: str | None,
        answered: int | None,
    ) -> None:
        """An answer by a word, replying to a DM about a meeting, answers for that meeting;
        the hint on how to answer comes at most once a day."""
        now = self.sim.clock.now()
        who = self.sim.name(user_id)
        if answered is not None and replied_about is not None and answered != replied_about:
            self.fail(3, f"{who}'s {text!r} replying about m{replied_about} answered m{answered}")
        if reply is not None and reply == adapter.reply_hint():
            last = self.hinted.get(user_id)
            if last is not None and now - last < timedelta(days=1):
                self.fail(8, f"a second hint to {who} within a day (first at {last})")
            self.hinted[user_id] = now

    def check_interest(
        self, meeting_id: int, user_id: int, expected: str, outcome: str | None
    ) -> None:
        """Discord's Interested counts as Maybe only for a member with no answer of their own,
        and taking it back removes that Maybe and no other answer."""
        if (outcome or "nothing") != expected:
            who = self.sim.name(user_id)
            self.fail(3, f"{who}'s Interested on m{meeting_id}: {outcome}, not {expected}")

    def check_topic_change(self, meeting_id: int, changed: list[tuple[int, str]]) -> None:
        """A topic change tells nobody: it plans, moves and cancels no delivery."""
        for row_id, what in changed:
            self.fail(2, f"setting m{meeting_id}'s topic changed d{row_id}: {what}")

    async def check_plan(self, user_id: int | None = None) -> None:
        """3, as planned: after each change, no reminder or nudge waits for someone who has
        left the group, said Can't make it (that meeting) or paused. (The renderers check again
        at send time; this catches planning that forgot, before the renderer hides it.)"""
        model = self.sim.model
        groups = model.ever_in.get(user_id, set()) if user_id is not None else set()
        now = self.sim.clock.now()
        for row in await adapter.pending_member_rows(self.sim.conn, now, user_id, groups):
            key, kind = str(row["idempotency_key"]), str(row["kind"])
            if key in self.misplanned:
                continue  # said once is enough
            if row["attempts"]:
                # An attempt may have reached Discord: planning leaves the row to the
                # dispatcher's look (retired, it is settled, never sent anew).
                continue
            meeting_id, user_id = int(key.split(":")[1]), int(key.split(":")[2])
            user = model.users.get(user_id)
            who = self.sim.name(user_id)
            if user is None:
                continue
            why = None
            if user_id not in model.members[int(row["group_id"])]:
                why = "has left the group"
            elif user.paused:
                why = "paused reminders"
            elif model.answer_of(meeting_id, user_id) is Answer.NO:
                why = "said Can't make it"
            if why is not None:
                self.misplanned.add(key)
                self.fail(3, f"{kind} {key} still planned for {who}, who {why}")

    async def check_planned_extras(self, user_id: int | None = None) -> None:
        """3, as planned, for what a member or facilitator asked for: no snooze waits for
        someone who has left, or who answered Going or Can't make it after asking (the renderer
        catches only Can't make it); no handover offer waits once it was replaced or answered
        (the renderer would hide it)."""
        model = self.sim.model
        groups = model.ever_in.get(user_id, set()) if user_id is not None else set(model.members)
        now = self.sim.clock.now()
        for row in await adapter.pending_extra_rows(self.sim.conn, now, groups):
            key, kind = str(row["idempotency_key"]), str(row["kind"])
            if key in self.misplanned or row["attempts"]:
                continue  # said once is enough; an attempted row is the dispatcher's to settle
            why = None
            if kind == "snooze":
                meeting_id, user_id = int(key.split(":")[1]), int(key.split(":")[2])
                asked = model.snoozes.get((meeting_id, user_id))
                found = model.answers.get((meeting_id, user_id))
                if user_id not in model.members[int(row["group_id"])]:
                    why = f"for {self.sim.name(user_id)}, who has left the group"
                elif asked is None or int(asked[0].timestamp()) != int(key.split(":")[3]):
                    why = f"for {self.sim.name(user_id)}, who asked again or never asked"
                elif found and found[0] is not Answer.MAYBE and found[1] > asked[1]:
                    why = f"for {self.sim.name(user_id)}, who answered {found[0].value} since"
            else:
                offer = model.offers.get(int(key.rsplit(":", 1)[1]))
                if offer is not None and offer.state in ("replaced", "accepted", "declined"):
                    why = f"though the offer was {offer.state}"
            if why is not None:
                self.misplanned.add(key)
                self.fail(3, f"{kind} {key} still planned {why}")

    async def check_snapshots(self) -> None:
        """6: a closed month's snapshot never changes; a month shown has K others besides any
        viewer (K + 1 members in all)."""
        found = await adapter.snapshots(self.sim.conn)
        for key, values in found.items():
            before = self.snapshots.get(key)
            if before is None:
                self.snapshots[key] = values
                members = len(self.sim.model.contributors.get(key, set()))
                if values[0] and members < adapter.PRIVACY_K + 1:
                    self.fail(6, f"group {key[0]} month {key[1]} shown with {members} members")
            elif before != values:
                self.fail(6, f"group {key[0]} month {key[1]}'s snapshot changed")

    # --- at the end --------------------------------------------------------------------------

    async def at_end(self, log_lines: list[str]) -> None:
        await self.after_step()
        await self.check_snapshots()
        rows = await adapter.all_rows(self.sim.dconn)
        visible = {r.message_id for r in self.sim.discord.received}
        for row in rows:
            state, marker = row["state"], f"d{row['id']}"
            what = f"{row['kind']} {row['idempotency_key']} ({marker})"
            overdue = state == "pending" and parse(row["next_attempt_at"]) <= self.sim.clock.now()
            if state == "sending" or overdue:
                self.fail(5, f"{what} is left {state}")
            if state in ("skipped", "failed") and not row["last_error"]:
                self.fail(5, f"{what} ends {state} with no reason")
            if state == "sent" and row["sent_message_id"] not in visible:
                self.fail(5, f"{what} is recorded sent but Discord has no such message")
            if state != "sent" and self.by_marker[marker]:
                self.fail(5, f"{what} ends {state} but its message is visible")
        for line in log_lines:
            if NOTE_PREFIX in line and any(note in line for note in self.sim.model.notes):
                self.fail(7, "a check-in note appears in the logs")
        self.check_delivered()

    def check_delivered(self) -> None:
        """1, the 'not lost' half: where nothing changed for a day before a reminder was due
        until the meeting began (the member, their answer and settings, the meeting, the bot
        up), the reminder for each lead was delivered exactly once."""
        sim = self.sim
        delivered = Counter(key.rsplit(":", 1)[0] for _r, _k, key in self.messages.values())
        for meeting_id, meeting in sim.final_meetings.items():
            if meeting.cancelled or meeting.starts_at > sim.end or meeting.capacity is not None:
                continue
            touched = sim.model.meeting_changed.get(meeting_id)
            for (m, user_id), (answer, answered_at) in sim.model.answers.items():
                if m != meeting_id or answer not in (Answer.GOING, Answer.MAYBE):
                    continue
                user = sim.model.users[user_id]
                if user.paused or user.quiet is not None or user.deleted:
                    continue
                if user.via == "dm" and sim.discord.dms_closed(user_id):
                    continue
                since = sim.model.member_since.get((meeting.group_id, user_id))
                if since is None:
                    continue
                for lead in user.leads or DEFAULT_LEADS:
                    base = lead_base(meeting.starts_at, lead, meeting.zone)
                    stable = base - timedelta(days=1)
                    if stable < sim_start() or touched is None or touched >= stable:
                        continue
                    if max(answered_at, since, user.changed_at or stable) >= stable:
                        continue
                    if sim.model.was_down(stable, meeting.starts_at):
                        continue
                    prefix = f"remind:{meeting_id}:{user_id}:{lead_code(lead)}"
                    if delivered[prefix] == 0:
                        self.fail(
                            1,
                            f"{prefix} (meeting at {meeting.starts_at:%Y-%m-%d %H:%M} UTC) "
                            "was wanted and due but never delivered",
                            base,
                        )


def sim_start() -> datetime:
    from tests.sim.run import START

    return START

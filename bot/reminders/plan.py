"""Planning reminders, nudges and the rota: meeting + answers + preferences → deliveries.

`plan_member_deliveries` and `plan_rota_deliveries` are pure (no database, no clock): the same
facts always give the same plan, which is what makes re-planning after any change safe.
`replan_reminders` reads the facts and hands the plan to the outbox inside the caller's
transaction (pending rows replaced, sent rows never touched). `reminder_times` is the one place
a lead becomes an instant; `python -m bot preview-schedule --leads` prints what it returns.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from bot.db import Step, run_steps, transaction
from bot.delivery.outbox import PlannedDelivery, iso, parse, replan_many
from bot.delivery.port import Destination
from bot.delivery.replanning import MeetingChanged, MeetingDeleted, MembershipChanged, Registry
from bot.groups import service as groups
from bot.groups.model import Group
from bot.meetings.model import Answer, Meeting
from bot.meetings.queries import get_meeting, get_meeting_and_group
from bot.meetings.recurrence import Lead, lead_instant, lead_length, resolve_local
from bot.reminders import prefs as prefs_store
from bot.reminders.model import (
    NUDGE,
    REMINDER,
    ROTA_ASK,
    ROTA_ESCALATION,
    ROTA_HANDOVER_ANSWER,
    ROTA_HANDOVER_OFFER,
    Prefs,
    QuietHours,
    ReminderPolicy,
)
from bot.state import SELECT_STATE, read_state, write_state
from bot.zones import load_zone

# What planning reads of the preferences of a member who never chose: the defaults (its id is
# never read; the recipient's own is).
NEVER_CHOSE = Prefs(user_id=0)
ANSWERS = {answer.value: answer for answer in Answer}

# A meeting's nudges (to members who have not answered) are planned once it is this much closer
# than the nudge itself, not when it is first stored months ahead: a new series then writes one
# row per member for its next meeting or two instead of four, and nothing waits in the outbox
# for months. The sweep (`plan_nudges_in_reach`, hourly and at start-up) plans them as meetings
# come within reach, with weeks to spare even after downtime.
NUDGES_PLANNED_AHEAD = timedelta(days=18)


def nudges_reach(policy: ReminderPolicy) -> timedelta:
    """How close a meeting is when its nudges are planned: NUDGES_PLANNED_AHEAD before the
    nudge is due with a day to spare (22 days before the meeting with the default 3 days)."""
    if policy.nudge is None:
        return NUDGES_PLANNED_AHEAD
    # A day's slack over the lead's length: a lead in days is a wall-clock time, which a clock
    # change moves by an hour.
    return lead_length(policy.nudge) + timedelta(days=1) + NUDGES_PLANNED_AHEAD


NUDGES_IN_REACH_KEY = "reminders:nudges_planned_until"
"""Where the sweep has reached: meetings starting by then have their nudges planned."""
_REACH_KEY = {"key": NUDGES_IN_REACH_KEY}


def nudges_line(now: datetime, policy: ReminderPolicy) -> datetime:
    """Meetings starting by this instant have their nudges planned: `nudges_reach` from the
    hour `now` is in, so the line moves (and is written) once an hour, not at every run."""
    return now.replace(minute=0, second=0, microsecond=0) + nudges_reach(policy)


# A reminder moved out of quiet hours goes this long before they begin, so a little dispatch
# delay never carries it into them.
QUIET_MARGIN = timedelta(minutes=5)

# Only some members (an answer, someone joining): what planning reads does not grow with the
# group.
# Some members' facts in one read (an answer, a preference): whether they are in the group,
# their answer, whether they opted in to every meeting, and their preferences.
# The meeting's group is found from the meeting, so this read goes with the meeting's own. The
# members are looked up by id (`+gm.group_id` keeps SQLite from walking the whole group's
# members in joining order instead, which would grow with the group).
SELECT_SOME_RECIPIENTS = """
SELECT gm.user_id AS user_id,
       (SELECT r.answer FROM rsvps AS r
        WHERE r.meeting_id = :meeting_id AND r.user_id = gm.user_id) AS answer,
       EXISTS (SELECT 1 FROM reminder_optins AS o
               WHERE o.group_id = gm.group_id AND o.user_id = gm.user_id) AS opted_in,
       p.user_id AS chose, p.leads, p.via, p.paused, p.quiet_start, p.quiet_end, p.timezone,
       p.nudge, p.missed_you
FROM group_members AS gm
LEFT JOIN reminder_prefs AS p ON p.user_id = gm.user_id
WHERE +gm.group_id = (
          SELECT s.group_id
          FROM meetings AS m
          JOIN series AS s ON s.id = m.series_id
          WHERE m.id = :meeting_id
      )
  AND gm.user_id IN (SELECT value FROM json_each(:user_ids))
ORDER BY gm.joined_at, gm.user_id
"""

# Every member's facts in one read (a whole meeting re-planned): as SELECT_SOME_RECIPIENTS,
# for the whole group.
SELECT_ALL_RECIPIENTS = """
SELECT gm.user_id AS user_id, r.answer AS answer, o.user_id IS NOT NULL AS opted_in,
       p.user_id AS chose, p.leads, p.via, p.paused, p.quiet_start, p.quiet_end, p.timezone,
       p.nudge, p.missed_you
FROM group_members AS gm
LEFT JOIN rsvps AS r ON r.meeting_id = :meeting_id AND r.user_id = gm.user_id
LEFT JOIN reminder_optins AS o ON o.group_id = gm.group_id AND o.user_id = gm.user_id
LEFT JOIN reminder_prefs AS p ON p.user_id = gm.user_id
WHERE gm.group_id = :group_id
ORDER BY gm.joined_at, gm.user_id
"""

SELECT_ROTA = """
SELECT facilitator_user_id, confirmed_at
FROM rota
WHERE meeting_id = :meeting_id
"""

SELECT_HANDOVERS = """
SELECT id, from_user_id, to_user_id, state, offered_at, answered_at
FROM rota_handovers
WHERE meeting_id = :meeting_id AND state IN ('open', 'accepted', 'declined')
ORDER BY id
"""

SELECT_UPCOMING_FOR_MEMBER = """
SELECT m.id
FROM meetings AS m
JOIN series AS s ON s.id = m.series_id
JOIN group_members AS gm ON gm.group_id = s.group_id
WHERE gm.user_id = :user_id AND m.starts_at > :now AND m.cancelled_at IS NULL
ORDER BY m.starts_at, m.id
"""

# Meetings that came within `nudges_reach` since the sweep last ran.
SELECT_COMING_INTO_REACH = """
SELECT m.starts_at, m.id
FROM meetings AS m
WHERE m.starts_at > :since AND m.starts_at <= :until AND m.starts_at > :now
  AND m.cancelled_at IS NULL
ORDER BY m.starts_at, m.id
"""

SELECT_UPCOMING_FOR_GROUP = """
SELECT m.id
FROM meetings AS m
JOIN series AS s ON s.id = m.series_id
WHERE s.group_id = :group_id AND m.starts_at > :now AND m.cancelled_at IS NULL
ORDER BY m.starts_at, m.id
"""


@dataclass(slots=True)
class Recipient:
    """A member of the meeting's group and what they told us (thousands are read at once:
    plain slots, and no preferences of their own for those who never chose)."""

    user_id: int
    answer: Answer | None
    opted_in: bool
    chose: Prefs | None = None
    """Their own preferences; None: they never chose, the defaults apply."""


@dataclass(frozen=True)
class RotaFacts:
    facilitator_id: int | None
    confirmed: bool


@dataclass(frozen=True)
class HandoverFacts:
    """One handover offer of a meeting, as planning needs it (bot/reminders/handover.py)."""

    id: int
    from_user_id: int
    to_user_id: int
    state: str
    """open, accepted or declined (replaced offers plan nothing)."""
    offered_at: datetime
    answered_at: datetime | None


def register(registry: Registry, policy: ReminderPolicy) -> None:
    """What reminders plan for which subject, with the admin's settings (`policy`): members'
    reminders and nudges and the rota's messages follow every change to a meeting, an answer
    re-plans the member's own part, joining or leaving re-plans the member's part of every
    meeting still to come."""

    async def on_meeting_changed(
        conn: aiosqlite.Connection, subject: MeetingChanged, now: datetime
    ) -> None:
        await replan_reminders(conn, subject.meeting_id, now, policy, subject.user_ids)

    async def on_meeting_deleted(
        conn: aiosqlite.Connection, subject: MeetingDeleted, now: datetime
    ) -> None:
        await forget_reminders(conn, subject.meeting_id, now)

    async def on_membership_changed(
        conn: aiosqlite.Connection, subject: MembershipChanged, now: datetime
    ) -> None:
        await replan_for_group(conn, subject.group_id, subject.user_ids, now, policy)

    registry.register(MeetingChanged, "reminders", on_meeting_changed)
    registry.register(MeetingDeleted, "reminders", on_meeting_deleted)
    registry.register(MembershipChanged, "reminders", on_membership_changed)


def reminder_times(start_utc: datetime, leads: Sequence[Lead], zone: str) -> list[datetime]:
    """When each lead's reminder is due, in the order given (before quiet hours)."""
    return [lead_instant(start_utc, lead, zone) for lead in leads]


def lead_code(lead: Lead) -> str:
    """A lead's stable name in keys ("60m" and "1h" are one lead)."""
    minutes = {"d": 1440, "h": 60, "m": 1}[lead.unit] * lead.amount
    return f"{lead.amount}d" if lead.unit == "d" else f"{minutes}m"


def quiet_window(instant: datetime, quiet: QuietHours, zone: str) -> tuple[datetime, datetime]:
    """The quiet period (UTC start, end) that contains `instant`, if any; else the empty
    window (instant, instant)."""
    tz = load_zone(zone)
    local_day = instant.astimezone(tz).date()
    for offset in (-1, 0):
        day = local_day + timedelta(days=offset)
        start = resolve_local(datetime.combine(day, quiet.start), tz)
        end_day = day if quiet.end > quiet.start else day + timedelta(days=1)
        end = resolve_local(datetime.combine(end_day, quiet.end), tz)
        if start <= instant < end:
            return start, end
    return instant, instant


def outside_quiet_hours(
    due: datetime, prefs: Prefs, zone: str, now: datetime, latest: datetime
) -> datetime:
    """Move a due time out of the member's quiet hours: to just before they begin; if that
    has passed already, to when they end (if still before `latest`); never dropped."""
    if prefs.quiet is None:
        return due
    start, end = quiet_window(due, prefs.quiet, prefs.timezone or zone)
    if start == end:
        return due
    if start - QUIET_MARGIN >= now:
        return start - QUIET_MARGIN
    if end < latest:
        return max(end, now)
    return max(due, now)


def reminders_scope(meeting_id: int, user_id: int) -> str:
    """One scope per member per meeting, so one member's change re-plans only their rows."""
    return f"meeting:{meeting_id}:reminders:{user_id}"


# Reminders already due and not yet sent (the dispatcher is on its way, or the bot was down).
SELECT_OVERDUE = """
SELECT idempotency_key, due_at
FROM outbox
WHERE scope >= :low AND scope < :high AND state = 'pending' AND due_at <= :now
"""

SELECT_OVERDUE_IN_SCOPES = """
SELECT idempotency_key, due_at
FROM outbox
WHERE scope IN (SELECT value FROM json_each(:scopes)) AND state = 'pending' AND due_at <= :now
"""

SELECT_PENDING_SCOPES = """
SELECT DISTINCT scope
FROM outbox
WHERE scope >= :low AND scope < :high AND state = 'pending'
"""


def rota_scope(meeting_id: int) -> str:
    return f"meeting:{meeting_id}:rota"


def handover_scope(meeting_id: int) -> str:
    """Handover offers and answers: no person's id in the scope or keys (only in user_id)."""
    return f"meeting:{meeting_id}:handover"


def handover_offer_key(offer_id: int) -> str:
    return f"handover-offer:{offer_id}"


def handover_answer_key(offer_id: int) -> str:
    return f"handover-answer:{offer_id}"


def offer_id_of(delivery_key: str) -> int:
    """The offer a handover delivery is about (its key's last segment)."""
    return int(delivery_key.rsplit(":", 1)[1])


def reminder_key_prefix(meeting_id: int, user_id: int) -> str:
    return f"remind:{meeting_id}:{user_id}:"


def plan_member_deliveries(
    meeting: Meeting,
    group: Group,
    recipients: Sequence[Recipient],
    policy: ReminderPolicy,
    now: datetime,
    overdue: Mapping[str, datetime] | None = None,
    nudges_until: datetime | None = None,
) -> list[PlannedDelivery]:
    """Reminders for those who said Going or Maybe (or opted in to every meeting), and one
    nudge for those who have not answered (once the meeting starts by `nudges_until`, where
    the sweep has reached; by default within `nudges_reach` of now). Can't make it, the
    waitlist and a pause stop them; nothing new is planned for a time already past or after
    the meeting starts.

    `overdue` (key → due time) are reminders already due and not yet sent: they stay as they
    are while the member still wants them, so a change made while a fan-out is under way (or
    before the late ones go out after downtime) never drops them."""
    overdue = overdue or {}
    if meeting.cancelled or group.archived or meeting.starts_at <= now:
        return []
    start = meeting.starts_at
    stamp = int(start.timestamp())
    planned: list[PlannedDelivery] = []

    in_channel = Destination(channel_id=group.announce_channel_id)

    guild_id, meeting_id = group.guild_id, meeting.id

    def add(key: str, kind: str, destination: Destination, due: datetime, scope: str) -> None:
        planned.append(
            PlannedDelivery(key, scope, kind, destination, due, start, guild_id, meeting_id)
        )

    # Most members share the server's leads: their times are worked out once per meeting.
    timed_by_leads: dict[tuple[Lead, ...], list[tuple[str, datetime]]] = {}

    def timed_leads(leads: tuple[Lead, ...]) -> list[tuple[str, datetime]]:
        if leads not in timed_by_leads:
            # Closest lead first: if quiet hours push two onto one instant, the nearer stays.
            timed = sorted(
                zip(leads, reminder_times(start, leads, meeting.zone), strict=True),
                key=lambda pair: pair[1],
                reverse=True,
            )
            timed_by_leads[leads] = [(lead_code(lead), base) for lead, base in timed]
        return timed_by_leads[leads]

    by_default: list[tuple[str, datetime]] = []
    nudge_base = lead_instant(start, policy.nudge, meeting.zone) if policy.nudge else None
    if nudges_until is None:
        nudges_until = nudges_line(now, policy)
    nudges_in_reach = start <= nudges_until
    for recipient in sorted(recipients, key=lambda r: r.user_id):
        user_id, prefs = recipient.user_id, recipient.chose or NEVER_CHOSE
        if prefs.paused or recipient.answer in (Answer.NO, Answer.WAITLIST):
            continue
        scope = reminders_scope(meeting.id, user_id)
        # One destination per member, whatever they are sent (thousands are planned at once).
        to = in_channel if prefs.via == "channel" else Destination(user_id=user_id)
        if recipient.answer in (Answer.GOING, Answer.MAYBE) or recipient.opted_in:
            seen: set[datetime] = set()
            prefix = reminder_key_prefix(meeting.id, user_id)
            if prefs.leads is not None:
                timed = timed_leads(prefs.leads)
            else:  # most members: the server's leads, looked up once
                timed = by_default = by_default or timed_leads(policy.leads)
            for code, base in timed:
                key = f"{prefix}{code}:{stamp}"
                if key in overdue:
                    due = overdue[key]
                elif base < now:
                    continue
                else:
                    due = outside_quiet_hours(base, prefs, meeting.zone, now, start)
                if due in seen or due >= start:
                    continue
                seen.add(due)
                add(key, REMINDER, to, due, scope)
        elif recipient.answer is None and prefs.nudge and nudge_base is not None:
            key = f"nudge:{meeting.id}:{user_id}:{stamp}"
            base = nudge_base
            if key in overdue:
                add(key, NUDGE, to, overdue[key], scope)
            elif base >= now and nudges_in_reach:
                due = outside_quiet_hours(base, prefs, meeting.zone, now, start)
                add(key, NUDGE, to, due, scope)
    return planned


def plan_rota_deliveries(
    meeting: Meeting, group: Group, rota: RotaFacts, policy: ReminderPolicy, now: datetime
) -> list[PlannedDelivery]:
    """Ask the assigned facilitator to confirm; escalate (once) when nobody has confirmed by
    the second deadline, or nobody is assigned."""
    if meeting.cancelled or group.archived or meeting.starts_at <= now or rota.confirmed:
        return []
    start = meeting.starts_at
    stamp = int(start.timestamp())
    scope = rota_scope(meeting.id)
    escalate_at = lead_instant(start, policy.rota_escalate, meeting.zone)
    planned: list[PlannedDelivery] = []
    if rota.facilitator_id is not None:
        ask_at = lead_instant(start, policy.rota_ask, meeting.zone)
        if ask_at < escalate_at and escalate_at > now:
            planned.append(
                PlannedDelivery(
                    key=f"rota-ask:{meeting.id}:{rota.facilitator_id}:{stamp}",
                    scope=scope,
                    kind=ROTA_ASK,
                    destination=Destination(user_id=rota.facilitator_id),
                    due_at=max(ask_at, now),
                    not_after=escalate_at,
                    guild_id=group.guild_id,
                    subject_id=meeting.id,
                )
            )
    for admin_id in policy.admins:
        planned.append(
            PlannedDelivery(
                key=f"rota-escalate:{meeting.id}:{stamp}:admin:{admin_id}",
                scope=scope,
                kind=ROTA_ESCALATION,
                destination=Destination(user_id=admin_id),
                due_at=max(escalate_at, now),
                not_after=start,
                guild_id=group.guild_id,
                subject_id=meeting.id,
            )
        )
    planned.append(
        PlannedDelivery(
            key=f"rota-escalate:{meeting.id}:{stamp}",
            scope=scope,
            kind=ROTA_ESCALATION,
            destination=Destination(
                channel_id=group.facilitator_channel_id or group.announce_channel_id
            ),
            due_at=max(escalate_at, now),
            not_after=start,
            guild_id=group.guild_id,
            subject_id=meeting.id,
        )
    )
    return planned


def plan_handover_deliveries(
    meeting: Meeting,
    group: Group,
    rota: RotaFacts,
    offers: Sequence[HandoverFacts],
    now: datetime,
) -> list[PlannedDelivery]:
    """The open offer goes to the facilitator asked (while the one who asked still holds the
    meeting); each answer goes back to the one who asked. Nothing once the meeting has started
    or was cancelled: an offer expires when its meeting starts."""
    if meeting.cancelled or group.archived or meeting.starts_at <= now:
        return []
    planned: list[PlannedDelivery] = []
    for offer in offers:
        if offer.state == "open":
            if rota.facilitator_id != offer.from_user_id:
                continue  # the rota changed since: nothing to offer any more
            key, kind, to, due = (
                handover_offer_key(offer.id),
                ROTA_HANDOVER_OFFER,
                offer.to_user_id,
                offer.offered_at,
            )
        else:
            assert offer.answered_at is not None
            key, kind, to, due = (
                handover_answer_key(offer.id),
                ROTA_HANDOVER_ANSWER,
                offer.from_user_id,
                offer.answered_at,
            )
        planned.append(
            PlannedDelivery(
                key=key,
                scope=handover_scope(meeting.id),
                kind=kind,
                destination=Destination(user_id=to),
                due_at=min(due, meeting.starts_at),
                not_after=meeting.starts_at,
                guild_id=group.guild_id,
                subject_id=meeting.id,
            )
        )
    return planned


async def recipients_for(
    conn: aiosqlite.Connection, meeting: Meeting, group: Group
) -> list[Recipient]:
    """The meeting's group's members and what each told us, in one read whatever the group's
    size (a few named members: SELECT_SOME_RECIPIENTS, read with the meeting in
    `replan_reminders`)."""
    params = {"meeting_id": meeting.id, "group_id": group.id}
    async with conn.execute(SELECT_ALL_RECIPIENTS, params) as cursor:
        return _some_recipients(await cursor.fetchall())


def _some_params(meeting_id: int, only: set[int]) -> dict[str, object]:
    return {"meeting_id": meeting_id, "user_ids": json.dumps(sorted(only))}


def _some_recipients(rows: Iterable[aiosqlite.Row]) -> list[Recipient]:
    return [
        Recipient(
            int(row["user_id"]),
            ANSWERS[row["answer"]] if row["answer"] is not None else None,
            bool(row["opted_in"]),
            prefs_store.from_row(row) if row["chose"] is not None else None,
        )
        for row in rows
    ]


async def rota_facts(conn: aiosqlite.Connection, meeting_id: int) -> RotaFacts:
    async with conn.execute(SELECT_ROTA, {"meeting_id": meeting_id}) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return RotaFacts(None, confirmed=False)
    return RotaFacts(int(row[0]), confirmed=row[1] is not None)


async def handover_facts(conn: aiosqlite.Connection, meeting_id: int) -> list[HandoverFacts]:
    async with conn.execute(SELECT_HANDOVERS, {"meeting_id": meeting_id}) as cursor:
        rows = await cursor.fetchall()
    return [
        HandoverFacts(
            id=int(row["id"]),
            from_user_id=int(row["from_user_id"]),
            to_user_id=int(row["to_user_id"]),
            state=str(row["state"]),
            offered_at=parse(row["offered_at"]),
            answered_at=parse(row["answered_at"]) if row["answered_at"] is not None else None,
        )
        for row in rows
    ]


async def _rota_plans(
    conn: aiosqlite.Connection,
    meeting: Meeting,
    group: Group,
    policy: ReminderPolicy,
    now: datetime,
) -> dict[str, list[PlannedDelivery]]:
    """The rota's scopes: the ask and escalations, and handover offers and answers."""
    rota = await rota_facts(conn, meeting.id)
    offers = await handover_facts(conn, meeting.id)
    return {
        rota_scope(meeting.id): plan_rota_deliveries(meeting, group, rota, policy, now),
        handover_scope(meeting.id): plan_handover_deliveries(meeting, group, rota, offers, now),
    }


async def replan_reminders(
    conn: aiosqlite.Connection,
    meeting_id: int,
    now: datetime,
    policy: ReminderPolicy,
    user_ids: Sequence[int] | None = None,
) -> None:
    """Bring a meeting's reminders, nudges and rota messages in line with how things are
    now; `user_ids` limits the members' part to those people (an answer, a preference).
    Runs inside the caller's transaction, in one pass over every member's scope: the facts
    are read once, the plan made in memory, and the outbox given the difference."""
    only = set(user_ids) if user_ids is not None else None
    prefix = reminders_scope(meeting_id, 0)[:-1]
    low, high = prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)
    if only is None:
        meeting = await get_meeting(conn, meeting_id)
        group = await groups.get_group(conn, meeting.group_id)
        recipients = await recipients_for(conn, meeting, group)
        params: dict[str, object] = {"low": low, "high": high, "now": iso(now)}
        [overdue_rows, reach_rows] = await run_steps(
            conn, [Step(SELECT_OVERDUE, params), Step(SELECT_STATE, _REACH_KEY)]
        )
    else:
        # Some members (an answer, a preference): everything read in one trip.
        scopes = json.dumps([reminders_scope(meeting_id, user_id) for user_id in sorted(only)])
        meeting, group, [recipient_rows, overdue_rows, reach_rows] = await get_meeting_and_group(
            conn,
            meeting_id,
            Step(SELECT_SOME_RECIPIENTS, _some_params(meeting_id, only)),
            Step(SELECT_OVERDUE_IN_SCOPES, {"scopes": scopes, "now": iso(now)}),
            Step(SELECT_STATE, _REACH_KEY),
        )
        recipients = _some_recipients(recipient_rows)
    overdue = {str(row[0]): parse(row[1]) for row in overdue_rows}
    by_scope: dict[str, list[PlannedDelivery]] = {
        reminders_scope(meeting_id, r.user_id): [] for r in recipients
    }
    # Whoever has rows pending but is no longer a member (or was named) is planned empty.
    if only is None:
        async with conn.execute(SELECT_PENDING_SCOPES, {"low": low, "high": high}) as cursor:
            for row in await cursor.fetchall():
                by_scope.setdefault(str(row[0]), [])
    else:
        for user_id in only:
            by_scope.setdefault(reminders_scope(meeting_id, user_id), [])
    # Every plan between two sweeps draws the line where the sweep left it, so a change to a
    # meeting (a topic, an answer) never plans the nudges the sweep has yet to.
    reached = datetime.fromisoformat(reach_rows[0][0]) if reach_rows else None
    for planned in plan_member_deliveries(
        meeting, group, recipients, policy, now, overdue, reached
    ):
        by_scope[planned.scope].append(planned)
    if only is None:
        by_scope.update(await _rota_plans(conn, meeting, group, policy, now))
    await replan_many(conn, by_scope, now)


async def replan_rota(
    conn: aiosqlite.Connection, meeting_id: int, now: datetime, policy: ReminderPolicy
) -> None:
    """Only the rota's part (an assignment, a confirmation, a handover). Inside the caller's
    transaction."""
    meeting = await get_meeting(conn, meeting_id)
    group = await groups.get_group(conn, meeting.group_id)
    await replan_many(conn, await _rota_plans(conn, meeting, group, policy, now), now)


async def forget_reminders(conn: aiosqlite.Connection, meeting_id: int, now: datetime) -> None:
    """A meeting about to be deleted: nothing pending about it may go out."""
    prefix = reminders_scope(meeting_id, 0)[:-1]
    high = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    async with conn.execute(SELECT_PENDING_SCOPES, {"low": prefix, "high": high}) as cursor:
        scopes = [str(row[0]) for row in await cursor.fetchall()]
    gone = [*scopes, rota_scope(meeting_id), handover_scope(meeting_id)]
    await replan_many(conn, {scope: [] for scope in gone}, now)


async def replan_for_member(
    conn: aiosqlite.Connection, user_id: int, now: datetime, policy: ReminderPolicy
) -> int:
    """After a member's preferences changed: every upcoming meeting of their groups."""
    async with conn.execute(
        SELECT_UPCOMING_FOR_MEMBER, {"user_id": user_id, "now": now.isoformat()}
    ) as cursor:
        meeting_ids = [int(row[0]) for row in await cursor.fetchall()]
    for meeting_id in meeting_ids:
        await replan_reminders(conn, meeting_id, now, policy, [user_id])
    return len(meeting_ids)


async def replan_for_group(
    conn: aiosqlite.Connection,
    group_id: int,
    user_ids: Sequence[int],
    now: datetime,
    policy: ReminderPolicy,
) -> int:
    """After people joined or left a group: their part of every upcoming meeting of it."""
    async with conn.execute(
        SELECT_UPCOMING_FOR_GROUP, {"group_id": group_id, "now": now.isoformat()}
    ) as cursor:
        meeting_ids = [int(row[0]) for row in await cursor.fetchall()]
    for meeting_id in meeting_ids:
        await replan_reminders(conn, meeting_id, now, policy, user_ids)
    return len(meeting_ids)


async def plan_nudges_in_reach(
    conn: aiosqlite.Connection, now: datetime, policy: ReminderPolicy
) -> int:
    """Plan the nudges of meetings that came within `nudges_reach` since the last run (at
    start-up too, so downtime skips none). The line moves one start time at a time, in the
    same transaction as the re-plan of the meetings starting then, so a crash part-way leaves
    it where the work stopped. Returns how many meetings were re-planned."""
    # Meetings store their start as `isoformat()` (no microseconds): compared in that form.
    until = nudges_line(now, policy).isoformat()
    stored = await read_state(conn, NUDGES_IN_REACH_KEY)
    if stored == until:
        return 0
    if stored is not None and stored > until:
        # A shorter reach than last time (a smaller NUDGE_DAYS_BEFORE, a clock set back): the
        # line starts here, and meetings beyond it are swept again as they come within it.
        async with transaction(conn):
            await write_state(conn, NUDGES_IN_REACH_KEY, until, now)
        return 0
    # The first run re-plans every meeting within reach (plans before it drew the line at
    # their own `now + reach`).
    since = stored if stored is not None else now.isoformat()
    params = {"since": since, "until": until, "now": now.isoformat()}
    async with conn.execute(SELECT_COMING_INTO_REACH, params) as cursor:
        rows = [(str(row[0]), int(row[1])) for row in await cursor.fetchall()]
    by_start: dict[str, list[int]] = {}
    for start, meeting_id in rows:
        by_start.setdefault(start, []).append(meeting_id)
    for start, meeting_ids in by_start.items():
        async with transaction(conn):
            await write_state(conn, NUDGES_IN_REACH_KEY, start, now)
            for meeting_id in meeting_ids:
                await replan_reminders(conn, meeting_id, now, policy)
    async with transaction(conn):
        await write_state(conn, NUDGES_IN_REACH_KEY, until, now)
    return len(rows)

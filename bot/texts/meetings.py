"""Words about meetings: series, one-off changes, announcements and answers.

Times are Discord timestamps, so every reader sees their own local time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.texts.fit import CONTENT_LIMIT, clip, echo, paginate

ANSWER_LABELS = {"going": "Going", "maybe": "Maybe", "no": "Can't make it"}


def when(instant: datetime) -> str:
    """A meeting time as each reader's own local time, and how far away it is."""
    unix = int(instant.timestamp())
    return f"<t:{unix}:F> (<t:{unix}:R>)"


def when_short(instant: datetime) -> str:
    return f"<t:{int(instant.timestamp())}:F>"


def meeting_gone() -> str:
    return (
        "I can't find that meeting any more; it may have been removed. "
        "`/meeting list` shows what's coming."
    )


def series_gone() -> str:
    return "I can't find that series any more. `/series list` shows the group's series."


def draft_gone() -> str:
    return "This preview has expired. Please run the command again; nothing was saved."


def draft_already_saved() -> str:
    return "That's already saved, so there's nothing more to do."


def title_empty() -> str:
    return "The meeting needs a title, for example “Monthly meet-up”."


def title_too_long(limit: int) -> str:
    return f"That title is a little long. Please keep it to {limit} characters or fewer."


def custom_rule_refused() -> str:
    return "Please choose how often the group meets from the list, for example “last Thursday”."


def duration_out_of_range() -> str:
    return "A meeting can last between 15 minutes and 12 hours."


def description_too_long(limit: int) -> str:
    return f"The description is a little long. Please keep it to {limit} characters or fewer."


def place_missing() -> str:
    return (
        "Where will you meet? Choose a voice or stage channel in `room`, "
        "or write a place or link in `place`."
    )


def place_both() -> str:
    return "Please give either a channel or a place, not both."


def location_too_long(limit: int) -> str:
    return f"The place is a little long. Please keep it to {limit} characters or fewer."


def capacity_too_small() -> str:
    return "Places need to be at least 1, or leave it empty for no limit."


def series_already_ended(title: str) -> str:
    return f"“{title}” has already ended."


def already_cancelled() -> str:
    return "That meeting is already cancelled."


def already_started() -> str:
    return "That meeting has already started, so it can't be changed now."


def move_into_past() -> str:
    return "That time has already passed. Please choose a time still to come."


def move_changes_nothing() -> str:
    return "That's when and where the meeting already is, so nothing changed."


def move_clashes(title: str, starts_at: datetime) -> str:
    return (
        f"That would overlap with “{title}” on {when_short(starts_at)}. "
        "Please choose another time, or move that meeting first."
    )


def note_too_long(limit: int) -> str:
    return f"The note is a little long. Please keep it to {limit} characters or fewer."


def topic_too_long(limit: int) -> str:
    return f"The topic is a little long. Please keep it to {limit} characters or fewer."


def topic_line(topic: str) -> str:
    return f"💬 Topic: {topic}"


def topic_done(title: str, topic: str | None) -> str:
    if topic is None:
        return f"“{title}” has no topic now. Its announcement is updated; nobody was messaged."
    return (
        f"The topic of “{title}” is now: {topic}\n"
        "Its announcement, reminders, Events entry and calendar show it; nobody was messaged."
    )


def rsvp_cancelled_meeting() -> str:
    return (
        "This meeting was cancelled, so there's nothing to answer. "
        "`/meeting next` shows the next one."
    )


def rsvp_meeting_started() -> str:
    return "This meeting has already started. `/meeting next` shows the next one."


def rule_day_note(day: int) -> str | None:
    if day >= 29:
        return f"In months with fewer than {day} days, the meeting is on the last day of the month."
    return None


def preview(title: str, rule: str, zone: str, starts: Sequence[datetime], note: str | None) -> str:
    lines = [f"**{title}**, {rule}, planned in {zone}. The next dates would be:"]
    lines += [f"• {when_short(s)}" for s in starts]
    if note:
        lines.append(note)
    lines.append("Save it?")
    return "\n".join(lines)


def series_saved(title: str, first: datetime | None) -> str:
    if first is None:
        return f"“{title}” is saved."
    return (
        f"“{title}” is saved. The first meeting is {when(first)}; "
        "it will be announced in the group's channel."
    )


def series_edited(title: str, moved: int) -> str:
    tail = f" {moved} meeting(s) moved, and everyone who answered will hear." if moved else ""
    return f"“{title}” is updated.{tail}"


def series_ended(title: str, cancelled: int) -> str:
    tail = f" {cancelled} meeting(s) still to come are cancelled." if cancelled else ""
    return f"“{title}” has ended; no more meetings will be planned.{tail}"


def series_discarded() -> str:
    return "Nothing was saved."


def save_button() -> str:
    return "Save"


def discard_button() -> str:
    return "Don't save"


def place_text(kind: str, channel_id: int | None, location: str | None) -> str:
    if channel_id is not None:
        return f"<#{channel_id}>"
    return location or "to be confirmed"


def no_meetings() -> str:
    return "There's no meeting planned yet. Facilitators can set one up with `/series create`."


def meeting_line(title: str, starts: datetime, where: str, cancelled: bool) -> str:
    text = f"• **{title}**: {when(starts)}, {where}"
    return f"~~{text}~~ (cancelled)" if cancelled else text


def meeting_list(group: str, lines: Sequence[str]) -> list[str]:
    """Pages of the meetings coming up (one page when they fit)."""
    if not lines:
        return [no_meetings()]
    return paginate(f"Coming up in {group}:", lines)


def announcement_title(title: str) -> str:
    return title


def announcement_body(
    starts: datetime,
    where: str,
    description: str | None,
    note: str | None,
    cancelled: bool,
    moved: bool,
    topic: str | None = None,
) -> str:
    if cancelled:
        head = f"**This meeting is cancelled.** It was to be {when_short(starts)}."
    else:
        head = f"{when(starts)}\n{where}"
        if moved:
            head = "**This meeting has moved.**\n" + head
    parts = [head]
    if topic and not cancelled:
        parts.append(topic_line(topic))
    if description and not cancelled:
        parts.append(description)
    if note:
        parts.append(f"📝 {note}")
    if not cancelled:
        parts.append("Can you come? Let us know below; you can change your answer any time.")
    return "\n\n".join(parts)


def counts_line(going: int, maybe: int, no: int, waitlist: int, capacity: int | None) -> str:
    places = f" of {capacity} places" if capacity else ""
    line = f"Going: {going}{places} · Maybe: {maybe} · Can't make it: {no}"
    return line + (f" · Waiting for a place: {waitlist}" if waitlist else "")


def answer_recorded(answer: str, meeting_title: str, starts: datetime) -> str:
    if answer == "going":
        return f"Lovely, you're down as going to {meeting_title} on {when_short(starts)}."
    if answer == "maybe":
        return f"Thanks, you're down as a maybe for {meeting_title}. No pressure."
    if answer == "waitlist":
        return "waitlist"
    return (
        f"Thanks for letting us know you can't make {meeting_title}. "
        "You'll be missed, and you're always welcome next time."
    )


def waitlisted(position: int) -> str:
    return (
        f"This meeting is full just now, so you're number {position} on the waiting list. "
        "If a place comes up, it's yours and I'll send you a message."
    )


def answer_unchanged(answer: str) -> str:
    label = ANSWER_LABELS.get(answer, "waiting for a place")
    return f"You're already down as: {label}. Nothing changed."


def moved_dm(title: str, group: str, starts: datetime, where: str) -> str:
    return (
        f"A change to **{title}** ({group}): it's now {when(starts)}, {where}. "
        "Your answer still stands; change it below if you need to."
    )


def cancelled_dm(title: str, group: str, starts: datetime) -> str:
    return (
        f"Sorry, **{title}** ({group}) on {when_short(starts)} is cancelled. "
        "The button below shows the next meeting."
    )


def promoted_dm(title: str, group: str, starts: datetime) -> str:
    return (
        f"Good news: a place came up for **{title}** ({group}) on {when(starts)}, "
        "and it's yours. If you can't make it after all, say so below so it can go to someone else."
    )


def next_meeting_button() -> str:
    return "Show the next meeting"


def meeting_cancelled_done(title: str, told: int) -> str:
    return (
        f"“{title}” is cancelled. Its announcement is updated and {told} person(s) "
        "who answered will hear."
    )


def meeting_moved_done(title: str, starts: datetime, told: int) -> str:
    return (
        f"“{title}” is now {when(starts)}. Its announcement is updated and {told} "
        "person(s) who answered will hear."
    )


def note_done(title: str) -> str:
    return f"The note on “{title}” is updated."


ATTENDEES_PER_LINE = 10


def attendees(title: str, starts: datetime, groups: dict[str, Sequence[int]]) -> list[str]:
    """Pages of who answered what, ten people to a line (one page when they fit)."""
    head = f"Answers for **{title}** on {when_short(starts)} (only you can see this):"
    labels = {**ANSWER_LABELS, "waitlist": "Waiting for a place"}
    lines: list[str] = []
    for answer, users in groups.items():
        if not users:
            lines.append(f"• {labels[answer]} (0): nobody yet")
            continue
        for start in range(0, len(users), ATTENDEES_PER_LINE):
            people = ", ".join(f"<@{u}>" for u in users[start : start + ATTENDEES_PER_LINE])
            label = f"{labels[answer]} ({len(users)})" if start == 0 else f"{labels[answer]}, more"
            lines.append(f"• {label}: {people}")
    return paginate(head, lines)


def meeting_info(
    title: str,
    group: str,
    starts: datetime,
    minutes: int,
    where: str,
    description: str | None,
    note: str | None,
    cancelled: bool,
    counts: str,
    topic: str | None = None,
) -> str:
    head = [f"**{title}** ({group})"]
    if cancelled:
        head.append(f"Cancelled (was {when_short(starts)}).")
    else:
        head.append(f"{when(starts)}, for {minutes} minutes")
        head.append(where)
        if topic:
            head.append(topic_line(topic))
    tail = [f"📝 {note}"] if note else []
    tail.append(counts)
    if description:
        # Everything else at its longest fits; the description gives way if need be.
        room = CONTENT_LIMIT - len("\n".join([*head, *tail])) - 1
        head.append(clip(description, room))
    return clip("\n".join([*head, *tail]))


def series_line(title: str, rule: str, time_text: str, zone: str) -> str:
    return f"• **{title}**: {rule} at {time_text} ({zone})"


def series_list(group: str, lines: Sequence[str]) -> list[str]:
    """Pages of the group's series (one page when they fit)."""
    if not lines:
        return [f"{group} has no regular meetings yet. `/series create` sets one up."]
    return paginate(f"Regular meetings in {group}:", lines)


def bad_date(text: str) -> str:
    return f"I couldn't read “{echo(text)}” as a date. Please write it like 2026-12-03."


def place_not_voice() -> str:
    return "Please choose a voice or stage channel, or write a place or link in `place`."


WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ORDINAL_NAMES = {1: "first", 2: "second", 3: "third", 4: "fourth"}


def rule_words(frequency: str, weekday: int | None, ordinal: int | None, day: int | None) -> str:
    """A rule as people say it, also accepted back by the `when` option."""
    name = WEEKDAY_NAMES[weekday] if weekday is not None else ""
    if frequency == "nth_weekday" and ordinal is not None:
        return f"{ORDINAL_NAMES[ordinal]} {name}"
    if frequency == "last_weekday":
        return f"last {name}"
    if frequency == "day_of_month":
        return f"day {day}"
    if frequency == "weekly":
        return f"weekly {name}"
    if frequency == "fortnightly":
        return f"fortnightly {name}"
    return "a custom rule"


def rule_sentence(frequency: str, weekday: int | None, ordinal: int | None, day: int | None) -> str:
    words = rule_words(frequency, weekday, ordinal, day)
    if frequency in ("nth_weekday", "last_weekday"):
        return f"the {words} of every month"
    if frequency == "day_of_month":
        return f"day {day} of every month"
    if frequency == "weekly":
        return f"every {WEEKDAY_NAMES[weekday or 0]}"
    if frequency == "fortnightly":
        return f"every other {WEEKDAY_NAMES[weekday or 0]}"
    return words


def series_not_in_server() -> str:
    return "I can't find that series here. `/series list` shows the group's series."


def draft_not_yours() -> str:
    return "Only the facilitator who started this can save it."


def calendar_channel_place() -> str:
    return "On Discord (the group's voice channel)"


def calendar_ready(group: str) -> str:
    return (
        f"Here's {group}'s calendar. Open the file on your phone or computer to add the "
        "meetings; if anything changes, download it again and your calendar will update."
    )


def calendar_filename(group: str) -> str:
    safe = "".join(c if c.isalnum() else "-" for c in group.lower()).strip("-") or "meetings"
    return f"{safe}.ics"


def events_forbidden(role_id: int) -> str:
    return (
        f"<@&{role_id}> A note from Holdfast: I can't add meetings to this server's Events "
        "list because I don't have the Manage Events permission. Everything else (announcements, "
        "answers, reminders) works as normal. A server admin can give my role Manage Events "
        "and Create Events to turn the Events list on."
    )


def moved_notice(title: str, starts: datetime, where: str) -> str:
    return (
        f"📅 **{title}** has moved: it's now {when(starts)}, {where}. "
        "If you'd said you were coming, your answer still stands."
    )


def cancelled_notice(title: str, starts: datetime) -> str:
    return (
        f"📅 **{title}** on {when_short(starts)} is cancelled. Sorry for the change; "
        "the button below shows the next meeting."
    )


# --- Discord's Interested button (issue 16) -----------------------------------------------------


def interest_join_offer(title: str, group: str, starts: datetime, where: str) -> str:
    return (
        f"Hello! You showed interest in **{title}**, {when(starts)}, {where}. "
        f"It's a meeting of {group}, which you haven't joined yet. If you'd like to come, "
        "the button below lets you join the group (you can leave any time); then you can answer "
        "and get reminders. No pressure either way."
    )

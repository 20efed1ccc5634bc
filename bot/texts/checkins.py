"""Words for check-ins, trends and a member's own data.

A check-in must never feel like a form: few words, warm, and always clear about who sees what.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

from bot.texts.fit import CONTENT_LIMIT, EMBED_DESCRIPTION_LIMIT, clip, echo, fit_lines

MEASURE_NAMES = {"mood": "Mood", "stress": "Stress", "supported": "Feeling supported"}
QUESTIONS = {
    "mood": "How are you feeling?",
    "stress": "How stretched are you?",
    "supported": "How supported do you feel?",
}
# A plain word for every point, 1 to 5.
WORDS = {
    "mood": ("Very low", "Low", "Okay", "Good", "Really good"),
    "stress": ("Calm", "A bit", "Some", "A lot", "Overwhelmed"),
    "supported": ("Alone", "A little", "Somewhat", "Mostly", "Well held"),
}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def word(measure: str, value: int) -> str:
    return WORDS[measure][value - 1]


# --- the check-in card ----------------------------------------------------------------------


def checkin_prompt(group_name: str, picked: dict[str, int | None]) -> str:
    lines = [f"**A quick check-in** ({group_name}). Only you will ever see your answers."]
    for measure, question in QUESTIONS.items():
        value = picked.get(measure)
        answer = f" **{word(measure, value)}**" if value else ""
        lines.append(f"{question}{answer}")
    lines.append("Tap one in each row, add a few words if you like, then Save.")
    return "\n".join(lines)


def add_words_button() -> str:
    return "Add a few words"


def save_button() -> str:
    return "Save"


def words_modal_title() -> str:
    return "A few words, just for you"


def words_field_label() -> str:
    return "Anything on your mind? Only you can read it"


def words_field_placeholder() -> str:
    return "Optional. Submitting saves your check-in."


def pick_all_three() -> str:
    return "Tap one answer in each of the three rows first, then Save."


def note_too_long(limit: int) -> str:
    return f"That's a little long to keep. Please keep it to {limit} characters or fewer."


def not_your_checkin() -> str:
    return "This check-in belongs to someone else. `/checkin` starts your own."


def not_in_group(group_name: str) -> str:
    return (
        f"You're not in {group_name} at the moment, so I can't file a check-in there. "
        "Join it with the button on its welcome message."
    )


def no_groups() -> str:
    return (
        "Check-ins belong to a support group, and you're not in one yet. Join one with the "
        "button on its welcome message, then `/checkin` again."
    )


def choose_group(names: Sequence[str]) -> str:
    return (
        "You're in more than one group. Which group should your check-ins count towards? "
        "I'll remember, and only the group's overall picture ever uses them."
    )


def choose_group_first() -> str:
    return (
        "You're in more than one group. Run `/checkin` once and pick your group, then "
        "`/reachout` will know whose facilitators to ask."
    )


def group_chosen(group_name: str) -> str:
    return f"Your check-ins will count towards {group_name}."


def no_such_group(name: str) -> str:
    return f"You're not in a group called “{echo(name)}”."


def saved(lowest_is_very_low: bool) -> str:
    if lowest_is_very_low:
        return "Saved. Thank you for being honest about how things are; that takes something."
    return "Saved. Thank you for checking in."


def recent_trend(points: Sequence[tuple[int, int, int]]) -> str:
    """The member's last few check-ins, oldest first, as plain words."""
    if len(points) < 2:
        return "This is your first check-in here. `/mycheckins` will show how things go over time."
    moods = " → ".join(str(p[0]) for p in points)
    return f"Your recent moods: {moods} (out of 5). `/mycheckins` shows the full picture."


def signposts(lines: Sequence[tuple[str, date]]) -> str:
    out = [
        "That sounds like a really hard time. You don't have to hold it on your own.",
        "• Your group's facilitators: use `/reachout` and they'll get in touch. They'll see "
        "only that you asked, never what you wrote.",
    ]
    for text, checked in lines:
        out.append(f"• {text} (last checked {checked:%d %b %Y})")
    out.append(
        "Nobody watches this bot, and nothing you've told it is passed on to anyone, so if you "
        "need someone now, please contact one of the above."
    )
    return "\n".join(out)


# --- /mycheckins ------------------------------------------------------------------------------


HISTORY_NOTE_LIMIT = 150


def own_history(
    entries: Sequence[tuple[datetime, int, int, int, str | None]], chart: str = ""
) -> str:
    """The member's most recent check-ins and, first, `chart`: their chart in words."""
    if not entries:
        return "You haven't checked in yet. `/checkin` takes a few seconds."
    lines: list[str] = []
    for when, mood, stress, supported, note in entries:
        line = (
            f"<t:{int(when.timestamp())}:d> mood {word('mood', mood).lower()}, "
            f"stress {word('stress', stress).lower()}, "
            f"supported {word('supported', supported).lower()}"
        )
        if note:
            # The start of each note; `/mydata export` has them whole.
            line += f"\n> {echo(note, HISTORY_NOTE_LIMIT)}"
        lines.append(line)
    head = "**Your check-ins** (only you can see these)"
    if not chart:
        return fit_lines(f"{head}:", lines)
    chart = clip(chart, CONTENT_LIMIT // 2)
    recent = fit_lines("**Most recent:**", lines, limit=CONTENT_LIMIT - len(head) - len(chart) - 2)
    return "\n".join([head, chart, recent])


def _change(measure: str, change: int | None) -> str:
    if change is None:
        return ""
    return "; " + CHANGES[measure][change + 1]


# How a measure has moved, the newer half of the check-ins against the older: harder, about the
# same, easier.
CHANGES = {
    "mood": ("lower lately", "about the same lately", "brighter lately"),
    "stress": ("more stretched lately", "about the same lately", "calmer lately"),
    "supported": ("less supported lately", "about the same lately", "more supported lately"),
}


def own_chart_words(
    count: int,
    first: datetime,
    last: datetime,
    facts: Sequence[tuple[str, int, int, int, int | None]],
) -> str:
    """The member's chart in words. `facts`: per measure (measure, the answer given most often,
    the lowest, the highest, how it has moved lately: -1 harder, 0 the same, 1 easier, None)."""
    if count == 1:
        answers = ", ".join(
            f"{MEASURE_NAMES[m].lower()} {word(m, usual)}" for m, usual, *_ in facts
        )
        return f"The chart shows your one check-in, <t:{int(first.timestamp())}:D>: {answers}."
    lines = [
        f"The chart shows your {count} check-ins, <t:{int(first.timestamp())}:D> to "
        f"<t:{int(last.timestamp())}:D>, one panel each (up is always the easier side):"
    ]
    for measure, usual, lowest, highest, change in facts:
        spread = (
            f"always {word(measure, usual)}"
            if lowest == highest
            else f"most often {word(measure, usual)}, from {word(measure, lowest)} to "
            f"{word(measure, highest)}"
        )
        lines.append(f"• {MEASURE_NAMES[measure]}: {spread}{_change(measure, change)}.")
    return "\n".join(lines)


def own_chart_title() -> str:
    return "Your check-ins"


def own_chart_smoothed(window: int) -> str:
    return f"Dots: each check-in. Line: the average of {window} in a row."


def own_chart_alt() -> str:
    """The picture's description (Discord's alt text), for screen readers."""
    return (
        "Chart of your check-ins over time: mood, stress and feeling supported, one panel "
        "each. The message says the same in words."
    )


def chart_date(day: date, *, by_month: bool, with_year: bool) -> str:
    """A date under a chart: "12 Jun", or "Jun" when the marks are months; the year beneath
    when asked."""
    text = MONTHS[day.month - 1] if by_month else f"{day.day} {MONTHS[day.month - 1]}"
    return f"{text}\n{day.year}" if with_year else text


def chart_month(month: str, *, with_year: bool) -> str:
    """A YYYY-MM month under a chart: "Jun", the year beneath ("’26", as narrow as a month's
    name, so twelve fit side by side) when asked."""
    year, number = month.split("-")
    text = MONTHS[int(number) - 1]
    return f"{text}\n’{year[2:]}" if with_year else text


def own_chart_filename() -> str:
    return "my-checkins.png"


# --- /reachout --------------------------------------------------------------------------------


def reachout_posted(group_name: str) -> str:
    return (
        f"I've asked the facilitators of {group_name} to get in touch with you. They know "
        "only that you asked, nothing from your check-ins."
    )


def reachout_request(role_id: int, user_id: int, group_name: str) -> str:
    return (
        f"<@&{role_id}> <@{user_id}> from {group_name} would like one of you to get in touch. "
        "They asked for this themselves; please reach out when you can."
    )


def reachout_no_channel(group_name: str) -> str:
    return (
        f"{group_name} has no facilitators' channel set up, so I can't pass this on. Please "
        "message one of the facilitators directly, or ask an admin to set the channel."
    )


def reachout_failed() -> str:
    return (
        "I couldn't reach the facilitators' channel just now. Please message one of the "
        "facilitators directly."
    )


# --- /trends and /audit -----------------------------------------------------------------------


def short_month(month: str) -> str:
    year, number = month.split("-")
    return f"{MONTHS[int(number) - 1]} {year[2:]}"


def long_month(month: str) -> str:
    year, number = month.split("-")
    return f"{MONTHS[int(number) - 1]} {year}"


def _half(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:g}"


def mean_words(measure: str, value: float | None) -> str:
    """A month's rounded mean with the answers' words, as the chart's axis shows it: "3 (Okay)",
    "3.5 (Okay–Good)"."""
    if value is None:
        return "?"
    low, high = int(value // 1), int(-(-value // 1))
    if not 1 <= low <= high <= 5:
        return _half(value)
    named = word(measure, low) if low == high else f"{word(measure, low)}–{word(measure, high)}"
    return f"{_half(value)} ({named})"


def trends_heading(group_name: str, k: int) -> str:
    return (
        f"**How {group_name} has been** (closed months only. A month shows only when at least "
        f"{k + 1} people checked in: {k} besides any one person, so nobody can be picked out, "
        "and everyone who looks sees the same months.)"
    )


def trend_month_shown(
    month: str,
    band: str,
    means: dict[str, float | None],
    distribution: dict[str, tuple[int, int, int]] | None,
) -> str:
    line = (
        f"**{long_month(month)}**: {band} people checked in. "
        f"Mood {mean_words('mood', means['mood'])}, "
        f"stress {mean_words('stress', means['stress'])}, "
        f"supported {mean_words('supported', means['supported'])}"
    )
    if distribution:
        parts = [
            f"{MEASURE_NAMES[m].lower()} low {lo}% / middle {mid}% / high {hi}%"
            for m, (lo, mid, hi) in distribution.items()
        ]
        line += "\n  roughly: " + "; ".join(parts)
    return line


def trends_text(heading: str, months: Sequence[str], chart: str = "") -> str:
    """The trends embed's description: the heading, the chart in words, and as many months
    (newest first) as fit."""
    head = f"{heading}\n{chart}" if chart else heading
    return fit_lines(head, months, limit=EMBED_DESCRIPTION_LIMIT)


def trends_chart_words(
    months: int, shown: int, moves: Sequence[tuple[str, str, float, str, float]]
) -> str:
    """The group's chart in words. `moves`: per measure (measure, the first shown month, its
    mean, the last shown month, its mean)."""
    hidden = months - shown
    if shown == 0:
        which = "none of them had enough check-ins to show, so all are grey"
    elif hidden == 0:
        which = "every one of them is shown"
    else:
        which = f"{shown} had enough check-ins to show; the other {hidden} are grey"
    lines = [
        f"The chart shows these {months} months, oldest on the left, one panel per measure "
        f"(up is always the easier side): {which}."
    ]
    for measure, first, start, last, end in moves:
        lines.append(
            f"• {MEASURE_NAMES[measure]}: {mean_words(measure, start)} in {long_month(first)}, "
            f"{mean_words(measure, end)} in {long_month(last)}."
        )
    return "\n".join(lines)


def trend_month_hidden(month: str) -> str:
    return (
        f"**{long_month(month)}**: not enough check-ins to show anything, which keeps everyone "
        "anonymous."
    )


def trends_footer() -> str:
    return (
        "The month in progress is never shown. Each month is worked out once it has closed and "
        "stays as it was. This view has been noted in the admins' audit log."
    )


def trends_chart_title(group_name: str) -> str:
    return f"{echo(group_name, 60)}: group averages by month"


def trends_chart_footnote() -> str:
    return "Grey: not enough check-ins that month to show anything."


def trends_chart_alt(group_name: str) -> str:
    """The picture's description (Discord's alt text), for screen readers."""
    return (
        f"Chart of {echo(group_name, 60)}'s last 12 months: group averages for mood, stress and "
        "feeling supported, one panel each. The message says the same in words."
    )


def trends_chart_filename() -> str:
    return "group-trends.png"


def audit_empty() -> str:
    return "Nobody has looked at trends in this server yet."


def audit_lines(entries: Sequence[tuple[int | None, datetime, str, str]]) -> str:
    """`viewer` None: someone who has since deleted their data."""
    lines = [
        f"<t:{int(when.timestamp())}:f> "
        f"{f'<@{viewer}>' if viewer is not None else 'A former facilitator'} "
        f"viewed {group_name} ({months})"
        for viewer, when, group_name, months in entries
    ]
    return fit_lines("**Who has looked at trends** (newest first):", lines)


# --- /mydata ----------------------------------------------------------------------------------


def export_sent() -> str:
    return "I've sent everything I hold about you to your DMs."


def export_here() -> str:
    return "Your DMs are closed, so here is everything I hold about you (only you can see this)."


def export_dm() -> str:
    return (
        "Here is everything Holdfast holds about you: your check-ins with your notes, your "
        "groups, your meeting answers and your preferences. `/mydata delete` removes it all."
    )


def export_filename(kind: str) -> str:
    return f"holdfast-{kind}"


def delete_confirm() -> str:
    return (
        "This deletes everything Holdfast holds about you: your check-ins and notes, your group "
        "memberships, your meeting answers, reminders and preferences. It can't be undone. "
        "Group monthly summaries already worked out stay, because they hold nobody's answers."
    )


def delete_button() -> str:
    return "Yes, delete everything"


def deleted() -> str:
    return (
        "Done: everything Holdfast held about you has been deleted. You're welcome back any "
        "time. (Backups an admin took before today still hold an encrypted copy until they are "
        "cleared out.)"
    )


def not_your_data() -> str:
    return "This button is for the person who asked. `/mydata delete` starts your own."


# --- nudges -----------------------------------------------------------------------------------

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def nudge_text() -> str:
    return "A gentle nudge, as you asked: how are things? A check-in takes a few seconds."


def nudge_button() -> str:
    return "Check in"


def nudge_set(cadence: str, day: int, local_time: str, zone: str) -> str:
    if cadence == "weekly":
        when = f"every {WEEKDAYS[day]} at {local_time}"
    else:
        when = f"on day {day} of each month at {local_time}"
    return f"I'll send you a gentle nudge {when} ({zone}). `/checkin-nudge how:Off` stops it."


def nudge_off() -> str:
    return "No more nudges. You can still `/checkin` whenever you like."


def nudge_day_needed(cadence: str) -> str:
    if cadence == "weekly":
        return "Pick a weekday for a weekly nudge, e.g. `day:Sunday`."
    return "Pick a day of the month from 1 to 28 for a monthly nudge, e.g. `day:1`."


# --- keys (for the admin) ---------------------------------------------------------------------


def key_file_header() -> str:
    return (
        "# Holdfast note encryption keys, newest first. Keep this file private and back it up\n"
        "# separately from database backups: without it, check-in notes cannot be read.\n"
    )


def key_file_generated(path: Path) -> str:
    return (
        f"No NOTE_ENCRYPTION_KEYS set, so Holdfast made a key for check-in notes in {path} "
        "(readable only by this user). Back that file up, separately from database backups: "
        "without it, notes cannot be read."
    )


def key_file_missing(path: Path) -> str:
    return (
        f"This database has encrypted check-ins but its key file ({path}) is missing and "
        "NOTE_ENCRYPTION_KEYS is not set. Restore the key file from your backup (or set "
        "NOTE_ENCRYPTION_KEYS to the keys it held). Holdfast will not start without them and "
        "never stores notes unencrypted."
    )


def key_file_too_open(path: Path, mode: int) -> str:
    return (
        f"The key file {path} can be read or changed by other users on this machine (its "
        f"permissions are {mode:04o}), and its keys open every check-in note. Holdfast will "
        f"not use it until only this user can read it:\n    chmod 600 {shlex.quote(str(path))}"
    )


def key_file_damaged(path: Path) -> str:
    return (
        f"The key file {path} does not hold valid keys. Restore it from your backup, or set "
        "NOTE_ENCRYPTION_KEYS."
    )


def keys_do_not_match(source: str, path: Path | None) -> str:
    where = (
        "NOTE_ENCRYPTION_KEYS"
        if source == "environment"
        else f"the key file {path}"
        if path is not None
        else "the keys given"
    )
    return (
        f"The note keys in {where} do not open this database's check-ins: they belong to "
        "another database, or the key that encrypted them was removed. Put back the key(s) "
        "this database was used with (newest first). Nothing was changed."
    )


def keys_rotated(notes: int, key_file: Path | None) -> str:
    where = f" A new key was added to {key_file}." if key_file is not None else ""
    return (
        f"Re-encrypted {notes} note(s) with the newest key.{where} Older keys can be removed "
        "once no backup you might restore still needs them."
    )


def privacy_floor(floor: int) -> str:
    return (
        f"PRIVACY_MIN_MEMBERS must be at least {floor}: with fewer people in a month, group "
        "trends could single someone out."
    )


def signposts_invalid() -> str:
    return (
        "SUPPORT_SIGNPOSTS should be entries separated by ';', each 'text|YYYY-MM-DD' (the date "
        "you last checked it), e.g. '999 in an emergency|2026-11-25'."
    )

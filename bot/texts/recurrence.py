"""Wording for meeting rules, times, zones and reminder lead times.

Each message is one line: it says what was not understood and what would work instead, because
the person reading it is usually a facilitator typing a slash command between other things.
"""

from __future__ import annotations

from bot.texts.fit import echo

RULE_EXAMPLES = (
    '"last thursday", "second tuesday", "day 15", "weekly monday", "fortnightly friday" '
    'or an "RRULE:" line'
)


def rule_not_understood(text: str) -> str:
    return f'Holdfast did not understand the rule "{echo(text)}". Try {RULE_EXAMPLES}.'


def rule_empty() -> str:
    return f"Please say when the meeting repeats, for example {RULE_EXAMPLES}."


def no_fifth_weekday(ordinal_word: str, weekday: str) -> str:
    return (
        f'Not every month has a {ordinal_word} {weekday}, so "{ordinal_word}" cannot be used. '
        f'Choose first to fourth, or "last {weekday.lower()}".'
    )


def unknown_weekday(word: str) -> str:
    return f'"{echo(word)}" is not a day of the week. Use a name like Thursday or Thu.'


def weekday_missing(word: str) -> str:
    return (
        f'Please add the day of the week after "{echo(word)}", for example "{echo(word)} thursday".'
    )


def day_out_of_range(word: str) -> str:
    shown = echo(word)
    return (
        f'"{shown}" is not a day of the month. Choose a day from 1 to 31 (29, 30 and 31 fall on '
        "the last day in shorter months)."
    )


def rrule_invalid(reason: str) -> str:
    return (
        f"That RRULE could not be read ({echo(reason)}). Check it against RFC 5545, section 3.3.10."
    )


def rrule_part_refused(part: str) -> str:
    if part in {"COUNT", "UNTIL"}:
        return (
            f"Please leave {part} out of the RRULE: a series keeps going until a facilitator "
            "ends it."
        )
    if part == "DTSTART":
        return "Please leave DTSTART out: the series' start date is set separately."
    return (
        f"Please leave {part} out of the RRULE: the meeting's time is given separately, and a "
        "rule may repeat at most once a day."
    )


def rrule_too_frequent(freq: str) -> str:
    shown = echo(freq)
    return (
        f"FREQ={shown} repeats more than once a day. Use DAILY, WEEKLY, MONTHLY or YEARLY; the "
        "meeting's time is given separately."
    )


def rrule_never_happens() -> str:
    return (
        "That RRULE never produces a meeting date (or not within ten years). Check its BY... parts."
    )


def time_not_understood(text: str) -> str:
    shown = echo(text)
    return (
        f'"{shown}" is not a time Holdfast understands. Use 24-hour "19:30", or "7:30pm" or "7pm".'
    )


def unknown_zone(name: str, suggestion: str | None) -> str:
    hint = f'Did you mean "{suggestion}"?' if suggestion else 'Use a name like "Europe/London".'
    return f'"{echo(name)}" is not a time zone Holdfast knows. {hint}'


def leads_empty() -> str:
    return 'Please give at least one reminder time, for example "7d,1d,2h".'


def lead_not_understood(text: str) -> str:
    shown = echo(text)
    return (
        f'"{shown}" is not a reminder time Holdfast understands. Use a whole number and d, h or m, '
        'like "7d", "2h" or "30m".'
    )


def lead_not_positive(text: str) -> str:
    return f'"{echo(text)}" would not be before the meeting. Use a number of 1 or more, like "1d".'


def lead_too_long(text: str, max_days: int) -> str:
    shown = echo(text)
    return f'"{shown}" is too far ahead. Reminders can be at most {max_days} days before a meeting.'


def lead_repeated(text: str) -> str:
    return (
        f'"{echo(text)}" is in the list twice (or the same time written another way). Give it once.'
    )


def date_not_understood(text: str) -> str:
    return f'"{echo(text)}" is not a date Holdfast understands. Use YYYY-MM-DD, like 2026-10-01.'


def count_out_of_range(text: str, maximum: int) -> str:
    return f'"{echo(text)}" is not a number of meetings. Use a whole number from 1 to {maximum}.'

"""When a series meets: RFC 5545 rules → local dates → UTC instants, and reminder lead times.

Pure domain: no database, no Discord, no clock (every instant is an argument). A rule only picks
*dates*; the meeting's wall-clock time and IANA zone come from the `Schedule`, so "19:30 on the
last Thursday" stays 19:30 in London across clock changes.

DST policy (the design doc's): a local time that does not exist (clocks go forward) moves forward
by the gap, so 01:30 in a 01:00→02:00 gap becomes 02:30; a local time that happens twice (clocks
go back) takes the first, earlier instant. Both fall out of PEP 495's `fold=0`, which interprets
a wall time with the offset in force *before* the transition.
"""

from __future__ import annotations

import difflib
import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Literal, cast
from zoneinfo import ZoneInfo

from dateutil import rrule as du

from bot.texts import recurrence as texts
from bot.zones import UnknownTimeZoneError, load_zone


class RuleError(ValueError):
    """The message is a clear, kind, one-line explanation naming what is wrong and how to fix it."""


class Frequency(StrEnum):
    NTH_WEEKDAY = "nth_weekday"
    LAST_WEEKDAY = "last_weekday"
    DAY_OF_MONTH = "day_of_month"
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    CUSTOM = "custom"


WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
RRULE_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# "monday" and "mon" (any case) both name Monday.
_WEEKDAYS_BY_WORD: dict[str, int] = {
    **{name.lower(): i for i, name in enumerate(WEEKDAY_NAMES)},
    **{name[:3].lower(): i for i, name in enumerate(WEEKDAY_NAMES)},
}
_ORDINAL_WORDS: dict[str, int] = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
}
# Words people reach for that no month can always honour; named in the refusal.
_FIFTH_WORDS = {"fifth", "5th"}
# Days 29–31 use BYSETPOS=-1 over 28..N so a short month meets on its last day rather than
# being skipped (RFC 5545 says a BYMONTHDAY that does not exist is ignored).
_SHORT_MONTH_SAFE_FROM = 29

# Custom rules choose dates only; these parts would choose times, or an end the series manages.
_REFUSED_CUSTOM_PARTS = ("DTSTART", "COUNT", "UNTIL", "BYHOUR", "BYMINUTE", "BYSECOND")
_DATE_FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
# A custom rule must produce a date within this many years of a reference start to be accepted,
# and occurrences() searches at most this far past its start for one (a rule matching, say,
# 29 February on a Monday still yields every few decades; a broken one never ends otherwise).
_CUSTOM_VALIDATION_YEARS = 10
_CUSTOM_HORIZON_YEARS = 100


@dataclass(frozen=True)
class Rule:
    """Which local dates a series meets on. Build one with the classmethods, or `parse_rule`."""

    frequency: Frequency
    weekday: int | None = None  # 0=Monday..6=Sunday (nth/last/weekly/fortnightly)
    ordinal: int | None = None  # 1..4 for NTH_WEEKDAY
    day: int | None = None  # 1..31 for DAY_OF_MONTH
    rrule: str | None = None  # CUSTOM: the RRULE body, upper case, without "RRULE:"

    def __post_init__(self) -> None:
        _check_rule_fields(self)

    @classmethod
    def nth_weekday(cls, ordinal: int, weekday: int) -> Rule:
        return cls(Frequency.NTH_WEEKDAY, weekday=weekday, ordinal=ordinal)

    @classmethod
    def last_weekday(cls, weekday: int) -> Rule:
        return cls(Frequency.LAST_WEEKDAY, weekday=weekday)

    @classmethod
    def day_of_month(cls, day: int) -> Rule:
        return cls(Frequency.DAY_OF_MONTH, day=day)

    @classmethod
    def weekly(cls, weekday: int) -> Rule:
        return cls(Frequency.WEEKLY, weekday=weekday)

    @classmethod
    def fortnightly(cls, weekday: int) -> Rule:
        return cls(Frequency.FORTNIGHTLY, weekday=weekday)

    @classmethod
    def custom(cls, rrule_text: str) -> Rule:
        """A rule kept as written (normalised), validated with dateutil; see `parse_rule`."""
        return cls(Frequency.CUSTOM, rrule=_normalise_rrule(rrule_text))

    def to_rrule(self) -> str:
        """The RFC 5545 RRULE value, without "RRULE:"."""
        return _format_parts(self._parts())

    def _parts(self) -> dict[str, str]:
        if self.frequency is Frequency.CUSTOM:
            return _split_parts(cast(str, self.rrule))
        if self.frequency is Frequency.DAY_OF_MONTH:
            day = cast(int, self.day)
            if day < _SHORT_MONTH_SAFE_FROM:
                return {"FREQ": "MONTHLY", "BYMONTHDAY": str(day)}
            days = ",".join(str(d) for d in range(28, day + 1))
            return {"FREQ": "MONTHLY", "BYMONTHDAY": days, "BYSETPOS": "-1"}
        code = RRULE_DAYS[cast(int, self.weekday)]
        if self.frequency is Frequency.NTH_WEEKDAY:
            return {"FREQ": "MONTHLY", "BYDAY": f"{self.ordinal}{code}"}
        if self.frequency is Frequency.LAST_WEEKDAY:
            return {"FREQ": "MONTHLY", "BYDAY": f"-1{code}"}
        if self.frequency is Frequency.WEEKLY:
            return {"FREQ": "WEEKLY", "BYDAY": code}
        return {"FREQ": "WEEKLY", "INTERVAL": "2", "BYDAY": code}

    @classmethod
    def from_rrule(cls, text: str) -> Rule:
        """The inverse of `to_rrule`; anything not in one of its shapes becomes CUSTOM.

        Part order and case do not matter; a leading "RRULE:" is accepted.
        """
        body = _normalise_rrule(text)
        parts = _split_parts(body)
        candidate = _known_shape(parts)
        if candidate is not None and candidate._parts() == parts:
            return candidate
        return cls(Frequency.CUSTOM, rrule=body)


def _check_rule_fields(rule: Rule) -> None:
    """Refuse a Rule whose fields do not fit its frequency, so a bad one cannot be stored."""
    f = rule.frequency
    needs_weekday = f in {
        Frequency.NTH_WEEKDAY,
        Frequency.LAST_WEEKDAY,
        Frequency.WEEKLY,
        Frequency.FORTNIGHTLY,
    }
    if needs_weekday != (rule.weekday is not None):
        raise RuleError(f"A {f} rule {'needs' if needs_weekday else 'takes no'} weekday.")
    if rule.weekday is not None and not 0 <= rule.weekday <= 6:
        raise RuleError(f"Weekday {rule.weekday} is not 0 (Monday) to 6 (Sunday).")
    if (f is Frequency.NTH_WEEKDAY) != (rule.ordinal is not None):
        raise RuleError("Only an nth_weekday rule has an ordinal, and it needs one.")
    if rule.ordinal is not None and not 1 <= rule.ordinal <= 4:
        raise RuleError(f"Ordinal {rule.ordinal} is not 1 to 4 (first to fourth).")
    if (f is Frequency.DAY_OF_MONTH) != (rule.day is not None):
        raise RuleError("Only a day_of_month rule has a day, and it needs one.")
    if rule.day is not None and not 1 <= rule.day <= 31:
        raise RuleError(texts.day_out_of_range(str(rule.day)))
    if (f is Frequency.CUSTOM) != (rule.rrule is not None):
        raise RuleError("Only a custom rule has RRULE text, and it needs some.")
    if rule.rrule is not None:
        if rule.rrule != _normalise_rrule(rule.rrule):
            raise RuleError("Custom RRULE text must be normalised; build it with Rule.custom().")
        _validate_custom(rule.rrule)


def _normalise_rrule(text: str) -> str:
    body = "".join(text.split()).upper()
    body = body.removeprefix("RRULE:")
    return body.strip(";")


def _split_parts(body: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    for piece in body.split(";"):
        name, sep, value = piece.partition("=")
        if not sep or not name or not value:
            raise RuleError(texts.rrule_invalid(f'"{piece}" is not NAME=VALUE'))
        if name in parts:
            raise RuleError(texts.rrule_invalid(f"{name} is given twice"))
        parts[name] = value
    return parts


def _format_parts(parts: dict[str, str]) -> str:
    return ";".join(f"{k}={v}" for k, v in parts.items())


def _known_shape(parts: dict[str, str]) -> Rule | None:
    """Guess the simple rule `parts` could be; the caller checks it round-trips exactly."""
    byday = parts.get("BYDAY", "")
    match = re.fullmatch(r"(-1|[1-4])?(MO|TU|WE|TH|FR|SA|SU)", byday)
    try:
        if match:
            weekday = RRULE_DAYS.index(match.group(2))
            prefix = match.group(1)
            if parts.get("FREQ") == "WEEKLY" and prefix is None:
                if parts.get("INTERVAL") == "2":
                    return Rule.fortnightly(weekday)
                return Rule.weekly(weekday)
            if prefix == "-1":
                return Rule.last_weekday(weekday)
            if prefix is not None:
                return Rule.nth_weekday(int(prefix), weekday)
        days = parts.get("BYMONTHDAY", "").split(",")
        if days[-1].isdigit():
            return Rule.day_of_month(int(days[-1]))
    except RuleError:
        return None
    return None


def _validate_custom(body: str) -> None:
    parts = _split_parts(body)
    for name in _REFUSED_CUSTOM_PARTS:
        if name in parts:
            raise RuleError(texts.rrule_part_refused(name))
    freq = parts.get("FREQ")
    if freq is None:
        raise RuleError(texts.rrule_invalid("it needs FREQ, e.g. FREQ=MONTHLY"))
    if freq not in _DATE_FREQUENCIES:
        raise RuleError(texts.rrule_too_frequent(freq))
    reference = datetime(2024, 1, 1)  # noqa: DTZ001 - naive on purpose: rules run in wall time
    try:
        rule = _build_rrule(body, reference)
        bounded = rule.replace(until=reference.replace(year=2024 + _CUSTOM_VALIDATION_YEARS))
        first = next(iter(bounded), None)
    except (IndexError, KeyError):
        # dateutil's own words for these ("list index out of range") would not help anyone.
        raise RuleError(texts.rrule_invalid("a value is out of range")) from None
    except (ValueError, TypeError) as exc:
        raise RuleError(texts.rrule_invalid(_one_line(exc))) from None
    if first is None:
        raise RuleError(texts.rrule_never_happens())


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _build_rrule(body: str, dtstart: datetime) -> du.rrule:
    built = du.rrulestr(body, dtstart=dtstart, forceset=False)
    if not isinstance(built, du.rrule):  # pragma: no cover - forceset=False and one line
        raise RuleError(texts.rrule_invalid("it must be a single RRULE"))
    return built


# --- The slash commands' words ------------------------------------------------------------


def parse_rule(text: str) -> Rule:
    """Read "last thursday", "2nd tue", "day 31", "weekly mon", "fortnightly fri" or "RRULE:...".

    Case-insensitive; weekdays full or three letters. A raw RRULE in one of the simple shapes
    comes back as that simple rule, so it is stored the same way as the words.
    """
    cleaned = " ".join(text.split())
    if not cleaned:
        raise RuleError(texts.rule_empty())
    if cleaned.upper().startswith(("RRULE:", "FREQ=")):
        return Rule.from_rrule(cleaned)
    words = cleaned.lower().split(" ")
    first = words[0]
    if len(words) == 1:
        if first in _ORDINAL_WORDS or first in {"last", "weekly", "fortnightly", *_FIFTH_WORDS}:
            raise RuleError(texts.weekday_missing(first))
        raise RuleError(texts.rule_not_understood(cleaned))
    if len(words) != 2:
        raise RuleError(texts.rule_not_understood(cleaned))
    second = words[1]
    if first == "day":
        if not second.isdigit() or not 1 <= int(second) <= 31:
            raise RuleError(texts.day_out_of_range(second))
        return Rule.day_of_month(int(second))
    if first not in {*_ORDINAL_WORDS, *_FIFTH_WORDS, "last", "weekly", "fortnightly"}:
        raise RuleError(texts.rule_not_understood(cleaned))
    weekday = _WEEKDAYS_BY_WORD.get(second)
    if weekday is None:
        raise RuleError(texts.unknown_weekday(second))
    if first in _FIFTH_WORDS:
        raise RuleError(texts.no_fifth_weekday(first, WEEKDAY_NAMES[weekday]))
    if first == "last":
        return Rule.last_weekday(weekday)
    if first == "weekly":
        return Rule.weekly(weekday)
    if first == "fortnightly":
        return Rule.fortnightly(weekday)
    return Rule.nth_weekday(_ORDINAL_WORDS[first], weekday)


_TIME_24H = re.compile(r"(\d{1,2})[:.](\d{2})")
_TIME_12H = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?\s*([ap])\.?m\.?")


def parse_local_time(text: str) -> time:
    """Read "19:30", "7:30pm" or "7pm" (any case) as a wall-clock time."""
    cleaned = text.strip().lower()
    if match := _TIME_24H.fullmatch(cleaned):
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour <= 23 and minute <= 59:
            return time(hour, minute)
    elif match := _TIME_12H.fullmatch(cleaned):
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if 1 <= hour <= 12 and minute <= 59:
            return time(hour % 12 + (12 if match.group(3) == "p" else 0), minute)
    raise RuleError(texts.time_not_understood(text.strip()))


def load_zone_or_error(name: str) -> ZoneInfo:
    """The IANA zone `name`, or a RuleError that suggests the nearest real name."""
    try:
        return load_zone(name)
    except UnknownTimeZoneError:
        close = difflib.get_close_matches(name.strip(), _zone_names(), n=1, cutoff=0.8)
        raise RuleError(texts.unknown_zone(name.strip(), close[0] if close else None)) from None


def _zone_names() -> list[str]:
    return sorted(zoneinfo.available_timezones())


# --- Instants -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """A rule at a wall-clock time in a zone, starting no earlier than `anchor` (a local date).

    Fortnightly parity counts from the first matching weekday on or after the anchor; a custom
    rule is evaluated with DTSTART = anchor at `local_time`.
    """

    rule: Rule
    local_time: time
    zone: str
    anchor: date

    def __post_init__(self) -> None:
        if self.local_time.tzinfo is not None:
            raise ValueError("Schedule.local_time is a wall-clock time: give it no tzinfo")
        if self.local_time.microsecond:
            # dateutil drops microseconds from DTSTART; refuse rather than move the meeting.
            raise ValueError("Schedule.local_time must be whole seconds")
        load_zone_or_error(self.zone)


def resolve_local(naive_local: datetime, zone: ZoneInfo) -> datetime:
    """Wall time in `zone` → aware UTC. Nonexistent times move forward by the gap; ambiguous
    ones take the first instant (PEP 495 fold=0 gives exactly both)."""
    if naive_local.tzinfo is not None:
        raise ValueError("resolve_local takes a naive wall-clock datetime")
    return naive_local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def local_date_of(instant: datetime, zone: str) -> date:
    return _require_aware(instant).astimezone(load_zone_or_error(zone)).date()


def occurrences(
    schedule: Schedule,
    *,
    after: datetime,
    count: int | None = None,
    before: datetime | None = None,
) -> list[datetime]:
    """Aware-UTC starts of the occurrences with `after <= start` (and `start < before`), at most
    `count` of them, in order. Give `count`, `before`, or both.

    Dates come from dateutil.rrule in local wall time, times are resolved with `resolve_local`.
    For the simple shapes iteration starts just before `after` (in phase with the anchor for
    fortnightly), so the cost does not grow with the age of a series.
    """
    if count is None and before is None:
        raise ValueError("occurrences() needs count or before, or it would never end")
    after = _require_aware(after)
    before = _require_aware(before) if before is not None else None
    if (count is not None and count <= 0) or (before is not None and before <= after):
        return []
    zone = load_zone_or_error(schedule.zone)
    # A day's margin either side covers any UTC offset change between wall time and instant.
    start_date = max(schedule.anchor, after.astimezone(zone).date() - timedelta(days=1))
    last_date = before.astimezone(zone).date() + timedelta(days=1) if before else None
    found: list[datetime] = []
    for naive in _local_starts(schedule, start_date, last_date):
        instant = resolve_local(naive, zone)
        if before is not None and instant >= before:
            # Starts rise with wall time for rules at most daily, so nothing later can fit.
            break
        if instant >= after:
            found.append(instant)
            if count is not None and len(found) >= count:
                break
    return found


# The horizon sweep asks the same two questions of every series every few hours, and the
# answers depend only on the rule and the latest stored start: a pure function's memo.
@lru_cache(maxsize=4096)
def next_start_after(schedule: Schedule, instant: datetime) -> datetime | None:
    """The rule's first start strictly after `instant` (None: the rule has ended)."""
    found = occurrences(schedule, after=instant + timedelta(microseconds=1), count=1)
    return found[0] if found else None


@lru_cache(maxsize=4096)
def nth_latest_start(
    schedule: Schedule, instant: datetime, n: int, within: timedelta
) -> datetime | None:
    """The `n`-th latest start at or before `instant`, looking back no further than `within`
    (None: fewer than `n` starts there)."""
    found = occurrences(
        schedule, after=instant - within, before=instant + timedelta(microseconds=1)
    )
    return found[-n] if len(found) >= n else None


def _local_starts(
    schedule: Schedule, start_date: date, last_date: date | None
) -> Iterable[datetime]:
    """The rule's naive local starts from `start_date` (inclusive), optionally to `last_date`."""
    rule = schedule.rule
    at = schedule.local_time
    if rule.frequency is Frequency.CUSTOM:
        # RFC semantics (INTERVAL, BYSETPOS across periods, WKST) depend on DTSTART, so a custom
        # rule always runs from the anchor; dateutil skips the early periods quickly.
        horizon = datetime.combine(start_date, at) + timedelta(days=366 * _CUSTOM_HORIZON_YEARS)
        until = min(horizon, datetime.combine(last_date, at)) if last_date else horizon
        built = _build_rrule(rule.to_rrule(), datetime.combine(schedule.anchor, at))
        return built.replace(until=until).xafter(datetime.combine(start_date, at), inc=True)
    first_date = start_date
    if rule.frequency is Frequency.FORTNIGHTLY:
        # Parity from the first matching weekday on or after the anchor, not from dateutil's
        # week of the anchor (which would skip the first Friday after a Saturday anchor).
        first = schedule.anchor + timedelta(
            days=(cast(int, rule.weekday) - schedule.anchor.weekday()) % 7
        )
        fortnights = max(0, (start_date - first).days // 14)
        first_date = first + timedelta(days=14 * fortnights)
    end = datetime.combine(last_date, at) if last_date else None
    return _build_rrule(rule.to_rrule(), datetime.combine(first_date, at)).replace(until=end)


def _require_aware(when: datetime) -> datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("instants must be timezone-aware")
    return when.astimezone(UTC)


# --- Reminder lead times ----------------------------------------------------------------------

LeadUnit = Literal["d", "h", "m"]
MAX_LEAD_DAYS = 90
_LEAD = re.compile(r"(\d+)\s*([dhm])", re.IGNORECASE)
_MINUTES_PER: dict[str, int] = {"d": 24 * 60, "h": 60, "m": 1}


@dataclass(frozen=True)
class Lead:
    """How long before a meeting a reminder goes. Days are calendar days in the group's zone
    (same wall time); hours and minutes are real elapsed time."""

    amount: int
    unit: LeadUnit
    text: str  # as written, e.g. "7d"

    def same_as(self, other: Lead) -> bool:
        # "1h" and "60m" are the same instant; "1d" and "24h" differ on a clock-change day.
        if (self.unit == "d") != (other.unit == "d"):
            return False
        return self.amount * _MINUTES_PER[self.unit] == other.amount * _MINUTES_PER[other.unit]


def parse_leads(text: str) -> list[Lead]:
    """Read "7d,1d,2h" in the order given. Duplicates, zero, negatives and junk are refused."""
    pieces = [p.strip() for p in text.split(",")]
    if not any(pieces):
        raise RuleError(texts.leads_empty())
    leads: list[Lead] = []
    for piece in pieces:
        lead = _parse_lead(piece)
        if any(lead.same_as(seen) for seen in leads):
            raise RuleError(texts.lead_repeated(piece))
        leads.append(lead)
    return leads


def _parse_lead(piece: str) -> Lead:
    if piece.startswith("-") and _LEAD.fullmatch(piece[1:].strip()):
        raise RuleError(texts.lead_not_positive(piece))
    match = _LEAD.fullmatch(piece)
    if match is None:
        raise RuleError(texts.lead_not_understood(piece))
    digits, unit = match.group(1), cast(LeadUnit, match.group(2).lower())
    if len(digits) > 7 or int(digits) * _MINUTES_PER[unit] > MAX_LEAD_DAYS * 24 * 60:
        raise RuleError(texts.lead_too_long(piece, MAX_LEAD_DAYS))
    if int(digits) == 0:
        raise RuleError(texts.lead_not_positive(piece))
    return Lead(amount=int(digits), unit=unit, text=piece)


def lead_instant(start_utc: datetime, lead: Lead, zone: str) -> datetime:
    """When the reminder `lead` before `start_utc` is due, aware UTC.

    "7d" is the same local wall time seven days earlier (what "a week before" means to people,
    even across a clock change), resolved with the DST policy; "2h" is two real hours earlier.
    """
    start_utc = _require_aware(start_utc)
    if lead.unit == "d":
        tz = load_zone_or_error(zone)
        wall = start_utc.astimezone(tz).replace(tzinfo=None) - timedelta(days=lead.amount)
        return resolve_local(wall, tz)
    return start_utc - lead_length(lead)


def lead_length(lead: Lead) -> timedelta:
    """How long a lead is, as a span (a day lead's wall time can differ by a clock change's
    hour: `lead_instant` is the exact instant)."""
    return timedelta(minutes=lead.amount * _MINUTES_PER[lead.unit])


def local_iso(instant: datetime, zone: str) -> str:
    """ISO 8601 local time with its offset, e.g. "2026-10-29T19:30:00+00:00"."""
    return _require_aware(instant).astimezone(load_zone_or_error(zone)).isoformat()


def utc_iso(instant: datetime) -> str:
    """ISO 8601 in UTC ending in Z, e.g. "2026-10-29T19:30:00Z"."""
    return _require_aware(instant).strftime("%Y-%m-%dT%H:%M:%SZ")

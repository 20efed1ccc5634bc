"""Recurrence and lead times against oracles written here with plain calendar arithmetic.

The date oracle never uses dateutil or the code under test; the instant oracle only converts
UTC → local (the unambiguous direction) and searches for the wall time it was asked about, so
the DST policy is checked from first principles rather than by repeating `fold=0`.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.meetings.recurrence import (
    Frequency,
    Lead,
    Rule,
    RuleError,
    Schedule,
    lead_instant,
    load_zone_or_error,
    local_date_of,
    occurrences,
    parse_leads,
    parse_local_time,
    parse_rule,
    resolve_local,
)
from bot.zones import load_zone

# London, New York, Sydney (southern hemisphere), Kolkata (+05:30, no DST), UTC, Auckland, plus
# awkward ones: Lord Howe (30-minute DST), Havana and Santiago (clocks change at midnight).
ZONES = (
    "Europe/London",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Kolkata",
    "UTC",
    "Pacific/Auckland",
    "Australia/Lord_Howe",
    "America/Havana",
    "America/Santiago",
)
# Times that land in spring gaps and autumn overlaps somewhere in ZONES.
AWKWARD_TIMES = tuple(time(h, m) for h, m in [(0, 0), (0, 30), (1, 30), (2, 0), (2, 30), (3, 0)])
DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# hypothesis wants naive bounds for st.datetimes; wall-clock values are naive on purpose here.
NAIVE_2024 = datetime.combine(date(2024, 1, 1), time())
NAIVE_2035 = datetime.combine(date(2035, 12, 1), time())
ORDINAL_WORDS = {
    1: ("first", "1st"),
    2: ("second", "2nd"),
    3: ("third", "3rd"),
    4: ("fourth", "4th"),
}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


# --- Oracles ------------------------------------------------------------------------------------


def months_from(start: date) -> Iterator[tuple[int, int]]:
    year, month = start.year, start.month
    while True:
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def monthly_date(kind: str, spec: tuple[int, ...], year: int, month: int) -> date:
    days_in_month = calendar.monthrange(year, month)[1]
    if kind == "nth":
        ordinal, weekday = spec
        first_weekday = calendar.weekday(year, month, 1)
        return date(year, month, 1 + (weekday - first_weekday) % 7 + 7 * (ordinal - 1))
    if kind == "last":
        (weekday,) = spec
        last_weekday = calendar.weekday(year, month, days_in_month)
        return date(year, month, days_in_month - (last_weekday - weekday) % 7)
    (day,) = spec
    return date(year, month, min(day, days_in_month))


def oracle_dates(kind: str, spec: tuple[int, ...], anchor: date, through: date) -> list[date]:
    """Every local date the rule meets on, anchor ≤ d ≤ through, by calendar arithmetic."""
    found: list[date] = []
    if kind in {"weekly", "fortnightly"}:
        (weekday,) = spec
        step = 7 if kind == "weekly" else 14
        d = anchor + timedelta(days=(weekday - anchor.weekday()) % 7)
        while d <= through:
            found.append(d)
            d += timedelta(days=step)
        return found
    for year, month in months_from(anchor):
        if date(year, month, 1) > through:
            return found
        d = monthly_date(kind.removeprefix("custom-"), spec, year, month)
        if anchor <= d <= through:
            found.append(d)
    raise AssertionError("unreachable")


def offsets_near(naive: datetime, zone: ZoneInfo) -> tuple[timedelta, timedelta]:
    """The zone's UTC offset two days before and two days after `naive` (read as UTC)."""
    as_utc = naive.replace(tzinfo=UTC)
    before = (as_utc - timedelta(days=2)).astimezone(zone).utcoffset()
    after = (as_utc + timedelta(days=2)).astimezone(zone).utcoffset()
    assert before is not None
    assert after is not None
    return before, after


def wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def oracle_instant(naive: datetime, zone: ZoneInfo) -> datetime:
    """The design's policy from first principles: every UTC instant whose wall time is `naive`;
    the earliest if several (ambiguous); if none (a gap), the wall time moves forward by the gap,
    which is the instant `naive - offset_before`."""
    before, after = offsets_near(naive, zone)
    candidates = sorted(
        {
            (naive - offset).replace(tzinfo=UTC)
            for offset in (before, after)
            if wall((naive - offset).replace(tzinfo=UTC), zone) == naive
        }
    )
    if candidates:
        return candidates[0]
    gap = after - before
    assert gap > timedelta(0), f"{naive} in {zone.key}: no instant, but no gap either"
    moved = (naive - before).replace(tzinfo=UTC)
    assert wall(moved, zone) == naive + gap
    return moved


# --- Generated rules ----------------------------------------------------------------------------

weekdays = st.integers(0, 6)


@st.composite
def rule_specs(draw: st.DrawFn) -> tuple[str, tuple[int, ...], Rule]:
    kind = draw(
        st.sampled_from(
            ["nth", "last", "day", "weekly", "fortnightly", "custom-nth", "custom-last"]
        )
    )
    if kind == "nth":
        spec: tuple[int, ...] = (draw(st.integers(1, 4)), draw(weekdays))
        return kind, spec, Rule.nth_weekday(*spec)
    if kind == "last":
        spec = (draw(weekdays),)
        return kind, spec, Rule.last_weekday(*spec)
    if kind == "day":
        spec = (draw(st.integers(1, 31)),)
        return kind, spec, Rule.day_of_month(*spec)
    if kind == "weekly":
        spec = (draw(weekdays),)
        return kind, spec, Rule.weekly(*spec)
    if kind == "fortnightly":
        spec = (draw(weekdays),)
        return kind, spec, Rule.fortnightly(*spec)
    # The same dates written as RRULEs the simple shapes do not use, so the custom path (which
    # always iterates from the anchor) is checked against the same oracle.
    weekday = draw(weekdays)
    if kind == "custom-nth":
        ordinal = draw(st.integers(1, 4))
        rule = Rule.custom(f"RRULE:FREQ=MONTHLY;BYDAY={DAY_CODES[weekday]};BYSETPOS={ordinal}")
        return kind, (ordinal, weekday), rule
    rule = Rule.custom(f"FREQ=MONTHLY;BYDAY={DAY_CODES[weekday]};BYSETPOS=-1")
    return kind, (weekday,), rule


local_times = st.one_of(
    st.sampled_from((*AWKWARD_TIMES, time(19, 30), time(23, 30))),
    st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45])),
)
anchors = st.dates(min_value=date(2024, 1, 1), max_value=date(2034, 12, 31))


@settings(max_examples=300, deadline=None)
@given(
    spec=rule_specs(),
    zone_name=st.sampled_from(ZONES),
    at=local_times,
    anchor=anchors,
    after_minutes=st.integers(-3 * 24 * 60, 400 * 24 * 60),
    count=st.integers(1, 14),
)
def test_occurrences_match_the_calendar_oracle(
    spec: tuple[str, tuple[int, ...], Rule],
    zone_name: str,
    at: time,
    anchor: date,
    after_minutes: int,
    count: int,
) -> None:
    kind, params, rule = spec
    zone = load_zone(zone_name)
    schedule = Schedule(rule=rule, local_time=at, zone=zone_name, anchor=anchor)
    after = datetime.combine(anchor, time(), tzinfo=UTC) + timedelta(minutes=after_minutes)
    # Consecutive "nth weekday" dates can be 35 days apart, and `after` is a UTC instant whose
    # local date can be a day later (e.g. Sydney): the oracle must look far enough for `count`.
    through = after.date() + timedelta(days=36 * count + 2)
    dates = oracle_dates(kind, params, anchor, through)
    expected = [
        instant
        for instant in (oracle_instant(datetime.combine(d, at), zone) for d in dates)
        if instant >= after
    ][:count]

    got = occurrences(schedule, after=after, count=count)

    assert got == expected
    assert all(instant.tzinfo is UTC for instant in got)
    expected_dates = [d for d in dates if oracle_instant(datetime.combine(d, at), zone) >= after]
    assert [local_date_of(instant, zone_name) for instant in got] == expected_dates[:count]


@settings(max_examples=100, deadline=None)
@given(
    spec=rule_specs(),
    zone_name=st.sampled_from(ZONES),
    at=local_times,
    anchor=anchors,
    window_days=st.integers(0, 200),
)
def test_before_bounds_the_window(
    spec: tuple[str, tuple[int, ...], Rule],
    zone_name: str,
    at: time,
    anchor: date,
    window_days: int,
) -> None:
    kind, params, rule = spec
    zone = load_zone(zone_name)
    schedule = Schedule(rule=rule, local_time=at, zone=zone_name, anchor=anchor)
    after = datetime.combine(anchor, time(12), tzinfo=UTC)
    before = after + timedelta(days=window_days)
    dates = oracle_dates(kind, params, anchor, before.date() + timedelta(days=2))
    expected = [
        instant
        for instant in (oracle_instant(datetime.combine(d, at), zone) for d in dates)
        if after <= instant < before
    ]
    assert occurrences(schedule, after=after, before=before) == expected
    assert occurrences(schedule, after=after, before=before, count=2) == expected[:2]


@cache
def transitions(zone_name: str) -> tuple[datetime, ...]:
    """UTC instants, 2024–2035, where the zone's offset changes (daily scan, then bisection)."""
    zone = load_zone(zone_name)
    found: list[datetime] = []
    day = utc(2024, 1, 1)
    while day.year < 2036:
        low, high = day, day + timedelta(days=1)
        if low.astimezone(zone).utcoffset() != high.astimezone(zone).utcoffset():
            while high - low > timedelta(minutes=1):
                mid = low + (high - low) / 2
                if mid.astimezone(zone).utcoffset() == low.astimezone(zone).utcoffset():
                    low = mid
                else:
                    high = mid
            # Clocks change on a whole minute, and `high` is within a minute after it.
            change = high.replace(second=0, microsecond=0)
            offset_then = (change - timedelta(seconds=1)).astimezone(zone).utcoffset()
            assert offset_then != change.astimezone(zone).utcoffset()
            found.append(change)
        day += timedelta(days=1)
    return tuple(found)


@st.composite
def local_times_near_a_transition(draw: st.DrawFn) -> tuple[str, datetime]:
    zone_name = draw(st.sampled_from([z for z in ZONES if transitions(z)]))
    instant = draw(st.sampled_from(transitions(zone_name)))
    # The wall clock just before the change, nudged by up to 90 minutes either way: this lands
    # in gaps, in overlaps, and on both edges of each.
    just_before = wall(instant - timedelta(minutes=1), load_zone(zone_name))
    nudge = timedelta(minutes=draw(st.integers(-90, 90)) + 1)
    return zone_name, just_before + nudge


@settings(max_examples=300, deadline=None)
@given(case=local_times_near_a_transition())
def test_resolve_local_follows_the_dst_policy_at_every_transition(
    case: tuple[str, datetime],
) -> None:
    zone_name, naive = case
    zone = load_zone(zone_name)
    assert resolve_local(naive, zone) == oracle_instant(naive, zone)


@settings(max_examples=150, deadline=None)
@given(case=local_times_near_a_transition(), kind=st.sampled_from(["weekly", "fortnightly"]))
def test_series_meeting_on_a_clock_change_night_follow_the_policy(
    case: tuple[str, datetime], kind: str
) -> None:
    # The whole path (rule → local dates → instants) on the very nights clocks change.
    zone_name, naive = case
    zone = load_zone(zone_name)
    weekday = naive.weekday()
    rule = Rule.weekly(weekday) if kind == "weekly" else Rule.fortnightly(weekday)
    anchor = naive.date() - timedelta(days=28)
    schedule = Schedule(rule=rule, local_time=naive.time(), zone=zone_name, anchor=anchor)
    after = datetime.combine(anchor, time(), tzinfo=UTC)
    dates = oracle_dates(kind, (weekday,), anchor, naive.date() + timedelta(days=14))
    expected = [oracle_instant(datetime.combine(d, naive.time()), zone) for d in dates]
    got = occurrences(schedule, after=after - timedelta(days=1), count=len(expected))
    assert got == expected
    assert oracle_instant(naive, zone) in got


@settings(max_examples=200, deadline=None)
@given(
    zone_name=st.sampled_from(ZONES),
    naive=st.datetimes(min_value=NAIVE_2024, max_value=NAIVE_2035),
)
def test_resolve_local_anywhere(zone_name: str, naive: datetime) -> None:
    zone = load_zone(zone_name)
    got = resolve_local(naive.replace(microsecond=0), zone)
    assert got == oracle_instant(naive.replace(microsecond=0), zone)
    assert got.tzinfo is UTC


def test_every_zone_under_test_really_has_transitions() -> None:
    # Otherwise the transition property would quietly test nothing for that zone.
    for name in ZONES:
        if name in {"Asia/Kolkata", "UTC"}:
            assert transitions(name) == ()
        else:
            assert len(transitions(name)) >= 20, name


# --- Rules as words and as RRULE text -----------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(spec=rule_specs())
def test_to_rrule_and_from_rrule_round_trip(spec: tuple[str, tuple[int, ...], Rule]) -> None:
    _, _, rule = spec
    assert Rule.from_rrule(rule.to_rrule()) == rule
    assert Rule.from_rrule("RRULE:" + rule.to_rrule().lower()) == rule


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        (Rule.nth_weekday(2, 1), "FREQ=MONTHLY;BYDAY=2TU"),
        (Rule.last_weekday(3), "FREQ=MONTHLY;BYDAY=-1TH"),
        (Rule.day_of_month(15), "FREQ=MONTHLY;BYMONTHDAY=15"),
        (Rule.day_of_month(28), "FREQ=MONTHLY;BYMONTHDAY=28"),
        (Rule.day_of_month(29), "FREQ=MONTHLY;BYMONTHDAY=28,29;BYSETPOS=-1"),
        (Rule.day_of_month(31), "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1"),
        (Rule.weekly(0), "FREQ=WEEKLY;BYDAY=MO"),
        (Rule.fortnightly(4), "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR"),
        (
            Rule.custom("rrule: freq=monthly; byday=tu; bysetpos=2"),
            "FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2",
        ),
    ],
)
def test_to_rrule_shapes(rule: Rule, text: str) -> None:
    assert rule.to_rrule() == text
    assert Rule.from_rrule(text) == rule


def test_from_rrule_recognises_simple_shapes_in_any_order() -> None:
    assert Rule.from_rrule("BYDAY=-1TH;FREQ=MONTHLY") == Rule.last_weekday(3)
    # Not a shape Holdfast writes, so it is kept as written.
    assert Rule.from_rrule("FREQ=MONTHLY;BYMONTHDAY=30;BYSETPOS=-1").frequency is Frequency.CUSTOM


@settings(max_examples=100, deadline=None)
@given(spec=rule_specs(), data=st.data())
def test_parse_rule_reads_the_words_in_any_case(
    spec: tuple[str, tuple[int, ...], Rule], data: st.DataObject
) -> None:
    kind, params, rule = spec
    if kind.startswith("custom"):
        words = "RRULE:" + rule.to_rrule()
    elif kind == "day":
        words = f"day {params[0]}"
    else:
        name = NAMES[params[-1]]
        name = data.draw(st.sampled_from([name, name[:3]]))
        lead = "last" if kind == "last" else kind
        if kind == "nth":
            lead = data.draw(st.sampled_from(ORDINAL_WORDS[params[0]]))
        words = f"{lead} {name}"
    shouted = "".join(data.draw(st.sampled_from([c.lower(), c.upper()])) for c in words)
    assert parse_rule(f"  {shouted} ") == rule


def test_a_raw_rrule_in_a_simple_shape_becomes_that_rule() -> None:
    assert parse_rule("RRULE:FREQ=MONTHLY;BYDAY=-1TH") == Rule.last_weekday(3)
    custom = parse_rule("RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29")
    assert custom.frequency is Frequency.CUSTOM


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("fifth tuesday", ["fifth Tuesday", "first to fourth", "last tuesday"]),
        ("5th Fri", ["5th Friday", "first to fourth"]),
        ("day 32", ['"32"', "1 to 31"]),
        ("day 0", ['"0"', "1 to 31"]),
        ("monthly", ['"monthly"', "last thursday"]),
        ("", ["when the meeting repeats"]),
        ("last thursdya", ['"thursdya"', "Thursday"]),
        ("second", ["day of the week"]),
        ("every other thursday", ['"every other thursday"']),
        ("RRULE:FREQ=HOURLY", ["FREQ=HOURLY", "once a day"]),
        ("RRULE:FREQ=MONTHLY;BYHOUR=9", ["BYHOUR", "time is given separately"]),
        ("RRULE:FREQ=MONTHLY;COUNT=3", ["COUNT"]),
        ("RRULE:FREQ=MONTHLY;UNTIL=20270101T000000Z", ["UNTIL"]),
        ("RRULE:FREQ=MONTHLY;BYDAY=XX", ["could not be read"]),
        ("RRULE:FREQ=MONTHLY;BYDAY=9TU", ["could not be read"]),
        ("RRULE:FREQ=MONTHLY;SOMETHING=1", ["could not be read"]),
        ("RRULE:BYDAY=TU", ["FREQ"]),
        ("RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", ["never produces"]),
    ],
)
def test_parse_rule_explains_what_is_wrong(text: str, words: list[str]) -> None:
    with pytest.raises(RuleError) as caught:
        parse_rule(text)
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("19:30", time(19, 30)),
        ("07:05", time(7, 5)),
        ("0:00", time(0, 0)),
        ("7:30pm", time(19, 30)),
        ("7:30 PM", time(19, 30)),
        ("7pm", time(19, 0)),
        ("12am", time(0, 0)),
        ("12pm", time(12, 0)),
        ("11:59pm", time(23, 59)),
    ],
)
def test_parse_local_time(text: str, expected: time) -> None:
    assert parse_local_time(text) == expected


@pytest.mark.parametrize("text", ["25:00", "24:00", "19:60", "13pm", "0am", "7", "", "half seven"])
def test_parse_local_time_refuses(text: str) -> None:
    with pytest.raises(RuleError, match="Use 24-hour"):
        parse_local_time(text)


def test_unknown_zone_is_a_rule_error_with_a_suggestion() -> None:
    with pytest.raises(RuleError, match='Did you mean "Europe/London"'):
        load_zone_or_error("Europe/Londn")
    with pytest.raises(RuleError, match="not a time zone"):
        load_zone_or_error("../etc/passwd")
    with pytest.raises(RuleError):
        Schedule(Rule.weekly(0), time(19), "Mars/Olympus_Mons", date(2026, 1, 1))
    assert load_zone_or_error("Pacific/Auckland").key == "Pacific/Auckland"


def test_rule_fields_are_checked() -> None:
    with pytest.raises(RuleError):
        Rule.nth_weekday(5, 1)
    with pytest.raises(RuleError):
        Rule.day_of_month(32)
    with pytest.raises(RuleError):
        Rule(Frequency.WEEKLY)
    with pytest.raises(RuleError):
        Rule(Frequency.CUSTOM, rrule="rrule:freq=weekly")  # not normalised


# --- Hand-checked nights ------------------------------------------------------------------------


def one(rule: str, at: str, zone: str, anchor: date) -> datetime:
    schedule = Schedule(parse_rule(rule), parse_local_time(at), zone, anchor)
    after = datetime.combine(anchor, time(), tzinfo=UTC) - timedelta(days=1)
    return occurrences(schedule, after=after, count=1)[0]


def test_london_spring_forward_0130_does_not_exist_and_moves_to_0230_bst() -> None:
    got = one("last sunday", "01:30", "Europe/London", date(2026, 3, 1))
    assert got == utc(2026, 3, 29, 1, 30)
    assert got.astimezone(load_zone("Europe/London")).isoformat() == "2026-03-29T02:30:00+01:00"


def test_london_fall_back_0130_happens_twice_and_takes_the_first() -> None:
    got = one("last sunday", "01:30", "Europe/London", date(2026, 10, 1))
    assert got == utc(2026, 10, 25, 0, 30)  # 01:30 BST, not 01:30 GMT an hour later


def test_new_york_spring_forward_and_fall_back() -> None:
    spring = one("second sunday", "02:30", "America/New_York", date(2026, 3, 1))
    assert spring == utc(2026, 3, 8, 7, 30)  # 02:30 EST does not exist → 03:30 EDT
    autumn = one("first sunday", "01:30", "America/New_York", date(2026, 11, 1))
    assert autumn == utc(2026, 11, 1, 5, 30)  # the first 01:30, still EDT (-04:00)


def test_last_thursday_1930_london_keeps_its_wall_time_across_the_october_change() -> None:
    schedule = Schedule(
        parse_rule("last thursday"), time(19, 30), "Europe/London", date(2026, 9, 1)
    )
    got = occurrences(schedule, after=utc(2026, 9, 1), count=2)
    assert got == [utc(2026, 9, 24, 18, 30), utc(2026, 10, 29, 19, 30)]


@pytest.mark.parametrize(
    ("day", "month", "expected"),
    [
        (31, date(2026, 4, 1), date(2026, 4, 30)),  # 30-day month: its last day
        (31, date(2026, 2, 1), date(2026, 2, 28)),
        (31, date(2028, 2, 1), date(2028, 2, 29)),  # leap year
        (30, date(2027, 2, 1), date(2027, 2, 28)),
        (29, date(2027, 2, 1), date(2027, 2, 28)),
        (29, date(2028, 2, 1), date(2028, 2, 29)),
        (31, date(2026, 5, 1), date(2026, 5, 31)),
        (30, date(2026, 5, 1), date(2026, 5, 30)),
    ],
)
def test_late_days_fall_on_the_last_day_of_shorter_months(
    day: int, month: date, expected: date
) -> None:
    got = one(f"day {day}", "19:30", "UTC", month)
    assert got == datetime.combine(expected, time(19, 30), tzinfo=UTC)


def test_fortnightly_parity_counts_from_the_first_meeting_on_or_after_the_anchor() -> None:
    # 3 January 2026 is a Saturday: the first Friday on or after it is the 9th (a week-based
    # reading of INTERVAL=2 would skip to the 16th).
    schedule = Schedule(Rule.fortnightly(4), time(19), "UTC", date(2026, 1, 3))
    assert occurrences(schedule, after=utc(2025, 12, 1), count=3) == [
        utc(2026, 1, 9, 19),
        utc(2026, 1, 23, 19),
        utc(2026, 2, 6, 19),
    ]
    # Far from the anchor the fortnights stay in step (26 weeks after 9 January is 10 July).
    assert occurrences(schedule, after=utc(2026, 7, 4), count=2) == [
        utc(2026, 7, 10, 19),
        utc(2026, 7, 24, 19),
    ]
    on_the_day = Schedule(Rule.fortnightly(4), time(19), "UTC", date(2026, 1, 9))
    assert occurrences(on_the_day, after=utc(2026, 1, 1), count=1) == [utc(2026, 1, 9, 19)]


def test_nothing_before_the_anchor_and_after_is_inclusive() -> None:
    schedule = Schedule(Rule.weekly(0), time(9), "UTC", date(2026, 1, 5))
    assert occurrences(schedule, after=utc(2025, 1, 1), count=1) == [utc(2026, 1, 5, 9)]
    assert occurrences(schedule, after=utc(2026, 1, 5, 9), count=1) == [utc(2026, 1, 5, 9)]
    assert occurrences(schedule, after=utc(2026, 1, 5, 9, 0, 1), count=1) == [utc(2026, 1, 12, 9)]


def test_occurrences_needs_a_bound_and_aware_times() -> None:
    schedule = Schedule(Rule.weekly(0), time(9), "UTC", date(2026, 1, 5))
    with pytest.raises(ValueError, match="count or before"):
        occurrences(schedule, after=utc(2026, 1, 1))
    with pytest.raises(ValueError, match="aware"):
        occurrences(schedule, after=datetime(2026, 1, 1), count=1)  # noqa: DTZ001
    assert occurrences(schedule, after=utc(2026, 1, 1), count=0) == []


def test_fortnightly_parity_holds_decades_after_the_anchor() -> None:
    # Iteration starts near `after`, but the fortnights must still count from the anchor.
    schedule = Schedule(Rule.fortnightly(2), time(18), "Europe/London", date(1990, 1, 1))
    got = occurrences(schedule, after=utc(2035, 6, 1), count=3)
    first = date(1990, 1, 3)  # the first Wednesday on or after the anchor
    assert all((local_date_of(g, "Europe/London") - first).days % 14 == 0 for g in got)
    assert got[0] >= utc(2035, 6, 1)


# --- Lead times ---------------------------------------------------------------------------------


def test_parse_leads_keeps_order_and_text() -> None:
    assert parse_leads("7d, 1d,2h,30m") == [
        Lead(7, "d", "7d"),
        Lead(1, "d", "1d"),
        Lead(2, "h", "2h"),
        Lead(30, "m", "30m"),
    ]
    assert parse_leads("1d,24h") == [Lead(1, "d", "1d"), Lead(24, "h", "24h")]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("7x", '"7x" is not a reminder time'),
        ("0d", "would not be before"),
        ("-1d", "would not be before"),
        ("7d,7d", "twice"),
        ("1h,60m", "twice"),
        ("", "at least one"),
        ("7d,,1d", "not a reminder time"),
        ("91d", "at most 90 days"),
        ("99999999999999999999d", "at most 90 days"),
    ],
)
def test_parse_leads_refuses(text: str, words: str) -> None:
    with pytest.raises(RuleError, match=words):
        parse_leads(text)


def test_a_week_before_keeps_the_local_time_across_the_spring_change() -> None:
    # Thursday 2 April 2026 19:30 BST; a week earlier is Thursday 26 March 19:30 GMT.
    start = utc(2026, 4, 2, 18, 30)
    assert lead_instant(start, Lead(7, "d", "7d"), "Europe/London") == utc(2026, 3, 26, 19, 30)


def test_hour_leads_are_real_time_across_the_change() -> None:
    # 03:00 BST on 29 March 2026 is 02:00Z; two real hours earlier is 00:00 GMT.
    start = utc(2026, 3, 29, 2)
    assert lead_instant(start, Lead(2, "h", "2h"), "Europe/London") == utc(2026, 3, 29, 0)
    assert lead_instant(start, Lead(90, "m", "90m"), "Europe/London") == utc(2026, 3, 29, 0, 30)
    # And back: 02:30 GMT on 25 October is 02:30Z; two hours earlier is the first 01:30 (BST).
    autumn = utc(2026, 10, 25, 2, 30)
    assert lead_instant(autumn, Lead(2, "h", "2h"), "Europe/London") == utc(2026, 10, 25, 0, 30)


def test_a_day_lead_landing_in_a_gap_moves_forward() -> None:
    # Sunday 5 April 2026 01:30 BST; a week earlier 01:30 did not exist → 02:30 BST (01:30Z).
    start = utc(2026, 4, 5, 0, 30)
    assert lead_instant(start, Lead(7, "d", "7d"), "Europe/London") == utc(2026, 3, 29, 1, 30)


@settings(max_examples=200, deadline=None)
@given(
    zone_name=st.sampled_from(ZONES),
    start_naive=st.datetimes(min_value=NAIVE_2024 + timedelta(days=31), max_value=NAIVE_2035),
    amount=st.integers(1, 60),
    unit=st.sampled_from(["d", "h", "m"]),
)
def test_lead_instants_against_the_oracle(
    zone_name: str, start_naive: datetime, amount: int, unit: str
) -> None:
    zone = load_zone(zone_name)
    start = start_naive.replace(microsecond=0, tzinfo=UTC)
    lead = parse_leads(f"{amount}{unit}")[0]
    got = lead_instant(start, lead, zone_name)
    if unit == "d":
        assert got == oracle_instant(wall(start, zone) - timedelta(days=amount), zone)
    else:
        minutes = amount * (60 if unit == "h" else 1)
        assert start - got == timedelta(minutes=minutes)
    assert got < start

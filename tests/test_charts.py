"""The two charts (issue #16) and the words that come with them.

Every edge case is rendered for real (matplotlib Agg) and judged from matplotlib's own text
extents: no two texts overlap, none leaves the image, none sits on a panel's data area, and all
are legible at the ~400 px Discord shows on a phone. Then what each chart means: the answer
words on each axis, up always the easier side, short dates, the palette, grey months; and the
words that say the same for screen readers, within Discord's limits and no more than the chart.
"""

from __future__ import annotations

import io
import random
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import combinations

import pytest
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.transforms import Bbox
from PIL import Image

from bot.checkins import charts
from bot.checkins.entries import Answers, Checkin
from bot.checkins.trends import MonthTrend, closed_months
from bot.texts import checkins as texts
from bot.texts.fit import CONTENT_LIMIT, EMBED_DESCRIPTION_LIMIT

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)
PHONE_WIDTH_PX = 400
"""About how wide Discord shows an image on a phone."""
LEGIBLE_PX = 10.0
"""The smallest text height we accept at that width."""
ATTACHMENT_DESCRIPTION_LIMIT = 1024
"""Discord, "Uploading Files": an attachment's description (alt text) is at most 1024
characters."""
OKABE_ITO = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"}
MONTHS = closed_months(NOW, "Europe/London")


def checkins(count: int, start: datetime, step: timedelta, seed: int = 7) -> list[Checkin]:
    chance = random.Random(seed)
    return [
        Checkin(
            id=number + 1,
            group_id=1,
            created_at=start + step * number,
            answers=Answers(chance.randint(1, 5), chance.randint(1, 5), chance.randint(1, 5)),
            note=None,
        )
        for number in range(count)
    ]


def month(name: str, shown: bool, seed: int = 0) -> MonthTrend:
    if not shown:
        return MonthTrend(name, False)
    chance = random.Random(seed)
    return MonthTrend(
        name,
        True,
        "10–19",
        chance.choice([1.0, 2.5, 3.5, 5.0]),
        chance.choice([1.0, 2.0, 4.5, 5.0]),
        chance.choice([1.5, 3.0, 4.0, 5.0]),
        {"mood": (10, 60, 30), "stress": (30, 40, 30), "supported": (0, 50, 50)},
    )


OWN_CASES: dict[str, list[Checkin]] = {
    "one check-in": checkins(1, datetime(2026, 6, 12, 19, tzinfo=UTC), timedelta(days=1)),
    "two in one hour": checkins(2, datetime(2026, 6, 12, 23, 30, tzinfo=UTC), timedelta(hours=1)),
    "a few, weeks apart": checkins(6, datetime(2026, 6, 12, 19, tzinfo=UTC), timedelta(days=9)),
    "a year of daily ones": checkins(365, NOW - timedelta(days=365), timedelta(days=1)),
    "500, the most shown": checkins(500, NOW - timedelta(days=700), timedelta(hours=33)),
    "all at the extremes": [
        Checkin(n, 1, NOW + timedelta(days=n), Answers(v, v, v), None)
        for n, v in enumerate([1, 5, 1, 5])
    ],
}
TREND_CASES: dict[str, tuple[list[MonthTrend], str]] = {
    "every month hidden": ([month(m, False) for m in MONTHS], "North adopters"),
    "a single shown month": ([month(m, i == 5, i) for i, m in enumerate(MONTHS)], "North"),
    "every month shown": ([month(m, True, i) for i, m in enumerate(MONTHS)], "North adopters"),
    "alternate months": ([month(m, i % 2 == 0, i) for i, m in enumerate(MONTHS)], "South"),
    "the longest name, one wide word": (
        [month(m, i % 3 != 0, i) for i, m in enumerate(MONTHS)],
        "W" * 60,
    ),
    "a name that looks like maths": (
        [month(m, i > 8, i) for i, m in enumerate(MONTHS)],
        "Adopters $x^2$ of the Thames Valley, Berkshire & Oxfordshire_{borders}",
    ),
}


@cache
def own(case: str) -> Figure:
    """The case's chart, drawn once for every test that only looks at it."""
    figure = charts.own_figure(OWN_CASES[case])
    drawn(figure)
    return figure


@cache
def trend(case: str) -> Figure:
    figure = charts.trends_figure(*TREND_CASES[case])
    drawn(figure)
    return figure


def drawn(figure: Figure) -> FigureCanvasAgg:
    canvas = figure.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    canvas.draw()
    return canvas


def visible_texts(figure: Figure) -> list[Text]:
    found = []
    for text in figure.findobj(Text):
        assert isinstance(text, Text)
        if text.get_visible() and text.get_text().strip():
            found.append(text)
    return found


def overlap(a: Bbox, b: Bbox) -> bool:
    """Strictly overlapping (touching edges are fine)."""
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def assert_readable(figure: Figure) -> None:
    renderer = drawn(figure).get_renderer()
    texts_found = visible_texts(figure)
    assert texts_found, "a chart with no words at all"
    extents = {id(t): t.get_window_extent(renderer) for t in texts_found}
    image = figure.bbox
    for text in texts_found:
        box = extents[id(text)]
        inside = (
            box.x0 >= image.x0 and box.y0 >= image.y0 and box.x1 <= image.x1 and box.y1 <= image.y1
        )
        assert inside, f"{text.get_text()!r} falls outside the image: {box} vs {image}"
        for axes in figure.axes:
            assert not overlap(box, axes.bbox), f"{text.get_text()!r} is drawn over the data"
        px = text.get_fontsize() / 72 * PHONE_WIDTH_PX / figure.get_figwidth()
        assert px >= LEGIBLE_PX, f"{text.get_text()!r} is {px:.1f} px high on a phone"
    for a, b in combinations(texts_found, 2):
        assert not overlap(extents[id(a)], extents[id(b)]), (
            f"{a.get_text()!r} overlaps {b.get_text()!r}"
        )


@pytest.mark.parametrize("case", OWN_CASES)
def test_own_chart_texts_never_overlap_leave_the_image_or_cover_the_data(case: str) -> None:
    assert_readable(own(case))


@pytest.mark.parametrize("case", TREND_CASES)
def test_trends_chart_texts_never_overlap_leave_the_image_or_cover_the_data(case: str) -> None:
    assert_readable(trend(case))


def test_the_png_is_the_figure_as_laid_out_and_sharp_on_a_phone() -> None:
    png = charts.trends_chart(TREND_CASES["alternate months"][0], "North")
    image = Image.open(io.BytesIO(png))
    figure = charts.trends_figure(TREND_CASES["alternate months"][0], "North")
    # Nothing cropped or added: the PNG is exactly the figure the checks above measured.
    assert image.size == (round(figure.bbox.width), round(figure.bbox.height))
    assert image.size[0] >= 2 * PHONE_WIDTH_PX
    png = charts.own_chart(OWN_CASES["one check-in"])
    assert png.startswith(b"\x89PNG")


# --- what the pictures say --------------------------------------------------------------------


def panels(figure: Figure) -> list[Axes]:
    return list(figure.axes)


def screen_y(axes: Axes, value: float) -> float:
    return float(axes.transData.transform((0, value))[1])


def tick_words(axes: Axes) -> list[str]:
    """The y axis's words from the bottom of the panel to the top."""
    labels = [
        (screen_y(axes, float(t.get_position()[1])), t.get_text()) for t in axes.get_yticklabels()
    ]
    return [word for _, word in sorted(labels)]


def test_each_measure_has_its_own_panel_named_and_labelled_with_its_words_up_is_easier() -> None:
    figure = own("a few, weeks apart")
    mood, stress, supported = panels(figure)
    assert tick_words(mood) == ["Very low", "Low", "Okay", "Good", "Really good"]
    assert tick_words(supported) == ["Alone", "A little", "Somewhat", "Mostly", "Well held"]
    # Stress runs the other way, so it is drawn upside down: calm at the top.
    assert tick_words(stress) == ["Overwhelmed", "A lot", "Some", "A bit", "Calm"]
    names = {t.get_text() for t in visible_texts(figure)}
    assert {"Mood", "Stress", "Feeling supported", "Your check-ins"} <= names
    for axes in (mood, stress, supported):
        assert axes.get_legend() is None
    # Same time axis on every panel, dates only under the last.
    assert mood.get_xlim() == stress.get_xlim() == supported.get_xlim()
    assert [t.get_text() for t in mood.get_xticklabels()] == []
    assert [t.get_text() for t in supported.get_xticklabels()] != []


def test_a_calmer_answer_is_drawn_higher_like_a_better_mood() -> None:
    start = datetime(2026, 6, 1, 12, tzinfo=UTC)
    hard = Checkin(1, 1, start, Answers(mood=1, stress=5, supported=1), None)
    easy = Checkin(2, 1, start + timedelta(days=1), Answers(mood=5, stress=1, supported=5), None)
    figure = charts.own_figure([easy, hard])  # in any order: drawn oldest first
    drawn(figure)
    for axes in panels(figure):
        (line,) = axes.get_lines()
        points = axes.transData.transform(line.get_xydata())
        assert points[0][0] < points[1][0], "oldest on the left"
        assert points[1][1] > points[0][1], f"{axes} draws the easier answer lower"


DATE = re.compile(r"^(\d{1,2} )?(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)(\n\d{4})?$")


@pytest.mark.parametrize("case", OWN_CASES)
def test_dates_are_short_with_the_year_under_the_first(case: str) -> None:
    figure = own(case)
    labels = [t.get_text() for t in panels(figure)[-1].get_xticklabels()]
    assert 1 <= len(labels) <= charts.MAX_DATE_TICKS
    assert all(DATE.match(label) for label in labels), labels
    assert "\n" in labels[0]
    low, high = panels(figure)[-1].get_xlim()
    dates = [OWN_CASES[case][0].created_at, OWN_CASES[case][-1].created_at]
    from matplotlib.dates import date2num

    assert low <= date2num(min(dates)), "a check-in off the chart"
    assert date2num(max(dates)) <= high, "a check-in off the chart"


def test_a_few_days_are_labelled_by_day_and_a_year_by_month() -> None:
    few = own("a few, weeks apart")
    assert next(t.get_text() for t in panels(few)[-1].get_xticklabels()) == "21 Jun\n2026"
    year = own("a year of daily ones")
    labels = [t.get_text() for t in panels(year)[-1].get_xticklabels()]
    assert labels == ["Jan\n2026", "Apr", "Jul", "Oct"]


def test_many_check_ins_are_faint_dots_under_a_running_mean_said_underneath() -> None:
    figure = own("a year of daily ones")
    mood = panels(figure)[0]
    dots, line = mood.get_lines()
    assert dots.get_linestyle() == "None"
    values = [c.answers.mood for c in OWN_CASES["a year of daily ones"]]
    assert list(line.get_ydata())[10] == pytest.approx(sum(values[7:14]) / 7)
    names = {t.get_text() for t in visible_texts(figure)}
    assert texts.own_chart_smoothed(charts.SMOOTHING) in names
    few = own("a few, weeks apart")
    assert texts.own_chart_smoothed(charts.SMOOTHING) not in {t.get_text() for t in few.texts}


def test_colours_are_okabe_ito_one_per_measure() -> None:
    figure = trend("every month shown")
    from matplotlib.colors import to_hex

    colours = [to_hex(axes.get_lines()[0].get_color()).upper() for axes in panels(figure)]
    assert set(colours) <= OKABE_ITO
    assert len(set(colours)) == 3


def grey_months(axes: Axes) -> list[int]:
    return sorted(
        round(p.get_x() + p.get_width() / 2)
        for p in axes.patches
        if isinstance(p, Rectangle) and p.get_width() < 1
    )


def test_trends_months_not_shown_are_grey_and_empty_and_explained_below() -> None:
    months = TREND_CASES["alternate months"][0]
    figure = trend("alternate months")
    hidden = [i for i, m in enumerate(months) if not m.shown]
    for axes in panels(figure):
        assert grey_months(axes) == hidden
        ys = axes.get_lines()[0].get_ydata()
        assert [i for i, y in enumerate(ys) if y != y] == hidden  # NaN: nothing drawn there
    labels = [t.get_text() for t in panels(figure)[-1].get_xticklabels()]
    assert labels[:3] == ["Nov\n’25", "Dec", "Jan\n’26"]
    assert len(labels) == 12
    names = {t.get_text() for t in visible_texts(figure)}
    assert texts.trends_chart_footnote() in names
    everything = trend("every month shown")
    assert texts.trends_chart_footnote() not in {t.get_text() for t in everything.texts}


def test_a_shown_month_is_drawn_at_its_rounded_mean() -> None:
    months = TREND_CASES["a single shown month"][0]
    figure = trend("a single shown month")
    shown = months[5]
    for axes, name in zip(panels(figure), ("mood", "stress", "supported"), strict=True):
        assert axes.get_lines()[0].get_ydata()[5] == getattr(shown, name)


def test_a_name_that_looks_like_maths_is_printed_as_written() -> None:
    name = TREND_CASES["a name that looks like maths"][1]
    figure = trend("a name that looks like maths")
    title = next(t for t in figure.texts if "Adopters" in t.get_text())
    assert "$x^2$" in title.get_text()
    # Drawn as the characters typed, not as mathematics.
    assert not title.get_parse_math()
    assert " ".join(title.get_text().split()) == texts.trends_chart_title(name)


# --- the same facts in words ------------------------------------------------------------------


def at(day: int) -> datetime:
    return datetime(2026, 6, day, 20, tzinfo=UTC)


def test_own_words_name_the_usual_answer_the_range_and_which_way_it_has_moved() -> None:
    moods = [1, 1, 2, 4, 5, 5]
    stress = [5, 5, 4, 2, 1, 1]
    own = [
        Checkin(n, 1, at(n + 1), Answers(moods[n], stress[n], 3), None) for n in range(len(moods))
    ]
    words = charts.own_words(list(reversed(own)))
    start, end = int(at(1).timestamp()), int(at(6).timestamp())
    assert words.splitlines() == [
        f"The chart shows your 6 check-ins, <t:{start}:D> to <t:{end}:D>, one panel each "
        "(up is always the easier side):",
        # 1 and 5 both twice: the more recent wins; the newer half is far better.
        "• Mood: most often Really good, from Very low to Really good; brighter lately.",
        "• Stress: most often Calm, from Calm to Overwhelmed; calmer lately.",
        "• Feeling supported: always Somewhat; about the same lately.",
    ]
    worse = [
        Checkin(n, 1, at(n + 1), Answers(moods[-1 - n], stress[-1 - n], 3), None) for n in range(6)
    ]
    lines = charts.own_words(worse).splitlines()
    assert lines[1].endswith("lower lately.")
    assert lines[2].endswith("more stretched lately.")


def test_own_words_with_one_or_a_few_check_ins() -> None:
    one = [Checkin(1, 1, at(3), Answers(2, 4, 5), None)]
    assert charts.own_words(one) == (
        f"The chart shows your one check-in, <t:{int(at(3).timestamp())}:D>: mood Low, "
        "stress A lot, feeling supported Well held."
    )
    few = [Checkin(n, 1, at(n + 1), Answers(3, 3, 3 + n), None) for n in range(3)]
    lines = charts.own_words(few).splitlines()
    assert lines[3] == "• Feeling supported: most often Well held, from Somewhat to Well held."
    assert "lately" not in charts.own_words(few), "too few check-ins to say how things moved"
    assert charts.own_words([]) == ""


def test_mycheckins_message_fits_with_the_chart_words_whole() -> None:
    year = OWN_CASES["500, the most shown"]
    recent = [
        (c.created_at, c.answers.mood, c.answers.stress, c.answers.supported, "long words " * 90)
        for c in year[:10]
    ]
    words = charts.own_words(year)
    message = texts.own_history(recent, chart=words)
    assert len(message) <= CONTENT_LIMIT
    assert words in message
    assert message.startswith("**Your check-ins** (only you can see these)\nThe chart shows")
    assert "…and" in message, "the recent list gives way, not the chart's words"
    assert texts.own_history(recent[:1], chart="").startswith("**Your check-ins**")


def test_trends_words_say_which_months_show_and_how_the_shown_ones_moved() -> None:
    hidden = charts.trends_words(TREND_CASES["every month hidden"][0])
    assert "none of them had enough check-ins to show, so all are grey" in hidden
    assert "•" not in hidden
    single = charts.trends_words(TREND_CASES["a single shown month"][0])
    assert "1 had enough check-ins to show; the other 11 are grey" in single
    months = [month(m, i in (2, 7, 9), 0) for i, m in enumerate(MONTHS)]
    months[2] = MonthTrend(MONTHS[2], True, "5–9", 2.5, 4.0, 3.0)
    months[9] = MonthTrend(MONTHS[9], True, "20+", 3.5, 2.0, 3.0)
    words = charts.trends_words(months)
    assert words.splitlines()[1:] == [
        "• Mood: 2.5 (Low–Okay) in Jan 2026, 3.5 (Okay–Good) in Aug 2026.",
        "• Stress: 4 (A lot) in Jan 2026, 2 (A bit) in Aug 2026.",
        "• Feeling supported: 3 (Somewhat) in Jan 2026, 3 (Somewhat) in Aug 2026.",
    ]


@pytest.mark.parametrize("case", TREND_CASES)
def test_trends_words_say_no_more_than_the_chart(case: str) -> None:
    months, _ = TREND_CASES[case]
    words = charts.trends_words(months)
    shown = [m for m in months if m.shown]
    # Every number is a count of months, a year, or a shown month's rounded mean: never a band,
    # a distribution, or anything about a month not shown.
    allowed = {len(months), len(shown), len(months) - len(shown)}
    allowed |= {int(m[:4]) for m in MONTHS}
    allowed_means = {getattr(m, n) for m in shown for n in ("mood", "stress", "supported")}
    for number in re.findall(r"\d+(?:\.\d+)?", words):
        assert float(number) in allowed | allowed_means, number
    for band_or_share in ("5–9", "10–19", "20+", "%"):
        assert band_or_share not in words


def test_the_trends_embed_fits_a_full_year_with_the_chart_words() -> None:
    months = [
        MonthTrend(
            m,
            True,
            "20+",
            3.5,
            2.5,
            3.5,
            dict.fromkeys(("mood", "stress", "supported"), (10, 60, 30)),
        )
        for m in MONTHS
    ]
    lines = [
        texts.trend_month_shown(
            m.month,
            m.band or "",
            {"mood": m.mood, "stress": m.stress, "supported": m.supported},
            m.distribution,
        )
        for m in reversed(months)
    ]
    description = texts.trends_text(
        texts.trends_heading("W" * 60, 5), lines, chart=charts.trends_words(months)
    )
    assert len(description) <= EMBED_DESCRIPTION_LIMIT
    assert "…and" not in description, "every month's words fit beside the chart's"
    assert "Mood 3.5 (Okay–Good), stress 2.5 (A bit–Some), supported 3.5 (Somewhat–Mostly)" in (
        description
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1.0, "1 (Very low)"), (2.5, "2.5 (Low–Okay)"), (5.0, "5 (Really good)"), (None, "?")],
)
def test_a_mean_carries_the_axis_words(value: float | None, expected: str) -> None:
    assert texts.mean_words("mood", value) == expected


@pytest.mark.parametrize("alt", [texts.own_chart_alt, lambda: texts.trends_chart_alt("W" * 60)])
def test_alt_text_fits_discords_attachment_description(alt: Callable[[], str]) -> None:
    assert 0 < len(alt()) <= ATTACHMENT_DESCRIPTION_LIMIT


def test_own_facts_oracle_on_random_histories() -> None:
    chance = random.Random(3)
    for _ in range(200):
        own = checkins(
            chance.randint(1, 30),
            NOW,
            timedelta(hours=chance.randint(1, 90)),
            chance.randint(0, 9999),
        )
        for facts in charts.own_facts(own):
            values: Sequence[int] = [getattr(c.answers, facts.measure) for c in own]
            counts = {v: values.count(v) for v in values}
            assert counts[facts.usual] == max(counts.values())
            assert (facts.lowest, facts.highest) == (min(values), max(values))
            assert (facts.change is None) == (len(values) < charts.CHANGE_FROM)


def test_a_check_in_after_midnight_in_the_members_zone_is_drawn_on_their_new_day() -> None:
    """Half past midnight in London in June is 23:30 UTC the day before: the member's chart
    puts it on the day they lived it, under that day's label."""
    from zoneinfo import ZoneInfo

    from matplotlib.dates import num2date

    london = ZoneInfo("Europe/London")
    late = [
        Checkin(n, 1, datetime(2026, 6, 14 + n, 23, 30, tzinfo=UTC), Answers(3, 3, 3), None)
        for n in range(4)
    ]
    for zone, first_day in ((london, 15), (UTC, 14)):
        figure = charts.own_figure(late, zone)
        line = panels(figure)[0].get_lines()[0]
        x = float(line.get_xdata(orig=False)[0])  # type: ignore[arg-type]
        assert num2date(x, tz=zone).day == first_day
    # The marks are the member's days too: "15 Jun" stands at noon on 15 June in London.
    bottom = panels(charts.own_figure(late, london))[-1]
    labels = [t.get_text() for t in bottom.get_xticklabels()]
    marks = dict(zip(labels, bottom.get_xticks(), strict=True))
    fifteenth = next(x for label, x in marks.items() if label.startswith("15 Jun"))
    assert num2date(fifteenth, tz=london) == datetime(2026, 6, 15, 12, tzinfo=london)

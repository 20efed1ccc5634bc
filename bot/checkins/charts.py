"""Charts people would rather look at than read, and the same facts in words for those who
would rather read (or use a screen reader).

The pictures are PNGs from matplotlib's Agg backend, built with `Figure` directly (never pyplot's
global state, never `rcParams`), so rendering is safe in a worker thread; callers run them with
`asyncio.to_thread` to keep the event loop free. matplotlib (with numpy and Pillow) is imported
on the first chart, never when the bot starts.

How they are drawn (issue #16):

* one small panel per measure, the panels sharing the time axis, so no lines cross;
* each y axis labelled with the answers' own words (the check-in card's), and up is always the
  easier side: stress is drawn upside down, "Calm" at the top;
* short dates ("12 Jun"; the year under January and the first label);
* no legend and no words inside a panel, so nothing covers the data; the layout engine
  (constrained) makes room for every title, label and footnote, and nothing is cropped or
  overlaps (tests/test_charts.py measures every text's extent);
* the Okabe–Ito palette, which reads for colour-blind people (each panel is named as well, so
  colour never carries meaning alone);
* sized for the ~400 px a phone shows: text at least ~10 px high at that width.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from bot.checkins.entries import Checkin
from bot.checkins.trends import MEASURES, MonthTrend
from bot.texts import checkins as texts

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

# Okabe & Ito, "Color Universal Design" (2008): blue, vermillion, bluish green.
COLOURS = {"mood": "#0072B2", "stress": "#D55E00", "supported": "#009E73"}
INK = "#222222"
QUIET = "#555555"
GRID = "#E4E4E4"
HIDDEN = "#E8E8E8"

WIDTH = 5.0
"""Inches. Discord shows an image about 400 px wide on a phone: 80 px an inch, so 10 pt text is
about 11 px there."""
DPI = 160
"""Sharp on a phone's 2–3x screen without a large file (800 px wide)."""
TEXT = 10.0
TITLE = 12.0
NOTE = 9.0

# The layout, in inches. Fixed rather than solved (constrained layout doubled the render time):
# the words on the y axes are known, and tests/test_charts.py measures every text's extent
# against every other and the image's edge, so a change that no longer fits fails there.
EDGE = 0.1
LEFT = 1.12
"""Room for the widest answer word ("Overwhelmed") left of each panel."""
RIGHT = 0.15
LINE = 1.3 / 72
"""Inches per point of type, line spacing included."""
PANEL_TITLE = 0.24
PANEL = 1.2
PANEL_GAP = 0.12
DATES = 2 * TEXT * LINE + 0.08
"""Two lines: a date, and its year beneath the first and each January."""
MAX_DATE_TICKS = 5
DATE_INSET = 0.07
"""The share of the time axis at each end with no date mark: half a label's width."""
MARKERS_UP_TO = 45
"""Up to this many check-ins each is a dot on its line; more would be a smudge, so then each is a
faint dot and the line is a running mean of SMOOTHING in a row."""
SMOOTHING = 7
CHANGE_FROM = 4
"""With this many check-ins or more the words say whether things have moved lately."""
CHANGE_STEP = 0.5
"""How far (on the 1–5 scale) the newer half must differ from the older to count as a change."""


# --- the facts, in words ----------------------------------------------------------------------


def ease(measure: str, value: float) -> float:
    """A value on the scale where up is easier: stress counts the other way round."""
    return 6 - value if measure == "stress" else value


@dataclass(frozen=True)
class MeasureFacts:
    """What one panel of a member's chart shows."""

    measure: str
    usual: int
    """The answer given most often (of equals, the most recent)."""
    lowest: int
    highest: int
    change: int | None
    """+1 easier lately (the newer half of the check-ins against the older), -1 harder, 0 about
    the same; None with too few check-ins to say."""


def own_facts(checkins: Sequence[Checkin]) -> list[MeasureFacts]:
    """Per measure, the facts a member's chart shows (pure; `checkins` in any order)."""
    ordered = sorted(checkins, key=lambda c: c.created_at)
    facts: list[MeasureFacts] = []
    for name in MEASURES:
        values = [int(getattr(c.answers, name)) for c in ordered]
        last_seen = {value: index for index, value in enumerate(values)}
        usual = max(last_seen, key=lambda v: (values.count(v), last_seen[v]))
        change: int | None = None
        if len(values) >= CHANGE_FROM:
            half = len(values) // 2
            older = sum(ease(name, v) for v in values[:half]) / half
            newer = sum(ease(name, v) for v in values[-half:]) / half
            change = 0 if abs(newer - older) < CHANGE_STEP else (1 if newer > older else -1)
        facts.append(MeasureFacts(name, usual, min(values), max(values), change))
    return facts


def own_words(checkins: Sequence[Checkin]) -> str:
    """The member's chart in words (empty with no check-ins, as there is no chart)."""
    if not checkins:
        return ""
    ordered = sorted(checkins, key=lambda c: c.created_at)
    return texts.own_chart_words(
        len(ordered),
        ordered[0].created_at,
        ordered[-1].created_at,
        [(f.measure, f.usual, f.lowest, f.highest, f.change) for f in own_facts(ordered)],
    )


def trends_words(months: Sequence[MonthTrend]) -> str:
    """The group's chart in words: which months it shows and, per measure, where the shown
    months began and ended. It says no more than the chart: the snapshots' rounded means only,
    no bands, nothing at all about a month not shown."""
    shown = [m for m in months if m.shown]
    moves: list[tuple[str, str, float, str, float]] = []
    if len(shown) >= 2:
        first, last = shown[0], shown[-1]
        for name in MEASURES:
            start, end = getattr(first, name), getattr(last, name)
            if start is not None and end is not None:
                moves.append((name, first.month, float(start), last.month, float(end)))
    return texts.trends_chart_words(len(months), len(shown), moves)


# --- the pictures -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    height: float
    title_top: float
    panels: list[tuple[float, float]]
    """Per panel, the bottom and top of its plot area, in inches from the bottom."""
    note_bottom: float


def _layout(title_lines: int, footnote: bool) -> _Layout:
    note = NOTE * LINE + 0.1 if footnote else 0.0
    bottom = EDGE + note + DATES
    title = title_lines * TITLE * LINE + 0.06
    height = bottom + len(MEASURES) * (PANEL + PANEL_TITLE) + (len(MEASURES) - 1) * PANEL_GAP
    height += title + EDGE
    panels: list[tuple[float, float]] = []
    top = height - EDGE - title
    for _ in MEASURES:
        top -= PANEL_TITLE
        panels.append((top - PANEL, top))
        top -= PANEL + PANEL_GAP
    return _Layout(height, height - EDGE, panels, EDGE)


def _wrap(canvas: FigureCanvasAgg, text: str, width: float) -> list[str]:
    """`text` in lines that each fit `width` inches in the title's type, measured (a word too
    long for a line on its own is cut)."""
    from matplotlib.font_manager import FontProperties

    renderer = canvas.get_renderer()  # type: ignore[no-untyped-call]  # untyped in 3.11
    props = FontProperties(size=TITLE, weight="bold")
    room = width * DPI

    def fits(line: str) -> bool:
        return bool(renderer.get_text_width_height_descent(line, props, ismath=False)[0] <= room)

    lines: list[str] = []
    current = ""
    for word in text.split():
        joined = f"{current} {word}" if current else word
        if fits(joined):
            current = joined
            continue
        if current:
            lines.append(current)
        while not fits(word) and len(word) > 1:
            cut = len(word) - 1
            while cut > 1 and not fits(word[:cut]):
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    return [*lines, current] if current else lines or [""]


def _figure(title: str, footnote: str | None) -> tuple[Figure, list[Axes]]:
    """The figure on the Agg canvas, its title and footnote, and one panel per measure stacked
    on the same time axis, each on its own words. matplotlib is imported here, on the first
    chart, never when the bot starts."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH, 1), dpi=DPI, facecolor="white")
    canvas = FigureCanvasAgg(figure)
    lines = _wrap(canvas, title, WIDTH - 2 * EDGE)
    layout = _layout(len(lines), footnote is not None)
    figure.set_size_inches(WIDTH, layout.height)
    x = EDGE / WIDTH
    figure.text(
        x,
        layout.title_top / layout.height,
        "\n".join(lines),
        ha="left",
        va="top",
        fontsize=TITLE,
        fontweight="bold",
        color=INK,
        parse_math=False,
    )
    if footnote is not None:
        figure.text(
            x,
            layout.note_bottom / layout.height,
            footnote,
            ha="left",
            va="bottom",
            fontsize=NOTE,
            color=QUIET,
            parse_math=False,
        )
    panels: list[Axes] = []
    for (low, high), name in zip(layout.panels, MEASURES, strict=True):
        axes = figure.add_axes(
            (LEFT / WIDTH, low / layout.height, 1 - (LEFT + RIGHT) / WIDTH, PANEL / layout.height)
        )
        figure.text(
            x,
            (high + 0.06) / layout.height,
            texts.MEASURE_NAMES[name],
            ha="left",
            va="bottom",
            fontsize=TEXT,
            fontweight="bold",
            color=COLOURS[name],
            parse_math=False,
        )
        # Up is always the easier side: stress runs the other way, so its axis is flipped.
        axes.set_ylim((5.5, 0.5) if name == "stress" else (0.5, 5.5))
        axes.set_yticks([1, 2, 3, 4, 5], labels=list(texts.WORDS[name]))
        axes.grid(axis="y", color=GRID, linewidth=0.8)
        axes.set_axisbelow(True)
        axes.tick_params(labelsize=TEXT, colors=INK, length=0, pad=4)
        for side in ("top", "right", "left"):
            axes.spines[side].set_visible(False)
        axes.spines["bottom"].set_color("#BBBBBB")
        panels.append(axes)
    return figure, panels


def _time_axis(panels: Sequence[Axes], low: Any, high: Any, ticks: Any, labels: list[str]) -> None:
    """The same span on every panel; the dates under the bottom one only."""
    for axes in panels:
        axes.set_xlim(low, high)
        axes.set_xticks([] if axes is not panels[-1] else ticks)
    panels[-1].set_xticks(ticks, labels=labels)


def _date_ticks(low: datetime, high: datetime) -> list[datetime]:
    """Marks for the date axis, in the zone of `low` and `high`: noon every 1, 2, 3 days or a
    week or two, or the first of every 1, 2, 3, 6 or 12 months: the finest that puts 2 to
    MAX_DATE_TICKS between `low` and `high`."""
    zone = low.tzinfo or UTC
    candidates: list[list[datetime]] = []
    for step in (1, 2, 3, 7, 14):
        days: list[datetime] = []
        day = low.date()
        while len(days) <= MAX_DATE_TICKS:
            # Noon: a day's label sits under the middle of that day, under its check-ins.
            at = datetime(day.year, day.month, day.day, 12, tzinfo=zone)
            if at > high:
                break
            if at >= low and day.toordinal() % step == 0:
                days.append(at)
            day += timedelta(days=1)
        candidates.append(days)
    for step in (1, 2, 3, 6, 12):
        months: list[datetime] = []
        year, month = low.year, low.month
        while (at := datetime(year, month, 1, tzinfo=zone)) <= high:
            if at >= low and (month - 1) % step == 0:
                months.append(at)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        candidates.append(months)
    for ticks in candidates:
        if 2 <= len(ticks) <= MAX_DATE_TICKS:
            return ticks
    return [low + (high - low) / 2]


def _date_labels(ticks: Sequence[datetime]) -> list[str]:
    """ "12 Jun", or "Jun" when every mark is the first of a month; the year beneath the first
    mark and wherever the year changes."""
    by_month = all(t.day == 1 and t.hour == 0 for t in ticks) and len(ticks) > 1
    return [
        texts.chart_date(
            tick.date(), by_month=by_month, with_year=i == 0 or tick.year != ticks[i - 1].year
        )
        for i, tick in enumerate(ticks)
    ]


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    # No bbox_inches="tight": the layout already fits everything in the figure, and the tests
    # check exactly that against the figure's own box.
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def running_mean(values: Sequence[int], window: int = SMOOTHING) -> list[float]:
    """Each value's centred running mean over `window` values in a row (fewer at the ends)."""
    half = window // 2
    out: list[float] = []
    for index in range(len(values)):
        around = values[max(index - half, 0) : index + half + 1]
        out.append(sum(around) / len(around))
    return out


def own_figure(checkins: Sequence[Checkin], zone: tzinfo = UTC) -> Figure:
    """A member's check-ins over time (oldest on the left), one panel per measure, on the days
    of the member's own time `zone` (a check-in at half past midnight is on the new day). Up
    to MARKERS_UP_TO, each is a dot on a line; beyond, each is a faint dot and the line is a
    running mean, said underneath."""
    ordered = sorted(checkins, key=lambda c: c.created_at)
    many = len(ordered) > MARKERS_UP_TO
    figure, panels = _figure(
        texts.own_chart_title(), texts.own_chart_smoothed(SMOOTHING) if many else None
    )
    # matplotlib's date converter takes datetimes; its stubs only admit numbers.
    when: list[Any] = [c.created_at.astimezone(zone) for c in ordered]
    for axes, name in zip(panels, MEASURES, strict=True):
        values = [int(getattr(c.answers, name)) for c in ordered]
        if many:
            axes.plot(
                when,
                values,
                linestyle="none",
                marker="o",
                markersize=2.5,
                alpha=0.3,
                color=COLOURS[name],
            )
            axes.plot(when, running_mean(values), color=COLOURS[name], linewidth=1.8)
        else:
            axes.plot(when, values, color=COLOURS[name], linewidth=1.8, marker="o", markersize=5)
    if when:
        pad = max((when[-1] - when[0]) * 0.04, timedelta(days=2))
        low, high = when[0] - pad, when[-1] + pad
        # Marks keep clear of the ends, so a date's label never runs off the image.
        inset = (high - low) * DATE_INSET
        ticks = _date_ticks(low + inset, high - inset)
        _time_axis(panels, low, high, ticks, _date_labels(ticks))
    return figure


def trends_figure(months: Sequence[MonthTrend], group_name: str) -> Figure:
    """A group's last months, oldest on the left, one panel per measure; a month not shown is a
    grey column with nothing in it, explained underneath."""
    hidden = any(not m.shown for m in months)
    figure, panels = _figure(
        texts.trends_chart_title(group_name), texts.trends_chart_footnote() if hidden else None
    )
    positions = list(range(len(months)))
    for axes, name in zip(panels, MEASURES, strict=True):
        values = [getattr(m, name) if m.shown else float("nan") for m in months]
        axes.plot(positions, values, color=COLOURS[name], linewidth=1.8, marker="o", markersize=5)
        for position, month in zip(positions, months, strict=True):
            if not month.shown:
                axes.axvspan(position - 0.45, position + 0.45, color=HIDDEN, linewidth=0)
    labels = [
        texts.chart_month(m.month, with_year=i == 0 or m.month.endswith("-01"))
        for i, m in enumerate(months)
    ]
    _time_axis(panels, -0.5, max(len(months), 1) - 0.5, positions, labels)
    return figure


def own_chart(checkins: Sequence[Checkin], zone: tzinfo = UTC) -> bytes:
    """A member's check-ins over time, on the days of their time `zone`, as a PNG."""
    return _png(own_figure(checkins, zone))


def trends_chart(months: Sequence[MonthTrend], group_name: str) -> bytes:
    """A group's last months, as a PNG."""
    return _png(trends_figure(months, group_name))
